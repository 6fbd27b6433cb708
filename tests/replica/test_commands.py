"""`oaiserver replica primary|follow|restore`: what each refuses, and a restore that makes a new primary."""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from oaiserver import create_app
from oaiserver.storage import timeline
from tests.replica.conftest import needs_litestream


def _run(config: dict, *args: str):
    return create_app(config).test_cli_runner().invoke(args=["replica", *args])


@pytest.mark.parametrize("command, role", [("primary", "standalone"), ("follow", "primary"),
                                           ("restore", "follower")])
def test_each_command_runs_only_on_its_kind_of_node(config, command, role) -> None:
    result = _run({**config, "OAI_ROLE": role, "OAI_REPLICA_URL": "file:///srv/replica"}, command)
    assert result.exit_code != 0 and f"not {role}" in result.output


def test_a_replica_url_is_needed(config) -> None:
    result = _run({**config, "OAI_ROLE": "follower"}, "follow")
    assert result.exit_code != 0 and "set OAI_REPLICA_URL" in result.output


@needs_litestream
def test_a_primary_needs_a_delay_above_the_allowed_lag(config) -> None:
    """Followers allowed 5 s of lag need changes stamped at least 10 s ahead: refuse to replicate otherwise."""
    result = _run({**config, "OAI_ROLE": "primary", "OAI_REPLICA_URL": "file:///srv/replica",
                   "OAI_VISIBILITY_DELAY": 2, "OAI_MAX_LAG": 5}, "primary")
    assert result.exit_code != 0 and "at least OAI_MAX_LAG + 5 = 10 s" in result.output


@needs_litestream
def test_a_primary_needs_a_database(config, tmp_path) -> None:
    result = _run({**config, "OAI_ROLE": "primary", "OAI_REPLICA_URL": (tmp_path / "r").as_uri(),
                   "OAI_VISIBILITY_DELAY": 10}, "primary")
    assert result.exit_code != 0 and "init-db" in result.output


@needs_litestream
def test_restore_makes_a_new_primary_with_a_new_epoch(replicated, config, tmp_path) -> None:
    """The latest state of the replica, a new epoch, no heartbeat yet; an existing file only with --replace."""
    before = replicated.position()
    version = replicated.commit()
    replicated.replicated_after(before)
    old = timeline.read(sqlite3.connect(replicated.database))
    target = tmp_path / "new" / "oai.sqlite3"
    target.parent.mkdir()
    settings = {**config, "DATABASE": str(target), "OAI_ROLE": "primary", "OAI_REPLICA_URL": replicated.url}
    result = _run(settings, "restore")
    assert result.exit_code == 0, result.output
    restored = timeline.read(sqlite3.connect(target))
    assert restored.version == version and restored.epoch != old.epoch and restored.heartbeat is None
    assert f"epoch {restored.epoch}" in result.output
    again = _run(settings, "restore")
    assert again.exit_code != 0 and "--replace" in again.output
    replaced = _run(settings, "restore", "--replace")
    assert replaced.exit_code == 0, replaced.output
    # One database set aside (with its -wal and -shm when a connection still had it open).
    assert len([f for f in target.parent.glob("oai.sqlite3.replaced-*") if not f.name.endswith(("-wal", "-shm"))]) == 1
    assert timeline.read(sqlite3.connect(target)).epoch not in (old.epoch, restored.epoch)


@needs_litestream
def test_restore_from_an_empty_replica_says_why(config, tmp_path) -> None:
    settings = {**config, "OAI_ROLE": "primary", "OAI_REPLICA_URL": (tmp_path / "empty").as_uri()}
    result = _run(settings, "restore")
    assert result.exit_code != 0 and "litestream restore failed" in result.output
    assert not Path(config["DATABASE"]).exists()


@needs_litestream
def test_restore_to_a_point_in_time(replicated, config, tmp_path) -> None:
    """--timestamp: the state the replica held at that moment, not the latest."""
    import datetime as dt

    before = replicated.position()
    early = replicated.commit()
    replicated.replicated_after(before)
    time.sleep(1.2)
    moment = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    time.sleep(1.2)
    before = replicated.position()
    later = replicated.commit()
    replicated.replicated_after(before)
    assert later > early
    target = tmp_path / "pit" / "oai.sqlite3"
    target.parent.mkdir()
    result = _run({**config, "DATABASE": str(target), "OAI_ROLE": "primary", "OAI_REPLICA_URL": replicated.url},
                  "restore", "--timestamp", moment)
    assert result.exit_code == 0, result.output
    assert timeline.read(sqlite3.connect(target)).version == early


def test_status_says_how_far_behind_a_follower_is(config, tmp_path, ingest, app) -> None:
    """`replica status`: epoch, version, heartbeat age; exit 1 with the reason once it is too old."""
    import json
    import shutil

    from tests.helpers.oai import GOOD_SAMPLES

    ingest(GOOD_SAMPLES[0])
    replica_file = tmp_path / "replica.sqlite3"
    shutil.copyfile(config["DATABASE"], replica_file)
    conn = sqlite3.connect(replica_file, isolation_level=None)
    conn.execute("PRAGMA journal_mode = DELETE")
    timeline.beat(conn, time.time() - 2, 10)
    conn.close()
    follower = {**config, "DATABASE": str(replica_file), "OAI_ROLE": "follower", "OAI_MAX_LAG": 5}
    fresh = _run(follower, "status", "--json")
    assert fresh.exit_code == 0, fresh.output
    report = json.loads(fresh.output)
    assert report["healthy"] and 2 <= report["heartbeat_age_seconds"] < 5 and report["visibility_delay"] == 10
    conn = sqlite3.connect(replica_file, isolation_level=None)
    timeline.beat(conn, time.time() - 60, 10)
    conn.close()
    stale = _run(follower, "status")
    assert stale.exit_code == 1 and "behind the primary" in stale.output
    assert "heartbeat_age_seconds: 6" in stale.output  # 60 s and a bit
