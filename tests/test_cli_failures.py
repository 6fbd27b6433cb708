"""Admin commands when the machine lets them down: a full disk, a file too large. One line with
the real cause and the next step, never a traceback; running the same command again completes."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from oaiserver.storage import db
from tests.helpers.issues import A, write_issue
from tests.helpers.oai import REPOSITORY_IDENTIFIER

BASE = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/"
FULL = "error: the disk is full (SQLite: database or disk is full)"


def issue_files(folder: Path, count: int) -> list[str]:
    """``count`` issue files of 30 articles each (several 64 KiB pages apiece)."""
    return [write_issue(folder / f"v{i:02d}.xml",
                        [A(f"F-{i}-{k}", abstract="<p>" + "words " * 300 + "</p>") for k in range(30)],
                        number=str(i))
            for i in range(count)]


@pytest.fixture
def small_disk(monkeypatch: pytest.MonkeyPatch):
    """Make the writer's database unable to grow past ``room`` more pages (SQLITE_FULL)."""
    real = db.connect_writer
    room: dict[str, int | None] = {"pages": None}

    def limited(path):
        writer = real(path)
        if room["pages"] is not None:
            pages = writer.conn.execute("PRAGMA page_count").fetchone()[0]
            writer.conn.execute(f"PRAGMA max_page_count = {pages + room['pages']}")
        return writer

    monkeypatch.setattr(db, "connect_writer", limited)
    return room


def test_a_full_disk_stops_ingest_with_the_cause_and_a_rerun_completes(runner, tmp_path, small_disk):
    """The first file that meets the full disk is reported with the cause; the files after it
    are not tried (they would fail alike); after room is made, the same command does the rest."""
    files = issue_files(tmp_path, 6)
    assert runner.invoke(args=["ingest", files[0]]).exit_code == 0
    small_disk["pages"] = 0
    result = runner.invoke(args=["ingest", *files])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{files[1]}: {FULL}"), result.stderr
    assert "run the same command again" in errors[0]
    assert "stopped: 4 file(s) not tried" in result.stderr
    assert result.stdout.splitlines()[-1] == (
        "total: 6 file(s), 1 failed, 4 not tried: added 0, updated 0, unchanged 30, deleted 0")

    small_disk["pages"] = None
    again = runner.invoke(args=["ingest", *files])
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1] == (
        "total: 6 file(s), 0 failed: added 150, updated 0, unchanged 30, deleted 0")


def test_a_full_disk_in_withdraw_is_one_line(runner, tmp_path, monkeypatch):
    """withdraw (like every admin command) reports a database failure in one line, exit 1."""
    from oaiserver.ingest import Ingester

    assert runner.invoke(args=["ingest", write_issue(tmp_path / "v.xml", [A("W-1")])]).exit_code == 0

    def full(self, identifier):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Ingester, "withdraw", full)
    result = runner.invoke(args=["withdraw", BASE + "W-1"])
    assert result.exit_code == 1
    assert result.stderr.startswith(FULL) and len(result.stderr.splitlines()) == 1, result.stderr


def test_a_file_over_the_size_limit_is_refused_by_name(app, runner, tmp_path):
    """OAI_MAX_FILE_BYTES refuses bigger files (and standard input) in one line naming them."""
    limit = app.config["OAI_MAX_FILE_BYTES"] = 4096
    small = write_issue(tmp_path / "small.xml", [A("S-1", abstract="")])
    big = write_issue(tmp_path / "big.xml", [A(f"B-{k}") for k in range(20)])
    assert Path(small).stat().st_size <= limit < Path(big).stat().st_size
    result = runner.invoke(args=["ingest", small, big])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{big}: error: {Path(big).stat().st_size:,} bytes, over the 4,096 bytes limit on issue files "
        "(OAI_MAX_FILE_BYTES; ingest needs 10 to 30 times a file's size in memory)\n")
    assert "small.xml: added 1" in result.stdout
    piped = runner.invoke(args=["ingest", "-"], input=Path(big).read_bytes())
    assert piped.exit_code == 1 and "-: error: over the 4,096 bytes limit on issue files" in piped.stderr


def test_the_size_limit_is_checked_at_start(tmp_path, monkeypatch):
    """A size limit that is not a whole number of at least 1 stops the app with the key named."""
    from oaiserver import ConfigError, create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="OAI_MAX_FILE_BYTES"):
        create_app({"SECRET_KEY": "k" * 20, "OAI_MAX_FILE_BYTES": 0})
    with pytest.raises(ConfigError, match="OAI_WRITER_WAIT"):
        create_app({"SECRET_KEY": "k" * 20, "OAI_WRITER_WAIT": -1})
