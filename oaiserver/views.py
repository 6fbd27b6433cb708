"""The HTTP edge: one view for GET and POST /oai, plus / and /healthz."""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import zlib

from flask import Blueprint, Flask, Response, current_app, g, redirect, request

from oaiserver import datestamps, db, envelope, verbs
from oaiserver.tokens import TokenCodec

bp = Blueprint("oai", __name__)

XML_TYPE = "text/xml; charset=utf-8"
XSL_TYPE = "text/xsl; charset=utf-8"
XSL_MAX_AGE = 3600  # an hour: browsers pick up a new stylesheet soon after an upgrade


def init_app(app: Flask) -> None:
    """Register the views and the per-request connection teardown."""
    envelope.keep_page_buffers()  # a serving process: page-sized buffers stay in the heap
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
        stylesheet=_stylesheet(config.get("OAI_STYLESHEET") or ""),
    )


def _stylesheet(href: str) -> str | None:
    # An absolute path is below the app's root, so a deployment under /journal/ still finds it.
    if not href:
        return None
    return request.script_root + href if href.startswith("/") else href


def _connection():
    # One read-only connection per worker thread, reused across requests (db.cached_reader).
    if "oai_conn" not in g:
        path = current_app.config["DATABASE"]
        if not os.path.exists(path):
            # A fresh install serves an empty repository rather than failing every request;
            # creating the empty schema is the web app's only write, once.
            db.connect_writer(path).close()
        g.oai_conn = db.cached_reader(path)
    return g.oai_conn


def _close_connection(_exc: BaseException | None = None) -> None:
    # The connection stays open for the next request; only a transaction left open by a
    # failed request is ended, so the snapshot never outlives its request.
    conn = g.pop("oai_conn", None)
    if conn is not None and conn.in_transaction:
        conn.rollback()


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


@bp.route("/oai.xsl")
def stylesheet() -> Response:
    """Serve the XSLT that browsers apply to OAI responses (see the xml-stylesheet instruction)."""
    body, etag = _static_file(os.path.join(current_app.static_folder, "oai.xsl"))
    response = Response(body, content_type=XSL_TYPE)
    # A content hash, not send_file's mtime: the same ETag from every worker and every host.
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = XSL_MAX_AGE
    return response.make_conditional(request)


@functools.cache
def _static_file(path: str) -> tuple[bytes, str]:
    with open(path, "rb") as file:
        body = file.read()
    return body, hashlib.sha256(body).hexdigest()[:32]


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
