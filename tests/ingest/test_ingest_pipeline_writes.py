"""The writer's shortcuts write what the slow, obvious way would.

Ingest keeps list_sizes in a few set-based statements per transaction (the counting triggers
are held meanwhile), writes a whole issue in a few multi-row statements, and gets the big
texts from its workers as UTF-8 bytes. Checked here against counting from scratch, against
the triggers, and against a serial ingest.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
import typing as t
from pathlib import Path

import pytest

from metadata_formats import CrosswalkSettings
from oaiserver import cli
from oaiserver.storage import db, list_sizes, packing
from oaiserver.ingest import Counts, Ingester, IngestError, parse_issue, pipeline, writes
from tests.helpers.issues import A, issue
from tests.helpers.list_sizes import records_read_back

REPOSITORY = "oaiserver.localhost"
BASE = f"oai:{REPOSITORY}:1234-5679/"


def ticking(day: int = 1) -> t.Callable[[], dt.datetime]:
    """A clock one second further on every call: every transaction ends a second after it began."""
    start, ticks = dt.datetime(2026, 1, day, tzinfo=dt.timezone.utc), iter(range(1_000_000))
    return lambda: start + dt.timedelta(seconds=next(ticks))


def open_store(path: Path, settings: CrosswalkSettings | None = None, day: int = 1) -> Ingester:
    """A store on ``path`` with a ticking clock (from midnight of January ``day``, 2026)."""
    return Ingester(db.connect_writer(path), REPOSITORY, settings or CrosswalkSettings(), ticking(day))


@pytest.fixture
def store(tmp_path: Path) -> Ingester:
    """A store on a new database."""
    return open_store(tmp_path / "oai.sqlite3")


def assert_counts_exact(conn: sqlite3.Connection) -> None:
    """list_sizes equals a count from scratch, and no hold is left."""
    assert list_sizes.kept(conn) == list_sizes.counted(conn)
    assert conn.execute("SELECT COUNT(*) FROM list_size_hold").fetchone()[0] == 0


def assert_exact(conn: sqlite3.Connection) -> None:
    """Exact counts, and the copies of a record's datestamp (sets, header) agree with it."""
    assert_counts_exact(conn)
    assert conn.execute(
        "SELECT COUNT(*) FROM record_sets s JOIN records r ON r.id = s.record_id "
        "WHERE r.datestamp IS NOT s.datestamp OR r.identifier IS NOT s.identifier").fetchone()[0] == 0
    assert conn.execute(
        "SELECT COUNT(*) FROM records WHERE instr(header, '<datestamp>' || datestamp || '</datestamp>') = 0"
    ).fetchone()[0] == 0


