"""Ingest under bad input, through the real CLI: every file goes in correctly or is refused with
one line naming it; never a traceback, never a partial write, never a file or network access
caused by the input.

The 100,000-article file takes minutes: it runs only with OAISERVER_SLOW_TESTS=1.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import pytest

from metadata_formats import FORMATS
from oaiserver.storage import packing
from tests.helpers.bad_inputs import ACCEPTED, REFUSED, FifoWatch, Listener, break_renderer, hostile_files
from tests.helpers.oai import BAD_SAMPLES, NS, REPO, REPOSITORY_IDENTIFIER, SAMPLES, error_codes
from tests.helpers.issues import A, issue, write_issue
from tests.helpers.servers import oaiserver_env
from tests.helpers.protocol import every_journal_open_config  # noqa: F401 (a fixture: every format expresses every record)

BASE = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/"
SLOW = pytest.mark.skipif(
    not os.environ.get("OAISERVER_SLOW_TESTS"), reason="minutes long: set OAISERVER_SLOW_TESTS=1"
)
SUBPROCESS_TIMEOUT = 300  # generous: a hang (or a quadratic blow-up) fails instead of blocking
#: Above the default OAI_MAX_FILE_BYTES: the tests of big files lift the limit, as an operator would.
BIG_FILES = 128 * 1024 * 1024


def db_digest(database: str | Path) -> str:
    """A digest of every table's rows, to prove that nothing was written."""
    conn = sqlite3.connect(database)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")]
        rows = [f"{table}:{row!r}" for table in tables for row in conn.execute(f'SELECT * FROM "{table}"')]
    finally:
        conn.close()
    return hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()


def record_count(database: str | Path, where: str = "1") -> int:
    """How many records match ``where``."""
    conn = sqlite3.connect(database)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM records WHERE {where}").fetchone()[0]
    finally:
        conn.close()


def write_bytes(path: Path, content: bytes) -> Path:
    """Write ``content`` to ``path`` and return the path."""
    path.write_bytes(content)
    return path


def assert_one_line_per_file(output: str, paths: t.Iterable[Path | str]) -> dict[str, str]:
    """Each path has exactly one line (its result or its error); no traceback. Return them."""
    assert "Traceback" not in output and 'File "' not in output, output[-3000:]
    lines = output.splitlines()
    found = {}
    for path in map(str, paths):
        mine = [line for line in lines if line.startswith(f"{path}: ")]
        assert len(mine) == 1, (path, mine)
        found[path] = mine[0]
    return found


def assert_refused(result, path: Path, pattern: str) -> None:
    """The CLI refused ``path`` with one line matching ``pattern``, and exited 1 cleanly."""
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    line = assert_one_line_per_file(result.output, [path])[str(path)]
    assert line.startswith(f"{path}: error: "), line
    assert re.search(pattern, line), line


@pytest.mark.parametrize("bad", BAD_SAMPLES, ids=lambda p: p.name)
def test_shared_bad_samples_are_refused(app, ingest, bad):
    """Every file in samples/bad is refused with one line; the database is unchanged."""
    ingest(SAMPLES / "multi-article.xml")
    before = db_digest(app.config["DATABASE"])
    assert_refused(ingest(bad, expect_ok=False), bad, r".")
    assert db_digest(app.config["DATABASE"]) == before


@pytest.mark.parametrize("name", REFUSED)
def test_bad_input_is_refused_whole(app, ingest, tmp_path, name):
    """Each class of bad input is refused with a one-line reason naming the file; nothing written."""
    ingest(SAMPLES / "multi-article.xml")
    before = db_digest(app.config["DATABASE"])
    content, pattern = REFUSED[name]
    path = tmp_path / f"{name}.xml"
    path.write_bytes(content)
    assert_refused(ingest(path, expect_ok=False), path, pattern)
    assert db_digest(app.config["DATABASE"]) == before


