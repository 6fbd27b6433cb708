"""A replicated cluster on loopback: S3 on moto_server, a primary under Litestream, followers under gunicorn.

Everything is a real process started the way docs/admin.md says: `oaiserver replica primary`,
`oaiserver replica follow`, gunicorn over each follower, and a round-robin HTTP balancer in front
(a few lines of Python standing in for nginx).
"""
from __future__ import annotations

import contextlib
import http.server
import itertools
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import typing as t
import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers.oai import REPO, REPOSITORY_IDENTIFIER
from tests.helpers.servers import free_port, oaiserver_env, stop_process

BUCKET = "oai-replica"
#: The lag a follower may have, and the delay the primary stamps with: OAI_MAX_LAG + 5.
MAX_LAG = 5
DELAY = 10
SECRET = "replication-test-secret"
#: Dummy credentials: moto accepts any, Litestream insists on some.
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}


def program(name: str) -> str | None:
    """Where an installed program is: beside this Python (its virtualenv) first, then on PATH."""
    return shutil.which(name, path=os.path.dirname(sys.executable)) or shutil.which(name)


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}) before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout} s")


@contextlib.contextmanager
def s3_store(log: Path) -> t.Iterator[str]:
    """An S3-compatible store on 127.0.0.1 (moto_server) with the bucket made; yield the replica URL."""
    import boto3

    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen([program("moto_server") or "moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT, env={**os.environ, **S3_CREDENTIALS})
    try:
        _wait_for_port(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket=BUCKET)
        yield f"s3://{BUCKET}/oai?endpoint={endpoint}&region=us-east-1&forcePathStyle=true"
    finally:
        stop_process(process)


def node_env(root: Path, role: str, url: str, **extra: t.Any) -> dict[str, str]:
    """The environment of one node (its own instance folder and database under ``root``)."""
    config = {"DATABASE": str(root / "oai.sqlite3"), "SECRET_KEY": SECRET, "OAI_PAGE_SIZE": 5,
              "OAI_IDENTIFIERS_PAGE_SIZE": 5, "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_IDENTIFIER,
              "OAI_VISIBILITY_DELAY": DELAY}
    env = oaiserver_env(config, root / "instance")
    env.update(S3_CREDENTIALS)
    env.update({"OAISERVER_OAI_ROLE": role, "OAISERVER_OAI_REPLICA_URL": url,
                "OAISERVER_OAI_MAX_LAG": str(MAX_LAG), "GUNICORN_ACCESSLOG": "off"})
    env.update({f"OAISERVER_{k}": str(v) for k, v in extra.items()})
    return env


def cli(env: t.Mapping[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one `oaiserver` admin command to its end."""
    result = subprocess.run([sys.executable, "-m", "oaiserver.cli", *args], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"oaiserver {' '.join(args)} failed: {result.stdout[-500:]} {result.stderr[-800:]}")
    return result


def service(env: t.Mapping[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Start a long-running `oaiserver replica …` command in its own process group (so a kill takes its Litestream too)."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "oaiserver.cli", *args], env=env, cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def status(url: str) -> int:
    """The HTTP status of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def dump(path: Path) -> dict[str, list[tuple]]:
    """What a node serves, from its file: every record's header row and every rendition's checksum."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            "records": conn.execute("SELECT identifier, datestamp, deleted, header FROM records "
                                    "ORDER BY identifier").fetchall(),
            "renditions": conn.execute("SELECT r.identifier, x.prefix, x.crc FROM renditions x JOIN records r "
                                       "ON r.id = x.record_id ORDER BY 1, 2").fetchall(),
            "timeline": conn.execute("SELECT epoch, version FROM timeline").fetchall(),
        }
    finally:
        conn.close()


class RoundRobin:
    """An HTTP balancer on 127.0.0.1 that sends each request to the next backend in turn."""

    def __init__(self, backends: list[str]) -> None:
        turns = itertools.cycle(backends)
        lock = threading.Lock()

        class Forward(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
                with lock:
                    backend = next(turns)
                try:
                    with urllib.request.urlopen(backend + self.path, timeout=60) as response:
                        code, headers, body = response.status, response.headers, response.read()
                except urllib.error.HTTPError as error:
                    code, headers, body = error.code, error.headers, error.read()
                self.send_response(code)
                for name in ("Content-Type", "Retry-After", "Content-Encoding"):
                    if headers.get(name):
                        self.send_header(name, headers[name])
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: t.Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Forward)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
