"""gunicorn settings for oaiserver: `gunicorn -c gunicorn.conf.py wsgi:app`.

gunicorn also reads this file by itself when started from this folder. Command-line options
and GUNICORN_CMD_ARGS override it; the GUNICORN_* variables below change the defaults
without editing the file (docs/admin.md, "gunicorn").

It also holds the worker class the settings name (MainLoopWorker). gunicorn's master imports
it from here, so it imports nothing of oaiserver: a module the master had imported would be
handed to every worker it forks, unchanged by a reload (SIGHUP) after an upgrade.
"""
from __future__ import annotations

import collections
import errno
import itertools
import os
import re
import select
import selectors
import socket
import time
import typing as t
from concurrent import futures
from dataclasses import dataclass
from functools import partial

from gunicorn.workers.gthread import DEFAULT_WORKER_DATA_TIMEOUT, TConn, ThreadWorker

# Past this many workers one SQLite file on one disk gains little, and memory adds up;
# raise it with GUNICORN_WORKERS on a big machine.
MAX_DEFAULT_WORKERS = 8


def _cpu_count() -> int:
    """CPUs this process may run on (respects taskset/cgroup affinity), at least 1."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _env_int(name: str, default: int) -> int:
    """A whole number from the environment, or the default when unset or empty."""
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# Loopback by default: nginx (or another proxy) in front terminates TLS and talks to us here.
# Several addresses: GUNICORN_BIND="127.0.0.1:8000,unix:/run/oaiserver/gunicorn.sock".
bind = [b.strip() for b in os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",") if b.strip()]

# Threaded workers, because journals also run gunicorn with no proxy in front. A sync worker
# is held by one connection from accept to the last byte sent, so a few slow-header sockets
# (one per worker) or a slow reader took the server away, and a worker silent for `timeout`
# while writing to a slow reader was killed mid-page. A gthread worker's threads each hold one
# connection while the worker itself stays responsive; a thread costs little while it waits.
# The shipped worker (MainLoopWorker, below) keeps that protection but answers the requests
# that arrive whole, nearly all of them, without the threads' cost.
# Measured on loopback (tests/integration/test_slow_clients.py): 50 slow-header sockets left
# sync workers unavailable, and these settings answering every probe (docs/admin.md,
# "Slow clients"). Behind nginx none of this matters: nginx buffers slow clients.


def _nothing_unread(sock: socket.socket) -> bool:
    """Whether the client has sent nothing this worker has not read (so closing cannot reset)."""
    try:
        return not sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # b"": the client closed
    except BlockingIOError:
        return True  # nothing waiting
    except ValueError:
        return False  # a TLS socket takes no flags: let gunicorn close it as it does
    except OSError:
        return True  # reset or gone: nothing left to protect


class PromptCloseThreadWorker(ThreadWorker):
    """gunicorn's gthread worker, except that the thread that answered a request closes its connection.

    gunicorn 27 closes a connection after its response in the worker's main thread, by
    half-closing it and then waiting until the client closes its side (up to 2 s). That guards
    against a reset cutting the response short when unread request bytes remain, but while it
    waits the main thread accepts nothing: one client that stops reading after its request
    froze the worker for 2 s (tests/integration/test_slow_clients.py). Here the thread that
    sent the response closes the connection straight after it: with nothing unread a plain close
    sends the response whole, then FIN, as sync workers always do; otherwise gunicorn's waiting
    close, in that thread. (It overrides two methods of gunicorn 27's ThreadWorker: setup.cfg
    pins gunicorn 27.)
    """

    def handle(self, conn: t.Any) -> t.Any:
        """Answer the connection's request; close it unless it stays open (keep-alive)."""
        result = super().handle(conn)
        if not result:  # done with (gunicorn's "defer" and keep-alive results are true)
            conn.close(graceful=not _nothing_unread(conn.sock))
        return result

    def finish_request(self, conn: t.Any, fs: t.Any) -> None:
        """Count a closed connection out; others as gunicorn does (kept alive, deferred, failed)."""
        if not fs.cancelled() and fs.exception() is None and not fs.result():
            self.nr_conns -= 1  # closed by handle()
            return
        super().finish_request(conn, fs)


