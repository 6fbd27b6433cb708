"""Ingest many files on every core: worker processes parse and render, one process writes.

Parsing and rendering are pure functions of a file's bytes and take ~85% of an ingest's CPU;
SQLite has one writer. So the files are read in order, handed to a pool of worker processes
(``prepare_for_writer``), and their results saved in the same order, each file still in its
own transaction, by the store of the calling process (``Store.bulk``: no disk sync per file).
Files already ingested unchanged are not sent to the workers at all (``Store.save_file`` skips
them). Small batches are done in process: starting workers costs more than it saves.
"""
from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import multiprocessing
import os
import threading
import time
import typing as t

from metadata_formats import CrosswalkSettings
from oaiserver.ingest.writer import Counts, Store
from oaiserver.ingest.parsing import parse_issue
from oaiserver.ingest.prepare import Prepared, PreparedIssue, issue_key, oai_identifier, prepare_article
from oaiserver.ingest.rendering import render_article
from oaiserver.ingest.sets import SetInfo

#: Below this many files the pool is not worth starting.
MIN_FILES_FOR_WORKERS = 8
#: Files read ahead per worker (bounds the memory held by prepared files).
AHEAD_PER_WORKER = 3

Work = t.Callable[[], Counts]


def prepare_file(data: bytes, repository_identifier: str, fingerprint: str,
                 settings: CrosswalkSettings) -> PreparedIssue:
    """Parse one issue file and render all its articles (runs in a worker process)."""
    issue = parse_issue(data)
    return PreparedIssue(issue_key(issue), [
        prepare_article(a, oai_identifier(repository_identifier, a), fingerprint,
                        lambda article: render_article(article, settings))
        for a in issue.articles
    ])


def prepare_for_writer(data: bytes, repository_identifier: str, fingerprint: str,
                       settings: CrosswalkSettings) -> PreparedIssue:
    """:func:`prepare_file`, packed for the trip back to the writer process.

    The article JSON and the renditions (~25 KB an article) go as their UTF-8 bytes: pickle
    would encode them here, decode them there, and the writer encode them again to store
    them; SQLite takes the bytes as they are (writes.TEXT). The sets, alike across an issue,
    go once per issue instead of once per article.
    """
    prepared = prepare_file(data, repository_identifier, fingerprint, settings)
    sets: dict[SetInfo, SetInfo] = {}
    return PreparedIssue(prepared.key, [_packed(article, sets) for article in prepared.articles])


def _packed(article: Prepared, sets: dict[SetInfo, SetInfo]) -> Prepared:
    rendered = article.rendered
    assert rendered is not None
    return dataclasses.replace(
        article,
        article_json=article.article_json.encode("utf-8"),
        rendered=dataclasses.replace(
            rendered,
            sets=[sets.setdefault(info, info) for info in rendered.sets],
            renditions={prefix: xml.encode("utf-8") for prefix, xml in rendered.renditions.items()},
        ),
    )


def default_workers() -> int:
    """The CPUs this process may use (taskset and cgroup affinity respected)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def ingest_files(
    store: Store,
    items: t.Iterable[tuple[str, t.Any]],
    read: t.Callable[[str, t.Any], bytes],
    dry_run: bool = False,
    count: int = 0,
    workers: int | None = None,
) -> t.Iterator[tuple[str, Work]]:
    """Yield ``(name, work)`` per item, in order; ``work()`` saves the file and returns its counts.

    ``count`` is the number of items (they are consumed lazily, a few ahead of the writer).
    ``work()`` raises what a serial ingest would: the reading error, the parsing error
    (IngestError), a database error or a bug, so the caller reports each file as before.
    """
    with store.bulk():
        yield from _ingest_files(store, items, read, dry_run, count, workers)


def _ingest_files(store: Store, items: t.Iterable[tuple[str, t.Any]], read: t.Callable,
                  dry_run: bool, count: int, workers: int | None) -> t.Iterator[tuple[str, Work]]:
    workers = default_workers() if workers is None else workers
    if workers < 2 or count < MIN_FILES_FOR_WORKERS:
        for name, path in items:
            yield name, _serial(store, read, name, path, dry_run)
        return
    # spawn: a clean interpreter per worker (no fork of a process holding SQLite handles).
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        pending: collections.deque[tuple[str, Work]] = collections.deque()
        for name, path in items:
            pending.append((name, _submit(pool, store, read, name, path, dry_run)))
            if len(pending) >= workers * AHEAD_PER_WORKER:
                yield pending.popleft()
        while pending:
            yield pending.popleft()


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: leave as soon as the ingest that started us is gone (even by kill -9).

    A pool worker otherwise waits on its task queue for ever once its parent dies.
    """
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def _serial(store: Store, read: t.Callable, name: str, path: t.Any, dry_run: bool) -> Work:
    return lambda: store.save_file(read(name, path), dry_run=dry_run)


def _submit(pool: concurrent.futures.Executor, store: Store, read: t.Callable, name: str,
            path: t.Any, dry_run: bool) -> Work:
    try:
        data = read(name, path)
    except Exception as error:  # noqa: BLE001 - reported for this file when its turn comes
        failure = error

        def fail() -> Counts:
            raise failure

        return fail
    digest = store.file_digest(data)
    if store.known_unchanged(digest) is not None:
        # Most likely skipped: no worker needed (save_file checks again in its turn).
        return lambda: store.save_file(data, dry_run=dry_run, digest=digest)
    future = pool.submit(prepare_for_writer, data, store.repository_identifier, store.fingerprint,
                         store.settings)
    return lambda: store.save_file(data, dry_run=dry_run, prepared=future.result(), digest=digest)
