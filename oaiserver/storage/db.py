"""The SQLite file's lifecycle: the writer's connection, read-only readers (cached per thread), the schema.

The web app only ever opens the file read-only; ingest is the only writer
(decisions.md P1, P7). The tables are in schema.sql; the
completeListSize cache in list_sizes.py.
"""
from __future__ import annotations

import functools
import importlib
import importlib.resources
import logging
import os
import sqlite3
import sys
import threading
import time
import types
import typing as t
from pathlib import Path

from oaiserver.model import ROOT_SETS
from oaiserver.storage import list_sizes
from oaiserver.storage import problems, timeline
from oaiserver.storage.integrity import HEADER_RE, checksum
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
    conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    conn.create_function(CHECKSUM_FUNCTION, 1, _sql_checksum, deterministic=True)
    db = sqlite_utils.Database(conn)
    create_schema(db)
    return db


#: The writer's SQL name for integrity.checksum (a header rewritten inside an UPDATE gets its
#: checksum there). Only the writer's own statements call it, never a trigger: the sqlite3
#: shell and other programs do not have it.
CHECKSUM_FUNCTION = "oaiserver_crc32"


def _sql_checksum(value: str | bytes | None) -> int | None:
    return None if value is None else checksum(value)


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
    switch_to_wal(db.conn)
    _announce_tombstone_index(db.conn)
    db.conn.executescript(schema())
    list_sizes.install(db.conn)
    _add_rendition_checksums(db.conn)
    _add_header_checksums(db.conn)
    _add_set_tombstones(db.conn)
    db.conn.execute(_HEADER_CHANGED_TRIGGER)  # once the column exists, in new files and old
    # The root sets always exist, so ListSets is never empty (noSetHierarchy cannot arise).
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
    from oaiserver.storage.packing import unpack

    with timeline.write_transaction(conn, begin=begin_immediate):
        if any(row[1] == "crc" for row in conn.execute("PRAGMA table_info(renditions)")):
            return  # another writer added it while this one waited
        conn.execute("ALTER TABLE renditions ADD COLUMN crc INTEGER")
    log.warning("adding checksums to the stored renditions (once, after an upgrade)…")
    last: tuple[str, int] = ("", 0)
    while True:
        with timeline.write_transaction(conn, begin=begin_immediate):
            rows = conn.execute(
                "SELECT prefix, record_id, CAST(xml AS BLOB) FROM renditions "
                "WHERE (prefix, record_id) > (?, ?) ORDER BY prefix, record_id LIMIT ?",
                (*last, CHECKSUM_BATCH)).fetchall()
            conn.executemany(
                "UPDATE renditions SET crc = ? WHERE prefix = ? AND record_id = ? AND crc IS NULL",
                # The checksum of the XML as served (packed rows came after checksums, but
                # a file may have been written by mixed versions).
                [(checksum(unpack(str(record_id), xml)), prefix, record_id) for prefix, record_id, xml in rows])
        if len(rows) < CHECKSUM_BATCH:
            return
        last = rows[-1][:2]


#: A header changed without its checksum (by hand, in the sqlite3 shell) loses the checksum, so
#: its shape is checked instead of a CRC it no longer matches. The writer always writes both.
_HEADER_CHANGED_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS records_header_unchecked AFTER UPDATE OF header ON records
WHEN NEW.header IS NOT OLD.header AND NEW.header_crc IS OLD.header_crc
BEGIN
    UPDATE records SET header_crc = NULL WHERE id = NEW.id;
