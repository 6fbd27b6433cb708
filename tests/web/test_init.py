"""oaiserver.web's surface: one init_app, imported only by create_app and the CLI."""
from __future__ import annotations

import ast

from tests.helpers.oai import REPO


def test_init_app_installs_views_limits_and_fast_path(app):
    """create_app's web.init_app installs the view, the limits and the fast route in front."""
    import oaiserver.web
    from oaiserver.web.fastpath import OAIFastPath

    assert oaiserver.web.__all__ == ["init_app"]
    assert "oai.oai" in app.view_functions and "oaiserver.slots" in app.extensions
    assert isinstance(app.wsgi_app, OAIFastPath)


def imports(path) -> set[str]:
    """The modules a Python file imports (absolute names; `from a import b` gives a and a.b)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_only_create_app_and_the_cli_import_web():
    """Outside oaiserver/web/, only oaiserver/__init__.py and oaiserver/cli.py import it."""
    package = REPO / "oaiserver"
    allowed = {package / "__init__.py", package / "cli.py"}
    offenders = [
        str(path.relative_to(REPO)) for path in sorted(package.rglob("*.py"))
        if path not in allowed and package / "web" not in path.parents
        and any(name == "oaiserver.web" or name.startswith("oaiserver.web.") for name in imports(path))
    ]
    assert not offenders


def test_the_answer_is_flask_free():
    """web/answer.py, shared by the Flask view and the fast route, imports nothing of Flask."""
    names = imports(REPO / "oaiserver" / "web" / "answer.py")
    assert not [name for name in names if name == "flask" or name.startswith("flask.")]


def test_a_request_while_another_creates_the_database_waits_for_it(app, monkeypatch):
    """A fresh install: a request that cannot open the file another thread is creating gets its answer."""
    import sqlite3
    import threading
    from pathlib import Path

    from oaiserver.storage import db

    path = Path(app.config["DATABASE"])
    assert not path.exists()
    creating, created = threading.Event(), threading.Event()
    connect_writer, cached_reader = db.connect_writer, db.cached_reader

    def slow_writer(where):
        Path(where).touch()  # the file exists from here on, not yet a database SQLite can open
        creating.set()
        created.wait(10)
        return connect_writer(where)

    def reader(where, before_open=None):
        if creating.is_set() and not created.is_set():
            raise sqlite3.OperationalError("unable to open database file")  # SQLite, mid-creation
        return cached_reader(where, before_open)

    monkeypatch.setattr(db, "connect_writer", slow_writer)
    monkeypatch.setattr(db, "cached_reader", reader)
    statuses: list[int] = []

    def identify() -> None:
        statuses.append(app.test_client().get("/oai?verb=Identify").status_code)

    first = threading.Thread(target=identify)
    first.start()
    assert creating.wait(10)
    second = threading.Thread(target=identify)
    second.start()
    second.join(0.5)  # it tried to open the file meanwhile, and waits (or, before, failed)
    created.set()
    first.join(10)
    second.join(10)
    assert statuses == [200, 200]
