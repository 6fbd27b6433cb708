"""SQLite storage: the schema, and connections for the writer (CLI) and the readers (web).

The web app only ever opens the file read-only; ingest is the only writer (design.md §7).
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import logging
import os
import sqlite3
import sys
import threading
import time
import types
import typing as t
from pathlib import Path

from oaiserver.storage import problems
from oaiserver.storage.lock import WriterBusy

if t.TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
#: How long a write transaction waits, in all, for another writer outside oaiserver's writer
#: lock (an older version, the sqlite3 shell) before it gives up with one clear line.
WRITE_WAIT_SECONDS = 600
#: The -wal file is cut back to this size whenever SQLite resets it (after a full checkpoint);
#: without a limit it keeps the size of the largest transaction ever written, for good.
JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024
#: Tries of the checkpoint after a command, and the wait of each: it truncates the -wal file
#: only once no reader holds an older snapshot, and web requests hold one for milliseconds.
CHECKPOINT_TRIES = 20
CHECKPOINT_PAUSE_SECONDS = 0.1
# Pages of 64 KiB hold a whole rendition (up to ~16 KB) without overflow pages, and a list page
# reads a handful of them. Takes effect only when a new database file is created.
PAGE_SIZE = 65536

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
-- Covering index for list pages: a page walks this index alone (the header is in it) and
-- never reads the wide records rows, whose article JSON sits before the header.
CREATE INDEX IF NOT EXISTS records_listing ON records (datestamp, identifier, deleted, id, header);
CREATE INDEX IF NOT EXISTS records_by_issue ON records (issue_id);
-- Clustered by format, then record: the oai_dc renditions of records ingested together lie
-- together, so a ListRecords page reads a few consecutive pages instead of one per record.
-- crc is the CRC-32 of the xml's UTF-8 bytes, checked when served (integrity.py); NULL in rows
-- written before it existed.
CREATE TABLE IF NOT EXISTS renditions (
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    xml TEXT NOT NULL,
    crc INTEGER,
    PRIMARY KEY (prefix, record_id)
) WITHOUT ROWID;
-- A record's formats, and the narrow "is it rendered?" probe of ListIdentifiers.
CREATE INDEX IF NOT EXISTS renditions_by_record ON renditions (record_id, prefix);
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
-- The last file ingested for each issue, and what its records looked like right after:
-- re-ingesting the same bytes onto the same state is skipped (ingest.Store.save_file).
CREATE TABLE IF NOT EXISTS ingested_files (
    digest TEXT PRIMARY KEY,
    issue_id INTEGER NOT NULL,
    articles INTEGER NOT NULL,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ingested_files_by_issue ON ingested_files (issue_id);
"""


# How many list items each (set, format, datestamp) holds, kept exact by the triggers below,
# so completeListSize is a short SUM instead of a COUNT over the whole repository.
# set_spec '' is the whole repository; prefix '' counts deleted records (listed in every format).
# Created together with its triggers, so a reader that finds the table can trust it.
LIST_SIZES = """
CREATE TABLE list_sizes (
    set_spec TEXT NOT NULL,
    prefix TEXT NOT NULL,
    datestamp TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (set_spec, prefix, datestamp)
) WITHOUT ROWID"""


def _bump(rows: str) -> str:
    # `rows` selects (set_spec, prefix, datestamp, delta); it always has a WHERE clause, which
    # keeps SQLite from reading ON CONFLICT as part of a join.
    return (
        f"INSERT INTO list_sizes (set_spec, prefix, datestamp, n) {rows} "
        "ON CONFLICT (set_spec, prefix, datestamp) DO UPDATE SET n = n + excluded.n;"
    )


