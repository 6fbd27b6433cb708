"""The writer meets other writers and a full disk: it waits or names the real cause, and the
database stays whole (every file in or out, list sizes exact), so running the same work again
after the cause is gone completes it."""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from metadata_formats import CrosswalkSettings
from oaiserver.ingest import Ingester
from oaiserver.storage import db, list_sizes, timeline
from oaiserver.storage.lock import WriterBusy
from tests.helpers.issues import A, issue
from tests.helpers.oai import REPOSITORY_IDENTIFIER

BASE = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/"


def open_store(path: Path) -> Ingester:
    """A store on ``path``."""
    return Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, CrosswalkSettings())


def big_issue(number: int, articles: int = 40) -> bytes:
    """An issue whose articles need several new 64 KiB pages."""
    return issue([A(f"F-{number}-{k}", abstract="<p>" + "words " * 400 + "</p>") for k in range(articles)],
                 number=str(number))


def assert_whole(conn: sqlite3.Connection) -> None:
    """SQLite finds the file sound, and the kept list sizes equal a count from scratch."""
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert list_sizes.kept(conn) == list_sizes.counted(conn)
    assert conn.execute("SELECT COUNT(*) FROM list_size_hold").fetchone()[0] == 0


def release_later(conn: sqlite3.Connection, started: threading.Event, seconds: float = 0.5) -> threading.Timer:
    """End ``conn``'s transaction ``seconds`` after ``started`` is set (from another thread)."""
    def wait_then_commit() -> None:
        started.wait(30)
        threading.Event().wait(seconds)
        conn.execute("COMMIT")

    thread = threading.Thread(target=wait_then_commit)
    thread.start()
    return thread


def test_switch_to_wal_waits_for_a_writer_creating_the_same_file(tmp_path):
    """Two processes creating one database: while one writes it in rollback mode, the other's
    switch to WAL fails at once in SQLite; it waits and switches (or finds it switched)."""
    path = tmp_path / "oai.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE early (x)")
    started = threading.Event()
    thread = release_later(other, started)
    started.set()
    writer = db.connect_writer(path)  # before: "database is locked" at once
    thread.join()
    assert writer.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert writer.conn.execute("SELECT COUNT(*) FROM sets").fetchone()[0] > 0


def test_a_write_waits_for_a_foreign_writer_past_the_busy_timeout_and_says_so(tmp_path, monkeypatch, caplog):
    """A writer outside the admin commands' lock holds the database longer than the busy
    timeout: the transaction waits on, with a warning, instead of failing after it."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    store = open_store(tmp_path / "oai.sqlite3")
    store.save_file(issue([A("W-1")]))
    other = sqlite3.connect(tmp_path / "oai.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    started = threading.Event()
    thread = release_later(other, started)
    started.set()
    with caplog.at_level(logging.WARNING, logger="oaiserver.storage.db"):
        assert store.withdraw(BASE + "W-1") == "withdrawn"
    thread.join()
    assert "waiting for another program writing to the database to finish" in caplog.text


def test_a_write_gives_up_with_one_clear_line_when_the_wait_is_over(tmp_path, monkeypatch):
    """Past WRITE_WAIT_SECONDS the transaction gives up with WriterBusy, saying why."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr(db, "WRITE_WAIT_SECONDS", 0.2)
    store = open_store(tmp_path / "oai.sqlite3")
    store.save_file(issue([A("W-1")]))
    other = sqlite3.connect(tmp_path / "oai.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(WriterBusy, match="another program has been writing to the database for over 0.2 s"):
        store.withdraw(BASE + "W-1")
    other.execute("ROLLBACK")
    assert store.withdraw(BASE + "W-1") == "withdrawn"


def test_an_error_sqlite_rolled_back_by_itself_is_the_error_raised(tmp_path):
    """After SQLITE_FULL SQLite may have rolled the transaction back already: the ROLLBACK that
    follows must not replace the cause with "cannot rollback - no transaction is active"."""
    store = open_store(tmp_path / "oai.sqlite3")
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        with timeline.write_transaction(store.conn, changes_data=True, begin=db.begin_immediate):
            store.conn.execute("INSERT INTO sets (spec, name) VALUES ('x', 'X')")
            store.conn.execute("ROLLBACK")  # what SQLite does itself when a full disk stops a spill
            raise sqlite3.OperationalError("database or disk is full")
    assert not store.conn.in_transaction
    assert store.conn.execute("SELECT COUNT(*) FROM sets WHERE spec = 'x'").fetchone()[0] == 0


def test_a_full_disk_leaves_the_database_whole_and_the_same_work_completes_later(tmp_path):
    """SQLITE_FULL (a page limit stands in for the disk) fails the file with the real cause;
    nothing of it is written, and once there is room the same file goes in."""
    store = open_store(tmp_path / "oai.sqlite3")
    store.save_file(big_issue(1))
    before = store.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages + 1}")
    with pytest.raises(sqlite3.OperationalError, match="database or disk is full"):
        store.save_file(big_issue(2))
    assert not store.conn.in_transaction
    assert store.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == before
    assert_whole(store.conn)
    store.conn.execute("PRAGMA max_page_count = 1000000")
    assert store.save_file(big_issue(2)).added == 40
    assert_whole(store.conn)


def test_checkpoint_truncates_the_wal_once_readers_let_it(tmp_path):
    """After a command the -wal file goes back to nothing; a reader in the middle of a request
    keeps it, and the checkpoint says so instead of waiting for ever."""
    path = tmp_path / "oai.sqlite3"
    store = open_store(path)
    store.save_file(big_issue(1))
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    reader = db.connect_reader(path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM records").fetchone()  # holds a snapshot, as a request does
    store.save_file(big_issue(2))
    assert db.checkpoint(store.conn, tries=2, pause=0) is False
    reader.execute("COMMIT")  # the request ends; the connection stays open, as in the server
    assert db.checkpoint(store.conn) is True
    assert wal.stat().st_size == 0
    assert store.conn.execute("PRAGMA journal_size_limit").fetchone()[0] == db.JOURNAL_SIZE_LIMIT
