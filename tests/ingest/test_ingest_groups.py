"""An ingest commits files in groups (decisions.md P15): each file still whole or absent, reported once in.

A group holds up to pipeline.GROUP_FILES files in one transaction, each in its own savepoint.
What a harvester and an operator see must not change: a file's outcome is reported only
once its group is committed, a failing file leaves the others of its group in, an error that
takes the whole transaction with it is reported for every file that was lost, and the group's
records carry the datestamp of its commit.
"""
from __future__ import annotations

import sqlite3
import typing as t
from pathlib import Path

import pytest

from oaiserver import cli
from oaiserver.ingest import Counts, Ingester, pipeline
from oaiserver.ingest.parsing import IngestError
from oaiserver.ingest.writer import Writer
from oaiserver.storage import timeline
from tests.helpers.issues import A, issue
from tests.ingest.test_ingest_pipeline_writes import assert_exact, open_store

Outcome = t.Union[Counts, Exception]


def corpus(folder: Path, files: int, bad: t.Container[int] = ()) -> list[tuple[str, Path]]:
    """``files`` issue files of two articles each (file numbers in ``bad`` are not XML); the CLI's (name, path) pairs."""
    folder.mkdir()
    for number in range(1, files + 1):
        data = b"<not-an-issue" if number in bad else issue(
            [A(f"{number}-1"), A(f"{number}-2")], number=str(number))
        (folder / f"v1n{number:02d}.xml").write_bytes(data)
    return sorted((str(p), p) for p in folder.iterdir())


def run(store: Ingester, inputs: list[tuple[str, Path]], workers: int = 2,
        on_outcome: t.Callable[[str, Outcome], None] | None = None) -> list[tuple[str, Outcome]]:
    """Ingest as the CLI does; every file's outcome, in order."""
    outcomes: list[tuple[str, Outcome]] = []
    for name, work in store.ingest_files(inputs, cli.read_input, count=len(inputs), workers=workers):
        try:
            outcome: Outcome = work()
        except Exception as error:  # noqa: BLE001 - the CLI reports these per file
            outcome = error
        outcomes.append((Path(name).name, outcome))
        if on_outcome is not None:
            on_outcome(name, outcome)
    return outcomes


def issues_in(path: Path) -> set[str]:
    """The issue numbers with records in the database, read by another connection (committed data only)."""
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute(
            "SELECT DISTINCT i.number FROM records r JOIN issues i ON i.id = r.issue_id")}
    finally:
        conn.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    """The database file."""
    return tmp_path / "db" / "oai.sqlite3"


def test_files_are_committed_in_groups_and_reported_once_committed(path: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """25 files: three commits (10, 10, 5), and each file is readable by others when it is reported."""
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 3600)
    store = open_store(path)
    commits = []
    real_commit = Writer.commit_group

    def counting_commit(writer: Writer) -> None:
        commits.append(writer.group_files())
        real_commit(writer)

    monkeypatch.setattr(Writer, "commit_group", counting_commit)

    def committed_when_reported(name: str, outcome: Outcome) -> None:
        assert str(int(Path(name).stem.split("n")[1])) in issues_in(path)

    outcomes = run(store, corpus(tmp_path / "in", 25), on_outcome=committed_when_reported)
    assert [o for _, o in outcomes] == [Counts(added=2)] * 25
    assert commits == [10, 10, 5]
    assert_exact(store.conn)
    assert not store.conn.in_transaction


