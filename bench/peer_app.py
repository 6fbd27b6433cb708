"""The peer: pyoai's server module (the `oaipmh` 4.0.0 fork) serving the same records.

    python -m bench.peer_app build OUR_DB PEER_DB     # once per corpus
    BENCH_PEER_DB=PEER_DB gunicorn bench.peer_app:app -w 2

pyoai builds every response as an lxml tree from a metadata map (its own oai_dc writer), and
pages with a cursor: its BatchingServer hands the backend (cursor, batch_size), which becomes
LIMIT/OFFSET here, as it does in a typical pyoai deployment. The backend's table is built
from our database: one row per record, the oai_dc rendition turned into pyoai's field map.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import sys
import threading
import typing as t
import urllib.parse

from lxml import etree
from oaipmh import common, error, metadata, server

NS_DC = "http://purl.org/dc/elements/1.1/"
OAI_DC = ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
          "http://www.openarchives.org/OAI/2.0/oai_dc/")
RECORDS_PAGE, IDENTIFIERS_PAGE = 100, 500  # the same page sizes as our defaults
FORMAT = "%Y-%m-%dT%H:%M:%SZ"

SCHEMA = """
CREATE TABLE peer_records (
    id INTEGER PRIMARY KEY, identifier TEXT NOT NULL UNIQUE, datestamp TEXT NOT NULL,
    deleted INTEGER NOT NULL, sets TEXT NOT NULL, dc TEXT
);
CREATE INDEX peer_records_by_datestamp ON peer_records (datestamp, identifier);
CREATE TABLE peer_sets (spec TEXT PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE peer_members (set_spec TEXT NOT NULL, record_id INTEGER NOT NULL,
    PRIMARY KEY (set_spec, record_id));
"""


def dc_map(xml: str) -> dict[str, list[str]]:
    """Turn one of our oai_dc renditions into pyoai's metadata map {element: [values]}."""
    fields: dict[str, list[str]] = {}
    for child in etree.fromstring(xml.encode()):
        if isinstance(child.tag, str) and child.tag.startswith(f"{{{NS_DC}}}"):
            fields.setdefault(etree.QName(child).localname, []).append(child.text or "")
    return fields


def build(our_db: str, peer_db: str, batch: int = 2000) -> int:
    """Build the peer's table from our database; return the number of records."""
    if os.path.exists(peer_db):
        os.remove(peer_db)
    src = sqlite3.connect(f"file:{our_db}?mode=ro", uri=True)
    dst = sqlite3.connect(peer_db)
    dst.executescript(SCHEMA)
    dst.executemany("INSERT INTO peer_sets VALUES (?, ?)", src.execute("SELECT spec, name FROM sets"))
    rows = src.execute(
        "SELECT r.id, r.identifier, r.datestamp, r.deleted, x.xml, "
        "(SELECT json_group_array(set_spec) FROM record_sets s WHERE s.record_id = r.id AND s.gone = 0) "
        "FROM records r LEFT JOIN renditions x ON x.record_id = r.id AND x.prefix = 'oai_dc' "
        "ORDER BY r.id"
    )
    total = 0
    while chunk := rows.fetchmany(batch):
        dst.executemany(
            "INSERT INTO peer_records VALUES (?, ?, ?, ?, ?, ?)",
            [(rid, ident, ds, deleted, sets,
              None if deleted or xml is None else json.dumps(dc_map(xml), ensure_ascii=False))
             for rid, ident, ds, deleted, xml, sets in chunk],
        )
        dst.executemany(
            "INSERT INTO peer_members VALUES (?, ?)",
            [(spec, rid) for rid, *_, sets in chunk for spec in json.loads(sets)],
        )
        total += len(chunk)
    dst.commit()
    dst.execute("VACUUM")
    src.close()
    dst.close()
    return total


class Backend:
    """pyoai's IBatchingOAI interface over the peer table."""

    def __init__(self, path: str, base_url: str = "http://127.0.0.1/oai") -> None:
        self.path = path
        self.local = threading.local()
        earliest = self.conn().execute("SELECT MIN(datestamp) FROM peer_records").fetchone()[0]
        self._identify = common.Identify(
            repositoryName="pyoai peer", baseURL=base_url, protocolVersion="2.0",
            adminEmails=["admin@localhost.localdomain"],
            earliestDatestamp=_datetime(earliest or "2000-01-01T00:00:00Z"),
            deletedRecord="persistent", granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )

    def conn(self) -> sqlite3.Connection:
        """This thread's read-only connection."""
        if not hasattr(self.local, "conn"):
            self.local.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                              check_same_thread=False)
        return self.local.conn

    def identify(self) -> common.Identify:
        """Identify."""
        return self._identify

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:  # noqa: N802
        """ListMetadataFormats."""
        if identifier is not None and self._row(identifier) is None:
            raise error.IdDoesNotExistError(identifier)
        return [OAI_DC]

    def listSets(self, cursor: int = 0, batch_size: int = 10) -> list[tuple[str, str, None]]:  # noqa: N802
        """ListSets."""
        rows = self.conn().execute(
            "SELECT spec, name FROM peer_sets ORDER BY spec LIMIT ? OFFSET ?", (batch_size, cursor)
        )
        return [(spec, name, None) for spec, name in rows]

    def getRecord(self, metadataPrefix: str, identifier: str) -> tuple:  # noqa: N802,N803
        """GetRecord."""
        self._check(metadataPrefix)
        row = self._row(identifier)
        if row is None:
            raise error.IdDoesNotExistError(identifier)
        return _record(row)

    def listIdentifiers(self, metadataPrefix: str, set: str | None = None, from_=None,  # noqa: N802,N803,A002
                        until=None, cursor: int = 0, batch_size: int = 10) -> list:
        """ListIdentifiers."""
        return [_header(row) for row in self._select(metadataPrefix, set, from_, until, cursor, batch_size)]

    def listRecords(self, metadataPrefix: str, set: str | None = None, from_=None,  # noqa: N802,N803,A002
                    until=None, cursor: int = 0, batch_size: int = 10) -> list:
        """ListRecords."""
        return [_record(row) for row in self._select(metadataPrefix, set, from_, until, cursor, batch_size)]

    def _check(self, prefix: str) -> None:
        if prefix != "oai_dc":
            raise error.CannotDisseminateFormatError(prefix)

    def _row(self, identifier: str) -> tuple | None:
        return self.conn().execute(
            "SELECT identifier, datestamp, deleted, sets, dc FROM peer_records WHERE identifier = ?",
            (identifier,),
        ).fetchone()

    def _select(self, prefix: str, set_spec: str | None, from_, until, cursor: int, size: int) -> list:
        self._check(prefix)
        where, params = ["datestamp >= ?", "datestamp <= ?"], [
            from_.strftime(FORMAT) if from_ else "", until.strftime(FORMAT) if until else "9999"]
        if set_spec:
            where.append("id IN (SELECT record_id FROM peer_members WHERE set_spec = ?)")
            params.append(set_spec)
        rows = self.conn().execute(
            "SELECT identifier, datestamp, deleted, sets, dc FROM peer_records "
            f"WHERE {' AND '.join(where)} ORDER BY datestamp, identifier LIMIT ? OFFSET ?",
            (*params, size, cursor),
        ).fetchall()
        if not rows and cursor == 0:
            raise error.NoRecordsMatchError("no records match")
        return rows


