"""The layers of docs/decisions.md P1 and the README's layout hold: who may import whom.

Each rule names a group of modules and the imports it may not make (module prefixes). The check
reads every import statement with `ast`, including those inside functions and under
TYPE_CHECKING, so a rule cannot be dodged by a late import.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers.oai import REPO

WEB_FRAMEWORKS = ("flask", "werkzeug")

#: Every module and package of oaiserver (the rules above name them).
OAISERVER_PARTS = sorted(p.stem if p.suffix == ".py" else p.name for p in (REPO / "oaiserver").iterdir()
                         if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").is_file())

# (modules the rule covers, what they may not import, why)
FORBIDDEN = [
    ("oaiserver/protocol", WEB_FRAMEWORKS + ("oaiserver.web", "oaiserver.ingest", "oaiserver.cli"),
     "the protocol core is plain functions, testable without an app"),
    ("oaiserver/storage", ("oaiserver.ingest", "oaiserver.protocol", "oaiserver.web", "oaiserver.cli")
     + WEB_FRAMEWORKS, "storage knows tables and queries, not who reads or writes them"),
    ("oaiserver/ingest", ("oaiserver.web", "oaiserver.protocol.verbs", "oaiserver.cli") + WEB_FRAMEWORKS,
     "ingest is the CLI's writer and never needs the HTTP edge"),
    ("oaiserver/replica", ("oaiserver.web", "oaiserver.protocol", "oaiserver.ingest", "oaiserver.cli")
     + WEB_FRAMEWORKS, "replication runs Litestream and the heartbeat over the file; the CLI drives it"),
    ("oaiserver/model.py", ("oaiserver.", "metadata_formats") + WEB_FRAMEWORKS,
     "the model is the shared vocabulary and depends on nothing"),
    ("oaiserver/xmltext.py", ("oaiserver.", "metadata_formats") + WEB_FRAMEWORKS, "a leaf toolkit"),
    # Identifiers clean their input with the text toolkit, and depend on nothing else.
    ("oaiserver/identifiers.py", tuple(f"oaiserver.{m}" for m in OAISERVER_PARTS if m != "xmltext")
     + ("metadata_formats",) + WEB_FRAMEWORKS, "a leaf toolkit (it uses only xmltext)"),
]
# metadata_formats may import from oaiserver only these modules.
FORMATS_MAY_IMPORT = ("oaiserver.model", "oaiserver.xmltext", "oaiserver.identifiers")
# Only these modules may import the web layer.
WEB_IMPORTERS = ("oaiserver/__init__.py", "oaiserver/cli.py")


def _modules(relative: str) -> list[Path]:
    path = REPO / relative
    return [path] if path.suffix == ".py" else sorted(path.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names; relative imports resolved)."""
    return _imported_by(path.read_text(), ".".join(path.relative_to(REPO).with_suffix("").parts[:-1]))


def _imported_by(source: str, package: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            # `from oaiserver import web` imports oaiserver.web
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _violations(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    own = ".".join(path.relative_to(REPO).with_suffix("").parts)
    return sorted(
        name for name in _imports(path)
        if any(name == f or name.startswith(f if f.endswith(".") else f + ".") for f in forbidden)
        and not name.startswith(own)
    )


@pytest.mark.parametrize("layer, forbidden, why", FORBIDDEN, ids=[rule[0] for rule in FORBIDDEN])
def test_layer_does_not_import_what_it_must_not(layer: str, forbidden: tuple[str, ...], why: str) -> None:
    bad = {str(p.relative_to(REPO)): v for p in _modules(layer) if (v := _violations(p, forbidden))}
    assert not bad, f"{layer}: {why}; found {bad}"


def test_metadata_formats_import_only_the_model_and_the_shared_helpers() -> None:
    bad = {}
    for path in _modules("metadata_formats"):
        names = [n for n in _imports(path) if n.startswith("oaiserver") and n != "oaiserver"]
        wrong = [n for n in names if not any(n == m or n.startswith(m + ".") for m in FORMATS_MAY_IMPORT)]
        if wrong or any(n.split(".")[0] in WEB_FRAMEWORKS for n in _imports(path)):
            bad[str(path.relative_to(REPO))] = wrong
    assert not bad, f"formats may import only {FORMATS_MAY_IMPORT}: {bad}"


def test_only_the_app_factory_and_the_cli_import_the_web_layer() -> None:
    importers = sorted(
        str(p.relative_to(REPO)) for p in _modules("oaiserver") + _modules("metadata_formats")
        if not str(p.relative_to(REPO)).startswith("oaiserver/web/")
        and _violations(p, ("oaiserver.web",))
    )
    assert set(importers) <= set(WEB_IMPORTERS), importers


def test_the_rules_see_late_and_relative_imports() -> None:
    # The checker itself: an import inside a function counts like a top-level one.
    late = _imported_by("def f():\n    from flask import request\n", "oaiserver.protocol")
    assert {"flask", "flask.request"} <= late
    relative = _imported_by("from ..web import views\n", "oaiserver.protocol")
    assert "oaiserver.web.views" in relative
