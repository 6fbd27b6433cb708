"""Where a database stands in time: its epoch, its data version, the primary's heartbeat (decisions.md P14).

Replicas of one database answer harvesters in turn, so a harvest must be able to tell whether
a node has seen what an earlier page of the same list saw. One row (the ``timeline`` table,
schema.sql) says so, and is replicated with the data it describes:

* ``version`` grows by one with every commit that changes what is served (ingest, withdraw,
  restore, reindex, a recount of the list sizes). A token carries the version its page was
  read at; a node whose version is lower has not caught up yet.
* ``epoch`` is drawn at random when the database is created and again when a primary is
  restored from a replica (``oaiserver replica restore``): versions after a restore repeat
  numbers the lost timeline had used, so a token of another epoch is no longer valid.
* ``heartbeat`` is the primary's clock (seconds since the epoch) at its last beat
  (``oaiserver replica primary`` beats every second): a follower knows how far behind it is.
* ``delay`` is the visibility delay the primary stamps changes with (datestamp = commit + delay):
  a follower may lag by less than that and still show every change at the same moment as
  every other node.

Every commit also bumps SQLite's ``user_version`` in the file header: it puts page 1 in every
replicated change, which is how readers of a follower's file notice a commit at all.
"""
from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import typing as t

#: What a database made before the timeline existed reads as: epoch 0 matches any token.
UNKNOWN_EPOCH = 0
#: Room between the visibility delay and the lag a follower may have: the nodes' clocks (kept
#: by NTP to milliseconds; this allows seconds) and the rounding of datestamps to whole seconds.
CLOCK_TOLERANCE = 5
_MAX_EPOCH = 2**31 - 1

log = logging.getLogger(__name__)


class Position(t.NamedTuple):
    """The timeline row as one snapshot reads it."""

    epoch: int
    version: int
    heartbeat: float | None
    delay: int


def read(conn: sqlite3.Connection) -> Position:
    """The database's position, in the caller's snapshot (epoch 0, version 0 for a database without one)."""
    try:
        row = conn.execute("SELECT epoch, version, heartbeat, delay FROM timeline WHERE id = 1").fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" not in str(error):
            raise
        row = None
    if row is None:
        return Position(UNKNOWN_EPOCH, 0, None, 0)
    return Position(*row)


def committing(conn: sqlite3.Connection, changes_data: bool, delay: int | None = None) -> None:
    """Mark the open write transaction, just before its COMMIT: the header always, the version if data changed.

    ``delay``, when given, is recorded as the visibility delay the commit's datestamps carry.
    """
    if changes_data:
        if delay is None:
            conn.execute("UPDATE timeline SET version = version + 1 WHERE id = 1")
        else:
            conn.execute("UPDATE timeline SET version = version + 1, delay = ? WHERE id = 1", (delay,))
    _touch_header(conn)


def _touch_header(conn: sqlite3.Connection) -> None:
    # PRAGMA takes no parameters: read, then write the next number (wrapping long before 2**31).
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute(f"PRAGMA user_version = {(int(current) + 1) % _MAX_EPOCH}")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection, changes_data: bool = False,
                      begin: t.Callable[[sqlite3.Connection], None] = _begin_immediate,
                      delay: int | None = None, commit: bool = True) -> t.Iterator[None]:
    """``begin`` (BEGIN IMMEDIATE) … :func:`committing` COMMIT; :func:`rollback` on an error, or when not ``commit`` (a dry run).

    ``changes_data`` and ``delay`` are :func:`committing`'s.
    """
    begin(conn)
    try:
        yield
        if commit:
            committing(conn, changes_data, delay)
            conn.execute("COMMIT")
            return
    except BaseException:
        rollback(conn)
        raise
    rollback(conn)


def rollback(conn: sqlite3.Connection) -> None:
    """Roll the open transaction back, if SQLite has not already; never hide the error that led here."""
    # After some errors (a full disk, an I/O error) SQLite has already rolled the
    # transaction back: a ROLLBACK would fail with "no transaction is active" and that
    # message would replace the real cause. The cause is what propagates, always.
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.debug("ROLLBACK failed after an error", exc_info=True)


def beat(conn: sqlite3.Connection, now: float, delay: int) -> None:
    """Record the primary's heartbeat ``now`` (seconds since the epoch) and its visibility delay, in a transaction of its own."""
    with write_transaction(conn):
        conn.execute("UPDATE timeline SET heartbeat = ?, delay = ? WHERE id = 1", (now, delay))


def new_epoch(conn: sqlite3.Connection) -> int:
    """Start a new epoch (after a restore): tokens of the old one become invalid. Returns it."""
    with write_transaction(conn):
        old = read(conn).epoch
        epoch = old
        while epoch in (old, UNKNOWN_EPOCH):
            epoch = random.randint(1, _MAX_EPOCH)
        # The heartbeat of the old primary says nothing about this one.
        conn.execute("UPDATE timeline SET epoch = ?, heartbeat = NULL WHERE id = 1", (epoch,))
    return epoch


def min_delay(max_lag: float) -> int:
    """The least visibility delay a replicated primary needs for followers allowed ``max_lag`` seconds of lag."""
    return int(max_lag) + CLOCK_TOLERANCE


def lag_problem(position: Position, now: float, max_lag: float) -> str | None:
    """Why a follower at ``position`` must not answer at ``now`` (seconds since the epoch), or None.

    It must not when it cannot vouch that it holds every change a harvester may already see
    elsewhere: no heartbeat yet, a heartbeat older than ``max_lag``, or a primary whose
    visibility delay leaves no room for that lag.
    """
    if position.heartbeat is None:
        return "no heartbeat from the primary has reached this replica yet"
    age = now - position.heartbeat
    if age > max_lag:
        return f"this replica is {age:.1f} s behind the primary (at most {max_lag:g} s allowed)"
    if position.delay < max_lag + CLOCK_TOLERANCE:
        return (f"the primary stamps changes {position.delay} s ahead, too little for a replica allowed "
                f"{max_lag:g} s of lag: set OAI_VISIBILITY_DELAY to at least "
                f"{min_delay(max_lag)} on the primary")
    return None
