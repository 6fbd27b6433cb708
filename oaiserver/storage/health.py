"""Whether this node can answer correctly now: what ``/healthz`` reports to a load balancer.

Cheap enough to run every few seconds (a handful of page reads, no whole-file check), and
strict enough that a node answering 200 here answers OAI requests correctly: the file is
there and readable, its structure holds where a request would first touch it (the schema,
the newest record by the list index, its renditions with their checksums), and on a follower
the file is in rollback mode, complete, and no further behind the primary than allowed
(decisions.md P14).
"""
from __future__ import annotations

import os
import sqlite3
import typing as t

from oaiserver.storage import db, problems, queries, timeline


class Problem(t.NamedTuple):
    """Why a node is unhealthy: a line fit for anyone (no path, no SQLite message) and one for the log."""

    public: str
    detail: str


def _said(line: str) -> Problem:
    return Problem(line, line)


def problems_of(path: str, follower: bool, max_lag: float, now: float) -> list[Problem]:
    """What keeps the node serving ``path`` from answering correctly at ``now``; [] when healthy."""
    if follower:
        trouble = db.replica_file_problem(path)
        if trouble is not None:
            return [_said(trouble)]
    elif not os.path.exists(path):
        return []  # a standalone server creates an empty repository on its first request
    try:
        conn = db.connect_reader(path)
    except sqlite3.Error as error:
        return [Problem("the database cannot be opened", f"the database {path} cannot be opened: {error}")]
    try:
        return [_said(line) for line in _read_problems(conn, path, follower, max_lag, now)]
    except sqlite3.Error as error:
        if problems.is_corrupt(error):
            return [Problem("the database is damaged", problems.explain(error, path))]
        return [Problem("the database cannot be read", f"the database {path} cannot be read: {error}")]
    finally:
        conn.close()


def _read_problems(conn: sqlite3.Connection, path: str, follower: bool, max_lag: float,
                   now: float) -> list[str]:
    conn.execute("BEGIN")
    found: list[str] = []
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = {"records", "renditions", "sets", "timeline"} - tables
    if missing:
        return [f"the database lacks the tables {', '.join(sorted(missing))}"]
    if follower:
        pages, size = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
        if os.path.getsize(path) < pages * size:
            found.append("the replica file is shorter than its header says (a partial copy)")
        lag = timeline.lag_problem(timeline.read(conn), now, max_lag)
        if lag is not None:
            found.append(lag)
    _check_newest_record(conn)
    conn.execute("COMMIT")
    return found


def _check_newest_record(conn: sqlite3.Connection) -> None:
    """Read the newest record through the list index, then in every format as GetRecord would (checked)."""
    row = conn.execute("SELECT identifier FROM records ORDER BY datestamp DESC, identifier DESC LIMIT 1").fetchone()
    if row is None:
        return
    # A deleted record has no rendition: the prefix "" matches none, and its header is still checked.
    found = queries.formats_of(conn, row[0])
    for prefix in (found[1] if found else []) or [""]:
        queries.get_record(conn, row[0], prefix)  # raises DamagedRecord on a bad header or rendition
