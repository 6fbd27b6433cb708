"""Disaster recovery: a new primary restored from the replica (the latest state, or a point in time).

The restored file starts a new epoch (storage/timeline.py): versions after it repeat numbers the
lost timeline used, so tokens of lists begun before the restore must be refused, and are
(decisions.md P14). Replicating the restored file to the same replica, Litestream writes it as the
replica's next state, and followers go on following.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from pathlib import Path

from oaiserver.replica.litestream import Litestream, LitestreamError
from oaiserver.storage import db, timeline


def restore_primary(database: Path, url: str, litestream: Litestream, timestamp: str | None = None,
                    txid: str | None = None, replace: bool = False) -> int:
    """Restore ``url`` into ``database`` (moving an existing one aside if ``replace``); return the new epoch."""
    if database.exists() and not replace:
        raise LitestreamError(f"{database} exists: stop the old primary and pass --replace to move it aside")
    restoring = database.with_name(database.name + ".restoring")
    for leftover in _with_journals(restoring):
        leftover.unlink(missing_ok=True)
    litestream.restore(url, restoring, timestamp=timestamp, txid=txid)
    conn = sqlite3.connect(restoring, isolation_level=None)
    try:
        found = db.quick_check(conn)
        if found:
            raise LitestreamError(f"the restored database is damaged ({found[0]}): try an earlier point")
        epoch = timeline.new_epoch(conn)
    finally:
        conn.close()  # the last connection: SQLite checkpoints and removes the -wal file
    if database.exists():
        aside = database.with_name(f"{database.name}.replaced-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}")
        for old, moved in zip(_with_journals(database), _with_journals(aside)):
            if old.exists():
                os.replace(old, moved)
    os.replace(restoring, database)
    return epoch


def _with_journals(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
