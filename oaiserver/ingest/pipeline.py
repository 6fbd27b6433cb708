"""Ingest one way: read a file → prepare it (here or in a worker process) → hand it to the writer.

Preparing (parse, render, serialise, hash: prepare.py) is a pure function of a file's bytes
and takes ~85% of an ingest's CPU; SQLite has one writer. So with many files the files are
read in order, prepared by a pool of worker processes, and their results saved in the same
order, each file still in its own transaction, by the writer of the calling process
(``Writer.bulk``: no disk sync per file). Small batches are prepared in process: starting
workers costs more than it saves. Either way it is the same :func:`prepare_issue` and the
same :meth:`Ingester._save`: this module only decides where preparing runs.
"""
from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import datetime as dt
import multiprocessing
import os
import sys
import threading
import time
import types
import typing as t

from metadata_formats import CrosswalkSettings
from oaiserver.ingest.parsing import IngestError
from oaiserver.ingest.prepare import (PrepareConfig, PreparedIssue, file_digest, prepare_issue, prepare_parsed,
                                      prepare_stored)
from oaiserver.ingest.writer import Counts, Writer
from oaiserver.model import Issue

if t.TYPE_CHECKING:
    import sqlite_utils

#: Below this many files the pool is not worth starting.
MIN_FILES_FOR_WORKERS = 8
#: Files read ahead per worker (bounds the memory held by prepared files).
AHEAD_PER_WORKER = 3
#: Files committed together in an ingest (decisions.md P15): most of the saving per file
#: saved; the last file of a group waits for the others to be reported.
GROUP_FILES = 10
#: ... and for no longer than this, so that the write lock is released often.
GROUP_SECONDS = 0.25
#: Records re-rendered per transaction by reindex: an ingest or withdraw started meanwhile
#: waits for one batch at most, not for the whole database.
REINDEX_BATCH = 250

Work = t.Callable[[], Counts]


