"""Slow clients straight at gunicorn, with no proxy in front: the shipped configuration stays available.

Journals do expose gunicorn directly. Slow-header sockets (a request sent a byte at a time and
never finished) and slow readers must not take the server away from everyone else. Each test is
bounded in time and in requests, and stops by itself.
"""
from __future__ import annotations

import signal
import socket
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import pytest

from tests.helpers.servers import (
    big_page_instance, content_length, read_to_end, shipped_env, shipped_gunicorn, small_window_socket,
)

pytestmark = pytest.mark.integration

SLOW_SOCKETS = 50
PROBES = 100
PROBE_TIMEOUT = 3.0  # seconds: a probe not answered by then counts as unavailable
ALLOWED_FAILURES = 1  # at least 99% of the probes answered
TRICKLE_EVERY = 1.0  # seconds between two bytes of a slow header


@dataclass
class SlowHeaders:
    """Sockets that send a request's headers one byte at a time and never end them."""

    address: tuple[str, int]
    count: int
    sockets: list[socket.socket] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def __enter__(self) -> SlowHeaders:
        for _ in range(self.count):
            sock = socket.create_connection(self.address, timeout=5)
            sock.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.sockets.append(sock)
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()
        return self

    def _trickle(self) -> None:
        while not self.stop.wait(TRICKLE_EVERY):
            for sock in self.sockets:
                try:
                    sock.send(b"X")  # a header name that never ends
                except OSError:
                    pass  # the server closed it: fine, it stays closed

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        for sock in self.sockets:
            sock.close()


def probe(url: str, count: int, allowed_failures: int) -> tuple[int, int, list[str]]:
    """Send up to ``count`` requests one after another; stop once too many failed.

    Returns (sent, answered within PROBE_TIMEOUT, what went wrong).
    """
    answered, problems = 0, []
    for sent in range(1, count + 1):
        try:
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT) as response:
                if response.status == 200 and b"<Identify>" in response.read():
                    answered += 1
                else:
                    problems.append(f"probe {sent}: HTTP {response.status}")
        except OSError as error:
            problems.append(f"probe {sent}: {error!r}")
        if len(problems) > allowed_failures:
            return sent, answered, problems
        time.sleep(0.05)
    return count, answered, problems


def test_available_with_50_slow_header_sockets(tmp_path):
    """50 slow-header sockets and no proxy: at least 99% of probes answered within 3 s."""
    with shipped_gunicorn(shipped_env(tmp_path), tmp_path / "gunicorn.log") as (base, _proc):
        url = urllib.parse.urlsplit(base)
        with SlowHeaders((url.hostname, url.port), SLOW_SOCKETS):
            time.sleep(2 * TRICKLE_EVERY)  # every slow socket accepted and sending
            sent, answered, problems = probe(base + "?verb=Identify", PROBES, ALLOWED_FAILURES)
    print(f"slow-header sockets: {SLOW_SOCKETS}; probes answered within {PROBE_TIMEOUT:g} s: "
          f"{answered} of {sent} ({100 * answered / sent:.1f}%)")
    assert sent == PROBES and answered >= PROBES - ALLOWED_FAILURES, problems


def read_slowly(address: tuple[str, int], path: str, rate: int, limit: float,
                started: threading.Event | None = None) -> tuple[int, int]:
    """GET ``path`` through a small receive window at about ``rate`` bytes/s; return (Content-Length, body bytes).

    ``started`` is set once the response's head has arrived.
    """
    sock = small_window_socket(address, limit)
    try:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: identity\r\n"
                     "Connection: close\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536)
        head, body = data.split(b"\r\n\r\n", 1)
        length = content_length(head)
        if started is not None:
            started.set()
        received, chunk, deadline = len(body), 16 * 1024, time.monotonic() + limit
        while received < length and time.monotonic() < deadline:
            part = sock.recv(chunk)
            if not part:
                break  # the server hung up
            received += len(part)
            time.sleep(len(part) / rate)
        return length, received
    finally:
        sock.close()


