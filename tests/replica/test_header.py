"""The header switch a follower makes before anyone opens a restored file."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oaiserver.replica.header import switch_to_rollback
from oaiserver.storage import db


def test_a_wal_file_becomes_a_rollback_file_that_readers_open_without_side_files(tmp_path: Path) -> None:
    """Bytes 18-19 go from 2 to 1 with a new change counter; a read-only reader then makes no -wal/-shm."""
    path = tmp_path / "oai.sqlite3"
    db.connect_writer(path).close()
    before = path.read_bytes()[:28]
    assert before[18:20] == b"\x02\x02"
    assert db.replica_file_problem(path) is not None
    assert switch_to_rollback(path) is True
    after = path.read_bytes()[:28]
    assert after[18:20] == b"\x01\x01" and after[24:28] != before[24:28]
    assert db.replica_file_problem(path) is None
    conn = db.connect_reader(path)
    assert conn.execute("SELECT COUNT(*) FROM timeline").fetchone() == (1,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    conn.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["oai.sqlite3"]
    assert switch_to_rollback(path) is False  # already switched: nothing written


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    """Garbage is not patched into something that looks like a database."""
    path = tmp_path / "x.sqlite3"
    path.write_bytes(b"not a database at all, not even close")
    with pytest.raises(ValueError, match="not an SQLite database"):
        switch_to_rollback(path)
    assert path.read_bytes().startswith(b"not a database")


def test_the_switch_waits_for_a_reader_in_another_process(tmp_path: Path) -> None:
    """It takes SQLite's exclusive lock: with a reader mid-transaction elsewhere, it waits (here: until released)."""
    import subprocess
    import sys
    import time

    path = tmp_path / "oai.sqlite3"
    db.connect_writer(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    conn.close()
    path.write_bytes(path.read_bytes()[:18] + b"\x02\x02" + path.read_bytes()[20:])
    reader = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(path)!r}, os.O_RDONLY)\n"
        "fcntl.lockf(fd, fcntl.LOCK_SH, 1, 0x40000002)\n"  # a reader's shared lock, as SQLite takes it
        "print('locked', flush=True); time.sleep(1.5)\n")], stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline().strip() == "locked"
    started = time.monotonic()
    assert switch_to_rollback(path) is True
    assert time.monotonic() - started > 0.5  # it waited for the reader to finish
    reader.wait()
    reader.stdout.close()
