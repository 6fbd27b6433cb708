"""One writing admin command at a time: an advisory lock file next to the database.

SQLite lets one transaction write at a time, and a waiting writer gives up after its busy
timeout with "database is locked". An admin command (ingest, withdraw, reindex, …) instead
takes this lock for its whole run, so a second one waits its turn with a message naming the
holder, or gives up with one clear line after the configured wait. The lock is flock(2) on an
open file: the kernel drops it when its process ends, however it ends, so a crashed command
never leaves a stale lock behind; two opens conflict even within one process. The file itself
is left in place on purpose (removing a lock file races with the next command opening it).
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
import typing as t
from pathlib import Path

#: How often a waiting command tries the lock again, in seconds.
POLL_SECONDS = 0.1


class WriterBusy(Exception):
    """Another writer held the database longer than this command was willing to wait."""


def lock_path(database: str | Path) -> Path:
    """The lock file that guards ``database``: ``<database>.lock`` in the same folder."""
    return Path(f"{database}.lock")


@contextlib.contextmanager
def writer_lock(database: str | Path, command: str, wait: float,
                notify: t.Callable[[str], None]) -> t.Iterator[None]:
    """Hold the writer lock of ``database`` for the body; wait up to ``wait`` seconds for it.

    ``command`` names this holder to the others ("oaiserver ingest"). ``notify`` is called
    once with a one-line message when the lock is taken and this command has to wait.
    Raises :class:`WriterBusy` after ``wait`` seconds (0: do not wait).
    """
    path = lock_path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o660)
    except OSError as error:
        raise WriterBusy(f"cannot open the lock file {path}: {error.strerror}") from None
    try:
        _acquire(fd, path, wait, notify)
        try:
            _write_holder(fd, f"{os.getpid()} {command}\n")
            yield
        finally:
            _write_holder(fd, "")  # no stale holder for the next waiter to name
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, path: Path, wait: float, notify: t.Callable[[str], None]) -> None:
    deadline = time.monotonic() + max(wait, 0)
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as error:
            if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise WriterBusy(f"cannot lock {path}: {error.strerror}") from None
        holder = _holder(fd)
        if time.monotonic() >= deadline:
            waited = f"after {wait:g} s" if wait > 0 else "(OAI_WRITER_WAIT is 0)"
            raise WriterBusy(f"another writer ({holder}) still holds the database {waited}; "
                             f"run this command again when it is done")
        if not told:
            notify(f"waiting for another writer ({holder}) to finish…")
            told = True
        time.sleep(POLL_SECONDS)


def _write_holder(fd: int, text: str) -> None:
    """Say who holds the lock, for the messages of those who wait (best effort: a full disk)."""
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, text.encode(), 0)
    except OSError:
        pass


def _holder(fd: int) -> str:
    """Who holds the lock, as "pid 123: oaiserver ingest" (from what the holder wrote)."""
    text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    pid, _, command = text.partition(" ")
    if not pid.isdigit():
        return "an oaiserver command"  # it has the lock but has not written its name yet
    return f"pid {pid}: {command}" if command else f"pid {pid}"