def _record(rec: str, sign: int, sets: bool) -> str:
    """A record's items, in the whole repository or in its sets, from its own columns."""
    if not sets:
        return _bump(f"SELECT '', '', {rec}.datestamp, {sign} WHERE {rec}.deleted = 1") + _bump(
            f"SELECT '', x.prefix, {rec}.datestamp, {sign} FROM renditions x "
            f"WHERE x.record_id = {rec}.id AND {rec}.deleted = 0"
        )
    return _bump(
        f"SELECT s.set_spec, '', s.datestamp, {sign} FROM record_sets s "
        f"WHERE s.record_id = {rec}.id AND {rec}.deleted = 1"
    ) + _bump(
        f"SELECT s.set_spec, x.prefix, s.datestamp, {sign} FROM record_sets s "
        f"JOIN renditions x ON x.record_id = s.record_id WHERE s.record_id = {rec}.id AND {rec}.deleted = 0"
    )


def _rendition(row: str, sign: int) -> str:
    """The items one rendition makes: its record, in the repository and in each set, if live."""
    return _bump(
        f"SELECT '', {row}.prefix, r.datestamp, {sign} FROM records r "
        f"WHERE r.id = {row}.record_id AND r.deleted = 0"
    ) + _bump(
        f"SELECT s.set_spec, {row}.prefix, s.datestamp, {sign} FROM record_sets s "
        f"JOIN records r ON r.id = s.record_id WHERE s.record_id = {row}.record_id AND r.deleted = 0"
    )


def _membership(row: str, sign: int) -> str:
    """The items one set membership makes: the record once if deleted, else once per format."""
    return _bump(
        f"SELECT {row}.set_spec, '', {row}.datestamp, {sign} FROM records r "
        f"WHERE r.id = {row}.record_id AND r.deleted = 1"
    ) + _bump(
        f"SELECT {row}.set_spec, x.prefix, {row}.datestamp, {sign} FROM renditions x "
        f"JOIN records r ON r.id = x.record_id WHERE x.record_id = {row}.record_id AND r.deleted = 0"
    )


# While this table holds a row, the counting triggers below do nothing: the one writer that put
# the row there (ingest.Store, inside its own write transaction) brings list_sizes up to date
# itself with a few set-based statements (``list_size_changes``) and removes the row before it
# commits, so no reader ever sees it. Counting row by row costs an ingest more than all its other
# writes; any other writer (an admin's DELETE, an old version) is still counted by the triggers.
LIST_SIZE_HOLD = "CREATE TABLE IF NOT EXISTS list_size_hold (holder TEXT NOT NULL)"
_NOT_HELD = "NOT EXISTS (SELECT 1 FROM list_size_hold)"


def _trigger(name: str, event: str, body: str, when: str | None = None, counts: bool = True) -> str:
    if counts:
        when = f"{when} AND {_NOT_HELD}" if when else _NOT_HELD
    return f"CREATE TRIGGER list_sizes_{name} {event}{f' WHEN {when}' if when else ''} BEGIN {body} END"


# Every change to what a list holds goes through one of these, whichever code makes it.
LIST_SIZE_TRIGGERS = [
    _trigger("record_in", "AFTER INSERT ON records", _record("NEW", 1, False)),
    _trigger(
        "record_up", "AFTER UPDATE OF datestamp, deleted ON records",
        _record("OLD", -1, False) + _record("NEW", 1, False),
        "(OLD.datestamp IS NOT NEW.datestamp OR OLD.deleted IS NOT NEW.deleted)",
    ),
    _trigger(
        "record_sets_up", "AFTER UPDATE OF deleted ON records",
        _record("OLD", -1, True) + _record("NEW", 1, True), "OLD.deleted IS NOT NEW.deleted",
    ),
    # Drop the children first, while the record still says what they counted for.
    _trigger(
        "record_pre_out", "BEFORE DELETE ON records",
        "DELETE FROM record_sets WHERE record_id = OLD.id; DELETE FROM renditions WHERE record_id = OLD.id;",
        counts=False,
    ),
    _trigger("record_out", "AFTER DELETE ON records", _record("OLD", -1, False)),
    _trigger("rendition_in", "AFTER INSERT ON renditions", _rendition("NEW", 1)),
    _trigger("rendition_out", "AFTER DELETE ON renditions", _rendition("OLD", -1)),
    _trigger(
        "rendition_up", "AFTER UPDATE OF record_id, prefix ON renditions",
        _rendition("OLD", -1) + _rendition("NEW", 1),
    ),
    _trigger("member_in", "AFTER INSERT ON record_sets", _membership("NEW", 1)),
    _trigger("member_out", "AFTER DELETE ON record_sets", _membership("OLD", -1)),
    _trigger(
        "member_up", "AFTER UPDATE OF set_spec, datestamp, record_id ON record_sets",
        _membership("OLD", -1) + _membership("NEW", 1),
    ),
]

