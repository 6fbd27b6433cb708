"""The SQLite file's lifecycle: the writer's connection, read-only readers (cached per thread), the schema.

The web app only ever opens the file read-only; ingest is the only writer
(docs/decisions.md: One writer, many read-only readers). The tables are in schema.sql; the
completeListSize cache in list_sizes.py.
"""
from __future__ import annotations

import functools
import importlib
import importlib.resources
import os
import sqlite3
import sys
import threading
import types
import typing as t
from pathlib import Path

from oaiserver.model import ROOT_SETS
from oaiserver.storage import list_sizes

if t.TYPE_CHECKING:
    import sqlite_utils

BUSY_TIMEOUT_MS = 30_000
# Pages of 64 KiB hold a whole rendition (up to ~16 KB) without overflow pages, and a list page
# reads a handful of them. Takes effect only when a new database file is created.
PAGE_SIZE = 65536


@functools.lru_cache(maxsize=1)
def schema() -> str:
    """The tables and indexes (schema.sql): a script that is safe to run on any version's file."""
    return importlib.resources.files("oaiserver.storage").joinpath("schema.sql").read_text("utf-8")


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")


def connect_writer(path: str | Path) -> sqlite_utils.Database:
    """Open the database for writing (ingest, withdraw), creating the schema if needed."""
    sqlite_utils = _sqlite_utils()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    _configure(conn)
    # Statement journals (a copy of each page a multi-row statement touches, to undo just
    # that statement) in memory: with 64 KiB pages they would otherwise spill to a temp file
    # on every such statement.
    conn.execute("PRAGMA temp_store = MEMORY")
    # Some builds (Debian's) zero every byte a write frees; nothing here is secret (the
    # repository publishes it all), and SQLite's own default is off.
    conn.execute("PRAGMA secure_delete = OFF")
    db = sqlite_utils.Database(conn)
    create_schema(db)
    return db


def _sqlite_utils() -> types.ModuleType:
    """Import sqlite-utils, only where a database is written, and without numpy.

    sqlite-utils imports numpy when it is installed (for numpy values in its insert API,
    which oaiserver never uses): ~0.1 s of CPU and a BLAS thread pool in every process that
    imports it. The readers (web and ingest workers) never need sqlite-utils at all.
    """
    if "sqlite_utils" not in sys.modules and "numpy" not in sys.modules:
        sys.modules["numpy"] = None  # type: ignore[assignment]  # `import numpy` fails
        try:
            return importlib.import_module("sqlite_utils")
        finally:
            del sys.modules["numpy"]
    return importlib.import_module("sqlite_utils")


def create_schema(db: sqlite_utils.Database) -> None:
    """Create the tables, indexes and the list_sizes cache (idempotent); switch the file to WAL mode."""
    if db.journal_mode != "wal":
        db.conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a no-op on a non-empty file
        db.enable_wal()
    db.conn.executescript(schema())
    list_sizes.install(db.conn)
    # The root sets always exist, so ListSets is never empty (noSetHierarchy cannot arise).
    db.conn.executemany(
        "INSERT OR IGNORE INTO sets (spec, name) VALUES (?, ?)",
        [(s.spec, s.name) for s in ROOT_SETS],
    )


def connect_reader(path: str | Path) -> sqlite3.Connection:
    """Open the database read-only for serving requests."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    _configure(conn)
    # mode=ro covers this file only: also refuse writes anywhere and ATTACH (which could
    # create a new file), should a query ever carry foreign SQL.
    conn.execute("PRAGMA query_only = ON")
    if hasattr(conn, "setlimit"):  # Python 3.11+
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    return conn


_readers = threading.local()


def cached_reader(path: str | Path) -> sqlite3.Connection:
    """Return this thread's read-only connection to ``path``, opening it on first use.

    Reused across requests (opening and closing one costs more than a small page). A
    database file replaced under the same name (a new replica copied over) is a new inode:
    the stale connection is closed and a new one opened on the new file.
    """
    key = str(path)
    try:
        stat = os.stat(key)
        identity = (stat.st_dev, stat.st_ino)
    except OSError:
        identity = None
    cached = getattr(_readers, "entry", None)
    if cached is not None and cached[0] == key and cached[1] == identity:
        return cached[2]
    if cached is not None:
        cached[2].close()
    conn = connect_reader(path)
    _readers.entry = (key, identity, conn)
    return conn