def test_a_slow_reader_gets_the_whole_page(tmp_path):
    """A page read more slowly than the worker timeout allows is still sent whole (no worker killed)."""
    env = big_page_instance(tmp_path, GUNICORN_TIMEOUT="3")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log") as (base, _proc):
        url = urllib.parse.urlsplit(base)
        # ~17 MB at 2.5 MB/s: about 7 s, more than twice the worker timeout of 3 s.
        length, received = read_slowly((url.hostname, url.port), "/oai?verb=ListRecords&metadataPrefix=oai_dc",
                                        rate=2_500_000, limit=60)
    assert length > 12_000_000
    assert received == length, f"cut off after {received} of {length} bytes"


def test_a_stopping_worker_finishes_the_page_it_is_sending(tmp_path):
    """SIGTERM while the event loop sends a 17 MB page to a slow reader: the page still arrives whole.

    A stopping worker waits for its connections (up to graceful_timeout), as gunicorn's gthread does.
    """
    env = big_page_instance(tmp_path, GUNICORN_WORKERS="1")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log") as (base, proc):
        url = urllib.parse.urlsplit(base)
        started, results = threading.Event(), []
        reader = threading.Thread(target=lambda: results.append(read_slowly(
            (url.hostname, url.port), "/oai?verb=ListRecords&metadataPrefix=oai_dc", 3_000_000, 60, started)))
        reader.start()
        assert started.wait(30), "no response head"
        proc.send_signal(signal.SIGTERM)  # ~17 MB at 3 MB/s: the stop comes early in the sending
        reader.join(70)
        assert proc.wait(timeout=30) == 0
    [(length, received)] = results
    assert received == length, f"cut off after {received} of {length} bytes"


def test_no_timeout_lets_a_reader_take_its_time(tmp_path):
    """GUNICORN_TIMEOUT=0 (gunicorn's "no timeout"): a page sent by the event loop is not cut off either."""
    env = big_page_instance(tmp_path, GUNICORN_TIMEOUT="0", GUNICORN_WORKERS="1")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log") as (base, _proc):
        url = urllib.parse.urlsplit(base)
        # ~17 MB at 5 MB/s: several turns of the worker's loop (it checks for stalled readers each second).
        length, received = read_slowly((url.hostname, url.port), "/oai?verb=ListRecords&metadataPrefix=oai_dc",
                                        rate=5_000_000, limit=60)
    assert received == length, f"cut off after {received} of {length} bytes"


def test_readers_that_stop_do_not_stall_their_worker(tmp_path):
    """One worker; three clients send a request, then neither read nor close: others are still answered.

    gunicorn 27's threaded worker waited in its main thread, up to 2 s per connection, for each
    such client to close, accepting nothing meanwhile (gunicorn.conf.py, PromptCloseThreadWorker).
    """
    with shipped_gunicorn(shipped_env(tmp_path, GUNICORN_WORKERS="1"), tmp_path / "gunicorn.log") as (base, _proc):
        url = urllib.parse.urlsplit(base)
        stalled = [socket.create_connection((url.hostname, url.port), timeout=5) for _ in range(3)]
        try:
            for sock in stalled:
                sock.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(0.3)  # the three answers are sent into the sockets' buffers
            started = time.monotonic()
            with urllib.request.urlopen(base + "?verb=Identify", timeout=10) as response:
                assert b"<Identify>" in response.read()
            waited = time.monotonic() - started
        finally:
            for sock in stalled:
                sock.close()
    # Without the prompt close: about 5.7 s (2 s per stalled client, less the 0.3 s slept).
    assert waited < 2.0, f"answered after {waited:.1f} s"


def test_an_unread_body_does_not_cut_the_answer_short(tmp_path):
    """A POST body over the limit is never read: its 413 still arrives whole (no reset on close)."""
    body = b"verb=Identify&x=" + b"y" * (256 * 1024)
    with shipped_gunicorn(shipped_env(tmp_path), tmp_path / "gunicorn.log") as (base, _proc):
        url = urllib.parse.urlsplit(base)
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(b"POST /oai HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(body) + body)
            answer = read_to_end(sock)
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413")
    assert len(rest) == content_length(head)
