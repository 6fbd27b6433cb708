"""The documentation keeps up with the code: the configuration tables match oaiserver.config.SETTINGS."""
from __future__ import annotations

import os
import re

import pytest

from tests.helpers.oai import REPO

# A table row whose first cell is a configuration key: | `KEY` | default | meaning |
ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]*)` \| (.*?) \| (.*) \|$", re.MULTILINE)


def section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n")
    ends = [m.start() for m in re.finditer(r"\n#{1,%d} " % len(level), text) if m.start() > start]
    return text[start:ends[0] if ends else len(text)]


def documented(doc: str, heading: str) -> dict[str, str]:
    """Key → default cell of the configuration table under ``heading`` in ``doc``."""
    text = section((REPO / doc).read_text(encoding="utf-8"), heading)
    return {key: default for key, default, _meaning in ROW.findall(text)}


def settings() -> dict:
    from oaiserver.config import SETTINGS

    return {setting.key: setting for setting in SETTINGS}


def shows_default(cell: str, value: str) -> bool:
    """A default cell names ``value`` first, optionally followed by ": note" or " (note)"."""
    return cell == value or cell.startswith((f"{value}:", f"{value} "))


DOCS = [("README.md", "## Configuration"), ("docs/admin.md", "### Every key")]


@pytest.mark.parametrize("doc, heading", DOCS)
def test_every_declared_key_is_documented(doc, heading):
    """Each key of SETTINGS appears in the README's and the admin guide's configuration tables."""
    missing = [key for key in settings() if key not in documented(doc, heading)]
    assert not missing, f"{doc} does not document {missing}"


@pytest.mark.parametrize("doc, heading", DOCS)
def test_every_documented_key_is_declared(doc, heading):
    """No table documents a key that oaiserver.config.SETTINGS does not declare."""
    unknown = [key for key in documented(doc, heading) if key not in settings()]
    assert not unknown, f"{doc} documents {unknown}, which oaiserver/config.py does not declare"


@pytest.mark.parametrize("doc, heading", DOCS)
def test_documented_defaults_are_the_declared_ones(doc, heading):
    """Each table's default cell names the declared default ("empty" for an empty string)."""
    declared = settings()
    wrong = {key: (cell, declared[key].documented_value())
             for key, cell in documented(doc, heading).items()
             if key in declared and not shows_default(cell, declared[key].documented_value())}
    assert not wrong, f"{doc}: documented vs declared defaults: {wrong}"


def test_readme_table_is_generated_from_settings():
    """The README's table is exactly oaiserver.config.markdown_table(): same order, defaults, help."""
    from oaiserver.config import markdown_table

    expected = markdown_table()
    readme = section((REPO / "README.md").read_text(encoding="utf-8"), "## Configuration")
    assert expected in readme, "README.md's Configuration table should be:\n" + expected


def test_instance_config_example_names_only_declared_keys():
    """instance/config.py.example sets (or shows commented out) only keys that SETTINGS declares."""
    text = (REPO / "instance" / "config.py.example").read_text(encoding="utf-8")
    keys = re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)\s*=", text, re.MULTILINE)
    assert keys and not [key for key in keys if key not in settings()]


def test_instance_config_example_passes_the_checks(tmp_path, monkeypatch):
    """The example, used as it is, starts an app (outside testing) with its values."""
    from oaiserver import create_app

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        (REPO / "instance" / "config.py.example").read_text(encoding="utf-8"), encoding="utf-8")
    for name in [name for name in os.environ if name.startswith("OAISERVER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(instance))
    app = create_app()
    assert app.config["OAI_REPOSITORY_IDENTIFIER"] == "journal.example.org"
    assert app.config["DATABASE"] == str(instance / "oai.sqlite3")


def test_readme_opens_with_the_two_commands():
    """The README's first two commands are the ones CI and a new user run."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:3]]
    assert blocks[0] == "pip install -e . && oaiserver serve"
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci


def test_every_metadata_format_is_documented():
    """Each registered format has its row (prefix, schema, namespace) in the harvesting guide."""
    from metadata_formats import FORMATS

    text = (REPO / "docs" / "harvesting.md").read_text(encoding="utf-8")
    missing = [prefix for prefix, fmt in FORMATS.items()
               if f"| `{prefix}` | `{fmt.schema}` | `{fmt.namespace}` |" not in text]
    assert not missing, f"docs/harvesting.md has no row for {missing}"
