"""Flow control, security headers and generic error pages for every response.

Flow control: at most ``OAI_MAX_CONCURRENT_REQUESTS`` requests are in progress
*in one process*; one more gets ``503 Service Unavailable`` with ``Retry-After:
OAI_RETRY_AFTER`` at once instead of waiting in an unbounded queue. The count is per process
because each process has its own memory and its own share of the CPU: with gunicorn's sync
workers a process serves one request at a time, so the limit never triggers there and requests
beyond the workers wait in the listen queue (gunicorn's ``backlog``). It bites with threaded
servers: gunicorn ``gthread`` workers (set ``threads`` above the limit, so the spare threads
answer 503 at once), ``oaiserver serve`` and other threaded WSGI servers. ``/healthz`` is
exempt, so that a busy node is not taken for a dead one.

Error pages: every HTTP error (404, 405, 413, 500…) is a short plain-text body naming the
status, never a path, an exception or a configuration value; the exception itself goes to the
log (Flask logs it before the handler runs).
"""
from __future__ import annotations

import threading

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

#: Headers set on every response unless the view set its own. The CSP lets a browser apply the
#: server's own XSLT (/oai.xsl; CSP governs XSLT through script-src) and its inline styles, and
#: nothing else: no foreign scripts, images, frames or form targets.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

_EXEMPT_PATHS = frozenset({"/healthz"})
_SLOT = "oaiserver.web.limits.slot"  # environ key: this request holds a slot to give back
_TEXT = "text/plain; charset=utf-8"


class Slots:
    """A non-blocking counter of the requests in progress in this process."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._semaphore = threading.BoundedSemaphore(limit) if limit > 0 else None

    def take(self) -> bool:
        """Take a slot if one is free (always true when unlimited); never wait."""
        return self._semaphore is None or self._semaphore.acquire(blocking=False)

    def give_back(self) -> None:
        """Return a slot taken with :meth:`take`."""
        if self._semaphore is not None:
            self._semaphore.release()


def init_app(app: Flask) -> None:
    """Install the concurrency limit, the security headers and the generic error pages.

    The keys read here (the limit, Retry-After, MAX_CONTENT_LENGTH) were checked by create_app.
    """
    if "oaiserver.slots" in app.extensions:
        return  # installed already: a second slot per request would halve the limit
    app.extensions["oaiserver.slots"] = Slots(app.config["OAI_MAX_CONCURRENT_REQUESTS"])
    # First of the before_request functions: a request turned away does no other work.
    app.before_request_funcs.setdefault(None, []).insert(0, _take_slot)
    app.teardown_request(_give_back_slot)
    app.after_request(_add_security_headers)
    app.register_error_handler(HTTPException, _http_error)


def _take_slot() -> Response | None:
    if request.path in _EXEMPT_PATHS or _SLOT in request.environ:
        return None
    if not current_app.extensions["oaiserver.slots"].take():
        return busy_response()
    request.environ[_SLOT] = True
    return None


def _give_back_slot(_exc: BaseException | None = None) -> None:
    if request.environ.pop(_SLOT, False):
        current_app.extensions["oaiserver.slots"].give_back()


def busy_response() -> Response:
    """The 503 answer to a request over the limit, with the configured Retry-After."""
    seconds = current_app.config["OAI_RETRY_AFTER"]
    response = Response(
        f"503 Service Unavailable: the server is busy; retry after {seconds} seconds\n",
        status=503, content_type=_TEXT,
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def _add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def _http_error(error: HTTPException) -> Response | HTTPException:
    """Answer any HTTP error with its status line only (werkzeug's pages say more than needed)."""
    if error.code is None or error.code < 400:
        return error
    response = Response(f"{error.code} {error.name}\n", status=error.code, content_type=_TEXT)
    for name, value in error.get_headers():
        if name.lower() != "content-type":  # keeps Allow (405), Retry-After (503), …
            response.headers[name] = value
    return response
