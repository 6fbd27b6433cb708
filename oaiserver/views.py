"""The HTTP edge: one view for GET and POST /oai, plus / and /healthz."""
from __future__ import annotations

import gzip
import zlib

from flask import Blueprint, Flask, Response, current_app, g, redirect, request

from oaiserver import datestamps, db, verbs
from oaiserver.tokens import TokenCodec

bp = Blueprint("oai", __name__)

XML_TYPE = "text/xml; charset=utf-8"


def init_app(app: Flask) -> None:
    """Register the views and the per-request connection teardown."""
    app.register_blueprint(bp)
    app.teardown_appcontext(_close_connection)
    app.extensions["oaiserver.codec"] = TokenCodec(
        app.config["SECRET_KEY"], app.config["OAI_TOKEN_TTL"]
    )


def _repository() -> verbs.Repository:
    config = current_app.config
    return verbs.Repository(
        name=config["OAI_REPOSITORY_NAME"],
        base_url=config["OAI_BASE_URL"] or request.base_url,
        admin_emails=tuple(config["OAI_ADMIN_EMAILS"]),
        repository_identifier=config["OAI_REPOSITORY_IDENTIFIER"],
        page_size=config["OAI_PAGE_SIZE"],
        identifiers_page_size=config["OAI_IDENTIFIERS_PAGE_SIZE"],
        codec=current_app.extensions["oaiserver.codec"],
        compression=tuple(config["OAI_COMPRESSION"]),
    )


def _connection():
    if "oai_conn" not in g:
        g.oai_conn = db.connect_reader(current_app.config["DATABASE"])
    return g.oai_conn


def _close_connection(_exc: BaseException | None = None) -> None:
    conn = g.pop("oai_conn", None)
    if conn is not None:
        conn.close()


@bp.route("/oai", methods=["GET", "POST"])
def oai() -> Response:
    """Answer an OAI-PMH request; protocol errors are HTTP 200 as the protocol says."""
    params = request.values.to_dict(flat=False)
    context = verbs.Context(_repository(), _connection(), datestamps.now())
    body = verbs.handle(params, context)
    return _compressed(body)


def _compressed(body: bytes) -> Response:
    offered = current_app.config["OAI_COMPRESSION"]
    coding = next(
        (c for c in ("gzip", "deflate") if c in offered and request.accept_encodings[c] > 0), None
    )
    if coding == "gzip":
        body = gzip.compress(body, compresslevel=5, mtime=0)
    elif coding == "deflate":
        body = zlib.compress(body, 5)
    response = Response(body, status=200, content_type=XML_TYPE)
    if coding:
        response.headers["Content-Encoding"] = coding
    response.vary.add("Accept-Encoding")
    return response


@bp.route("/")
def index() -> Response:
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