#: What a peek at a new connection reads: a request whose headers (and body) fit in it can be
#: answered at once; anything longer goes to a thread, as in gunicorn's gthread worker.
PEEK_BYTES = 64 * 1024
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]{1,12})[ \t]*(?:\r\n|$)")


def _whole_request(data: bytes) -> bool:
    """Whether ``data`` holds a whole HTTP/1 request: the headers, and the body they announce."""
    end = data.find(b"\r\n\r\n")
    if end < 0 or data.startswith(b"PRI "):  # unfinished, or HTTP/2's preface
        return False
    head = data[:end].lower()
    if b"\r\ntransfer-encoding:" in head or b"\r\nexpect:" in head:
        return False  # a chunked body, or a client waiting for "100 Continue"
    length = _CONTENT_LENGTH.search(head)
    if length is None:
        # No body, unless the header is there in a form not read here (13 digits and more,
        # leading zeros included): then a thread reads the body as it comes, as gunicorn does.
        return b"\r\ncontent-length:" not in head
    return end + 4 + int(length.group(1)) <= len(data)


class _NoWaitSocket:
    """A client socket that never makes the worker's main thread wait for its client.

    A request answered in the main thread is read and written through this (MainLoopWorker).
    Its reads take what has arrived; what is written is kept, in order, and sent once the
    response is complete (``send_kept``): the head and the body in one call where gunicorn
    makes two. gunicorn's closing it is noted, and done once the response is sent (MainLoopWorker).
    Everything else is the socket's own.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self.kept: collections.deque[memoryview] = collections.deque()
        self.closing = False

    def recv(self, size: int, flags: int = 0) -> bytes:
        """What has arrived, up to ``size`` bytes; b"" (the end) if nothing has.

        The request was whole when peeked at; should gunicorn's parser still want more (were it
        ever to read a request's end differently from the peek), it sees the end of the data
        instead of stopping the worker.
        """
        try:
            return self._sock.recv(size, flags | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return b""

    def sendall(self, data: t.Any, flags: int = 0) -> None:
        """Keep ``data`` to be sent with the rest of the response."""
        # Kept as a view of the caller's bytes: immutable, so the view stays valid.
        view = memoryview(data if isinstance(data, bytes) else bytes(data)).cast("B")
        if view:
            self.kept.append(view)

    def shutdown(self, how: int) -> None:
        """Note that gunicorn is done with the connection: it is closed once the kept response is sent.

        gunicorn closes a connection itself (half-close, then close) when the app fails after
        its response has begun: its iterable raises midway, or its close() raises. gthread has
        sent what was produced by then; closing here would throw the kept bytes away instead,
        even a whole response.
        """
        self.closing = True

    def close(self) -> None:
        """Note that gunicorn is done with the connection (see shutdown)."""
        self.closing = True

    def settimeout(self, timeout: float | None) -> None:
        """Ignored: a socket with a timeout waits for its client before any recv, whatever the flags.

        (gunicorn's waiting close sets one before it drains the connection.)
        """

    def __getattr__(self, name: str) -> t.Any:
        return getattr(self._sock, name)


@dataclass
class _Sending:
    """A response the main loop is still sending: the bytes left, and what follows once they are sent."""

    conn: t.Any
    kept: collections.deque[memoryview]
    keep_alive: t.Any  # what gunicorn's handle() returned
    deadline: float


#: The most buffers one sendmsg takes (Linux's IOV_MAX).
_MAX_BUFFERS = 1024


def send_kept(sock: socket.socket, kept: collections.deque[memoryview]) -> bool:
    """Send kept buffers in order, several a call, until the socket would block; whether anything was sent.

    Raises OSError (a reset, a broken pipe) when the client has gone.
    """
    sent_any = False
    try:
        while kept:
            sent = sock.sendmsg(list(itertools.islice(kept, _MAX_BUFFERS)), [], socket.MSG_DONTWAIT)
            sent_any = True
            while sent:
                first = kept[0]
                if sent < len(first):
                    kept[0] = first[sent:]
                    break
                sent -= len(first)
                kept.popleft()
    except BlockingIOError:
        pass
    return sent_any


class MainLoopWorker(PromptCloseThreadWorker):
    """A threaded worker that answers whole requests in its main thread and writes from its event loop.

    gunicorn's gthread worker hands every connection to a pool thread and back, which costs
    CPU on each request (the hand-over, a selector made per connection, the two threads taking
    turns at the GIL: BENCHMARKS.md). A harvester's request arrives whole in one packet, so
    this worker peeks at a new connection: a whole request is answered here, in the main thread,
    and what of the response the socket does not take at once is sent by the event loop as the
    client reads, so a slow reader holds neither the main thread nor a pool thread. The pool
    threads keep what needs waiting: a request still arriving (slow headers, a body to come),
    TLS, and the waiting close of a connection with unread bytes. A connection that sends
    nothing waits in the event loop, not in a thread. A client that reads nothing of a response
    the event loop is sending for `timeout` seconds is disconnected.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.sending: dict[t.Any, _Sending] = {}

    def set_accept_enabled(self, enabled: bool) -> None:
        """Listen (or stop) as gunicorn does, but woken alone: one new connection wakes one worker.

        Every worker waits on the same listening sockets; without EPOLLEXCLUSIVE (Linux 4.5+) each
        connection wakes them all, and all but one find nothing to accept: a turn of the event
        loop each, for nothing (BENCHMARKS.md).
        """
        was = self._accepting
        super().set_accept_enabled(enabled)
        epoll = getattr(self.poller, "_selector", None)  # the select.epoll of an EpollSelector
        if not enabled or was or not isinstance(epoll, select.epoll) or not hasattr(select, "EPOLLEXCLUSIVE"):
            return
        for listener in self.sockets:
            epoll.unregister(listener.fileno())  # an exclusive wait cannot be set by modifying one
            epoll.register(listener.fileno(), select.EPOLLIN | select.EPOLLEXCLUSIVE)

    def accept(self, listener: t.Any) -> None:
        """Accept a connection; answer it here if its request is whole, else wait for it or hand it to a thread."""
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client_sock, client_addr, listener.getsockname())  # non-blocking
        if self.cfg.is_ssl:
            self.enqueue_req(conn)  # the handshake, and all reading, blocks: a thread's work
            return
        self._on_bytes(conn, first=True)

    def _on_first_bytes(self, conn: t.Any, client: t.Any) -> None:
        """A connection that had sent nothing when accepted is readable now."""
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        self._on_bytes(conn, first=False)

    def _on_bytes(self, conn: t.Any, first: bool) -> None:
        """Answer a whole request here; wait in the event loop for a first byte; hand anything else to a thread."""
        try:
            data = conn.sock.recv(PEEK_BYTES, socket.MSG_PEEK)
        except BlockingIOError:
            data = None  # nothing yet
        except OSError:
            data = b""  # reset: nothing to answer
        if data == b"":
            self.nr_conns -= 1  # closed, or reset, before a request
            conn.close()
        elif data is None and first:
            # The request is on its way (the handshake wakes accept before the data lands).
            # Wait for it here rather than in a thread, for as long as a thread would.
            conn.timeout = time.monotonic() + DEFAULT_WORKER_DATA_TIMEOUT
            self.pending_conns.append(conn)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_first_bytes, conn))
        elif data is not None and _whole_request(data):
            self._answer_here(conn)
        else:
            # A thread reads the rest as it comes, as in gthread (it waits for a first byte
            # itself in the rare case that the readable event brought none).
            conn.data_ready = data is not None
            self.enqueue_req(conn)

    def _answer_here(self, conn: t.Any) -> None:
        """Answer the connection's request in this thread; leave what the socket did not take to the event loop."""
        sock = conn.sock
        conn.sock = held = _NoWaitSocket(sock)
        conn.data_ready = True  # read already: gunicorn's handle() must not wait for it
        try:
            keep_alive = ThreadWorker.handle(self, conn)  # gunicorn's reading and answering
        finally:
            conn.sock = sock
            unreader = getattr(conn.parser, "unreader", None)
            if unreader is not None and getattr(unreader, "sock", None) is held:
                unreader.sock = sock  # a kept-alive connection's next request is read as usual
        if held.closing:
            keep_alive = False  # gunicorn closed it: what it kept is sent, then the connection closed
        sending = _Sending(conn, held.kept, keep_alive, time.monotonic() + self.cfg.timeout)
        if self._send_some(sock, sending):
            self._after_response(conn, sending.keep_alive)
            return
        # The socket stays blocking for gunicorn's code: send_kept's sends never wait anyway.
        self.sending[sock] = sending
        self.poller.register(sock, selectors.EVENT_WRITE, partial(self._on_writable, sending))

    def _on_writable(self, sending: _Sending, sock: t.Any) -> None:
        """Send more of a kept response; once it is all sent, finish the connection."""
        if not self._send_some(sock, sending):
            return
        self.poller.unregister(sock)
        del self.sending[sock]
        self._after_response(sending.conn, sending.keep_alive)

    def _send_some(self, sock: t.Any, sending: _Sending) -> bool:
        """Send what the socket takes now; whether the response is done with (all sent, or its client gone)."""
        try:
            if send_kept(sock, sending.kept):
                sending.deadline = time.monotonic() + self.cfg.timeout
        except OSError:  # the client went away (reset, or closed), perhaps while its answer was made
            sending.kept.clear()
            sending.keep_alive = False
        return not sending.kept

    def _after_response(self, conn: t.Any, keep_alive: t.Any) -> None:
        """Close the connection, or keep it alive, once its whole response is with the kernel."""
        if keep_alive:
            done: futures.Future[t.Any] = futures.Future()
            done.set_result(keep_alive)
            ThreadWorker.finish_request(self, conn, done)  # back to the poller, as gunicorn does
        elif _nothing_unread(conn.sock):
            self.nr_conns -= 1
            conn.close()
        else:
            # gunicorn's waiting close (up to 2 s) must not hold the main thread.
            closing = self.tpool.submit(conn.close, graceful=True)
            closing.add_done_callback(lambda _: self.method_queue.defer(self._count_out))

    def _count_out(self) -> None:
        """A connection closed by a pool thread no longer counts (main thread)."""
        self.nr_conns -= 1

    def murder_pending(self) -> None:
        """Close connections that sent nothing in time (as gunicorn does) and readers stalled for `timeout` seconds."""
        super().murder_pending()
        if not self.sending:  # the common case, once per turn of the loop
            return
        if not self.cfg.timeout:
            return  # timeout 0 is gunicorn's "no timeout": a reader is never let go (as a gthread thread waits)
        now = time.monotonic()
        for sock, sending in [(s, w) for s, w in self.sending.items() if w.deadline <= now]:
            self.log.info("Disconnecting %s: it read nothing of its response for %s s",
                          sending.conn.client, self.cfg.timeout)
            self.poller.unregister(sock)
            del self.sending[sock]
            self.nr_conns -= 1
            sending.conn.close()


