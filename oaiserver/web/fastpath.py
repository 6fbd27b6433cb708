"""A lean WSGI route for the hot requests, GET and form POST /oai, in front of Flask.

Harvesters send almost nothing but list pages, and for a page of 100 records Flask's
per-request machinery (contexts, routing, signals, the Response object, after-request hooks)
cost about a third of the server's CPU under gunicorn (measured with bench.harvest_bench:
2.3 ms per 100 records through the Flask view, 1.6 ms through this route). So plain requests
to /oai are answered here, with werkzeug's own parsing of the request and the Flask view's
own answer (oaiserver.web.answer) plus limits.SECURITY_HEADERS, and
give byte for byte the same response: tests/web/test_fastpath.py compares the two on every kind of
request. Everything unusual goes to Flask unchanged: other paths and methods, HEAD, bodies
that are not small url-encoded forms, and hosts Flask would refuse. An unexpected failure is
handed to Flask's error handling, which logs it and answers the generic error page.
"""
from __future__ import annotations

import typing as t

from werkzeug.wrappers import Request

from oaiserver.protocol.errors import Unavailable
from oaiserver.storage import problems
from oaiserver.web import limits, views
from oaiserver.web.answer import answer

if t.TYPE_CHECKING:
    from flask import Flask

WSGIApp = t.Callable[[dict, t.Callable], t.Iterable[bytes]]

FORM_TYPE = "application/x-www-form-urlencoded"


class OAIFastPath:
    """WSGI middleware: answer plain /oai requests directly, pass the rest to ``fallback``."""

    def __init__(self, app: Flask, fallback: WSGIApp) -> None:
        self.app = app
        self.fallback = fallback

    def __call__(self, environ: dict, start_response: t.Callable) -> t.Iterable[bytes]:
        """Answer a WSGI request."""
        request = self._plain_request(environ)
        if request is None:
            return self.fallback(environ, start_response)
        slots = self.app.extensions["oaiserver.slots"]
        if not slots.take():
            # Flask answers the 503 with Retry-After, exactly as for any busy request.
            return self.fallback(environ, start_response)
        try:
            try:
                body, headers = self._answer(request)
            finally:
                slots.give_back()  # first: Flask's error handling must not find us busy
        except Exception as error:  # noqa: BLE001
            # Inside except, so that Flask logs the traceback (from sys.exc_info()).
            return self._failed(environ, start_response, error)
        start_response("200 OK", headers)
        return [body]

    def _failed(self, environ: dict, start_response: t.Callable, error: Exception) -> t.Iterable[bytes]:
        """Let Flask log the failure and answer its generic error page (or re-raise in tests)."""
        with self.app.request_context(environ):
            if isinstance(error, Unavailable):  # the Flask view's own answer: views.unavailable
                response = self.app.finalize_request(views.unavailable(error))
            elif problems.is_corrupt(error):  # the Flask view's own answer: views.damaged_database
                response = self.app.finalize_request(views.damaged_database(error))  # type: ignore[arg-type]
            else:
                response = self.app.handle_exception(error)
            return response(environ, start_response)

    def _plain_request(self, environ: dict) -> Request | None:
        """Return the request if this route may answer it, else None (Flask will)."""
        if environ.get("PATH_INFO") != "/oai":
            return None
        method = environ.get("REQUEST_METHOD")
        config = self.app.config
        if config.get("SERVER_NAME"):
            return None  # Flask matches the host against it: leave that to Flask
        request = Request(environ)
        request.trusted_hosts = config.get("TRUSTED_HOSTS")
        if method == "POST":
            # Only a small url-encoded form; anything else gets Flask's 413 or parsing.
            length = request.content_length
            limit = config.get("MAX_CONTENT_LENGTH")
            if request.mimetype != FORM_TYPE or length is None or (limit is not None and length > limit):
                return None
            request.max_content_length = limit
        elif method != "GET":
            return None
        try:
            request.host  # noqa: B018 - raises SecurityError for a host Flask would refuse
        except Exception:  # noqa: BLE001
            return None
        return request

    def _answer(self, request: Request) -> tuple[bytes, list[tuple[str, str]]]:
        body, headers = answer(self.app.config, self.app.extensions["oaiserver.codec"], request)
        # What limits' after-request hook adds to every Flask response.
        headers.extend(limits.SECURITY_HEADERS.items())
        return body, headers


def init_app(app: Flask) -> None:
    """Put the fast route in front of the Flask app (after views and limits are set up)."""
    if isinstance(app.wsgi_app, OAIFastPath):
        return
    app.wsgi_app = OAIFastPath(app, app.wsgi_app)  # type: ignore[method-assign]