# The list items of records, by (set, prefix, datestamp): the whole repository ('') and each set,
# deleted records once (prefix ''), live ones once per rendition. {records} names the records.
_ITEMS = [
    "SELECT '', '', r.datestamp, COUNT(*) FROM {records} WHERE r.deleted = 1 GROUP BY r.datestamp",
    "SELECT '', x.prefix, r.datestamp, COUNT(*) FROM {records} "
    "JOIN renditions x ON x.record_id = r.id WHERE r.deleted = 0 GROUP BY x.prefix, r.datestamp",
    "SELECT s.set_spec, '', s.datestamp, COUNT(*) FROM {records} "
    "JOIN record_sets s ON s.record_id = r.id WHERE r.deleted = 1 GROUP BY s.set_spec, s.datestamp",
    "SELECT s.set_spec, x.prefix, s.datestamp, COUNT(*) FROM {records} "
    "JOIN record_sets s ON s.record_id = r.id JOIN renditions x ON x.record_id = r.id "
    "WHERE r.deleted = 0 GROUP BY s.set_spec, x.prefix, s.datestamp",
]

# Fills list_sizes from scratch, for a database made before the triggers existed.
LIST_SIZES_BACKFILL = [f"INSERT INTO list_sizes {q.format(records='records r')}" for q in _ITEMS]


@functools.lru_cache(maxsize=2)
def list_size_changes(sign: int) -> tuple[str, ...]:
    """Statements that add (``sign`` 1) or take away (-1) the list items of some records.

    Their one parameter is a JSON array of the records' ids. Used by the writer that holds
    the triggers (see LIST_SIZE_HOLD): away before it first changes a record, back after.
    """
    chosen = "json_each(?) AS chosen JOIN records r ON r.id = chosen.value"
    return tuple(
        _bump(q.format(records=chosen).replace("COUNT(*)", f"{sign} * COUNT(*)", 1))
        for q in _ITEMS
    )


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
    conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
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
    """Create the tables and indexes (idempotent) and switch the file to WAL mode."""
    switch_to_wal(db.conn)
    db.conn.executescript(SCHEMA + "DROP INDEX IF EXISTS records_by_datestamp;")
    _install_list_size_triggers(db.conn)
    _add_rendition_checksums(db.conn)
    # The root sets always exist, so ListSets is never empty (noSetHierarchy cannot arise).
    from oaiserver.ingest.sets import ROOT_SETS

    db.conn.executemany(
        "INSERT OR IGNORE INTO sets (spec, name) VALUES (?, ?)",
        [(s.spec, s.name) for s in ROOT_SETS],
    )


