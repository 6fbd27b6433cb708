"""The answer to an OAI-PMH request, without Flask: body and headers from config and a request.

Shared by the Flask view (oaiserver.web.views) and the fast WSGI route (oaiserver.web.fastpath),
which both hold a werkzeug request, so the two give the same bytes.
"""
from __future__ import annotations

import functools
import os
import sqlite3
import threading
import typing as t
from pathlib import Path

from werkzeug.http import parse_accept_header
from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request

from oaiserver.protocol import datestamps, verbs
from oaiserver.protocol.errors import Unavailable
from oaiserver.protocol.tokens import TokenCodec
from oaiserver.storage import db
from oaiserver.web import compression

__all__ = ["XML_TYPE", "answer", "end_request", "reader"]

XML_TYPE = "text/xml; charset=utf-8"


def answer(config: t.Mapping[str, t.Any], codec: TokenCodec,
           request: Request) -> tuple[bytes, list[tuple[str, str]]]:
    """Answer an OAI-PMH request: the response body and its HTTP headers.

    Raises :class:`~oaiserver.protocol.errors.Unavailable` when this node cannot answer correctly
    now (a follower behind the primary, or without a servable replica): the caller answers 503.
    """
    follower = config["OAI_ROLE"] == "follower"
    conn = reader(config["DATABASE"], follower)
    # The request's own URL only when none is configured.
    base_url = config["OAI_BASE_URL"] or _url(request.scheme, request.host, request.root_path, request.path)
    context = verbs.Context(_repository(config, codec, base_url, request.script_root),
                            conn, datestamps.now(), max_lag=config["OAI_MAX_LAG"] if follower else None)
    try:
        body = verbs.handle(request.values.to_dict(flat=False), context)
    finally:
        end_request(conn)
    return _encode(body, config["OAI_COMPRESSION"], request.headers.get("Accept-Encoding"))


# werkzeug works out a request's URL and parses its Accept-Encoding anew for every request;
# a server's requests have the same few of each, so their results are remembered (a few
# dozen: both are the client's to choose). Each is a function of its arguments alone.

@functools.lru_cache(maxsize=64)
def _url(scheme: str, host: str, root_path: str, path: str) -> str:
    """A request's URL without its query (werkzeug's ``request.base_url``), from its parts."""
    return get_current_url(scheme, host, root_path, path)


@functools.lru_cache(maxsize=64)
def _coding(accept_encoding: str | None, offered: tuple[str, ...]) -> str | None:
    """The content coding to answer in, of those ``offered``, for an Accept-Encoding header; None: none."""
    accepted = parse_accept_header(accept_encoding)
    return next((c for c in compression.CODINGS if c in offered and accepted[c] > 0), None)


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


#: Retry-After for a follower without a servable replica file: a restore takes seconds.
NO_REPLICA_RETRY_AFTER = 10


def reader(path: str, follower: bool = False) -> sqlite3.Connection:
    """This thread's read-only connection, reused across requests (db.cached_reader).

    A follower never creates the file, and opens it only once its header is in rollback mode
    (db.replica_file_problem, checked whenever a new file is to be opened); otherwise
    :class:`Unavailable`.
    """
    if follower:
        return db.cached_reader(path, before_open=_servable_replica)
    try:
        return db.cached_reader(path)
    except sqlite3.OperationalError:
        pass
    # A fresh install serves an empty repository rather than failing every request; creating
    # the empty schema is the web app's only write, once. (Checked only when opening fails:
    # the hot path pays no extra stat.) One thread creates it; a request that came in while
    # another thread was creating the file (and so could not open it) waits and opens it then.
    with _creating:
        if not os.path.exists(path):
            db.connect_writer(path).close()
        return db.cached_reader(path)


#: Held while this process creates a missing database (answer.reader).
_creating = threading.Lock()


def _servable_replica(path: str | Path) -> None:
    """Refuse to open a replica file that is missing or still in WAL mode."""
    problem = db.replica_file_problem(path)
    if problem is not None:
        raise Unavailable(problem, retry_after=NO_REPLICA_RETRY_AFTER)


def end_request(conn: sqlite3.Connection) -> None:
    """End a transaction a failed request left open, so no snapshot outlives its request."""
    if conn.in_transaction:
        conn.rollback()


def _encode(body: bytes, offered: t.Sequence[str], accept_encoding: str | None) -> tuple[bytes, list[tuple[str, str]]]:
    """Compress an OAI response as the client accepts (its Accept-Encoding header); return it with its HTTP headers."""
    coding = _coding(accept_encoding, tuple(offered))
    if coding is not None:
        body = compression.compress(coding, body)
    headers = [("Content-Type", XML_TYPE), ("Content-Length", str(len(body)))]
    if coding:
        headers.append(("Content-Encoding", coding))
    headers.append(("Vary", "Accept-Encoding"))
    return body, headers
