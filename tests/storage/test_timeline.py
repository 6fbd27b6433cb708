"""The timeline row and the header bump: what every kind of commit does to them (decisions.md P14)."""
from __future__ import annotations

import sqlite3
import typing as t
from pathlib import Path

import pytest

from oaiserver.storage import timeline
from tests.helpers.oai import GOOD_SAMPLES


def _state(path: str) -> tuple[timeline.Position, int]:
    conn = sqlite3.connect(path)
    try:
        return timeline.read(conn), conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def database(app, ingest, config) -> str:
    ingest(GOOD_SAMPLES[0])
    return config["DATABASE"]


def test_every_data_commit_moves_the_version_and_the_header(database, runner) -> None:
    """Ingest, withdraw, restore: each adds one to the data version and bumps user_version (page 1 changes)."""
    before, header = _state(database)
    assert before.version > 0 and before.epoch != timeline.UNKNOWN_EPOCH
    for args in (["withdraw", "oai:journals.example.org:2008-8701/A-10-25-972"],
                 ["restore", "oai:journals.example.org:2008-8701/A-10-25-972"]):
        assert runner.invoke(args=args).exit_code == 0
        after, after_header = _state(database)
        assert after.version == before.version + 1 and after_header > header and after.epoch == before.epoch
        before, header = after, after_header


def test_a_dry_run_moves_nothing(database, runner) -> None:
    before = _state(database)
    assert runner.invoke(args=["ingest", "--dry-run", str(GOOD_SAMPLES[1])]).exit_code == 0
    assert _state(database) == before


def test_a_heartbeat_bumps_the_header_but_not_the_data_version(database) -> None:
    """Followers must notice a beat (page 1 changes) without a token taking it for new data."""
    before, header = _state(database)
    conn = sqlite3.connect(database, isolation_level=None)
    timeline.beat(conn, 1_800_000_000.0, 10)
    conn.close()
    after, after_header = _state(database)
    assert after.version == before.version and after_header == header + 1
    assert (after.heartbeat, after.delay) == (1_800_000_000.0, 10)


def test_a_new_epoch_forgets_the_old_primarys_heartbeat(database) -> None:
    conn = sqlite3.connect(database, isolation_level=None)
    timeline.beat(conn, 1_800_000_000.0, 10)
    old = timeline.read(conn).epoch
    assert timeline.new_epoch(conn) not in (old, timeline.UNKNOWN_EPOCH)
    assert timeline.read(conn).heartbeat is None
    conn.close()


def test_a_database_without_a_timeline_reads_as_matching_any_token(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.sqlite3")
    assert timeline.read(conn) == timeline.Position(timeline.UNKNOWN_EPOCH, 0, None, 0)
    conn.close()


@pytest.mark.parametrize("role, checkpoints", [("standalone", 1), ("primary", 0)])
def test_admin_commands_leave_checkpoints_to_litestream_on_a_primary(config, role, checkpoints,
                                                                    monkeypatch) -> None:
    """Litestream holds a read lock that makes a TRUNCATE checkpoint wait and fail: a primary skips it."""
    from oaiserver import create_app
    from oaiserver.storage import db

    calls: list[t.Any] = []
    monkeypatch.setattr(db, "checkpoint", lambda conn, *a, **k: calls.append(conn) or True)
    app = create_app({**config, "OAI_ROLE": role})
    assert app.test_cli_runner().invoke(args=["ingest", str(GOOD_SAMPLES[0])]).exit_code == 0
    assert len(calls) == checkpoints


def test_a_write_transaction_that_fails_at_its_header_bump_is_rolled_back(database, monkeypatch) -> None:
    """A full disk at the last step (the header bump) leaves no transaction open and nothing written."""
    from oaiserver.storage import db

    conn = sqlite3.connect(database, isolation_level=None)
    try:
        before = timeline.read(conn)

        def full(conn: sqlite3.Connection, changes_data: bool, delay: int | None = None) -> None:
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(timeline, "committing", full)
        with pytest.raises(sqlite3.OperationalError), timeline.write_transaction(conn, begin=db.begin_immediate):
            conn.execute("UPDATE timeline SET heartbeat = 1 WHERE id = 1")
        assert not conn.in_transaction
        assert timeline.read(conn) == before
    finally:
        conn.close()
