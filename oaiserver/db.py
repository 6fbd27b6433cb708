"""SQLite storage: the schema, and connections for the writer (CLI) and the readers (web).

The web app only ever opens the file read-only; ingest is the only writer (design.md §7).
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

BUSY_TIMEOUT_MS = 30_000

# Tables and indexes are declared here once; `create_schema` is idempotent.
SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY,
    journal_key TEXT NOT NULL,
    volume TEXT NOT NULL,
    number TEXT NOT NULL,
    UNIQUE (journal_key, volume, number)
);
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    datestamp TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    issue_id INTEGER REFERENCES issues(id),
    journal_key TEXT NOT NULL,
    article_key TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    article TEXT NOT NULL,
    header TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_datestamp ON records (datestamp, identifier);
CREATE INDEX IF NOT EXISTS records_by_issue ON records (issue_id);
CREATE TABLE IF NOT EXISTS renditions (
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    xml TEXT NOT NULL,
    PRIMARY KEY (record_id, prefix)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sets (
    spec TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT
) WITHOUT ROWID;
-- Set membership carries a copy of the record's (datestamp, identifier) so that a set's
-- harvest walks one index in keyset order, whatever the size of the repository.
CREATE TABLE IF NOT EXISTS record_sets (
    set_spec TEXT NOT NULL,
    datestamp TEXT NOT NULL,
    identifier TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    PRIMARY KEY (set_spec, datestamp, identifier)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_sets_by_record ON record_sets (record_id);
"""


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")


def connect_writer(path: str | Path) -> sqlite_utils.Database:
    """Open the database for writing (ingest, withdraw), creating the schema if needed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    _configure(conn)
    db = sqlite_utils.Database(conn)
    create_schema(db)
    return db


def create_schema(db: sqlite_utils.Database) -> None:
    """Create the tables and indexes (idempotent) and switch the file to WAL mode."""
    if db.journal_mode != "wal":
        db.enable_wal()
    db.conn.executescript(SCHEMA)
    # The root sets always exist, so ListSets is never empty (noSetHierarchy cannot arise).
    from oaiserver.sets import ROOT_SETS

    db.conn.executemany(
        "INSERT OR IGNORE INTO sets (spec, name) VALUES (?, ?)",
        [(s.spec, s.name) for s in ROOT_SETS],
    )


def connect_reader(path: str | Path) -> sqlite3.Connection:
    """Open the database read-only for serving requests."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    _configure(conn)
    return conn