def _datetime(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, FORMAT)


def _header(row: tuple) -> common.Header:
    identifier, datestamp, deleted, sets, _ = row
    return common.Header(None, identifier, _datetime(datestamp), json.loads(sets), bool(deleted))


def _record(row: tuple) -> tuple:
    dc = row[4]
    return _header(row), common.Metadata(None, json.loads(dc)) if dc else None, None


def make_app(path: str) -> t.Callable:
    """Return the WSGI app: pyoai's server behind the smallest possible adapter."""
    registry = metadata.MetadataRegistry()
    registry.registerWriter("oai_dc", server.oai_dc_writer)
    backend = Backend(path)
    servers = {
        size: server.BatchingServer(backend, metadata_registry=registry, resumption_batch_size=size)
        for size in (RECORDS_PAGE, IDENTIFIERS_PAGE)
    }

    def application(environ: dict, start_response: t.Callable) -> list[bytes]:
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            query = environ["wsgi.input"].read(length).decode("utf-8", "replace")
        if environ.get("PATH_INFO") != "/oai":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found\n"]
        args = {k: v[0] for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items()}
        size = IDENTIFIERS_PAGE if args.get("verb") == "ListIdentifiers" else RECORDS_PAGE
        body = servers[size].handleRequest(args)
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return application


def _lazy_app() -> t.Callable:
    cache: dict[str, t.Callable] = {}

    def application(environ: dict, start_response: t.Callable) -> list[bytes]:
        if "app" not in cache:
            cache["app"] = make_app(os.environ["BENCH_PEER_DB"])
        return cache["app"](environ, start_response)

    return application


app = _lazy_app()


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "build":
        sys.exit("usage: python -m bench.peer_app build OUR_DB PEER_DB")
    print(f"{build(sys.argv[2], sys.argv[3])} records -> {sys.argv[3]}", file=sys.stderr)
