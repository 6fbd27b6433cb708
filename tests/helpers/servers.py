"""Start test servers on free 127.0.0.1 ports: gunicorn on a database, or any WSGI app on a thread."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import typing as t
import urllib.request
from pathlib import Path

from werkzeug.serving import WSGIRequestHandler, make_server

from tests.helpers.issues import A, write_issue
from tests.helpers.oai import REPO

START_TIMEOUT = 30


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def oaiserver_env(config: t.Mapping[str, t.Any], instance: Path) -> dict[str, str]:
    """The OAISERVER_* environment that makes gunicorn serve what a test `config` describes."""
    keys = ("DATABASE", "SECRET_KEY", "OAI_PAGE_SIZE", "OAI_IDENTIFIERS_PAGE_SIZE",
            "OAI_REPOSITORY_IDENTIFIER", "OAI_MAX_FILE_BYTES", "OAI_JOURNALS")
    env = {**os.environ, "OAISERVER_INSTANCE_PATH": str(instance)}
    # Mappings and lists as JSON, which is how the app reads an OAISERVER_ variable that parses.
    env.update({f"OAISERVER_{key}": config[key] if isinstance(config[key], str) else json.dumps(config[key])
                for key in keys if key in config})
    # Tests harvest what they ingested at once, unless they set a delay (the default is 2 s).
    env["OAISERVER_OAI_VISIBILITY_DELAY"] = str(config.get("OAI_VISIBILITY_DELAY", 0))
    return env


@contextlib.contextmanager
def gunicorn(env: t.Mapping[str, str], workers: int = 2) -> t.Iterator[str]:
    """Serve `wsgi:app` with gunicorn; yield the OAI base URL once Identify answers."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", "wsgi:app"],
        # No access log (gunicorn.conf.py turns it on): nobody reads this pipe until the end.
        env={**env, "GUNICORN_ACCESSLOG": "off"}, cwd=REPO, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/oai"
    try:
        _wait_until_up(base, proc)
        yield base
    finally:
        stop_process(proc)
        proc.stdout.close()


@contextlib.contextmanager
def shipped_gunicorn(env: t.Mapping[str, str], log: Path, cwd: Path = REPO, path: str = "/oai",
                     conf: Path = REPO / "gunicorn.conf.py") -> t.Iterator[tuple[str, subprocess.Popen]]:
    """Serve `wsgi:app` with gunicorn.conf.py as shipped (only GUNICORN_BIND set); yield (URL of ``path``, process).

    `wsgi.py` is the one in ``cwd`` (the repository's by default); the output goes to ``log``.
    ``conf``: another settings file (one that runs the shipped one and adds a hook, say).
    """
    port = free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(conf), "wsgi:app"],
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}{path}"
    try:
        try:
            _wait_until_up(base, proc)
        except RuntimeError:
            raise RuntimeError(f"gunicorn did not start: {log.read_text()[-2000:]}") from None
        yield base, proc
    finally:
        stop_process(proc, grace=40)


def shipped_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a shipped deployment: only the instance folder and the key are set.

    And no visibility delay: the tests harvest what they have just ingested.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GUNICORN_", "OAISERVER_"))}
    env.update(OAISERVER_INSTANCE_PATH=str(tmp_path / "instance"), OAISERVER_SECRET_KEY="slow-clients-test",
               GUNICORN_ACCESSLOG="off", OAISERVER_OAI_VISIBILITY_DELAY="0", **extra)
    return env


def big_page_instance(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A shipped environment (``extra`` added) whose instance holds one list page of ~17 MB (oai_dc).

    More than any socket buffer takes: its sending outlasts the client's reading.
    """
    issue = write_issue(tmp_path / "large.xml", [A(f"L-{i}", abstract="<p>" + "w" * 700_000 + "</p>")
                                                 for i in range(24)])
    env = shipped_env(tmp_path, OAISERVER_OAI_PAGE_MAX_BYTES=str(64 * 1024 * 1024), **extra)
    subprocess.run([sys.executable, "-m", "oaiserver.cli", "ingest", "--quiet", issue], env=env, check=True)
    return env


def small_window_socket(address: tuple[str, int], timeout: float) -> socket.socket:
    """A connection to ``address`` with a small receive window (32 KiB), so the server's sends fill it."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)  # before connect: the window
    sock.settimeout(timeout)
    sock.connect(address)
    return sock


def read_to_end(sock: socket.socket) -> bytes:
    """Everything the server sends on ``sock`` until it closes the connection."""
    answer = b""
    while chunk := sock.recv(1 << 20):
        answer += chunk
    return answer


def worker_pids(proc: subprocess.Popen) -> list[int]:
    """The pids of a gunicorn master's live workers (Linux /proc)."""
    return [int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()]


def content_length(head: bytes) -> int:
    """The Content-Length of an HTTP response head (status line and headers)."""
    return next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))


def stop_process(proc: subprocess.Popen, grace: float = 10, kill: bool = False) -> None:
    """Terminate a server process (SIGKILL at once with ``kill``); kill it if it is still there after ``grace`` s.

    A process that leads its own process group (started with ``start_new_session``) is stopped
    with its group, so the children it runs (Litestream) go with it.
    """
    if proc.poll() is not None:
        return

    def send(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if os.getpgid(proc.pid) == proc.pid:
                os.killpg(proc.pid, signum)
            else:
                proc.send_signal(signum)

    send(signal.SIGKILL if kill else signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for(condition: t.Callable[[], bool], timeout: float, what: str, every: float = 0.2) -> None:
    """Poll ``condition`` until it is true; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not after {timeout} s")
        time.sleep(every)


def _wait_until_up(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(base + "?verb=Identify", timeout=2) as response:
                response.read()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait(timeout=10)
                output = proc.stdout.read().decode()[-2000:] if proc.stdout else ""
                raise RuntimeError(f"gunicorn did not start: {output}") from None
            time.sleep(0.2)


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: t.Any) -> None:
        pass  # keep test output to what the test prints


@contextlib.contextmanager
def wsgi_thread(app: t.Callable, path: str = "/oai") -> t.Iterator[str]:
    """Serve a WSGI app with werkzeug on a thread; yield the URL of ``path``."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
