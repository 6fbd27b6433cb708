"""gunicorn settings for oaiserver: `gunicorn -c gunicorn.conf.py wsgi:app`.

gunicorn also reads this file by itself when started from this folder. Command-line options
and GUNICORN_CMD_ARGS override it; the GUNICORN_* variables below change the defaults
without editing the file (docs/admin.md, "gunicorn").
"""
from __future__ import annotations

import os

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

# Sync workers: a request is a few SQLite reads and string joins, CPU-bound and short, and
# the proxy buffers slow clients. Concurrency is the number of workers.
worker_class = "sync"
workers = _env_int("GUNICORN_WORKERS", min(2 * _cpu_count() + 1, MAX_DEFAULT_WORKERS))

# A worker silent this long is killed and replaced; no page should take more than a second.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
# On restart (SIGHUP, deploy) workers get this long to finish the pages they are sending.
graceful_timeout = 30
# Seconds an idle keep-alive connection stays open. Sync workers close every connection after
# one response, so this only matters if worker_class is changed to gthread or an async class.
keepalive = 5

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
# Build the app once in the master and fork it: a recycled worker starts in milliseconds
# instead of re-importing everything (measured: 2.25 -> 1.78 ms CPU per 100-record page, and
# fewer slow first bytes). Safe here: create_app opens no database connection; each worker
# opens its own read connection on its first request.
preload_app = True

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