def test_a_group_is_cut_by_time_as_well(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With no time allowed, every file is its own group."""
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 0)
    store = open_store(path)
    commits = []
    real_commit = Writer.commit_group
    monkeypatch.setattr(Writer, "commit_group", lambda w: (commits.append(w.group_files()), real_commit(w)))
    run(store, corpus(tmp_path / "in", 4))
    assert commits == [1, 1, 1, 1]


def test_a_bad_file_leaves_the_rest_of_its_group_in(path: Path, tmp_path: Path) -> None:
    """Files 3 and 7 are not XML: they fail, nothing of them is written, the 10 others are in."""
    store = open_store(path)
    outcomes = run(store, corpus(tmp_path / "in", 12, bad={3, 7}), workers=2)
    failed = [name for name, o in outcomes if isinstance(o, Exception)]
    assert failed == ["v1n03.xml", "v1n07.xml"]
    assert all(isinstance(o, IngestError) for name, o in outcomes if name in failed)
    assert issues_in(path) == {str(n) for n in range(1, 13)} - {"3", "7"}
    assert_exact(store.conn)


def fail_at_issue(monkeypatch: pytest.MonkeyPatch, number: str, error: Exception, rollback: bool) -> None:
    """Make saving issue ``number`` raise ``error`` after writing it (inside its savepoint), or after SQLite-style rolling back everything."""
    real_save = Writer._save_issue

    def failing(writer: Writer, prepared: t.Any, datestamp: str) -> Counts:
        counts = real_save(writer, prepared, datestamp)
        if prepared.key[2] == number:
            if rollback:
                writer.conn.execute("ROLLBACK")  # the whole transaction is gone, as SQLite does it
            raise error
        return counts

    monkeypatch.setattr(Writer, "_save_issue", failing)


def test_a_database_error_ends_the_group_at_that_file(path: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure inside file 4's savepoint: files 1-3 are committed before it is reported; file 4 has nothing in."""
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 3600)
    store = open_store(path)
    fail_at_issue(monkeypatch, "4", sqlite3.OperationalError("database or disk is full"), rollback=False)
    seen: list[set[str]] = []
    outcomes = run(store, corpus(tmp_path / "in", 9),
                   on_outcome=lambda name, o: seen.append(issues_in(path)) if isinstance(o, Exception) else None)
    assert [type(o).__name__ for _, o in outcomes] == ["Counts"] * 3 + ["OperationalError"] + ["Counts"] * 5
    assert seen == [{"1", "2", "3"}]  # when file 4's error is reported, nothing after it is in
    assert issues_in(path) == {"1", "2", "3", "5", "6", "7", "8", "9"}
    assert_exact(store.conn)


def test_an_error_that_rolls_the_transaction_back_fails_every_file_of_the_group(
        path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite itself rolls back (as after some I/O errors): files 1-3 of the group are lost and say so."""
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 3600)
    store = open_store(path)
    fail_at_issue(monkeypatch, "4", sqlite3.OperationalError("disk I/O error"), rollback=True)
    outcomes = run(store, corpus(tmp_path / "in", 9))
    assert [str(o) if isinstance(o, Exception) else "ok" for _, o in outcomes] == (
        ["disk I/O error"] * 4 + ["ok"] * 5)
    assert issues_in(path) == {"5", "6", "7", "8", "9"}
    assert_exact(store.conn)


def test_a_failed_commit_fails_every_file_of_its_group(path: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The COMMIT of the first group fails: its files report it and are not in; the next group goes in."""
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 3600)
    store = open_store(path)
    real_committing = timeline.committing
    calls = []

    def failing_first(conn: sqlite3.Connection, changes_data: bool, delay: int | None = None) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        real_committing(conn, changes_data, delay)

    monkeypatch.setattr(timeline, "committing", failing_first)
    outcomes = run(store, corpus(tmp_path / "in", 12))
    assert [isinstance(o, Exception) for _, o in outcomes] == [True] * 10 + [False] * 2
    assert issues_in(path) == {"11", "12"}
    assert_exact(store.conn)