@pytest.mark.parametrize("name", ACCEPTED)
def test_odd_but_valid_input_is_ingested_correctly(app, ingest, oai, tmp_path, name):
    """Declared legacy encodings, UTF-16/32, legal control characters, deep but legal nesting."""
    content, title_fa = ACCEPTED[name]
    path = tmp_path / f"{name}.xml"
    path.write_bytes(content)
    line = assert_one_line_per_file(ingest(path).output, [path])[str(path)]
    assert line.endswith("added 1, updated 0, unchanged 0, deleted 0"), line
    for prefix in FORMATS:
        tree = oai(verb="GetRecord", identifier=BASE + "E-1", metadataPrefix=prefix)  # schema-valid
        if prefix not in ("oai_dc", "jats") and error_codes(tree) == ["cannotDisseminateFormat"]:
            # A format may decline an article that lacks what it requires (datacite: a creator).
            continue
        assert title_fa in "".join(tree.find(".//o:metadata", NS).itertext())


def test_characters_survive_into_the_served_record(ingest, oai, tmp_path):
    """C1 controls, DEL and astral characters come out as they went in (and schema-valid)."""
    content, _ = ACCEPTED["c1-controls-del-astral"]
    ingest(write_bytes(tmp_path / "c1.xml", content))
    tree = oai(verb="GetRecord", identifier=BASE + "E-1", metadataPrefix="oai_dc")
    # NEL (U+0085) is Unicode whitespace, so it collapses with the spaces around it.
    assert "C1 \u009f DEL \x7f astral \U0001f600 end" in tree.findtext(".//dc:title", namespaces=NS)


def test_special_files_are_refused(ingest, tmp_path):
    """A device, a FIFO and a directory given as a file are refused, never read forever."""
    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)
    result = ingest("/dev/zero", fifo, expect_ok=False)
    lines = assert_one_line_per_file(result.output, ["/dev/zero", fifo])
    assert all(line.endswith("error: not a regular file") for line in lines.values()), lines


def test_same_article_in_two_issues_is_one_record(app, ingest, tmp_path, clock):
    """An article listed in two issues is one record, live, last ingested issue wins; no delete."""
    first = write_issue(tmp_path / "n1.xml", [A("S-1"), A("S-2")], number="1")
    second = write_issue(tmp_path / "n2.xml", [A("S-2"), A("S-3")], number="2")
    result = ingest(first, second)
    assert_one_line_per_file(result.output, [first, second])
    database = app.config["DATABASE"]
    conn = sqlite3.connect(database)
    rows = conn.execute("SELECT identifier, deleted, article FROM records ORDER BY identifier").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(BASE + "S-1", 0), (BASE + "S-2", 0), (BASE + "S-3", 0)]
    assert json.loads(packing.unpack_article(rows[1][0], rows[1][2]))["issue"]["number"] == "2"
    clock.advance(5)
    ingest(first)  # the first issue again: S-2 is still there and live, exactly once
    assert record_count(database, "deleted = 0") == 3 and record_count(database) == 3


