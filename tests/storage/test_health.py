"""What /healthz checks: a node answers 200 only when it can answer OAI requests correctly."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oaiserver.storage import db, health
from tests.helpers.oai import GOOD_SAMPLES


@pytest.fixture
def database(app, ingest, config) -> Path:
    ingest(*GOOD_SAMPLES)
    path = Path(config["DATABASE"])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


def _damage_page_of(path: Path, name: str) -> None:
    """Overwrite the root page of table or index ``name`` with garbage (a bad copy or swap)."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (name,)).fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xde\xad" * (page_size // 2))


def test_a_sound_database_is_healthy(database) -> None:
    assert health.problems_of(str(database), follower=False, max_lag=5, now=0) == []


@pytest.mark.parametrize("name", ["records_listing", "renditions"])
def test_a_damaged_list_index_or_rendition_table_is_unhealthy(database, client, name) -> None:
    """SELECT 1 FROM records would pass; the check reads what a list page reads, and fails."""
    _damage_page_of(database, name)
    found = health.problems_of(str(database), follower=False, max_lag=5, now=0)
    assert [p.public for p in found] == ["the database is damaged"]
    assert "corrupt" in found[0].detail
    response = client.get("/healthz")
    assert response.status_code == 503 and response.data == b"the database is damaged\n"
    assert str(database).encode() not in response.data


def test_a_database_without_the_served_tables_is_unhealthy(tmp_path) -> None:
    path = tmp_path / "other.sqlite3"
    sqlite3.connect(path).execute("CREATE TABLE records (x)").connection.close()
    found = health.problems_of(str(path), follower=False, max_lag=5, now=0)
    assert found and "lacks the tables" in found[0].public


def test_a_standalone_server_without_a_file_yet_is_healthy(tmp_path) -> None:
    """It makes an empty repository on its first request (a fresh install)."""
    assert health.problems_of(str(tmp_path / "new.sqlite3"), follower=False, max_lag=5, now=0) == []
    assert db.replica_file_problem(tmp_path / "new.sqlite3") is not None  # a follower would not
