"""The ingest host: ``litestream replicate`` streams every commit, and a heartbeat says the primary is alive.

The heartbeat (storage/timeline.py) is a small commit every second recording the primary's clock
and visibility delay; it reaches followers with the data, so each knows how far behind it is
(decisions.md P14). Checkpoints are left to Litestream: it holds a read lock that makes an
application's TRUNCATE checkpoint wait and fail, so admin commands skip theirs on a primary.
"""
from __future__ import annotations

import sqlite3
import threading
import time
import typing as t
from pathlib import Path

from oaiserver.replica.litestream import Litestream, LitestreamError, Running, replicate_config
from oaiserver.storage import timeline

#: Seconds between heartbeats: followers measure their lag in these steps.
HEARTBEAT_EVERY = 1.0
#: How long a heartbeat waits for an admin command's transaction before it skips a beat.
BEAT_WAIT_MS = 5000

Say = t.Callable[[str], None]


class Primary:
    """Replicate ``database`` to ``url`` with Litestream and beat every second until stopped."""

    def __init__(self, database: Path, url: str, delay: int, litestream: Litestream, say: Say,
                 every: float = HEARTBEAT_EVERY) -> None:
        if not database.is_file():
            raise LitestreamError(f"there is no database at {database} yet: run `oaiserver init-db` "
                                  "(or ingest) first")
        self.database = database
        self.url = url
        self.delay = delay
        self.litestream = litestream
        self.say = say
        self.every = every
        self.config = database.with_name("litestream.yml")

    def run(self, stop: threading.Event) -> None:
        """Run Litestream and the heartbeat; LitestreamError if Litestream stops on its own."""
        self.config.write_text(replicate_config(self.database, self.url))
        litestream = Running(self.litestream.replicate(self.config))
        process = litestream.process
        conn = sqlite3.connect(self.database, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BEAT_WAIT_MS}")
        self.say(f"replicating {self.database} to {self.url}; heartbeat every {self.every:g} s")
        try:
            while not stop.wait(self.every):
                if process.poll() is not None:
                    raise LitestreamError(f"litestream replicate exited ({process.returncode}): "
                                          f"{litestream.last_line('(no message)')}")
                try:
                    timeline.beat(conn, time.time(), self.delay)
                except sqlite3.OperationalError as error:  # a long admin transaction: beat next time
                    self.say(f"heartbeat skipped: {error}")
        finally:
            conn.close()
            litestream.stop()