class Ingester:
    """The write side of one database: prepares what it is given and hands it to the writer."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        repository_identifier: str,
        settings: CrosswalkSettings,
        clock: t.Callable[[], dt.datetime] | None = None,
        delay: int = 0,
    ) -> None:
        """``delay``: the visibility delay in seconds, added to the datestamps written (decisions.md P14)."""
        self.config = PrepareConfig.of(repository_identifier, settings)
        self.writer = Writer(db, clock, delay)
        self.db = db
        self.conn = db.conn

    def save_file(self, data: bytes, dry_run: bool = False) -> Counts:
        """Prepare and save the bytes of one issue file; skip the work if it is known unchanged.

        Raises :class:`~oaiserver.ingest.parsing.IngestError` for a file that cannot be ingested.
        """
        return _FileWork(self, data, file_digest(data, self.config.fingerprint), None, dry_run)()

    def save_issue(self, issue: Issue, dry_run: bool = False) -> Counts:
        """Prepare and save an issue already parsed (not remembered as a file)."""
        return self.writer.save_issue(prepare_parsed(issue, self.config), dry_run=dry_run)

    def ingest_files(
        self,
        items: t.Iterable[tuple[str, t.Any]],
        read: t.Callable[[str, t.Any], bytes],
        dry_run: bool = False,
        count: int = 0,
        workers: int | None = None,
    ) -> t.Generator[tuple[str, Work], None, None]:
        """Yield ``(name, work)`` per item, in order; ``work()`` saves the file and returns its counts.

        ``count`` is the number of items (they are consumed lazily, a few ahead of the writer).
        ``work()`` raises what saving the file alone would: the reading error, the parsing
        error (IngestError), a database error or a bug, so the caller reports each file.
        """
        workers = default_workers() if workers is None else workers
        with self.writer.bulk():
            if workers < 2 or count < MIN_FILES_FOR_WORKERS:
                works: t.Iterator[tuple[str, _FileWork]] = (
                    (name, self._schedule(read, name, path, dry_run, None)) for name, path in items)
                yield from (works if dry_run else self._grouped(works))
                return
            with _pool(workers) as pool:
                works = self._ahead(items, read, dry_run, pool, workers * AHEAD_PER_WORKER)
                yield from (works if dry_run else self._grouped(works))

    def _ahead(self, items: t.Iterable[tuple[str, t.Any]], read: t.Callable[[str, t.Any], bytes],
               dry_run: bool, pool: concurrent.futures.Executor, ahead: int) -> t.Iterator[tuple[str, _FileWork]]:
        """Yield ``(name, work)`` in order, with ``ahead`` files read and being prepared by the pool."""
        pending: collections.deque[tuple[str, _FileWork]] = collections.deque()
        for name, path in items:
            pending.append((name, self._schedule(read, name, path, dry_run, pool)))
            if len(pending) >= ahead:
                yield pending.popleft()
        while pending:
            yield pending.popleft()

    def _grouped(self, works: t.Iterable[tuple[str, _FileWork]]) -> t.Iterator[tuple[str, Work]]:
        """Do the works in groups of files committed together; yield each file's outcome once its group is committed.

        Committing costs the same for a small file as for a big one (SQLite rewrites the last
        page of every b-tree), so up to GROUP_FILES files share one transaction, each file
        still whole or absent in its own savepoint (decisions.md P15). The write lock is not
        held while a file is prepared beyond GROUP_SECONDS: a group is committed rather than
        kept open waiting for a file still being prepared. A file is reported only when it is
        committed: if the commit fails, every file of the group reports that failure, and none
        of them is in.
        """
        done: list[tuple[str, Counts | Exception]] = []
        try:
            for name, work in works:
                if self.writer.group_open() and not work.wait(max(0.0, GROUP_SECONDS - self.writer.group_age())):
                    yield from _outcomes(self._commit(done))
                    done = []
                try:
                    prepared = work.prepared()  # read, parse and render: outside any group if it takes long
                    if not isinstance(prepared, Counts) and not self.writer.group_open():
                        self.writer.begin_group()
                    done.append((name, prepared if isinstance(prepared, Counts) else work.save(prepared)))
                except IngestError as error:  # a bad file: nothing of it was written
                    done.append((name, error))
                except Exception as error:  # noqa: BLE001 - reported for this file, as without groups
                    # A database error or a bug: the group ends at this file, so that a caller
                    # who stops here has nothing after it written.
                    yield from _outcomes(self._end_at(done, name, error))
                    done = []
                    continue
                if not self.writer.group_open():
                    yield from _outcomes(done)  # outcomes that wait for no commit
                    done = []
                elif self.writer.group_files() >= GROUP_FILES or self.writer.group_age() >= GROUP_SECONDS:
                    yield from _outcomes(self._commit(done))
                    done = []
            yield from _outcomes(self._commit(done) if self.writer.group_open() else done)
        finally:
            self.writer.abandon_group()  # left open only when the caller stopped early

    def _end_at(self, done: list[tuple[str, Counts | Exception]], name: str,
                error: Exception) -> list[tuple[str, Counts | Exception]]:
        """End the open group at a file that failed with ``error``; the outcomes of the group's files and of that file."""
        if not self.writer.group_open():
            return [*done, (name, error)]
        if self.writer.group_alive():
            return [*self._commit(done), (name, error)]
        # SQLite rolled the whole group back (a full disk, an I/O error): the files saved
        # before this one in the group are not in either.
        self.writer.abandon_group()
        return [*_failed(done, error), (name, error)]

    def _commit(self, done: list[tuple[str, Counts | Exception]]) -> list[tuple[str, Counts | Exception]]:
        """Commit the open group; the outcomes of its files (all of them the commit's error if it failed)."""
        try:
            self.writer.commit_group()
        except Exception as error:  # noqa: BLE001 - the group's files are not in: each reports why
            return _failed(done, error)
        return done

    def _schedule(self, read: t.Callable[[str, t.Any], bytes], name: str, path: t.Any,
                  dry_run: bool, pool: concurrent.futures.Executor | None) -> _FileWork:
        """Read one file and, with a pool, start preparing it there; return the work that saves it."""
        try:
            data = read(name, path)
        except Exception as error:  # noqa: BLE001 - reported for this file when its turn comes
            return _FileWork(self, b"", "", None, dry_run, failure=error)
        digest = file_digest(data, self.config.fingerprint)
        future = None
        # A file most likely skipped needs no worker (_FileWork.prepared checks again in its turn).
        if pool is not None and self.writer.known_unchanged(digest) is None:
            future = pool.submit(prepare_issue, data, self.config)
        return _FileWork(self, data, digest, future, dry_run)

    def withdraw(self, identifier: str) -> str:
        """Delete one record by hand; it stays deleted until restored. Return what happened."""
        return self.writer.withdraw(identifier)

    def restore(self, identifier: str) -> str:
        """Undo a withdrawal: the record is live again, rendered afresh, with a new datestamp."""
        while True:  # again only if the record changed between reading and writing it
            stored = self.writer.stored(identifier)
            if stored is None:
                return "unknown"
            if not stored.withdrawn:
                return "not withdrawn"
            prepared = prepare_stored(stored.identifier, stored.article_json, self.config)
            outcome = self.writer.restore(stored, prepared)
            if outcome is not None:
                return outcome

    def reindex(self, batch_size: int = REINDEX_BATCH,
                after_batch: t.Callable[[Counts], None] | None = None) -> Counts:
        """Re-render every live record from its stored article; move the datestamps of those that changed.

        Batch by batch, each prepared outside any transaction and saved in its own short
        one, so that other writers get their turn in between. ``after_batch`` is called
        with the counts so far after each batch is committed.
        """
        counts, after = Counts(), 0
        while batch := self.writer.live_after(after, batch_size):
            counts += self.writer.save_reindexed([
                (stored, prepare_stored(stored.identifier, stored.article_json, self.config))
                for stored in batch
            ])
            after = batch[-1].id
            if after_batch is not None:
                after_batch(counts)
        return counts


