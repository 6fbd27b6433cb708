"""Name what went wrong with the database in words an operator can act on.

SQLite's own messages are terse and, for a full disk, easy to mistake ("database or disk is
full" also comes from a page-count limit); each kind of failure gets one line that says the
cause and the next step. The kinds are SQLite's primary result codes.
"""
from __future__ import annotations

import sqlite3
import sys

from oaiserver.storage.integrity import DamagedRecord

FULL = "full"
CORRUPT = "corrupt"
BUSY = "busy"
READONLY = "readonly"
CANTOPEN = "cantopen"
IOERR = "ioerr"

_CODES: dict[int, str]  # primary result code -> kind
if sys.version_info >= (3, 11):  # the result-code constants are new in 3.11
    _CODES = {
        sqlite3.SQLITE_FULL: FULL,
        sqlite3.SQLITE_CORRUPT: CORRUPT,
        sqlite3.SQLITE_NOTADB: CORRUPT,
        sqlite3.SQLITE_BUSY: BUSY,
        sqlite3.SQLITE_LOCKED: BUSY,
        sqlite3.SQLITE_READONLY: READONLY,
        sqlite3.SQLITE_CANTOPEN: CANTOPEN,
        sqlite3.SQLITE_IOERR: IOERR,
    }
else:
    _CODES = {}
# For Python before 3.11, whose exceptions carry no result code: SQLite's fixed messages.
_MESSAGES = (
    ("database or disk is full", FULL),
    ("malformed", CORRUPT),
    ("file is not a database", CORRUPT),
    ("database is locked", BUSY),
    ("readonly database", READONLY),
    ("unable to open database", CANTOPEN),
    ("disk i/o error", IOERR),
)

#: What to do about a corrupt database (shared by the CLI and the server's log).
RESTORE = ("restore the last good backup (docs/admin.md, \"Back up and restore\") or ingest the "
           "issue files into a new database")
CORRUPT_NEXT_STEP = f"stop ingesting, run `oaiserver verify` to see the damage, then {RESTORE}"


def kind(error: BaseException) -> str | None:
    """The kind of an SQLite error (FULL, CORRUPT, …), or None for any other error."""
    if not isinstance(error, sqlite3.Error):
        return None
    if isinstance(error, DamagedRecord):
        return CORRUPT
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return _CODES.get(code & 0xFF)
    text = str(error).lower()
    return next((name for needle, name in _MESSAGES if needle in text), None)


def is_corrupt(error: BaseException) -> bool:
    """Tell whether an error says the database file is damaged."""
    return kind(error) == CORRUPT


def explain(error: BaseException, database: str | None = None) -> str:
    """One line for the operator: the cause, in plain words, and what to do next."""
    where = f" ({database})" if database else ""
    found = kind(error)
    said = f"SQLite: {error}"
    if found == FULL:
        return (f"the disk is full ({said}): nothing of the unfinished work was written; free space "
                f"on the disk of the database{where} and run the same command again")
    if found == CORRUPT:
        return corrupt(said, database)
    if found == BUSY:
        return (f"the database{where} is locked by another program writing to it ({said}); "
                f"run the command again when it is done")
    if found == READONLY:
        return (f"the database{where} cannot be written by this user ({said}); run the command "
                f"as the user that owns the instance folder")
    if found == CANTOPEN:
        return f"cannot open the database{where} ({said}): check that its folder exists and is writable"
    if found == IOERR:
        return (f"the disk failed to read or write the database{where} ({said}): check free space "
                f"and the system log, then run the same command again")
    return f"database error ({said})"



def corrupt(detail: str, database: str | None = None, next_step: str = CORRUPT_NEXT_STEP) -> str:
    """The one line that says the database is corrupt, what showed it, and the next step."""
    where = f" ({database})" if database else ""
    return f"the database{where} is corrupt ({detail}): {next_step}"
