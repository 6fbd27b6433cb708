"""The HTTP edge: one view for GET and POST /oai, plus / and /healthz."""
from __future__ import annotations

import functools
import gzip
import hashlib
import os
import sqlite3
import typing as t
import zlib

from flask import Blueprint, Flask, Response, current_app, g, redirect, request
from werkzeug.datastructures import Accept
from werkzeug.wrappers import Request as WerkzeugRequest

from oaiserver.protocol import datestamps, envelope, verbs

from oaiserver.storage import db
from oaiserver.protocol.tokens import TokenCodec

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


def answer(config: t.Mapping[str, t.Any], codec: TokenCodec,
           request: WerkzeugRequest) -> tuple[bytes, list[tuple[str, str]]]:
    """Answer an OAI-PMH request: the response body and its HTTP headers.

    Shared by the Flask view and oaiserver.web.fastpath, which both hold a werkzeug request.
    """
    conn = reader(config["DATABASE"])
    # The request's own URL only when none is configured: werkzeug builds it on every access.
    base_url = config["OAI_BASE_URL"] or request.base_url
    context = verbs.Context(_repository(config, codec, base_url, request.script_root),
                            conn, datestamps.now())
    try:
        body = verbs.handle(request.values.to_dict(flat=False), context)
    finally:
        end_request(conn)
    return _encode(body, config["OAI_COMPRESSION"], request.accept_encodings)


def _repository(config: t.Mapping[str, t.Any], codec: TokenCodec, base_url: str,
                script_root: str) -> verbs.Repository:
    """The verbs' view of the configuration, answering as ``base_url``."""
    return verbs.Repository(
        name=config["OAI_REPOSITORY_NAME"],
        base_url=base_url,
        admin_emails=tuple(config["OAI_ADMIN_EMAILS"]),
        repository_identifier=config["OAI_REPOSITORY_IDENTIFIER"],
        page_size=config["OAI_PAGE_SIZE"],
        identifiers_page_size=config["OAI_IDENTIFIERS_PAGE_SIZE"],
        codec=codec,
        compression=tuple(config["OAI_COMPRESSION"]),
        stylesheet=_stylesheet(config.get("OAI_STYLESHEET") or "", script_root),
        page_max_bytes=config["OAI_PAGE_MAX_BYTES"],
    )


def _stylesheet(href: str, script_root: str) -> str | None:
    # An absolute path is below the app's root, so a deployment under /journal/ still finds it.
    if not href:
        return None
    return script_root + href if href.startswith("/") else href


def _connection() -> sqlite3.Connection:
    if "oai_conn" not in g:
        g.oai_conn = reader(current_app.config["DATABASE"])
    return g.oai_conn


def reader(path: str) -> sqlite3.Connection:
    """This thread's read-only connection, reused across requests (db.cached_reader)."""
    try:
        return db.cached_reader(path)
    except sqlite3.OperationalError:
        if os.path.exists(path):
            raise
    # A fresh install serves an empty repository rather than failing every request; creating
    # the empty schema is the web app's only write, once. (Checked only when opening fails:
    # the hot path pays no extra stat.)
    db.connect_writer(path).close()
    return db.cached_reader(path)


def end_request(conn: sqlite3.Connection) -> None:
    """End a transaction a failed request left open, so no snapshot outlives its request."""
    if conn.in_transaction:
        conn.rollback()


def _close_connection(_exc: BaseException | None = None) -> None:
    # The connection stays open for the next request (see reader).
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


def _encode(body: bytes, offered: t.Sequence[str], accepted: Accept) -> tuple[bytes, list[tuple[str, str]]]:
    """Compress an OAI response as the client accepts; return it with its HTTP headers."""
    coding = next((c for c in ("gzip", "deflate") if c in offered and accepted[c] > 0), None)
    if coding == "gzip":
        body = gzip.compress(body, compresslevel=5, mtime=0)
    elif coding == "deflate":
        body = zlib.compress(body, 5)
    headers = [("Content-Type", XML_TYPE), ("Content-Length", str(len(body)))]
    if coding:
        headers.append(("Content-Encoding", coding))
    headers.append(("Vary", "Accept-Encoding"))
    return body, headers


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