# "gthread" is the shipped worker (MainLoopWorker). GUNICORN_WORKER_CLASS=sync is gunicorn's
# sync worker, one thread each, for deployments behind nginx (which buffers slow clients); it
# costs no less CPU than MainLoopWorker (BENCHMARKS.md).
WORKER_CLASSES = {"gthread": MainLoopWorker, "sync": "sync"}
_worker_class_name = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"
if _worker_class_name not in WORKER_CLASSES:
    raise SystemExit(f"GUNICORN_WORKER_CLASS={_worker_class_name!r}: use one of {', '.join(WORKER_CLASSES)}")
worker_class = WORKER_CLASSES[_worker_class_name]
workers = _env_int("GUNICORN_WORKERS", min(2 * _cpu_count() + 1, MAX_DEFAULT_WORKERS))
# (gunicorn makes a sync worker with more than one thread a gthread worker.)
threads = 1 if worker_class == "sync" else _env_int("GUNICORN_THREADS", 32)
# A worker takes no more connections than it has threads: one whose connections are all held
# by slow clients stops accepting, and the next connection goes to another worker (otherwise
# it would wait in that worker's queue behind the slow ones).
worker_connections = threads

# A worker whose main loop is silent this long is killed and replaced. A long response does
# not silence it: the event loop (or a thread) writes it as the client reads. A client that
# reads nothing of its response for this long is disconnected (MainLoopWorker). 0: neither.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# On restart (SIGHUP, deploy) workers get this long to finish the pages they are sending.
graceful_timeout = 30
# A response is written through the socket's send calls, never sendfile(): MainLoopWorker keeps
# a response's bytes to send them in order when the socket takes them, which a sendfile() on
# the socket itself would jump. (The app sends no files; a file would be read and written.)
sendfile = False
# No keep-alive: a connection is closed after its response (as sync workers did), so an idle
# connection never holds a worker's connection slot; a connection that sends nothing within
# gunicorn's 5 s is closed too.
keepalive = 0