def test_a_group_is_stamped_with_its_commit(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten files written over ten (ticking) seconds: all their records carry the one datestamp of the commit."""
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 3600)
    store = open_store(path)
    run(store, corpus(tmp_path / "in", 10))
    stamps = {row[0] for row in store.conn.execute("SELECT datestamp FROM records")}
    assert len(stamps) == 1
    assert_exact(store.conn)  # headers, set rows and list sizes carry it too


def test_unchanged_files_commit_nothing(path: Path, tmp_path: Path) -> None:
    """A re-ingest of unchanged files writes nothing: the data version stays (followers are not woken)."""
    store = open_store(path)
    inputs = corpus(tmp_path / "in", 12)
    run(store, inputs)
    before = timeline.read(store.conn)
    outcomes = run(store, inputs)
    assert [o for _, o in outcomes] == [Counts(unchanged=2)] * 12
    assert timeline.read(store.conn).version == before.version


def test_stopping_early_leaves_no_transaction(path: Path, tmp_path: Path) -> None:
    """The CLI stops at a file that stops an ingest: what was reported is in, nothing else, no transaction open."""
    store = open_store(path)
    works = store.ingest_files(corpus(tmp_path / "in", 15), cli.read_input, count=15, workers=2)
    for _ in range(3):
        _name, work = next(works)
        work()
    works.close()
    assert not store.conn.in_transaction
    assert len(issues_in(path)) >= 3
    assert_exact(store.conn)


def test_no_file_is_prepared_inside_a_group(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Preparing in process (a few files): the write lock is never held while a file is parsed and rendered."""
    store = open_store(path)
    during: list[bool] = []
    real_prepare = pipeline.prepare_issue

    def watched(data: bytes, config: t.Any) -> t.Any:
        during.append(store.conn.in_transaction)
        return real_prepare(data, config)

    monkeypatch.setattr(pipeline, "prepare_issue", watched)
    outcomes = run(store, corpus(tmp_path / "in", 5))  # fewer than MIN_FILES_FOR_WORKERS: prepared here
    assert [o for _, o in outcomes] == [Counts(added=2)] * 5
    assert during == [False] * 5


def test_a_group_is_committed_before_waiting_long_for_a_worker(path: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Files 1-3 prepared, file 4 still being prepared after the group's time: 1-3 are committed, then file 4 waited for."""
    import concurrent.futures
    import threading

    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 0.1)
    store = open_store(path)
    inputs = corpus(tmp_path / "in", 5)
    futures = [concurrent.futures.Future() for _ in inputs]
    for future, (_, file) in list(zip(futures, inputs))[:3]:
        future.set_result(pipeline.prepare_issue(file.read_bytes(), store.config))
    seen_while_waiting: list[bool] = []

    def finish_later() -> None:
        seen_while_waiting.append(store.conn.in_transaction)  # the writer is waiting for file 4 now
        for future, (_, file) in list(zip(futures, inputs))[3:]:
            future.set_result(pipeline.prepare_issue(file.read_bytes(), store.config))

    timer = threading.Timer(0.5, finish_later)
    timer.start()
    works = [(name, pipeline._FileWork(store, file.read_bytes(), f"digest-{name}", future, False))
             for (name, file), future in zip(inputs, futures)]
    reported: list[tuple[str, set[str]]] = []
    with store.writer.bulk():
        for name, work in store._grouped(works):
            assert work() == Counts(added=2)
            reported.append((Path(name).name, issues_in(path)))
    timer.join()
    assert seen_while_waiting == [False]  # not waiting inside a transaction
    assert reported[2] == ("v1n03.xml", {"1", "2", "3"})  # 1-3 reported (committed) before file 4 was ready
    assert issues_in(path) == {"1", "2", "3", "4", "5"}
    assert_exact(store.conn)


def test_a_change_undone_within_one_group_leaves_the_datestamp(path: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """One group holds two versions of an issue, the second undoing the first: records that end as they began keep their datestamps.

    A harvester never sees the version in between (the group is committed at once): a new
    datestamp would announce a change that, for it, never happened. In the group, K-2 is
    retitled and back, K-3 deleted and back, K-5 (deleted before) back with a new title
    and deleted again; K-4 changes for good and is stamped with the commit.
    """
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 3600)
    store = open_store(path)
    folder = tmp_path / "in"
    folder.mkdir()
    fillers = [(str(p), p) for p in (folder / f"f{n}.xml" for n in range(7))]
    for n, (_, filler) in enumerate(fillers):
        filler.write_bytes(issue([A(f"F-{n}")], number=str(10 + n)))
    versions = {
        "v0": [A("K-1"), A("K-2"), A("K-3"), A("K-4"), A("K-5")],
        "v1": [A("K-1"), A("K-2"), A("K-3"), A("K-4")],
        "v2": [A("K-1"), A("K-2", title="Retitled"), A("K-4", title="For good"), A("K-5", title="Back")],
        "v3": [A("K-1"), A("K-2"), A("K-3"), A("K-4", title="For good")],
    }
    inputs = {}
    for name, articles in versions.items():
        (folder / f"{name}.xml").write_bytes(issue(articles))
        inputs[name] = (str(folder / f"{name}.xml"), folder / f"{name}.xml")
    run(store, [inputs["v0"]])
    run(store, [inputs["v1"], *fillers])
    conn = store.conn
    before = dict(conn.execute("SELECT identifier, datestamp FROM records"))
    headers = dict(conn.execute("SELECT identifier, header || header_crc FROM records"))
    outcomes = run(store, [inputs["v2"], inputs["v3"], *fillers])  # one group (9 files, two workers)
    assert [o for _, o in outcomes[:2]] == [Counts(updated=3, unchanged=1, deleted=1),
                                            Counts(updated=2, unchanged=2, deleted=1)]
    after = dict(conn.execute("SELECT identifier, datestamp FROM records"))
    base = "oai:oaiserver.localhost:1234-5679/"
    for kept in ("K-1", "K-2", "K-3", "K-5"):
        assert after[base + kept] == before[base + kept], kept
        assert conn.execute("SELECT header || header_crc FROM records WHERE identifier = ?",
                            (base + kept,)).fetchone()[0] == headers[base + kept], kept
    assert after[base + "K-4"] > before[base + "K-4"]
    assert conn.execute("SELECT identifier FROM records WHERE deleted = 1").fetchall() == [(base + "K-5",)]
    assert_exact(conn)
