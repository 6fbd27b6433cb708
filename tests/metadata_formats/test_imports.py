"""metadata_formats depends on nothing of the server but the model and the two text toolkits."""
from __future__ import annotations

import ast
from pathlib import Path

import metadata_formats

ALLOWED = {"oaiserver.model", "oaiserver.xmltext", "oaiserver.identifiers"}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, ``from oaiserver import x`` counted as ``oaiserver.x``."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "oaiserver":
            found.update(f"oaiserver.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_metadata_formats_import_only_the_model_xmltext_and_identifiers() -> None:
    root = Path(metadata_formats.__file__).parent
    for path in sorted(root.rglob("*.py")):
        server = {m for m in imported_modules(path) if m == "oaiserver" or m.startswith("oaiserver.")}
        assert server <= ALLOWED, path
