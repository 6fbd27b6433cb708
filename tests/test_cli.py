"""The admin commands: help texts, stats, progress bar, the console script."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from metadata_formats import FORMATS
from tests.helpers.oai import GOOD_SAMPLES, REPO, SAMPLES


def test_every_command_has_help(app, runner):
    """Each admin command documents itself in --help."""
    for name, command in app.cli.commands.items():
        assert command.help, name
        result = runner.invoke(args=[name, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, name


def test_stats(app, runner, ingest):
    """stats counts records per journal and issue, live and deleted, and formats."""
    ingest(*GOOD_SAMPLES)
    runner.invoke(args=["withdraw", "oai:journals.example.org:2008-8701/A-10-25-972"])
    text = runner.invoke(args=["stats"]).output
    assert "records: 5 (4 live, 1 deleted)" in text
    assert "journal 2008-8701: 1 records, 1 deleted" in text
    data = json.loads(runner.invoke(args=["stats", "--json"]).output)
    assert list(data["formats"]) == list(FORMATS)  # every registered format, even with none
    # No access right is configured, so no record is in oai_openaire; the others hold all four.
    assert {p: n for p, n in data["formats"].items() if p != "oai_openaire"} == dict.fromkeys(
        [p for p in FORMATS if p != "oai_openaire"], 4)
    assert data["formats"]["oai_openaire"] == 0
    assert data["earliest_datestamp"] and data["database_bytes"] > 0
    issues = {(i["volume"], i["number"]) for j in data["journals"] for i in j["issues"]}
    assert ("27", "4") in issues and ("18", "2") in issues


def test_progress_bar_replaces_file_lines(runner):
    """--progress shows a bar (on stderr) and only the total on stdout."""
    result = runner.invoke(args=["ingest", "--progress", *map(str, GOOD_SAMPLES)])
    assert result.exit_code == 0
    assert "ingesting" in result.stderr
    assert result.stdout.strip().splitlines() == [
        "total: 4 file(s), 0 failed: added 5, updated 0, unchanged 1, deleted 0"]


def test_quiet_prints_errors_and_total(runner):
    """--quiet keeps the errors and the total only."""
    result = runner.invoke(args=["ingest", "-q", str(SAMPLES / "nkums-v18n2.xml"), str(SAMPLES / "bad" / "empty.xml")])
    assert result.exit_code == 1
    assert result.stdout.strip().splitlines() == ["total: 2 file(s), 1 failed: added 1, updated 0, unchanged 0, deleted 0"]
    assert "empty.xml: error: empty file" in result.stderr


def test_ingest_from_stdin(runner):
    """'-' reads one issue from standard input."""
    result = runner.invoke(args=["ingest", "-"], input=(SAMPLES / "multi-article.xml").read_bytes())
    assert result.exit_code == 0 and "-: added 3" in result.output


def test_console_script_and_flask_app(tmp_path):
    """`oaiserver` and `flask --app oaiserver` run the same commands on the same config."""
    env = {**os.environ, "OAISERVER_INSTANCE_PATH": str(tmp_path / "inst")}
    first = subprocess.run([sys.executable, "-m", "oaiserver.cli", "ingest", str(SAMPLES / "nkums-v18n2.xml")],
                           env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert first.returncode == 0, first.stderr
    second = subprocess.run([sys.executable, "-m", "flask", "--app", "oaiserver", "ingest",
                             str(SAMPLES / "nkums-v18n2.xml")],
                            env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert second.returncode == 0, second.stderr
    assert "unchanged 1" in second.stdout
    assert (tmp_path / "inst" / "oai.sqlite3").exists() and (tmp_path / "inst" / "secret_key").exists()


def test_dev_secret_key_refused(tmp_path, monkeypatch):
    """The tutorial SECRET_KEY 'dev' is refused outside debug/testing."""
    from oaiserver import ConfigError, create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": "dev"})
    assert create_app({"SECRET_KEY": "dev", "TESTING": True}).config["SECRET_KEY"] == "dev"


@pytest.mark.parametrize("key,value,message", [
    ("OAI_REPOSITORY_IDENTIFIER", "not a domain", "OAI_REPOSITORY_IDENTIFIER"),
    ("OAI_PAGE_SIZE", "many", "OAI_PAGE_SIZE"),
    ("OAI_PAGE_SIZE", 0, "OAI_PAGE_SIZE"),
])
def test_bad_configuration_fails_fast(tmp_path, monkeypatch, key, value, message):
    """A configuration that cannot work is refused at start with the key named."""
    from oaiserver import ConfigError, create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, key: value})


def test_environment_overrides(tmp_path, monkeypatch):
    """OAISERVER_* variables override the defaults and the instance config file."""
    from oaiserver import create_app

    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config.py").write_text("OAI_PAGE_SIZE = 7\nOAI_REPOSITORY_NAME = 'From file'\n")
    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(inst))
    monkeypatch.setenv("OAISERVER_OAI_PAGE_SIZE", "50")
    monkeypatch.setenv("OAISERVER_OAI_ADMIN_EMAILS", "a@example.org, b@example.org")
    app = create_app({"TESTING": True})
    assert app.config["OAI_PAGE_SIZE"] == 50
    assert app.config["OAI_REPOSITORY_NAME"] == "From file"
    assert app.config["OAI_ADMIN_EMAILS"] == ["a@example.org", "b@example.org"]
    assert app.config["DATABASE"] == str(inst / "oai.sqlite3")
