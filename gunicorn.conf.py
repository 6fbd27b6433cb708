"""gunicorn settings for oaiserver: `gunicorn -c gunicorn.conf.py wsgi:app`.

gunicorn also reads this file by itself when started from this folder. Command-line options
and GUNICORN_CMD_ARGS override it; the GUNICORN_* variables below change the defaults
without editing the file (docs/admin.md, "gunicorn").
"""
from __future__ import annotations

import os
import socket
import typing as t

from gunicorn.workers.gthread import ThreadWorker

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


# Behind nginx, which buffers slow clients, GUNICORN_WORKER_CLASS=sync serves each list page
# with ~0.5 ms less CPU (no hand-over between threads; BENCHMARKS.md); one thread per worker.
WORKER_CLASSES = {"gthread": PromptCloseThreadWorker, "sync": "sync"}
_worker_class_name = os.environ.get("GUNICORN_WORKER_CLASS", "").strip() or "gthread"
if _worker_class_name not in WORKER_CLASSES:
    raise SystemExit(f"GUNICORN_WORKER_CLASS={_worker_class_name!r}: use one of {', '.join(WORKER_CLASSES)}")
worker_class = WORKER_CLASSES[_worker_class_name]
workers = _env_int("GUNICORN_WORKERS", min(2 * _cpu_count() + 1, MAX_DEFAULT_WORKERS))
# (gunicorn makes a sync worker with more than one thread a gthread worker.)
threads = 1 if worker_class == "sync" else _env_int("GUNICORN_THREADS", 32)
# A worker takes no more connections than it has threads: one whose threads are all held by
# slow clients stops accepting, and the next connection goes to a worker with a free thread
# (otherwise it would wait in that worker's queue behind the slow ones).
worker_connections = threads

# A worker whose main loop is silent this long is killed and replaced. (With threads a long
# response does not silence it: the worker keeps signalling while a thread writes.)
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# On restart (SIGHUP, deploy) workers get this long to finish the pages they are sending.
graceful_timeout = 30
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