def _failed(done: list[tuple[str, Counts | Exception]], error: Exception) -> list[tuple[str, Counts | Exception]]:
    """The outcomes of a group's files when the group is not in: ``error`` for each file saved in it."""
    return [(name, error if isinstance(outcome, Counts) else outcome) for name, outcome in done]


class _FileWork:
    """One file's work in its turn: preparing it (done by a worker, done here, or not needed), then saving it."""

    def __init__(self, ingester: Ingester, data: bytes, digest: str,
                 future: concurrent.futures.Future | None, dry_run: bool,
                 failure: Exception | None = None) -> None:
        self.ingester = ingester
        self.data = data
        self.digest = digest
        self.future = future
        self.dry_run = dry_run
        self.failure = failure  # reading the file failed
        self._unchanged: Counts | None = None
        self._checked = False  # whether _unchanged has been looked up, in this file's turn

    def __call__(self) -> Counts:
        """Prepare (unless known unchanged) and save the file; return its counts."""
        prepared = self.prepared()
        return prepared if isinstance(prepared, Counts) else self.save(prepared)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds; tell whether the file is ready to save without more preparing."""
        if self.failure is not None:
            return True
        if self.future is not None:
            concurrent.futures.wait([self.future], timeout)
            return self.future.done()
        return self._known_unchanged() is not None

    def _known_unchanged(self) -> Counts | None:
        # Looked up once, in this file's turn: a file earlier in the run may have changed this
        # file's issue, and between wait and prepared only a commit can come, which changes no record.
        if not self._checked:
            self._unchanged, self._checked = self.ingester.writer.known_unchanged(self.digest), True
        return self._unchanged

    def prepared(self) -> PreparedIssue | Counts:
        """The prepared issue, or the counts of a file known unchanged; raises what reading or parsing raised."""
        if self.failure is not None:
            raise self.failure
        unchanged = self._known_unchanged()
        if unchanged is not None:
            return unchanged
        if self.future is not None:
            return t.cast(PreparedIssue, self.future.result())
        return prepare_issue(self.data, self.ingester.config)

    def save(self, prepared: PreparedIssue) -> Counts:
        """Write the prepared issue (remembering the file); return its counts."""
        return self.ingester.writer.save_issue(prepared, self.digest, dry_run=self.dry_run)


def _outcome(result: Counts | Exception) -> Work:
    """A work that returns ``result``, or raises it."""
    def work() -> Counts:
        if isinstance(result, Exception):
            raise result
        return result

    return work


def _outcomes(done: t.Sequence[tuple[str, Counts | Exception]]) -> t.Iterator[tuple[str, Work]]:
    """``(name, work)`` for files already done: the work returns or raises what saving the file did."""
    for name, result in done:
        yield name, _outcome(result)


def default_workers() -> int:
    """The CPUs this process may use (taskset and cgroup affinity respected)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _pool(workers: int) -> concurrent.futures.ProcessPoolExecutor:
    """Start ``workers`` worker processes that import only what preparing needs."""
    # spawn: a clean interpreter per worker (no fork of a process holding SQLite handles).
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),))
    # A spawned worker first runs the parent's main module (as __mp_main__): for the CLI that
    # is oaiserver.cli with Flask, click and every command, ~0.15 s of imports a worker never
    # uses. With a bare __main__ while they start, they import only what unpickling their tasks
    # needs. A spawning pool starts a worker per submit while none is idle: one task per worker,
    # submitted long before the first worker is up (a spawn takes tens of milliseconds), starts
    # them all here.
    try:
        with _bare_main():
            for _ in range(workers):
                pool.submit(int)
    except BaseException:  # e.g. no process could be started: leave none behind
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    return pool


@contextlib.contextmanager
def _bare_main() -> t.Iterator[None]:
    """Stand an empty module in for ``__main__``: processes spawned meanwhile do not import the main module."""
    # Without __spec__ and __file__, multiprocessing has no main module to send (as for
    # `python -c`). Only functions of importable modules are sent to the workers.
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: leave as soon as the ingest that started us is gone (even by kill -9).

    A pool worker otherwise waits on its task queue for ever once its parent dies.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()