# Workers signal they are alive through a file in this folder; memory-backed so a busy or
# slow disk cannot make healthy workers look dead (gunicorn's advice for containers too).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None

# Workers are not recycled by default: their memory stays flat (~46-57 MiB from 10k to 1M
# records, BENCHMARKS.md), and each recycle costs ~86 ms of CPU (the old worker's exit, the new
# one's start) during which a harvester's page waits: with recycling every 2,000 requests, the
# slowest first bytes of a 1M-record harvest came right after recycles. GUNICORN_MAX_REQUESTS=N
# turns recycling back on (after N requests, give or take 10%) for those who want the insurance.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
# Each worker builds the app itself, so that a reload (SIGHUP, `systemctl reload`) starts workers
# with the code and the instance configuration as they are now; a preloaded app was built once
# in the master and forked unchanged into every new worker. Preloading used to save CPU when
# workers were recycled often; they are not recycled now, and a worker starts in well under a
# second.
preload_app = False

# gunicorn lets a peer in forwarded_allow_ips (loopback, where nginx sits, but also any local
# client when nothing is in front) set SCRIPT_NAME and PATH_INFO by request headers; a stray
# `SCRIPT_NAME:` header then made every request a 500 or a redirect. The mount point comes
# from the SCRIPT_NAME environment variable instead (docs/admin.md, "Under a path").
forwarder_headers = ""

# Access log on stdout (journald under systemd); GUNICORN_ACCESSLOG=<path> writes a file, and
# GUNICORN_ACCESSLOG=off turns it off (nginx may log the same requests already).
_accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-").strip()
accesslog = None if _accesslog.lower() in ("", "off", "none") else _accesslog
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# Client (the proxy's X-Forwarded-For when present), time, request line, status, bytes,
# duration in milliseconds, user agent: enough to see which harvester is slow or failing.
access_log_format = (
    '%(h)s fwd=%({x-forwarded-for}i)s %(t)s "%(r)s" %(s)s %(B)s %(M)sms "%(a)s"'
)

# Name the processes so `ps` shows them as oaiserver's.
proc_name = "oaiserver"

# gunicorn 25.1+ opens a control socket for `gunicornc` at one path per user, which two
# instances on one host would share. Off unless GUNICORN_CONTROL_SOCKET names a path.
# (Older gunicorn versions ignore both settings.)
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "").strip()
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True