def test_an_internal_error_halfway_through_a_file_writes_nothing(app, ingest, tmp_path, monkeypatch):
    """A bug raised halfway through a file (here: a renderer) leaves the whole file out; the next file goes in."""
    break_renderer(monkeypatch, on_article=3)
    broken = write_issue(tmp_path / "broken.xml", [A(f"B-{i}") for i in range(5)], number="1")
    fine = write_issue(tmp_path / "fine.xml", [A("F-1")], number="2")
    result = ingest(broken, fine, expect_ok=False)
    lines = assert_one_line_per_file(result.output, [broken, fine])
    assert lines[broken] == f"{broken}: error: internal error (RuntimeError: renderer bug)"
    conn = sqlite3.connect(app.config["DATABASE"])
    assert [r[0] for r in conn.execute("SELECT identifier FROM records")] == [BASE + "F-1"]
    assert conn.execute("SELECT COUNT(*) FROM issues").fetchone()[0] == 1  # the broken issue's row too
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_pathological_whitespace_is_linear(tmp_path, config):
    """Runs of 300,000 spaces or ZWNJs in every text field ingest in a subprocess without hanging."""
    run = " \u200c" * 150_000
    spaces = " " * 300_000
    article = A("W-1", title=f"a{spaces}b{spaces}", title_fa=f"ب{run}پ{run}", subject=f"s{spaces}t",
                abstract=f"<p>x{spaces}y{run}z{run}</p>", keywords=f"k{spaces}, l{run}",
                authors=[(f"g{spaces}h", f"f{run}e")])
    path = write_bytes(tmp_path / "ws.xml", issue([article], title=f"J{spaces}K"))
    result = cli(config, tmp_path, "ingest", path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert_one_line_per_file(result.stdout, [path])
    assert record_count(config["DATABASE"]) == 1


def cli(config: dict, tmp_path: Path, *args: str | Path, timeout: float = SUBPROCESS_TIMEOUT):
    """Run ``python -m oaiserver.cli`` on the test's database; return the completed process."""
    env = oaiserver_env(config, tmp_path / "instance")
    return subprocess.run([sys.executable, "-m", "oaiserver.cli", *map(str, args)], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)


# ---------------------------------------------------------------------------- big files

def test_50mb_text_node_is_refused(app, ingest, tmp_path):
    """A 50 MB file that is one huge title is refused with one line (parser size limit)."""
    app.config["OAI_MAX_FILE_BYTES"] = BIG_FILES
    ingest(SAMPLES / "multi-article.xml")
    before = db_digest(app.config["DATABASE"])
    path = write_bytes(tmp_path / "huge-node.xml", issue([A("H-1", title="x" * 50_000_000)]))
    assert path.stat().st_size > 50_000_000
    assert_refused(ingest(path, expect_ok=False), path, r"Text node too long")
    assert db_digest(app.config["DATABASE"]) == before


def test_50mb_file_is_ingested(app, ingest, tmp_path):
    """A 50 MB issue of 2,000 articles, each carrying 25 KB of fields ingest does not read, goes in."""
    app.config["OAI_MAX_FILE_BYTES"] = BIG_FILES
    payload = "<references>" + "<ref>A cited work, 2020.</ref>" * 860 + "</references>"
    articles = [A(f"L-{i}") for i in range(2000)]
    data = issue(articles).replace(b"<author_list>", payload.encode() + b"<author_list>")
    path = write_bytes(tmp_path / "fifty.xml", data)
    assert path.stat().st_size > 50_000_000
    line = assert_one_line_per_file(ingest(path).output, [path])[str(path)]
    assert line.endswith("added 2000, updated 0, unchanged 0, deleted 0")
    assert record_count(app.config["DATABASE"], "deleted = 0") == 2000


def test_5000_articles_in_one_file(app, ingest, tmp_path):
    """Many articles in one file: all in, in one transaction (the 100,000 case is a slow test)."""
    path = write_bytes(tmp_path / "many.xml", issue([A(f"M-{i}") for i in range(5000)]))
    line = assert_one_line_per_file(ingest(path).output, [path])[str(path)]
    assert line.endswith("added 5000, updated 0, unchanged 0, deleted 0")
    assert record_count(app.config["DATABASE"], "deleted = 0") == 5000


@SLOW
def test_50mb_of_abstracts_is_ingested(app, ingest, tmp_path):
    """40 articles with 1.25 MB abstracts each (50 MB): every abstract is parsed and rendered."""
    app.config["OAI_MAX_FILE_BYTES"] = BIG_FILES
    paragraph = "<p>" + "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 20 + "</p>"
    abstract = paragraph * (1_250_000 // len(paragraph))
    path = write_bytes(tmp_path / "abstracts.xml", issue([A(f"Q-{i}", abstract=abstract) for i in range(40)]))
    assert path.stat().st_size > 50_000_000
    assert "added 40," in ingest(path).output


@SLOW
def test_100000_articles_in_one_file(tmp_path, config):
    """100,000 articles (64 MB) in one file: one subprocess ingest, every record in, then a dry run."""
    path = write_bytes(tmp_path / "100k.xml", issue([A(f"C-{i}") for i in range(100_000)]))
    started = time.monotonic()
    config = {**config, "OAI_MAX_FILE_BYTES": BIG_FILES}
    result = cli(config, tmp_path, "ingest", path, timeout=3600)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    assert record_count(config["DATABASE"], "deleted = 0") == 100_000
    print(f"100,000-article ingest: {elapsed:.0f} s, database {Path(config['DATABASE']).stat().st_size:,} bytes")


# ---------------------------------------------------------------------------- dry run

def test_dry_run_checks_every_file_without_writing(app, ingest, tmp_path):
    """--dry-run reports every bad and good file as ingest would, and writes nothing."""
    ingest(SAMPLES / "multi-article.xml")
    before = db_digest(app.config["DATABASE"])
    paths = [write_bytes(tmp_path / f"{name}.xml", content) for name, (content, _) in REFUSED.items()]
    paths += [write_bytes(tmp_path / f"ok-{name}.xml", content) for name, (content, _) in ACCEPTED.items()]
    result = ingest("--dry-run", *paths, expect_ok=False)
    lines = assert_one_line_per_file(result.output, paths)
    assert sum(": error: " in line for line in lines.values()) == len(REFUSED)
    assert sum(": would ingest: added 1," in line for line in lines.values()) == len(ACCEPTED)
    assert db_digest(app.config["DATABASE"]) == before


def test_dry_run_on_a_fresh_install_creates_no_database(tmp_path, config):
    """--dry-run on an install without a database leaves it without one."""
    config = {**config, "DATABASE": str(tmp_path / "none" / "oai.sqlite3")}
    result = cli(config, tmp_path, "ingest", "--dry-run", SAMPLES / "multi-article.xml")
    assert result.returncode == 0, result.stderr
    assert not Path(config["DATABASE"]).exists()


# ---------------------------------------------------------------------------- no file or network access

def test_input_never_causes_file_or_network_access(tmp_path, config):
    """Entities, DTDs, XInclude, schema locations, stylesheets and HTML links are never followed."""
    listener, fifo = Listener(), FifoWatch(tmp_path / "watched.fifo")
    marker = write_bytes(tmp_path / "marker.txt", b"SECRET-MARKER-TEXT")
    try:
        files = hostile_files(f"http://127.0.0.1:{listener.port}", fifo.path, marker)
        paths = [write_bytes(tmp_path / f"{name}.xml", content) for name, content in files.items()]
        result = cli(config, tmp_path, "ingest", *paths, timeout=120)
        time.sleep(0.2)  # let the watchers see a late attempt
    finally:
        listener.close()
        fifo.close()
    lines = assert_one_line_per_file(result.stdout + result.stderr, paths)
    assert listener.connections == 0 and fifo.opened == 0
    assert "MARKER" not in result.stdout + result.stderr
    conn = sqlite3.connect(config["DATABASE"])
    # Articles and most renditions are stored packed: searched once unpacked.
    assert not any("MARKER" in packing.unpack_article(i, article)
                   for i, article in conn.execute("SELECT identifier, article FROM records"))
    assert not any(b"MARKER" in packing.unpack("x", xml)
                   for (xml,) in conn.execute("SELECT CAST(xml AS BLOB) FROM renditions"))
    refused = {name for name, path in zip(files, paths) if ": error: " in lines[str(path)]}
    assert refused == {name for name in files if name not in ("xinclude", "schema-location", "stylesheet-pi",
                                                               "abstract-links")}, lines