END
"""


def _listing_has_header_crc(conn: sqlite3.Connection) -> bool:
    return any(row[2] == "header_crc" for row in conn.execute("PRAGMA index_info(records_listing)"))


def _add_header_checksums(conn: sqlite3.Connection) -> None:
    """Give a database from before header checksums the column, its values, and a listing index with it.

    Once per database: the column (NULL: headers checked by their shape, as before), then the
    checksum of every header that has the shape the writer gives (a damaged one keeps NULL and
    stays caught by the shape check) in short transactions, and last the covering index
    rebuilt with the column, which marks the work done. Readers go on meanwhile.
    """
    if _listing_has_header_crc(conn):
        return
    with timeline.write_transaction(conn, begin=begin_immediate):
        if _listing_has_header_crc(conn):
            return  # another writer finished it while this one waited
        if not any(row[1] == "header_crc" for row in conn.execute("PRAGMA table_info(records)")):
            conn.execute("ALTER TABLE records ADD COLUMN header_crc INTEGER")
    log.warning("adding checksums to the stored headers (once, after an upgrade)…")
    last = 0
    while True:
        with timeline.write_transaction(conn, begin=begin_immediate):
            rows = conn.execute(
                "SELECT id, CAST(header AS BLOB) FROM records WHERE id > ? AND header_crc IS NULL "
                "ORDER BY id LIMIT ?", (last, CHECKSUM_BATCH)).fetchall()
            conn.executemany(
                "UPDATE records SET header_crc = ? WHERE id = ? AND header_crc IS NULL",
                [(checksum(header), record_id) for record_id, header in rows
                 if HEADER_RE.fullmatch(header) is not None])
        if len(rows) < CHECKSUM_BATCH:
            break
        last = rows[-1][0]
    with timeline.write_transaction(conn, begin=begin_immediate):
        if not _listing_has_header_crc(conn):
            conn.execute("DROP INDEX IF EXISTS records_listing")
            conn.execute("CREATE INDEX records_listing ON records "
                         "(datestamp, identifier, deleted, id, header, header_crc)")


def _announce_tombstone_index(conn: sqlite3.Connection) -> None:
    """Say so when the schema is about to index the tombstones of a file made before them (a pass over every rendition)."""
    if _exists(conn, "renditions") and not _exists(conn, "renditions_gone"):
        log.warning("indexing the tombstones of the stored renditions (once, after an upgrade)…")


def _has_set_tombstones(conn: sqlite3.Connection) -> bool:
    """Tell whether record_sets has its ``gone`` column (files made before set tombstones lack it)."""
    return any(row[1] == "gone" for row in conn.execute("PRAGMA table_info(record_sets)"))


#: The set tombstones by datestamp, for Identify's earliestDatestamp (queries.earliest_datestamp):
#: a set tombstone keeps the datestamp of its record's leaving, which may be older than every
#: record's (decisions.md P16). Made here, not in schema.sql: older files get ``gone`` here first.
_SET_TOMBSTONE_INDEX = "CREATE INDEX IF NOT EXISTS record_sets_gone ON record_sets (datestamp) WHERE gone = 1"


def _exists(conn: sqlite3.Connection, name: str) -> bool:
    """Tell whether the schema has a table or index of that name."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone() is not None


def _add_set_tombstones(conn: sqlite3.Connection) -> None:
    """Give a database from before set tombstones record_sets' ``gone`` column (0: every row a membership) and its index."""
    if _has_set_tombstones(conn) and _exists(conn, "record_sets_gone"):
        return
    with timeline.write_transaction(conn, begin=begin_immediate):
        if not _has_set_tombstones(conn):  # (another writer may have added it while this one waited)
            conn.execute("ALTER TABLE record_sets ADD COLUMN gone INTEGER NOT NULL DEFAULT 0")
        conn.execute(_SET_TOMBSTONE_INDEX)  # one pass over record_sets, once


#: The file header's start, and what bytes 18 and 19 (write and read format) say: 1 rollback, 2 WAL.
HEADER_MAGIC = b"SQLite format 3\0"
_WAL_FORMAT = 2


def replica_file_problem(path: str | Path) -> str | None:
    """Why a follower must not open its replica file ``path`` now, or None if it may.

    A follower's file is written by Litestream and read by many processes; a reader that
    opens a file whose header says WAL makes a -wal and -shm beside it and holds a lock that
    blocks Litestream's next change for as long as it lives. So the header is read with plain
    file I/O first: the file must exist, be an SQLite file, and be in rollback mode.
    """
    try:
        with open(path, "rb") as file:
            header = file.read(20)
    # The lines name no path: they may be shown to anyone (a 503, /healthz).
    except FileNotFoundError:
        return "there is no replica file yet (oaiserver replica follow restores it)"
    except OSError as error:
        return f"the replica file cannot be read ({error.strerror})"
    if len(header) < 20 or not header.startswith(HEADER_MAGIC):
        return "the replica file is not an SQLite database"
    if _WAL_FORMAT in (header[18], header[19]):
        return ("the replica file is in WAL mode: a follower serves only a file switched to rollback "
                "mode (oaiserver replica follow does it)")
    return None


def connect_reader(path: str | Path) -> sqlite3.Connection:
    """Open the database read-only for serving requests."""
    uri = Path(path).resolve().as_uri() + "?mode=ro"
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    _configure(conn)
    # mode=ro covers this file only: also refuse writes anywhere and ATTACH (which could
    # create a new file), should a query ever carry foreign SQL.
    conn.execute("PRAGMA query_only = ON")
    if sys.version_info >= (3, 11):  # Connection.setlimit is new in 3.11
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    return conn


_readers = threading.local()


def cached_reader(path: str | Path,
                  before_open: t.Callable[[str | Path], None] | None = None) -> sqlite3.Connection:
    """Return this thread's read-only connection to ``path``, opening it on first use.

    Reused across requests (opening and closing one costs more than a small page). A
    database file replaced under the same name (a new replica copied over) is a new inode:
    the stale connection is closed and a new one opened on the new file. ``before_open`` runs
    only when a connection is about to be opened, and may refuse by raising.
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
        _readers.entry = None
    if before_open is not None:
        before_open(path)
    conn = connect_reader(path)
    _readers.entry = (key, identity, conn)
    return conn


def quick_check(conn: sqlite3.Connection, limit: int = 10) -> list[str]:
    """SQLite's quick_check: the structure of every page (not the text in it); [] when sound."""
    found = [row[0] for row in conn.execute(f"PRAGMA quick_check({int(limit)})")]
    return [] if found == ["ok"] else found
