"""A web node's replica: restored and followed by Litestream, switched to rollback mode, published by a link.

Each *generation* is a fresh ``litestream restore -f`` into a folder of its own. Once the first
restore is complete (Litestream says "entering follow mode"), the file is switched to rollback
mode (header.py) before anyone opens it, and the configured DATABASE path, a symbolic link, is
pointed at it in one atomic rename: web nodes go on reading the old file until they next open
the path, then read the new one (db.cached_reader notices the new inode). A generation ends, and
the next begins, when Litestream exits (it cannot resume after a restart), when the replica goes
back (a primary restored to an earlier point, or another database written to the same replica),
or when the replica is ahead and this follower has stopped applying. The old generation stays
published until the new one is ready, so a web node never meets a missing file.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import threading
import time
import typing as t
from pathlib import Path

from oaiserver.replica import header
from oaiserver.replica.litestream import Litestream, LitestreamError, Running, read_txid

#: Litestream's line once the first restore of a follow is complete and consistent.
READY_LINE = "entering follow mode"
#: Seconds between two looks at the replica's position (one LIST request each on object storage).
CHECK_EVERY = 10.0
#: A follower whose replica is ahead and who applied nothing for this long is restarted.
STALL_AFTER = 30.0
#: Seconds to wait before a new generation after a failed one (Litestream exits at once when the
#: replica is unreachable or empty; this keeps it from spinning).
RETRY_AFTER = 5.0
#: The longest wait between two failed generations.
MAX_RETRY_AFTER = 60.0
#: The longest a first restore may take (a big database over a slow link).
RESTORE_TIMEOUT = 3600.0

Say = t.Callable[[str], None]


class Generation(Running):
    """One ``litestream restore -f`` into its own folder, and what it said."""

    def __init__(self, folder: Path, name: str, process: subprocess.Popen[str]) -> None:
        super().__init__(process, READY_LINE)
        self.folder = folder
        self.file = folder / name

    def why_it_ended(self) -> str:
        """Litestream's exit status and last line, for the log."""
        return f"litestream exited ({self.process.returncode}): {self.last_line()}"


class Follower:
    """Keep ``database`` (a symbolic link) pointing at a current, servable replica of ``url``."""

    def __init__(self, url: str, database: Path, litestream: Litestream, say: Say,
                 check_every: float = CHECK_EVERY, stall_after: float = STALL_AFTER) -> None:
        self.url = url
        self.database = database
        self.litestream = litestream
        self.say = say
        self.check_every = check_every
        self.stall_after = stall_after
        # Beside the link: a rename of the link stays on one file system.
        self.generations = database.with_name(database.name + ".generations")
        self.current: Generation | None = None  # the generation being restored or followed
        self.published = 0  # generations published so far
        if database.exists() and not database.is_symlink():
            raise LitestreamError(f"{database} is a file, not the link a follower keeps: move it away "
                                  "(a follower's DATABASE is a link to the current replica)")

    def run(self, stop: threading.Event) -> None:
        """Follow generation after generation until ``stop`` is set."""
        failures = 0  # generations in a row that never got to serving
        while not stop.is_set():
            published = self.published
            try:
                reason = self.one_generation(stop)
            except (OSError, ValueError) as error:  # the file system, or a restore that is no database
                reason = f"{type(error).__name__}: {error}"
            failures = 0 if self.published != published else failures + 1
            if not stop.is_set():
                self.say(f"starting a new generation: {reason}")
                # An unreachable or empty replica fails at once: wait longer each time, up to a minute.
                stop.wait(min(RETRY_AFTER * 2 ** max(failures - 1, 0), MAX_RETRY_AFTER))

    def one_generation(self, stop: threading.Event) -> str:
        """Restore, publish and follow one generation; return why it ended."""
        generation = self.current = self._start()
        try:
            if not self._wait_ready(generation, stop):
                return generation.why_it_ended() if generation.process.poll() is not None else "stopped"
            header.switch_to_rollback(generation.file)
            self._publish(generation.file)
            self.say(f"serving generation {generation.folder.name} (txid {read_txid(generation.file)})")
            return self._follow(generation, stop)
        finally:
            generation.stop()

    def _start(self) -> Generation:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        folder = self.generations / stamp
        folder.mkdir(parents=True)
        return Generation(folder, self.database.name, self.litestream.follow(self.url, folder / self.database.name))

    def _wait_ready(self, generation: Generation, stop: threading.Event) -> bool:
        deadline = time.monotonic() + RESTORE_TIMEOUT
        while not generation.ready.wait(0.1):
            if stop.is_set() or generation.process.poll() is not None or time.monotonic() > deadline:
                shutil.rmtree(generation.folder, ignore_errors=True)
                return False
        return True

    def _publish(self, file: Path) -> None:
        """Point the DATABASE link at ``file`` atomically, then remove every older generation."""
        link = self.database.with_name(self.database.name + ".link")
        link.unlink(missing_ok=True)
        link.symlink_to(file)
        os.replace(link, self.database)
        self.published += 1
        # Readers that still hold an older file keep it until they close it (Unix semantics).
        for folder in self.generations.iterdir():
            if folder != file.parent:
                shutil.rmtree(folder, ignore_errors=True)

    def _follow(self, generation: Generation, stop: threading.Event) -> str:
        applied, since = read_txid(generation.file), time.monotonic()
        while not stop.wait(self.check_every):
            if generation.process.poll() is not None:
                return generation.why_it_ended()
            local = read_txid(generation.file)
            if local != applied:
                applied, since = local, time.monotonic()
            latest = self.litestream.latest_txid(self.url)
            if latest is None or local is None:
                continue
            if latest < local:
                return f"the replica went back from txid {local} to {latest} (a restored primary?)"
            if latest > local and time.monotonic() - since > self.stall_after:
                return f"stalled at txid {local} while the replica is at {latest}"
        return "stopped"
