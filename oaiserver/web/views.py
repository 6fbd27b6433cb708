"""The HTTP edge: one view for GET and POST /oai, plus / and /healthz."""
from __future__ import annotations

import sqlite3

from flask import Blueprint, Flask, Response, current_app, g, redirect, request
from werkzeug.wrappers import Response as BaseResponse  # what redirect and make_conditional return

import metadata_formats
from oaiserver.protocol import envelope
from oaiserver.storage import problems
from oaiserver.protocol.tokens import TokenCodec
from oaiserver.web import stylesheet as stylesheet_template
from oaiserver.web.answer import answer, end_request, reader

bp = Blueprint("oai", __name__)

XSL_TYPE = "text/xsl; charset=utf-8"
XSL_MAX_AGE = 3600  # an hour: browsers pick up a new stylesheet soon after an upgrade
#: Retry-After of the 503 for a damaged database: a restore takes a while, so not seconds.
DAMAGED_RETRY_AFTER = 3600


def init_app(app: Flask) -> None:
    """Register the views and the per-request connection teardown."""
    envelope.keep_page_buffers()  # a serving process: page-sized buffers stay in the heap
    app.register_blueprint(bp)
    app.teardown_appcontext(_close_connection)
    app.register_error_handler(sqlite3.DatabaseError, damaged_database)
    app.extensions["oaiserver.codec"] = TokenCodec(
        app.config["SECRET_KEY"], app.config["OAI_TOKEN_TTL"]
    )


def _connection() -> sqlite3.Connection:
    if "oai_conn" not in g:
        g.oai_conn = reader(current_app.config["DATABASE"])
    return g.oai_conn


def _close_connection(_exc: BaseException | None = None) -> None:
    # The connection stays open for the next request (see answer.reader).
    conn = g.pop("oai_conn", None)
    if conn is not None:
        end_request(conn)


@bp.route("/oai", methods=["GET", "POST"])
def oai() -> Response:
    """Answer an OAI-PMH request; protocol errors are HTTP 200 as the protocol says.

    Plain GETs and form POSTs rarely get here: oaiserver.web.fastpath answers them the same way
    without Flask's per-request machinery. This view answers HEAD and the unusual requests.
    """
    body, headers = answer(current_app.config, current_app.extensions["oaiserver.codec"], request)
    return Response(body, status=200, headers=headers)


def damaged_database(error: sqlite3.DatabaseError) -> Response:
    """Answer 503 for a damaged database (logged in one line), never a malformed document.

    Other database errors go on to Flask's generic 500 and its logged traceback.
    """
    if not problems.is_corrupt(error):
        raise error
    current_app.logger.error("%s", problems.corrupt(str(error), current_app.config["DATABASE"]))
    response = Response("503 Service Unavailable: the repository's database is damaged; "
                        "the administrator must restore it\n", status=503,
                        content_type="text/plain; charset=utf-8")
    response.headers["Retry-After"] = str(DAMAGED_RETRY_AFTER)
    return response


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
    """Tell a load balancer whether the database answers."""
    try:
        _connection().execute("SELECT 1 FROM records LIMIT 1").fetchall()
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        current_app.logger.exception("health check failed")
        return Response("database unavailable\n", status=503, content_type="text/plain")
    return Response("ok\n", content_type="text/plain")
