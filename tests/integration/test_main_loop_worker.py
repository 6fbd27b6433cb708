"""The shipped worker (MainLoopWorker, gunicorn.conf.py): whole requests answered in the main thread.

A request that has arrived whole is read and answered by the worker's main thread, and what the
socket does not take at once is sent by its event loop; a request still arriving goes to a pool
thread, as in gunicorn's gthread worker. These tests show each path taken, and that neither a
client that stops reading nor one that resets, nor a parser wanting more than has arrived, can
hold the main thread or take the worker down.
"""
from __future__ import annotations

import http.client
import os
import runpy
import select
import socket
import struct
import threading
import time
import typing as t
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from gunicorn import util as gunicorn_util

from tests.helpers.oai import REPO
from tests.helpers.servers import (
    big_page_instance, content_length, read_to_end, shipped_env, shipped_gunicorn, small_window_socket, worker_pids,
)

pytestmark = pytest.mark.integration

PROBE_TIMEOUT = 3.0


def recording_conf(tmp_path: Path) -> tuple[Path, Path]:
    """A settings file: the shipped one, plus a hook that records which thread answered each request."""
    record = tmp_path / "threads.txt"
    conf = tmp_path / "recording.conf.py"
    conf.write_text(
        "import runpy, threading\n"
        f"globals().update(runpy.run_path({str(REPO / 'gunicorn.conf.py')!r}))\n"
        "def post_request(worker, req, environ, resp):\n"
        "    main = threading.current_thread() is threading.main_thread()\n"
        f"    with open({str(record)!r}, 'a') as out:\n"
        "        out.write(('main' if main else 'pool') + ' ' + req.query + '\\n')\n")
    return conf, record


def identify(base: str) -> bytes:
    """GET Identify within PROBE_TIMEOUT; its body."""
    with urllib.request.urlopen(base + "?verb=Identify", timeout=PROBE_TIMEOUT) as response:
        return response.read()


