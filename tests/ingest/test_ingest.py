"""Ingest through the real CLI: summaries, re-ingests, deletes, bad files, withdraw/restore."""
from __future__ import annotations

import hashlib
import sqlite3

import pytest

from tests.helpers.oai import BAD_SAMPLES, GOOD_SAMPLES, NS, REPOSITORY_IDENTIFIER, SAMPLES, harvest
from tests.helpers.issues import A, write_issue


def dump(app) -> str:
    """A digest of the whole database content, to prove that nothing was written."""
    conn = sqlite3.connect(app.config["DATABASE"])
    rows = []
    for table in ("issues", "records", "renditions", "sets", "record_sets"):
        rows += [repr(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def datestamps(app) -> dict[str, tuple[str, int]]:
    conn = sqlite3.connect(app.config["DATABASE"])
    return {r[0]: (r[1], r[2]) for r in conn.execute("SELECT identifier, datestamp, deleted FROM records")}


def test_ingest_summary_lines(ingest):
    """One line per file and a total, in the documented words."""
    result = ingest(*GOOD_SAMPLES)
    lines = result.output.strip().splitlines()
    assert lines[0].endswith("crlf-bom.xml: added 1, updated 0, unchanged 0, deleted 0")
    assert lines[2].endswith("multi-article.xml: added 3, updated 0, unchanged 0, deleted 0")
    assert lines[-1] == "total: 4 file(s), 0 failed: added 5, updated 0, unchanged 1, deleted 0"


def test_reingest_changes_nothing(app, ingest, clock):
    """Ingesting the same files again changes nothing and moves no datestamp."""
    ingest(*GOOD_SAMPLES)
    before, digest = datestamps(app), dump(app)
    clock.advance(3600)
    result = ingest(*GOOD_SAMPLES)
    assert "total: 4 file(s), 0 failed: added 0, updated 0, unchanged 6, deleted 0" in result.output
    assert datestamps(app) == before and dump(app) == digest


@pytest.mark.parametrize("bad", BAD_SAMPLES, ids=lambda p: p.name)
def test_bad_files_write_nothing(app, ingest, bad):
    """Each bad sample fails with one line naming the file; the database is unchanged."""
    ingest(SAMPLES / "multi-article.xml")
    digest = dump(app)
    result = ingest(bad, expect_ok=False)
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(str(bad))
    assert "Traceback" not in result.output
    assert dump(app) == digest


def test_good_files_go_in_beside_bad_ones(app, ingest):
    """A bad file does not stop the others; the exit status says something failed."""
    result = ingest(SAMPLES / "bad", SAMPLES / "nkums-v18n2.xml", expect_ok=False)
    assert result.exit_code == 1
    assert f"failed: added 1," in result.output
    assert len(datestamps(app)) == 1


def test_directories_and_globs(app, ingest, tmp_path):
    """Paths may be directories (recursively) and glob patterns."""
    (tmp_path / "d" / "sub").mkdir(parents=True)
    write_issue(tmp_path / "d" / "a.xml", [A("D-1")], number="1")
    write_issue(tmp_path / "d" / "sub" / "b.txt", [A("D-2")], number="2")
    assert "total: 2 file(s), 0 failed: added 2" in ingest(tmp_path / "d").output
    assert "total: 1 file(s), 0 failed: added 0, updated 0, unchanged 1" in ingest(str(tmp_path / "d" / "*.xml")).output
    missing = ingest(tmp_path / "nope.xml", expect_ok=False)
    assert "nope.xml: error: no such file" in missing.output


def test_reingest_with_change_removal_and_addition(app, ingest, clock, tmp_path, oai):
    """A new version of an issue: exactly the changed, removed and added records move."""
    first = [A(f"R-{i}") for i in range(5)]
    ingest(write_issue(tmp_path / "v1.xml", first))
    first_time = clock.current
    clock.advance(10)
    second = [A("R-0", title="A corrected title")] + first[1:3] + [A("R-4"), A("R-NEW")]
    result = ingest(write_issue(tmp_path / "v2.xml", second))
    assert "added 1, updated 1, unchanged 3, deleted 1" in result.output
    moved = {k for k, (d, _) in datestamps(app).items() if d != "2026-01-01T00:00:00Z"}
    base = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/"
    assert moved == {base + "R-0", base + "R-3", base + "R-NEW"}
    assert datestamps(app)[base + "R-3"][1] == 1
    since = (first_time.replace(second=first_time.second + 1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ids, pages = harvest(oai, metadataPrefix="oai_dc", from_=since)
    assert sorted(ids) == sorted(moved)
    deleted = [h.findtext("o:identifier", namespaces=NS) for p in pages
               for h in p.iterfind(".//o:header[@status='deleted']", NS)]
    assert deleted == [base + "R-3"]


def test_article_that_comes_back_is_live_again(app, ingest, clock, tmp_path):
    """A deleted article that reappears in its issue is live again, with a new datestamp."""
    ingest(write_issue(tmp_path / "v1.xml", [A("B-1"), A("B-2")]))
    clock.advance(5)
    ingest(write_issue(tmp_path / "v2.xml", [A("B-1")]))
    clock.advance(5)
    result = ingest(write_issue(tmp_path / "v3.xml", [A("B-1"), A("B-2")]))
    assert "added 0, updated 1, unchanged 1, deleted 0" in result.output
    stamp, deleted = datestamps(app)[f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/B-2"]
    assert (stamp, deleted) == ("2026-01-01T00:00:10Z", 0)


def test_article_moving_to_another_issue_is_not_deleted(app, ingest, clock, tmp_path):
    """An article that moves issue keeps its identifier; re-ingesting the old issue without it deletes it there only once."""
    ingest(write_issue(tmp_path / "i1.xml", [A("M-1"), A("M-2")], number="1"))
    clock.advance(5)
    ingest(write_issue(tmp_path / "i2.xml", [A("M-2")], number="2"))
    result = ingest(write_issue(tmp_path / "i1b.xml", [A("M-1")], number="1"))
    assert "deleted 0" in result.output
    assert datestamps(app)[f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/M-2"][1] == 0


def test_withdraw_and_restore(app, ingest, runner, clock, tmp_path):
    """withdraw deletes for good (a re-ingest keeps it deleted); restore brings it back."""
    path = write_issue(tmp_path / "w.xml", [A("W-1"), A("W-2")])
    ingest(path)
    identifier = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/W-1"
    clock.advance(5)
    assert runner.invoke(args=["withdraw", identifier]).exit_code == 0
    assert datestamps(app)[identifier] == ("2026-01-01T00:00:05Z", 1)
    clock.advance(5)
    assert "unchanged 2" in ingest(path).output
    assert datestamps(app)[identifier][1] == 1
    unknown = runner.invoke(args=["withdraw", "oai:nope:1"])
    assert unknown.exit_code == 1 and "unknown" in unknown.output
    assert "restored" in runner.invoke(args=["restore", identifier]).output
    assert datestamps(app)[identifier] == ("2026-01-01T00:00:10Z", 0)


def test_dry_run_writes_nothing(app, ingest, runner):
    """--dry-run checks files without writing."""
    runner.invoke(args=["init-db"])
    digest = dump(app)
    result = ingest("--dry-run", *GOOD_SAMPLES)
    assert "would ingest: added 3" in result.output
    assert dump(app) == digest


def test_json_output(ingest):
    """--json prints one object per file and a total."""
    import json

    lines = [json.loads(line) for line in ingest("--json", SAMPLES / "multi-article.xml").output.splitlines()]
    assert lines[0]["added"] == 3 and lines[-1]["total"] and lines[-1]["failed"] == 0


def test_init_db_and_show(app, runner, ingest):
    """init-db is idempotent; show prints one record as served."""
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0
    ingest(SAMPLES / "nkums-v18n2.xml")
    identifier = f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972"
    shown = runner.invoke(args=["show", identifier, "--format", "jats"])
    assert shown.exit_code == 0 and "<article" in shown.output and "A-10-25-972" in shown.output
    assert runner.invoke(args=["show", "oai:x:y"]).exit_code == 1


def test_reindex_moves_only_changed_records(app, ingest, runner, clock, monkeypatch):
    """reindex after a configuration change moves only datestamps whose output changed."""
    ingest(*GOOD_SAMPLES)
    before = datestamps(app)
    clock.advance(60)
    assert "updated 0" in runner.invoke(args=["reindex"]).output
    assert datestamps(app) == before
    app.config["OAI_PUBLISHER"] = "Test Publisher"
    assert "updated 5" in runner.invoke(args=["reindex"]).output
    assert all(d == "2026-01-01T00:01:00Z" for d, _ in datestamps(app).values())
