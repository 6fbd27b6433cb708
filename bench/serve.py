"""Run a WSGI app under gunicorn on loopback, and measure it from outside: HTTP, CPU, memory.

Every server of the benchmark (ours, the peer, the ceiling) is started the same way, from the
repository root, so the same gunicorn settings apply to all three.
"""
from __future__ import annotations

import gzip
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
START_TIMEOUT = 60
REQUEST_TIMEOUT = 120
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Response:
    """One HTTP exchange as the client saw it."""

    status: int
    body: bytes
    first_byte: float  # seconds from sending the request to the status line
    total: float  # seconds from sending the request to the last byte


def _proc_stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as f:
        # The command name may hold spaces; everything after its closing parenthesis splits.
        return f.read().rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """Return the pids of the live children of ``pid`` (gunicorn's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pid: int, reaped: bool = False) -> float:
    """Return the user+system CPU seconds of ``pid``, or of its children already reaped.

    A live process's time is the scheduler's own count of each of its threads' time on a CPU
    (schedstat, in nanoseconds); stat's utime and stime add up to the same, but in whole clock
    ticks of 10 ms: about ±5% of the 0.2 s a worker spends on one harvest of 10,000 records.
    Where schedstat is missing, and for reaped children, the ticks.
    """
    if not reaped:
        try:
            return sum(int((task / "schedstat").read_text().split()[0])
                       for task in Path(f"/proc/{pid}/task").iterdir()) / 1e9
        except (OSError, ValueError, IndexError):
            pass  # no schedstat here (or a thread ended while being read): the ticks
    fields = _proc_stat(pid)
    # utime, stime, cutime, cstime are fields 14-17 of stat: 11-14 after the name.
    own = fields[13:15] if reaped else fields[11:13]
    return sum(int(v) for v in own) / CLOCK_TICKS


def peak_rss_kib(pid: int) -> int:
    """Return the peak resident set (VmHWM) of ``pid`` in KiB, or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class Gunicorn:
    """A gunicorn master with its workers, started from the repository root (or ``root``)."""

    name: str
    app: str
    env: dict[str, str]
    workers: int = 2
    root: Path = REPO  # the tree whose code is served (another checkout, to compare two versions)
    port: int = 0
    proc: subprocess.Popen | None = None
    log: Path | None = None
    peak_kib: dict[int, int] = field(default_factory=dict)
    _sampler: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self, log_dir: Path) -> None:
        """Start gunicorn and wait until it answers."""
        self.port = free_port()
        self.log = log_dir / f"gunicorn-{self.name}.log"
        # No access log: it would be the same cost for all three servers, and only noise here.
        env = {**os.environ, "GUNICORN_ACCESSLOG": "off", **self.env}
        cmd = [sys.executable, "-m", "gunicorn", self.app, "-w", str(self.workers),
               "-b", f"127.0.0.1:{self.port}"]
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, env=env, cwd=self.root, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if len(self.workers_pids()) >= self.workers:
                    get(self.port, "/healthz-probe")
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name}: gunicorn did not start; see {self.log}")
            time.sleep(0.2)
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def workers_pids(self) -> list[int]:
        """Return the pids of the current workers."""
        assert self.proc is not None
        return children(self.proc.pid)

    def cpu(self) -> float:
        """Return the CPU seconds of all workers so far, recycled ones included."""
        assert self.proc is not None
        total = cpu_seconds(self.proc.pid, reaped=True)
        for pid in self.workers_pids():
            try:
                total += cpu_seconds(pid)
            except OSError:
                continue
        return total

    def _sample(self) -> None:
        # Workers may be recycled (max_requests): keep every worker's peak while it lives.
        while not self._stop.wait(0.25):
            try:
                for pid in self.workers_pids():
                    self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), peak_rss_kib(pid))
            except OSError:
                continue

    def peak_rss_mib(self) -> float:
        """Return the largest peak RSS of any worker seen so far, in MiB."""
        for pid in self.workers_pids():
            self.peak_kib[pid] = max(self.peak_kib.get(pid, 0), peak_rss_kib(pid))
        return max(self.peak_kib.values(), default=0) / 1024

    def stop(self) -> None:
        """Stop gunicorn (the master stops its workers)."""
        self._stop.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def get(port: int, path: str, encoding: str = "identity") -> Response:
    """GET ``path`` on 127.0.0.1:``port``; a new connection, as gunicorn's sync workers close it.

    ``encoding`` is the Accept-Encoding sent ("gzip": as python-requests, and so Sickle, asks);
    a gzip body is decoded after the clock stops.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
    try:
        started = time.perf_counter()
        conn.request("GET", path, headers={"Accept-Encoding": encoding})
        response = conn.getresponse()
        first = time.perf_counter()
        body = response.read()
        done = time.perf_counter()
        if response.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        return Response(response.status, body, first - started, done - started)
    finally:
        conn.close()


def median(values: t.Sequence[float]) -> float:
    """Return the median of a non-empty sequence."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: t.Sequence[float], q: float) -> float:
    """Return the q-th percentile (nearest rank) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(round(q / 100 * len(ordered) + 0.5))))
    return ordered[rank - 1]