def dump(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every table's rows, sorted (list_sizes without its zero rows; the timeline without its random epoch)."""
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    rows = {}
    for table in tables:
        where = " WHERE n != 0" if table == "list_sizes" else ""
        columns = "version, heartbeat, delay" if table == "timeline" else "*"
        rows[table] = sorted(conn.execute(f"SELECT {columns} FROM {table}{where}").fetchall(), key=repr)
    return rows


def test_counts_stay_exact_through_every_kind_of_save(store: Ingester) -> None:
    """New, unchanged, changed, deleted, moved, withdrawn, restored, reindexed: always exact."""
    conn = store.conn
    first = [A("A-1"), A("A-2"), A("A-3"), A("A-4", content_type="Review Article")]
    assert store.save_file(issue(first, number="1")) == Counts(added=4)
    assert store.save_file(issue([A("B-1"), A("B-2", subject="Nursing")], number="2")) == Counts(added=2)
    assert_exact(conn)
    # A-2 leaves issue 1, A-3 is retitled, A-5 is new; then A-4 moves to issue 2.
    changed = [A("A-1"), A("A-3", title="Retitled"), A("A-5")]
    assert store.save_file(issue(changed, number="1")) == Counts(added=1, updated=1, unchanged=1, deleted=2)
    moved = [A("B-1"), A("B-2", subject="Nursing"), A("A-4", content_type="Review Article")]
    assert store.save_file(issue(moved, number="2")) == Counts(updated=1, unchanged=2)
    assert_exact(conn)
    assert store.withdraw(BASE + "A-1") == "withdrawn"
    assert store.withdraw(BASE + "B-1") == "withdrawn"
    assert store.restore(BASE + "A-1") == "restored"
    assert store.save_file(issue(changed, number="1")) == Counts(unchanged=3)
    assert_exact(conn)
    assert store.reindex() == Counts(unchanged=5)
    before = dump(conn)
    # A-2 comes back, A-3 loses its new title, A-4 moves back (its issue is part of it), A-5
    # goes: all rolled back. (The same counts as before these shortcuts, checked by hand.)
    assert store.save_file(issue(first, number="1"), dry_run=True) == Counts(
        updated=3, unchanged=1, deleted=1)
    assert dump(conn) == before  # a dry run leaves nothing, not even the hold
    assert_exact(conn)


def test_writers_other_than_ingest_are_still_counted_by_the_triggers(store: Ingester, tmp_path: Path) -> None:
    """Raw SQL from another connection (an admin, an old version) keeps list_sizes exact."""
    store.save_file(issue([A("A-1"), A("A-2"), A("A-3")]))
    other = sqlite3.connect(tmp_path / "oai.sqlite3", isolation_level=None)
    other.execute("PRAGMA foreign_keys = ON")
    other.execute("UPDATE records SET datestamp = '2030-01-01T00:00:00Z' WHERE identifier = ?", (BASE + "A-1",))
    other.execute("UPDATE record_sets SET datestamp = '2030-01-01T00:00:00Z' WHERE identifier = ?", (BASE + "A-1",))
    other.execute("UPDATE records SET deleted = 1 WHERE identifier = ?", (BASE + "A-2",))
    other.execute("DELETE FROM renditions WHERE prefix = 'jats' AND record_id = "
                  "(SELECT id FROM records WHERE identifier = ?)", (BASE + "A-1",))
    other.execute("DELETE FROM records WHERE identifier = ?", (BASE + "A-3",))
    other.close()
    assert_counts_exact(store.conn)  # (the raw UPDATEs left A-1's header behind: not counted)
    store.save_file(issue([A("A-1", title="New"), A("A-2"), A("A-4")]))
    assert_counts_exact(store.conn)


def test_a_save_that_fails_halfway_leaves_nothing(store: Ingester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database error after the records went in: the file's transaction, hold included, is undone."""
    store.save_file(issue([A("A-1")]))
    before = dump(store.conn)
    real, calls = writes.insert_many, []

    def failing(conn: sqlite3.Connection, into: str, values: str, rows: t.Sequence[tuple]) -> None:
        calls.append(into)
        if into.startswith("renditions"):
            raise sqlite3.OperationalError("disk I/O error")
        real(conn, into, values, rows)

    monkeypatch.setattr(writes, "insert_many", failing)
    with pytest.raises(sqlite3.OperationalError):
        store.save_file(issue([A("A-1", title="Changed"), A("A-2"), A("A-3"), A("A-4")]))
    assert calls[0].startswith("records")  # it failed halfway indeed
    assert dump(store.conn) == before
    monkeypatch.setattr(writes, "insert_many", real)
    assert store.save_file(issue([A("A-1"), A("A-2")])) == Counts(added=1, unchanged=1)
    assert_exact(store.conn)


def test_one_identifier_twice_in_an_issue_is_saved_one_after_the_other(store: Ingester) -> None:
    """The second copy sees the first saved, as in an article-by-article save."""
    parsed = parse_issue(issue([A("A-1"), A("A-2")]))
    twice = dataclasses.replace(parsed, articles=(parsed.articles[0], *parsed.articles))
    assert store.save_issue(twice) == Counts(added=2, unchanged=1)
    assert store.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 2
    assert_exact(store.conn)


def test_the_worker_pipeline_writes_what_a_serial_ingest_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers (bytes across the process boundary) and the writer alone: the same rows, text or packed."""
    # One file per commit either way: files prepared in process are never grouped (the write
    # lock is not held while preparing), and other groups would give other commit datestamps.
    monkeypatch.setattr(pipeline, "GROUP_FILES", 1)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number in range(1, pipeline.MIN_FILES_FOR_WORKERS + 2):
        articles = [A(f"{number}-{i}", title=f"Article {number}.{i} \u0645\u0642\u0627\u0644\u0647",
                      subject=["Nursing", "Basic Sciences"][i % 2]) for i in range(1, 4)]
        (corpus / f"v1n{number}.xml").write_bytes(issue(articles, number=str(number)))
    inputs = sorted((str(p), p) for p in corpus.iterdir())
    dumps = []
    for workers in (2, 1):
        store = open_store(tmp_path / f"db{workers}" / "oai.sqlite3")
        total = Counts()
        for _name, work in store.ingest_files(inputs, cli.read_input, count=len(inputs), workers=workers):
            total += work()
        assert total == Counts(added=3 * len(inputs))
        assert_exact(store.conn)
        assert store.conn.execute(
            "SELECT DISTINCT typeof(xml) FROM renditions WHERE prefix NOT IN (SELECT value FROM json_each(?))",
            (json.dumps(list(packing.CURRENT)),)).fetchall() == [("text",)]
        # Packed renditions and the packed articles (storage/packing.py) are BLOBs, the others text.
        assert store.conn.execute(
            "SELECT DISTINCT typeof(xml) FROM renditions WHERE prefix IN (SELECT value FROM json_each(?)) "
            "UNION SELECT DISTINCT typeof(article) FROM records",
            (json.dumps(list(packing.CURRENT)),)).fetchall() == [("blob",)]
        dumps.append(dump(store.conn))
        store.db.close()
    assert dumps[0] == dumps[1]


def test_the_writer_counts_what_it_wrote_without_reading_it_back(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Records added, changed, deleted and back again in one group of files: counted as written, exactly.

    The keeper counts the records the writer says it wrote (list_sizes.lists_of) at the
    commit's datestamp, instead of reading them back: the counts are those of a count from
    scratch, also with a file that fails in the group and after a withdrawal and a restore.
    """
    monkeypatch.setattr(pipeline, "GROUP_SECONDS", 3600)  # one group, whatever the machine's speed
    read_back = records_read_back(monkeypatch)
    files = [
        issue([A("A-1"), A("A-2"), A("A-3")], number="1"),
        issue([A("B-1"), A("B-2", subject="Nursing")], number="2"),
        issue([A("A-1", title="Retitled"), A("A-3"), A("A-4")], number="1"),
        b"<not-an-issue",
        issue([A("B-1"), A("B-2", subject="Basic Sciences")], number="2"),
        issue([A("C-1")], number="3"),
        issue([A("A-2"), A("A-4")], number="1"),
        issue([A("C-1", content_type="Review Article")], number="3"),
    ]
    assert len(files) >= pipeline.MIN_FILES_FOR_WORKERS  # prepared by workers, saved in one group
    inputs = [(f"file{n}", data) for n, data in enumerate(files)]
    store = open_store(tmp_path / "oai.sqlite3")
    outcomes: list[Counts | type[Exception]] = []
    for _name, work in store.ingest_files(inputs, lambda name, data: data, count=len(inputs), workers=2):
        try:
            outcomes.append(work())
        except IngestError as error:
            outcomes.append(type(error))
    assert outcomes == [
        Counts(added=3), Counts(added=2), Counts(added=1, updated=1, unchanged=1, deleted=1), IngestError,
        Counts(updated=1, unchanged=1), Counts(added=1), Counts(updated=1, unchanged=1, deleted=2),
        Counts(updated=1),
    ]
    assert_exact(store.conn)
    assert store.withdraw(BASE + "A-4") == "withdrawn"
    assert store.restore(BASE + "A-4") == "restored"
    assert_exact(store.conn)
    assert read_back == []


def test_bulk_ingest_relaxes_sync_only_while_it_runs(store: Ingester, tmp_path: Path) -> None:
    """An ingest run (Writer.bulk): synchronous=NORMAL while it runs, the previous setting after, even on error."""
    def synchronous() -> int:
        return store.conn.execute("PRAGMA synchronous").fetchone()[0]

    before = synchronous()
    assert before == 2  # FULL: a lone withdraw or restore is flushed at its commit
    path = tmp_path / "v1n1.xml"
    path.write_bytes(issue([A("A-1")]))
    for _name, work in store.ingest_files([(str(path), path)], cli.read_input, count=1):
        assert synchronous() == 1  # NORMAL
        assert work() == Counts(added=1)
    assert synchronous() == before
    with pytest.raises(RuntimeError), store.writer.bulk():
        raise RuntimeError("stop")
    assert synchronous() == before


def test_writer_processes_do_not_load_numpy(tmp_path: Path) -> None:
    """sqlite-utils is imported without numpy, which it would load when installed."""
    import subprocess
    import sys

    pytest.importorskip("numpy", reason="numpy is not installed: nothing to keep out")

    code = ("import sys; from oaiserver.storage import db; db.connect_writer(sys.argv[1]).close(); "
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "oai.sqlite3")],
                         capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


def datestamps(conn: sqlite3.Connection) -> dict[str, str]:
    """Every record's datestamp, by identifier."""
    return dict(conn.execute("SELECT identifier, datestamp FROM records").fetchall())


def test_reindex_lets_other_writers_in_between_its_batches(tmp_path: Path) -> None:
    """Each batch is its own transaction: another writer commits in between; only changed output moves."""
    path = tmp_path / "oai.sqlite3"
    store = open_store(path)
    store.save_file(issue([A(f"A-{i}") for i in range(5)]))
    store.save_file(issue([A(f"B-{i}") for i in range(4)], issn="2008-1375"))
    before = datestamps(store.conn)
    store.db.close()
    # A publisher-id for the first journal only: the JATS of its five articles changes.
    store = open_store(path, CrosswalkSettings(journal_ids={"1234-5679": "tj"}), day=2)
    other = open_store(path, day=3)
    other.conn.execute("PRAGMA busy_timeout = 0")  # locked out: fail at once instead of waiting
    batches = []

    def between(counts: Counts) -> None:
        if not batches:
            assert other.withdraw("oai:oaiserver.localhost:2008-1375/B-3") == "withdrawn"
        batches.append(counts)

    assert store.reindex(batch_size=2, after_batch=between) == Counts(updated=5, unchanged=3)
    assert len(batches) == 4  # ids 1-2, 3-4, 5-6, 7-8; 9 (B-3) withdrawn before its turn
    after = datestamps(store.conn)
    assert {i for i in before if after[i] != before[i]} == {BASE + f"A-{i}" for i in range(5)} | {
        "oai:oaiserver.localhost:2008-1375/B-3"}
    assert store.conn.execute(
        "SELECT deleted, withdrawn FROM records WHERE identifier LIKE '%/B-3'").fetchone() == (1, 1)
    assert_exact(store.conn)


def test_reindex_leaves_a_record_withdrawn_while_its_batch_was_prepared(
        store: Ingester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The writer saves a re-rendered record only if it is still as it was read."""
    store.save_file(issue([A("A-1"), A("A-2"), A("A-3")]))
    other = open_store(tmp_path / "oai.sqlite3")
    real = pipeline.prepare_stored

    def withdrawn_meanwhile(identifier: str, article_json: str, config: t.Any) -> t.Any:
        if identifier == BASE + "A-2":
            assert other.withdraw(identifier) == "withdrawn"
        return real(identifier, article_json, config)

    monkeypatch.setattr(pipeline, "prepare_stored", withdrawn_meanwhile)
    assert store.reindex() == Counts(unchanged=2)
    assert store.conn.execute(
        "SELECT deleted, withdrawn FROM records WHERE identifier = ?", (BASE + "A-2",)).fetchone() == (1, 1)
    assert_exact(store.conn)


def test_restore_reads_again_a_record_changed_while_it_was_prepared(
        store: Ingester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Restored, changed and withdrawn again by another writer meanwhile: the latest article comes back."""
    store.save_file(issue([A("A-1"), A("A-2")]))
    assert store.withdraw(BASE + "A-1") == "withdrawn"
    other = open_store(tmp_path / "oai.sqlite3")
    real, calls = pipeline.prepare_stored, []

    def changed_meanwhile(identifier: str, article_json: str, config: t.Any) -> t.Any:
        calls.append(article_json)
        if len(calls) == 1:
            assert other.restore(identifier) == "restored"
            other.save_file(issue([A("A-1", title="Corrected"), A("A-2")]))
            assert other.withdraw(identifier) == "withdrawn"
        return real(identifier, article_json, config)

    monkeypatch.setattr(pipeline, "prepare_stored", changed_meanwhile)
    assert store.restore(BASE + "A-1") == "restored"
    # Ours (read before the change), the other's restore, ours again (read after the change).
    assert len(calls) == 3 and "Corrected" not in calls[0] and "Corrected" in calls[2]
    deleted, withdrawn, article = store.conn.execute(
        "SELECT deleted, withdrawn, article FROM records WHERE identifier = ?", (BASE + "A-1",)).fetchone()
    assert (deleted, withdrawn) == (0, 0) and "Corrected" in packing.unpack_article(BASE + "A-1", article)
    assert other.restore(BASE + "A-1") == "not withdrawn"
    assert_exact(store.conn)
