"""The follower: each generation restored, switched to rollback mode, published by a link, followed.

Runs the real Litestream against a file replica that a real `litestream replicate` keeps (conftest).
"""
from __future__ import annotations

import threading
import typing as t
from pathlib import Path

import pytest

from oaiserver.replica import Follower, Litestream, LitestreamError, follower as follower_module
from oaiserver.storage import db, timeline
from tests.helpers.servers import wait_for
from tests.replica.conftest import needs_litestream

pytestmark = needs_litestream


def _version(path: Path) -> int:
    conn = db.connect_reader(path)
    try:
        return timeline.read(conn).version
    finally:
        conn.close()


class Running:
    """A follower run in a thread until the test ends."""

    def __init__(self, follower: Follower) -> None:
        self.follower = follower
        self.stop = threading.Event()
        self.said: list[str] = []
        self.thread = threading.Thread(target=follower.run, args=(self.stop,))
        self.thread.start()

    def end(self) -> None:
        self.stop.set()
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


@pytest.fixture
def running(replicated, tmp_path, monkeypatch) -> t.Iterator[Running]:
    monkeypatch.setattr(follower_module, "RETRY_AFTER", 0.1)
    said: list[str] = []
    node = Running(Follower(replicated.url, tmp_path / "node" / "oai.sqlite3", replicated.litestream, said.append,
                            check_every=0.5))
    node.said = said
    try:
        yield node
    finally:
        node.end()


def test_a_replica_is_published_in_rollback_mode_and_follows_every_commit(replicated, running) -> None:
    """The DATABASE link appears once the file is whole and servable; later commits reach it."""
    link = running.follower.database
    wait_for(link.exists, 30, "the published replica")
    assert link.is_symlink() and db.replica_file_problem(link) is None
    version = replicated.commit()
    wait_for(lambda: _version(link) == version, 30, "the commit on the follower")
    # Readers made no -wal or -shm beside the followed file (they would stall Litestream).
    assert sorted(p.name for p in link.resolve().parent.iterdir()) == ["oai.sqlite3", "oai.sqlite3-txid"]


def test_when_litestream_exits_a_new_generation_replaces_the_old(replicated, running) -> None:
    """Litestream cannot resume a follow: a new restore is published, the old folder removed."""
    link = running.follower.database
    wait_for(link.exists, 30, "the published replica")
    first = link.resolve()
    assert running.follower.current is not None
    running.follower.current.process.kill()
    wait_for(lambda: link.resolve() != first, 60, "a new generation published")
    assert not first.parent.exists()
    version = replicated.commit()
    wait_for(lambda: _version(link) == version, 30, "commits on the new generation")
    assert any("new generation" in line for line in running.said)


class _Replica(Litestream):
    """The real binary, but the replica's position is what the test says."""

    def __init__(self, position: t.Callable[[int | None], int | None]) -> None:
        super().__init__()
        self.position = position
        self.local: int | None = None

    def latest_txid(self, url: str) -> int | None:
        return self.position(self.local)


@pytest.mark.parametrize("position, reason", [
    (lambda _local: 0, "went back"),  # another primary's history, or an earlier point
    (lambda local: (local or 0) + 100, "stalled"),  # ahead, and this follower applies nothing
])
def test_a_generation_ends_when_the_replica_moves_where_it_cannot_follow(replicated, tmp_path, position,
                                                                        reason) -> None:
    litestream = _Replica(position)
    follower = Follower(replicated.url, tmp_path / "node" / "oai.sqlite3", litestream, lambda _line: None,
                        check_every=0.2, stall_after=1.0)
    litestream.local = None
    original = follower_module.read_txid
    follower_module.read_txid = lambda out: setattr(litestream, "local", original(out)) or litestream.local
    try:
        ended = follower.one_generation(threading.Event())
    finally:
        follower_module.read_txid = original
    assert reason in ended
    assert follower.current is not None and follower.current.process.poll() is not None


def test_a_regular_file_at_the_database_path_is_not_replaced(replicated, tmp_path) -> None:
    """The path a follower keeps is a link: a real database there is someone's data, and stays."""
    path = tmp_path / "oai.sqlite3"
    path.write_bytes(b"someone's database")
    with pytest.raises(LitestreamError, match="is a file, not the link"):
        Follower(replicated.url, path, replicated.litestream, lambda _line: None)


def test_an_empty_replica_is_retried_and_nothing_is_published(tmp_path, monkeypatch) -> None:
    """No backup yet (a primary that never uploaded): Litestream exits, the follower says why and tries again later."""
    monkeypatch.setattr(follower_module, "RETRY_AFTER", 0.05)
    said: list[str] = []
    node = Running(Follower((tmp_path / "empty").as_uri(), tmp_path / "node" / "oai.sqlite3", Litestream(),
                            said.append))
    try:
        wait_for(lambda: len(said) >= 2, 30, "two failed generations")
    finally:
        node.end()
    assert all("starting a new generation: litestream exited" in line for line in said)
    assert not (tmp_path / "node" / "oai.sqlite3").exists()
    assert list((tmp_path / "node" / "oai.sqlite3.generations").iterdir()) == []  # failed folders removed
