"""The HTTP edge: one view for GET and POST /oai, plus / and /healthz."""
from __future__ import annotations

import sqlite3

from flask import Blueprint, Flask, Response, current_app, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect and make_conditional return

import metadata_formats
from oaiserver.protocol import datestamps, envelope
from oaiserver.protocol.errors import Unavailable
from oaiserver.storage import health, problems
from oaiserver.protocol.tokens import TokenCodec
from oaiserver.web import stylesheet as stylesheet_template
from oaiserver.web.answer import answer

bp = Blueprint("oai", __name__)

XSL_TYPE = "text/xsl; charset=utf-8"
XSL_MAX_AGE = 3600  # an hour: browsers pick up a new stylesheet soon after an upgrade
#: Retry-After of the 503 for a damaged database: a restore takes a while, so not seconds.
DAMAGED_RETRY_AFTER = 3600
#: Retry-After of an unhealthy /healthz: a follower catches up, or a replica is restored, in seconds.
HEALTH_RETRY_AFTER = 5


def init_app(app: Flask) -> None:
    """Register the views, their error handlers and the token codec."""
    envelope.keep_page_buffers()  # a serving process: page-sized buffers stay in the heap
    app.register_blueprint(bp)
    app.register_error_handler(sqlite3.DatabaseError, damaged_database)
    app.register_error_handler(Unavailable, unavailable)
    app.extensions["oaiserver.codec"] = TokenCodec(
        app.config["SECRET_KEY"], app.config["OAI_TOKEN_TTL"]
    )


@bp.route("/oai", methods=["GET", "POST"])
def oai() -> Response:
    """Answer an OAI-PMH request; protocol errors are HTTP 200 as the protocol says.

    Plain GETs and form POSTs rarely get here: oaiserver.web.fastpath answers them the same way
    without Flask's per-request machinery. This view answers HEAD and the unusual requests.
    """
    body, headers = answer(current_app.config, current_app.extensions["oaiserver.codec"], request)
    return Response(body, status=200, headers=headers)


def unavailable(error: Unavailable) -> Response:
    """Answer 503 with Retry-After when this node cannot answer correctly now (logged in one line)."""
    current_app.logger.warning("answering 503 (%s): %s", current_app.config["DATABASE"], error.reason)
    return _retry_later(f"503 Service Unavailable: {error.reason}; retry in {error.retry_after} s\n",
                        error.retry_after)


def _retry_later(text: str, seconds: int) -> Response:
    """A plain-text 503 asking to come back in ``seconds``."""
    response = Response(text, status=503, content_type="text/plain; charset=utf-8")
    response.headers["Retry-After"] = str(seconds)
    return response


def damaged_database(error: sqlite3.DatabaseError) -> Response:
    """Answer 503 for a damaged database (logged in one line), never a malformed document.

    Other database errors go on to Flask's generic 500 and its logged traceback.
    """
    if not problems.is_corrupt(error):
        raise error
    current_app.logger.error("%s", problems.corrupt(str(error), current_app.config["DATABASE"]))
    return _retry_later("503 Service Unavailable: the repository's database is damaged; "
                        "the administrator must restore it\n", DAMAGED_RETRY_AFTER)


@bp.route("/oai.xsl")
def stylesheet() -> BaseResponse:
    """Serve the XSLT that browsers apply to OAI responses (see the xml-stylesheet instruction)."""
    body, etag = stylesheet_template.served(metadata_formats.FORMATS)
    response = Response(body, content_type=XSL_TYPE)
    # A content hash, not send_file's mtime: the same ETag from every worker and every host.
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = XSL_MAX_AGE
    return response.make_conditional(request)


@bp.route("/")
def index() -> BaseResponse:
    """Send people who open the server's root to Identify."""
    return redirect("/oai?verb=Identify")


@bp.route("/healthz")
def healthz() -> Response:
    """Tell a load balancer whether this node answers correctly now: 200 "ok", or 503 and why."""
    config = current_app.config
    try:
        found = health.problems_of(config["DATABASE"], config["OAI_ROLE"] == "follower",
                                   config["OAI_MAX_LAG"], datestamps.now().timestamp())
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        current_app.logger.exception("health check failed")
        found = [health.Problem("the health check failed", "the health check failed")]
    if found:
        current_app.logger.warning("unhealthy: %s", "; ".join(p.detail for p in found))
        return _retry_later("".join(f"{p.public}\n" for p in found), HEALTH_RETRY_AFTER)
    return Response("ok\n", content_type="text/plain")
