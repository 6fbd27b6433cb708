"""The documentation keeps up with the code: the configuration tables match oaiserver.config.SETTINGS,
and every citation points at docs/decisions.md, not at documents outside the repository."""
from __future__ import annotations

import os
import re
import subprocess

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


# --- citations stay inside the repository ------------------------------------------------

#: Design documents that live outside the repository: nothing in it may point at them.
OUTSIDE_DOCUMENTS = re.compile(
    r"\b(?:design|crosswalks|input-format|formats|architecture|scale-out|style-models)\.md\b|shared/docs")
#: A decision cited by its title instead of its label: ``(docs/decisions.md: some title)``.
TITLE_CITATION = re.compile(r"\((?:docs/)?decisions\.md:")
#: A decision label, and a citation: ``decisions.md D4``, ``decisions.md D1-D4, D9, Q1-Q22``.
LABEL = r"[PDQ]\d+"
ITEM = rf"{LABEL}(?:-{LABEL})?"
CITATION = re.compile(rf"decisions\.md\s+({ITEM}(?:\s*,\s*{ITEM})*)\b")
#: A crosswalk or input label left bare (``(D4)``, ``Q12``) instead of cited as decisions.md's.
BARE_LABEL = re.compile(r"(?<![\w%&#/\\-])[DQ]\d{1,2}(?![\w-])")
#: A heading of docs/decisions.md: ``### P2. …`` or ``- **D4. …**``.
DECISION_HEADING = re.compile(rf"^(?:### |- \*\*)({LABEL})\.", re.MULTILINE)

#: Files exempt from the scan: harvester clients' own code, recorded responses, and this file,
#: whose examples are the very patterns (its scanners are tested on planted text below).
NOT_SCANNED = ("tests/harvesters/", "tests/protocol/golden_responses.json", "tests/test_docs.py")


def tracked_texts() -> dict[str, str]:
    """Path -> text of every tracked text file of the repository, but for NOT_SCANNED."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True)
        paths = [p for p in listed.stdout.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):  # an unpacked copy without git
        paths = [str(p.relative_to(REPO)) for p in REPO.rglob("*") if p.is_file()
                 and not {".git", "__pycache__", ".pytest_cache", "node_modules", ".venv"} & set(p.relative_to(REPO).parts)]
    texts = {}
    for path in paths:
        if path.startswith(NOT_SCANNED) or not (REPO / path).is_file():
            continue
        data = (REPO / path).read_bytes()
        if b"\0" in data:
            continue
        try:
            texts[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return texts


def outside_references(text: str) -> list[str]:
    """The lines of ``text`` that point at a document outside the repository or cite by title."""
    return [line.strip() for line in text.splitlines()
            if OUTSIDE_DOCUMENTS.search(line) or TITLE_CITATION.search(line)]


def cited_labels(text: str) -> set[str]:
    """Every decision label ``text`` cites as ``decisions.md <label>``, ranges expanded."""
    labels = set()
    for match in CITATION.finditer(text):
        for item in re.split(r"\s*,\s*", match.group(1)):
            first, _, last = item.partition("-")
            if not last:
                labels.add(first)
            elif first[0] != last[0]:
                labels.update({first, last + "?"})  # D1-Q3 is no range: let it fail
            else:
                labels.update(f"{first[0]}{n}" for n in range(int(first[1:]), int(last[1:]) + 1))
    return labels


def bare_labels(text: str) -> list[str]:
    """The lines of ``text`` naming a D or Q label outside a ``decisions.md`` citation."""
    return [line.strip() for line in text.splitlines() if BARE_LABEL.search(CITATION.sub("", line))]


def decision_labels() -> set[str]:
    """The labels docs/decisions.md defines."""
    return set(DECISION_HEADING.findall((REPO / "docs" / "decisions.md").read_text(encoding="utf-8")))


def test_the_scanners_find_what_they_look_for():
    """Each scanner catches a planted citation and passes a correct one."""
    outside = "# see design.md §5"
    assert outside_references(outside) == [outside]
    assert outside_references("schema in ../shared/docs/x") != []
    assert outside_references("(docs/decisions.md: never guess an access right)") != []
    assert outside_references("samples in ../shared/samples; (decisions.md P5); metadata_formats.py") == []
    assert cited_labels("(decisions.md D1-D4, D9, Q12) and docs/decisions.md P2") == {
        "D1", "D2", "D3", "D4", "D9", "Q12", "P2"}
    assert bare_labels("x = 1  # (D4)\n# (decisions.md D4, Q1-Q3)\nid=%D9%85 0xD9 \\u06D9") == ["x = 1  # (D4)"]


def test_nothing_points_outside_the_repository():
    """No tracked text cites design documents outside the repository, or a decision by its title."""
    found = {path: lines for path, text in tracked_texts().items() if (lines := outside_references(text))}
    assert not found, f"cite docs/decisions.md labels instead (decisions.md P2): {found}"


def test_every_cited_decision_exists():
    """Every ``decisions.md <label>`` cited anywhere in the tree is a heading of docs/decisions.md."""
    defined = decision_labels()
    assert {"P1", "D1", "Q1"} <= defined
    missing = {path: sorted(labels - defined) for path, text in tracked_texts().items()
               if (labels := cited_labels(text)) - defined}
    assert not missing, f"labels cited but not in docs/decisions.md: {missing}"


def test_no_decision_label_is_left_bare():
    """A crosswalk or input label (D4, Q12) outside docs/decisions.md is cited as ``decisions.md D4``."""
    found = {path: lines for path, text in tracked_texts().items()
             if path != "docs/decisions.md" and (lines := bare_labels(text))}
    assert not found, f"write (decisions.md D4), not a bare label: {found}"