def switch_to_wal(conn: sqlite3.Connection) -> None:
    """Put the file in WAL mode (with 64 KiB pages when it is new), safely against a racing writer.

    Two processes creating one database at once both find it in rollback mode; while one
    switches, the other's switch fails at once with "database is locked" (SQLite does not
    wait in its busy handler there). So wait and look again: the other has switched by then.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")  # a no-op on a non-empty file
            conn.execute("PRAGMA journal_mode = wal")
        except sqlite3.OperationalError as error:
            if problems.kind(error) != problems.BUSY or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def begin_immediate(conn: sqlite3.Connection, wait: float | None = None) -> None:
    """BEGIN IMMEDIATE, waiting up to ``wait`` seconds (WRITE_WAIT_SECONDS) for another writer.

    Each try waits the busy timeout inside SQLite; between tries a warning says why nothing
    happens. Raises :class:`~oaiserver.storage.lock.WriterBusy` when the time is up. (Admin
    commands hold the writer lock, so this waits only for writers that do not take it.)
    """
    wait = WRITE_WAIT_SECONDS if wait is None else wait
    deadline = time.monotonic() + wait
    told = False
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as error:
            if problems.kind(error) != problems.BUSY:
                raise
            if time.monotonic() >= deadline:
                raise WriterBusy(
                    f"another program has been writing to the database for over {wait:g} s "
                    f"({error}); run this command again when it is done") from None
        if not told:
            log.warning("waiting for another program writing to the database to finish…")
            told = True


def checkpoint(conn: sqlite3.Connection, tries: int = CHECKPOINT_TRIES,
               pause: float = CHECKPOINT_PAUSE_SECONDS) -> bool:
    """Copy the -wal file into the database and truncate it to 0 bytes; True if it was.

    A reader still on an older snapshot (a request in progress) keeps the checkpoint from
    finishing, and SQLite waits for it in the busy handler: here ``pause`` seconds a try,
    ``tries`` times, not the 30 s busy timeout. What is left is truncated after a later
    command, or cut back to JOURNAL_SIZE_LIMIT at SQLite's next reset of the file.
    """
    conn.execute(f"PRAGMA busy_timeout = {int(pause * 1000)}")
    try:
        for _ in range(max(tries, 1)):
            busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy:
                return True
        return False
    finally:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")


#: Renditions given their checksum per transaction when an older database gets the column.
CHECKSUM_BATCH = 2000


def _add_rendition_checksums(conn: sqlite3.Connection) -> None:
    """Give a database from before rendition checksums the column, and every rendition its value.

    Once per database, in short transactions in key order (the -wal file stays small, readers
    go on, and a command stopped halfway leaves rows that verify reports as unchecked).
    """
    if any(row[1] == "crc" for row in conn.execute("PRAGMA table_info(renditions)")):
        return
    from oaiserver.storage.integrity import checksum

    with _write_transaction(conn):
        if any(row[1] == "crc" for row in conn.execute("PRAGMA table_info(renditions)")):
            return  # another writer added it while this one waited
        conn.execute("ALTER TABLE renditions ADD COLUMN crc INTEGER")
    log.warning("adding checksums to the stored renditions (once, after an upgrade)…")
    last: tuple[str, int] = ("", 0)
    while True:
        with _write_transaction(conn):
            rows = conn.execute(
                "SELECT prefix, record_id, CAST(xml AS BLOB) FROM renditions "
                "WHERE (prefix, record_id) > (?, ?) ORDER BY prefix, record_id LIMIT ?",
                (*last, CHECKSUM_BATCH)).fetchall()
            conn.executemany(
                "UPDATE renditions SET crc = ? WHERE prefix = ? AND record_id = ? AND crc IS NULL",
                [(checksum(xml), prefix, record_id) for prefix, record_id, xml in rows])
        if len(rows) < CHECKSUM_BATCH:
            return
        last = rows[-1][:2]


@contextlib.contextmanager
def _write_transaction(conn: sqlite3.Connection) -> t.Iterator[None]:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on an error (if SQLite has not rolled back itself)."""
    begin_immediate(conn)
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _install_list_size_triggers(conn: sqlite3.Connection) -> None:
    # Under the write lock, so two processes upgrading one file cannot both backfill.
    with _write_transaction(conn):
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'list_size%'")}
        if "list_sizes" not in tables:
            for statement in [LIST_SIZES, LIST_SIZE_HOLD, *LIST_SIZES_BACKFILL, *LIST_SIZE_TRIGGERS]:
                conn.execute(statement)
        elif "list_size_hold" not in tables:
            # A file from before the hold: same counts, the triggers only learn to step aside.
            triggers = conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'list_sizes_%'")
            for (name,) in triggers.fetchall():
                conn.execute(f"DROP TRIGGER {name}")
            for statement in [LIST_SIZE_HOLD, *LIST_SIZE_TRIGGERS]:
                conn.execute(statement)


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


def quick_check(conn: sqlite3.Connection, limit: int = 10) -> list[str]:
    """SQLite's quick_check: the structure of every page (not the text in it); [] when sound."""
    found = [row[0] for row in conn.execute(f"PRAGMA quick_check({int(limit)})")]
    return [] if found == ["ok"] else found