def test_whole_requests_in_the_main_thread_requests_in_pieces_in_a_pool_thread(tmp_path):
    conf, record = recording_conf(tmp_path)
    with shipped_gunicorn(shipped_env(tmp_path, GUNICORN_WORKERS="1"), tmp_path / "gunicorn.log", conf=conf) as (base, _):
        assert b"<Identify>" in identify(base)
        url = urllib.parse.urlsplit(base)
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(b"GET /oai?verb=ListMetadataFormats HTTP/1.1\r\n")
            time.sleep(0.3)  # peeked at, unfinished: a pool thread reads the rest as it comes
            sock.sendall(b"Host: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = read_to_end(sock)
        assert answer.startswith(b"HTTP/1.1 200") and b"<ListMetadataFormats>" in answer
    answered = record.read_text().splitlines()  # (the first ones: the start-up check's Identify)
    assert answered[-2:] == ["main verb=Identify", "pool verb=ListMetadataFormats"]
    assert set(answered[:-1]) == {"main verb=Identify"}


def within(seconds: float, work: t.Callable[[], t.Any]) -> t.Any:
    """Run ``work`` in a thread; its result, or a failure if it has not returned after ``seconds``."""
    results: list[t.Any] = []
    thread = threading.Thread(target=lambda: results.append(work()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert results, f"still waiting after {seconds} s"
    return results[0]


def test_reads_in_the_main_thread_never_wait():
    """A parser that wants more than the peeked request gets the end of the data, not a wait."""
    no_wait_socket = runpy.run_path(str(REPO / "gunicorn.conf.py"))["_NoWaitSocket"]
    ours, client = socket.socketpair()
    with ours, client:
        client.sendall(b"GET / HTTP/1.1\r\n\r\n")
        sock = no_wait_socket(ours)
        assert within(2, lambda: sock.recv(8192)) == b"GET / HTTP/1.1\r\n\r\n"
        assert within(2, lambda: sock.recv(8192)) == b""  # nothing more has arrived: the end, at once
        assert ours.gettimeout() is None  # the socket itself still blocks, for the pool threads


def test_gunicorn_closing_in_the_main_thread_waits_for_nothing_and_loses_nothing():
    """gunicorn's waiting close (after an app failed mid-response) returns at once; the kept bytes are then sent, then the end."""
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    ours, client = socket.socketpair()
    with ours, client:
        sock = conf["_NoWaitSocket"](ours)
        sock.sendall(b"HTTP/1.1 200 OK\r\n\r\nok")
        within(1.5, lambda: gunicorn_util.close_graceful(sock))  # it would wait 2 s for the client to close
        assert sock.closing and ours.fileno() >= 0  # noted, not done
        conf["send_kept"](ours, sock.kept)
        ours.shutdown(socket.SHUT_WR)
        client.settimeout(5)
        assert client.recv(100) == b"HTTP/1.1 200 OK\r\n\r\nok"


def test_sends_in_the_main_thread_never_wait():
    """A response is kept until it is whole, then sent in as few calls as the socket takes without waiting; the rest stays, in order."""
    conf = runpy.run_path(str(REPO / "gunicorn.conf.py"))
    ours, client = socket.socketpair()
    with ours, client:
        sock = conf["_NoWaitSocket"](ours)
        head, body = b"HTTP/1.1 200 OK\r\n\r\n", b"a" * 8_000_000
        sock.sendall(head)
        sock.sendall(body)
        assert [bytes(view) for view in sock.kept] == [head, body]  # nothing sent yet
        assert within(2, lambda: conf["send_kept"](ours, sock.kept)) is True
        assert sock.kept and sum(map(len, sock.kept)) < len(body)  # 8 MB: more than the socket takes
        received = bytearray()

        def read_all() -> None:
            while len(received) < len(head) + len(body):
                received.extend(client.recv(1 << 20))

        reader = threading.Thread(target=read_all, daemon=True)
        reader.start()
        for view in sock.kept:  # what the event loop sends as the client reads
            ours.sendall(view)
        reader.join(timeout=10)
    assert received == head + body


def test_a_reader_that_stops_holds_nothing_and_is_let_go(tmp_path):
    """One worker: a client stops reading a 17 MB page; others are answered meanwhile, and it is let go after `timeout`."""
    env = big_page_instance(tmp_path, GUNICORN_WORKERS="1", GUNICORN_TIMEOUT="2")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log") as (base, _):
        url = urllib.parse.urlsplit(base)
        with small_window_socket((url.hostname, url.port), 15) as stalled:
            stalled.sendall(b"GET /oai?verb=ListRecords&metadataPrefix=oai_dc HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            b"Accept-Encoding: identity\r\nConnection: close\r\n\r\n")
            time.sleep(0.5)  # the page is built, and the sockets' buffers are full
            assert b"<Identify>" in identify(base)  # neither the main thread nor a pool thread is held
            time.sleep(3.5)  # past the timeout of 2 s (checked once a second) with nothing read
            received, started = 0, time.monotonic()
            try:
                while chunk := stalled.recv(1 << 20):
                    received += len(chunk)
            except ConnectionResetError:
                pass
            drained = time.monotonic() - started
    assert 0 < received < 12_000_000  # what was in the buffers, then the end
    assert drained < 10
    assert "read nothing of its response for 2 s" in (tmp_path / "gunicorn.log").read_text()


def test_kept_alive_connections_are_served(tmp_path):
    """With keep-alive turned on (GUNICORN_CMD_ARGS), three requests on one connection are answered."""
    # More connections than threads: gunicorn keeps none alive otherwise.
    env = shipped_env(tmp_path, GUNICORN_WORKERS="1", GUNICORN_CMD_ARGS="--keep-alive 5 --worker-connections 64")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log") as (base, _):
        url = urllib.parse.urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=PROBE_TIMEOUT)
        sockets = []
        for _ in range(3):
            connection.request("GET", "/oai?verb=Identify")
            response = connection.getresponse()
            assert response.status == 200 and b"<Identify>" in response.read()
            sockets.append(connection.sock)
        connection.close()
        # A kept-alive connection whose next request arrives in pieces: read by a pool thread,
        # from the socket itself (not the main thread's no-wait reads, which would see an end).
        with socket.create_connection((url.hostname, url.port), timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(b"GET /oai?verb=Identify HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            first = read_response(sock)
            sock.sendall(b"GET /oai?verb=ListMetadataFormats HTTP/1.1\r\n")
            time.sleep(0.3)
            sock.sendall(b"Host: 127.0.0.1\r\n\r\n")
            second = read_response(sock)
    assert sockets[0] is not None and sockets.count(sockets[0]) == 3
    assert b"<Identify>" in first and b"<ListMetadataFormats>" in second


def read_response(sock: socket.socket) -> bytes:
    """One HTTP response with a Content-Length, read off a connection that stays open."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    while len(body) < content_length(head):
        chunk = sock.recv(65536)
        assert chunk, "closed mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body


def epoll_masks(pid: int) -> list[int]:
    """The event masks of everything the process's epoll instances watch (Linux /proc fdinfo)."""
    masks = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) != "anon_inode:[eventpoll]":
                continue
            info = (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text()
        except OSError:
            continue  # closed meanwhile
        masks += [int(line.split("events:")[1].split()[0], 16) for line in info.splitlines() if line.startswith("tfd:")]
    return masks


@pytest.mark.skipif(not hasattr(select, "EPOLLEXCLUSIVE"), reason="Linux's epoll only")
def test_a_new_connection_wakes_one_worker(tmp_path):
    """Each worker waits on the listening socket with EPOLLEXCLUSIVE, so a connection wakes one of them, not all."""
    with shipped_gunicorn(shipped_env(tmp_path, GUNICORN_WORKERS="2"), tmp_path / "gunicorn.log") as (base, proc):
        assert b"<Identify>" in identify(base)
        deadline = time.monotonic() + 10  # until both workers have booted and listen
        while True:
            workers = worker_pids(proc)
            masks = {pid: epoll_masks(pid) for pid in workers}
            exclusive = {pid: [m for m in found if m & select.EPOLLEXCLUSIVE] for pid, found in masks.items()}
            if len(workers) == 2 and all(exclusive.values()) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert len(workers) == 2 and all(exclusive.values()), masks
    assert all(mask & select.EPOLLIN for found in exclusive.values() for mask in found)


def test_a_client_gone_before_its_answer_is_sent_costs_nothing_else(tmp_path):
    """A client that resets while its 17 MB page is being built: the worker lives on and answers the next."""
    env = big_page_instance(tmp_path, GUNICORN_WORKERS="1")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log") as (base, proc):
        url = urllib.parse.urlsplit(base)
        workers = worker_pids(proc)
        for _ in range(3):
            with socket.create_connection((url.hostname, url.port), timeout=10) as gone:
                gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
                gone.sendall(b"GET /oai?verb=ListRecords&metadataPrefix=oai_dc HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                time.sleep(0.01)  # read by the worker, which is building the page
            time.sleep(0.3)
            assert b"<Identify>" in identify(base)
        assert worker_pids(proc) == workers  # none replaced


FAILING_APP = '''
class Failing:
    """A response iterable that fails: midway (an exception among its parts), or in close()."""

    def __init__(self, parts, close_fails=False):
        self.parts, self.close_fails = parts, close_fails

    def __iter__(self):
        for part in self.parts:
            if isinstance(part, Exception):
                raise part
            yield part

    def close(self):
        if self.close_fails:
            raise RuntimeError("close failed")


def app(environ, start_response):
    if environ["PATH_INFO"] == "/midway":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2000000")])
        return Failing([b"a" * 1_000_000, RuntimeError("midway")])
    if environ["PATH_INFO"] == "/close-fails":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return Failing([b"ok"], close_fails=True)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''


def get_until_closed(address: tuple[str, int], path: str) -> bytes:
    """GET ``path`` on a new connection; all the server sent until it closed."""
    with socket.create_connection(address, timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        return read_to_end(sock)


def test_what_an_app_produced_before_failing_is_sent(tmp_path):
    """An app that fails once its response has begun: what it produced is sent, then the connection closed.

    As gunicorn's gthread worker does: a response whose iterable's close() raises arrives whole,
    one that raises midway arrives cut short (its Content-Length tells). The main thread used to
    let gunicorn close the connection before sending what it had kept: the client got nothing.
    """
    (tmp_path / "wsgi.py").write_text(FAILING_APP)
    env = shipped_env(tmp_path, GUNICORN_WORKERS="1")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log", cwd=tmp_path, path="/") as (base, proc):
        url = urllib.parse.urlsplit(base)
        address = (url.hostname, url.port)
        workers = worker_pids(proc)
        whole = get_until_closed(address, "/close-fails")
        cut = get_until_closed(address, "/midway")
        assert get_until_closed(address, "/").endswith(b"\r\n\r\nok")
        assert worker_pids(proc) == workers
    assert whole.startswith(b"HTTP/1.1 200 OK\r\n") and whole.endswith(b"\r\n\r\nok")
    head, _, body = cut.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == b"a" * 1_000_000
    assert "close failed" in (tmp_path / "gunicorn.log").read_text()


def test_a_body_announced_in_a_form_the_peek_does_not_read_is_waited_for(tmp_path):
    """A Content-Length of 13 digits (leading zeros are valid) whose body comes later: the body is read, not taken as empty.

    The peek reads lengths of up to 12 digits; it took a longer one for no body at all, and the
    main thread answered the request without it (a thread waits for it, as in gthread).
    """
    with shipped_gunicorn(shipped_env(tmp_path, GUNICORN_WORKERS="1"), tmp_path / "gunicorn.log") as (base, _):
        url = urllib.parse.urlsplit(base)
        with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
            sock.sendall(b"POST /oai HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 0000000000013\r\n\r\n")
            time.sleep(0.3)  # peeked at: the headers alone
            sock.sendall(b"verb=Identify")
            answer = read_to_end(sock)
    assert answer.startswith(b"HTTP/1.1 200") and b"<Identify>" in answer


def test_workers_answering_in_the_main_thread_are_recycled(tmp_path):
    """GUNICORN_MAX_REQUESTS=3: requests answered in the main thread count, and the worker is replaced after them."""
    conf, record = recording_conf(tmp_path)
    env = shipped_env(tmp_path, GUNICORN_WORKERS="1", GUNICORN_MAX_REQUESTS="3")
    with shipped_gunicorn(env, tmp_path / "gunicorn.log", conf=conf) as (base, proc):
        seen = set()
        for _ in range(7):
            # (waits while the next worker boots: a request meanwhile waits in the listen queue)
            with urllib.request.urlopen(base + "?verb=Identify", timeout=30) as response:
                assert b"<Identify>" in response.read()
            seen.add(tuple(worker_pids(proc)))
    assert set(record.read_text().split()) == {"main", "verb=Identify"}
    assert len(seen) >= 2, seen  # (one of the 3 requests of the first worker: the start-up check)
    assert "Autorestarting worker after current request." in (tmp_path / "gunicorn.log").read_text()
