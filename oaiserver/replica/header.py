"""Switch a restored file to rollback mode before any reader opens it.

Litestream restores a file whose header still says WAL (bytes 18 and 19 are 2). A reader that
opens such a file makes a -wal and -shm beside it and holds a lock that keeps Litestream from
applying any further change for as long as the reader lives. Litestream itself writes 1 there
whenever a change includes page 1 (every commit of oaiserver's does: decisions.md P14), but the
first file needs it done once. It is done under the lock Litestream and SQLite take to write (the
pending byte and the shared range, an exclusive lock), with plain file locks: opening the file
with SQLite would be exactly the reader this avoids.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

from oaiserver.storage import db

# SQLite's lock bytes (os_unix.c), which Litestream's follower takes too.
_PENDING_BYTE = 0x40000000
_SHARED_FIRST = _PENDING_BYTE + 2
_SHARED_SIZE = 510


def switch_to_rollback(path: Path) -> bool:
    """Mark ``path`` as a rollback-journal file (with a new change counter); True if it had to change."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX, 1, _PENDING_BYTE)  # no new reader starts
        fcntl.lockf(fd, fcntl.LOCK_EX, _SHARED_SIZE, _SHARED_FIRST)  # the current ones are done
        header = os.pread(fd, 28, 0)
        if len(header) < 28 or not header.startswith(db.HEADER_MAGIC):
            raise ValueError(f"{path} is not an SQLite database")
        if header[18] == 1 and header[19] == 1:
            return False
        # A new change counter, so that a reader holding pages in its cache reads them again.
        counter = (int.from_bytes(header[24:28], "big") + 1) & 0xFFFFFFFF
        os.pwrite(fd, bytes([1, 1]), 18)
        os.pwrite(fd, counter.to_bytes(4, "big"), 24)
        os.fsync(fd)
        return True
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, _SHARED_SIZE, _SHARED_FIRST)
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, _PENDING_BYTE)
        os.close(fd)
