"""Security: headers, generic error pages, a read-only web connection, the development key,
and XML parsers that never fetch anything."""
from __future__ import annotations

import ast
import logging
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.oai import REPO, SAMPLES

CSP_NEEDED = ("default-src 'none'", "style-src 'self' 'unsafe-inline'", "frame-ancestors 'none'")


@pytest.fixture
def secured(app):
    """The app with oaiserver.web.limits installed (create_app may already do it)."""
    from oaiserver.web import limits

    limits.init_app(app)
    return app


@pytest.fixture
def web(secured, ingest):
    """A test client of the secured app over the multi-article sample; exceptions are not propagated."""
    ingest(SAMPLES / "multi-article.xml")
    secured.config["PROPAGATE_EXCEPTIONS"] = False  # what production does: a 500 page, not a raise
    return secured.test_client()


def leaks(app, tmp_path: Path) -> list[bytes]:
    """Strings no response may contain: paths, configuration, exception text."""
    return [
        b"Traceback", b'File "', b"sqlite3", b"Error:", str(REPO).encode(), str(tmp_path).encode(),
        app.config["SECRET_KEY"].encode(), app.config["DATABASE"].encode(), app.instance_path.encode(),
    ]


def assert_secure(response) -> None:
    """The security headers are on the response."""
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert all(part in headers["Content-Security-Policy"] for part in CSP_NEEDED), headers


def test_headers_and_no_internals_on_every_kind_of_response(web, secured, tmp_path, monkeypatch):
    """200s, OAI errors, redirects, 404, 405, 413, HEAD, /healthz, /oai.xsl: headers on all, no leaks."""
    requests = [
        ("GET", "/oai?verb=Identify", 200), ("POST", "/oai?verb=ListRecords&metadataPrefix=oai_dc", 200),
        ("GET", "/oai?verb=GetRecord&identifier=oai:x:y&metadataPrefix=nope", 200),
        ("GET", "/oai?verb=ListRecords&resumptionToken=forged", 200), ("GET", "/oai?verb=Nope", 200),
        ("GET", "/", 302), ("GET", "/nope/../../etc/passwd", 404), ("GET", "/oai/", 404),
        ("DELETE", "/oai", 405), ("PUT", "/oai", 405), ("HEAD", "/oai?verb=Identify", 200),
        ("GET", "/healthz", 200),
    ]
    if "oai.stylesheet" in secured.view_functions:
        requests.append(("GET", "/oai.xsl", 200))
    for method, url, status in requests:
        response = web.open(url, method=method)
        assert response.status_code == status, (method, url, response.status_code)
        assert_secure(response)
        for leak in leaks(secured, tmp_path):
            assert leak not in response.data, (url, leak)
    big = web.post("/oai", data=b"verb=Identify&x=" + b"a" * 100_000,
                   content_type="application/x-www-form-urlencoded")
    assert big.status_code == 413 and big.data == b"413 Request Entity Too Large\n"
    assert_secure(big)


def test_error_pages_are_short_plain_text(web):
    """404 and 405 say their status and nothing else; 405 keeps the Allow header."""
    missing, wrong = web.get("/admin"), web.delete("/oai")
    assert (missing.status_code, missing.data, missing.mimetype) == (404, b"404 Not Found\n", "text/plain")
    assert (wrong.status_code, wrong.data) == (405, b"405 Method Not Allowed\n")
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_an_exception_in_a_view_is_a_generic_500(web, secured, tmp_path, monkeypatch, caplog):
    """A bug inside a request: a bare '500 Internal Server Error' page; the details go to the log."""
    from oaiserver.protocol import verbs

    def broken(params, context):
        raise RuntimeError(f"secret detail {secured.config['DATABASE']}")

    monkeypatch.setattr(verbs, "handle", broken)
    with caplog.at_level(logging.ERROR):
        response = web.get("/oai?verb=Identify")
    assert (response.status_code, response.data) == (500, b"500 Internal Server Error\n")
    assert response.mimetype == "text/plain"
    assert_secure(response)
    assert "secret detail" in caplog.text  # the operator still sees what happened


def test_a_broken_database_is_a_generic_503(secured, tmp_path):
    """A database file that is garbage: 503 (damaged) without SQLite's message; /healthz says 503."""
    Path(secured.config["DATABASE"]).write_bytes(b"this is not a database" * 100)
    secured.config["PROPAGATE_EXCEPTIONS"] = False
    client = secured.test_client()
    response = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc")
    assert (response.status_code, response.data) == (
        503, b"503 Service Unavailable: the repository's database is damaged; the administrator must restore it\n")
    health = client.get("/healthz")
    assert health.status_code == 503 and b"database" in health.data
    for body in (response.data, health.data):
        for leak in leaks(secured, tmp_path):
            assert leak not in body


def test_the_web_connection_cannot_write(web, secured, monkeypatch):
    """The connection a request gets refuses every kind of write, whatever SQL would run on it."""
    from oaiserver.protocol import verbs

    refused = []
    statements = [
        "INSERT INTO sets (spec, name) VALUES ('x', 'x')", "DELETE FROM records",
        "UPDATE records SET deleted = 1", "CREATE TABLE t (x)", "DROP TABLE renditions",
        "PRAGMA user_version = 7", "VACUUM",
    ]

    def writer(params, context):
        for sql in statements:
            try:
                context.conn.execute(sql)
            except sqlite3.OperationalError as error:
                refused.append(str(error))
        return b"<x/>"

    conn = sqlite3.connect(secured.config["DATABASE"])
    before = list(conn.iterdump())
    monkeypatch.setattr(verbs, "handle", writer)
    web.get("/oai?verb=Identify")
    assert len(refused) == len(statements), refused
    assert "readonly" in refused[0], refused  # VACUUM fails on the ATTACH limit instead
    assert list(conn.iterdump()) == before


def test_attach_cannot_create_files(secured, tmp_path):
    """Even ATTACH on the read-only connection cannot create a new database file."""
    from oaiserver.storage import db

    db.connect_writer(secured.config["DATABASE"]).close()
    conn = db.connect_reader(secured.config["DATABASE"])
    target = tmp_path / "attached.sqlite3"
    with pytest.raises(sqlite3.OperationalError):
        conn.execute(f"ATTACH DATABASE '{target}' AS other")
        conn.execute("CREATE TABLE other.t (x)")
    # Python 3.11+ refuses the ATTACH itself; 3.10 leaves at most an empty file.
    assert not target.exists() or (sys.version_info < (3, 11) and target.stat().st_size == 0)


# ---------------------------------------------------------------------------- secret key

def test_development_key_refused_outside_debug_and_testing(tmp_path, monkeypatch):
    """SECRET_KEY 'dev' stops the app unless debug or testing; from the environment as well."""
    from oaiserver import ConfigError, create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    base = {"DATABASE": str(tmp_path / "oai.sqlite3")}
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({**base, "SECRET_KEY": "dev"})
    assert create_app({**base, "SECRET_KEY": "dev", "TESTING": True})
    assert create_app({**base, "SECRET_KEY": "dev", "DEBUG": True})
    monkeypatch.setenv("OAISERVER_SECRET_KEY", "dev")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(base)


def test_wsgi_entry_point_refuses_the_development_key(tmp_path):
    """`gunicorn wsgi:app` with OAISERVER_SECRET_KEY=dev: the import fails with the reason."""
    env = {**os.environ, "OAISERVER_SECRET_KEY": "dev", "OAISERVER_INSTANCE_PATH": str(tmp_path / "i"),
           "OAISERVER_DATABASE": str(tmp_path / "oai.sqlite3")}
    env.pop("FLASK_DEBUG", None)
    result = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY is the development value" in result.stderr


def test_empty_key_is_generated_once_private_and_shared(tmp_path, monkeypatch):
    """No key configured: one random key in instance/secret_key (mode 600), used by every app."""
    from oaiserver import create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("OAISERVER_SECRET_KEY", raising=False)
    first = create_app({"DATABASE": str(tmp_path / "oai.sqlite3"), "SECRET_KEY": ""})
    second = create_app({"DATABASE": str(tmp_path / "oai.sqlite3"), "SECRET_KEY": ""})
    key_file = tmp_path / "instance" / "secret_key"
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 32 and first.config["SECRET_KEY"] != "dev"
    assert key_file.stat().st_mode & 0o077 == 0


# ---------------------------------------------------------------------------- XML parsers

PARSE_CALLS = {"fromstring", "XML", "parse", "iterparse", "fromstringlist", "XMLID"}
PARSER_CLASSES = {"XMLParser", "HTMLParser", "XMLPullParser", "HTMLPullParser"}


def _python_files() -> list[Path]:
    return sorted(p for package in ("oaiserver", "metadata_formats") for p in (REPO / package).rglob("*.py"))


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if isinstance(owner, ast.Name) and owner.id in ("etree", "lxml"):
                yield node.func.attr, node


def test_every_xml_parser_is_offline_and_every_parse_names_its_parser():
    """No lxml parse in the code runs with the default parser; every parser is built no_network."""
    problems = []
    for path in _python_files():
        for name, call in _calls(path):
            keywords = {k.arg: k.value for k in call.keywords}
            where = f"{path.relative_to(REPO)}:{call.lineno}"
            if name in PARSER_CLASSES:
                value = keywords.get("no_network")
                if not (isinstance(value, ast.Constant) and value.value is True):
                    problems.append(f"{where}: {name} without no_network=True")
            elif name in PARSE_CALLS and len(call.args) < 2 and "parser" not in keywords:
                problems.append(f"{where}: etree.{name} with the default parser")
    assert not problems, problems


def test_the_ingest_parser_resolves_nothing():
    """The issue-file parser expands no entity, loads no DTD and reads nothing from the network."""
    from lxml import etree

    from oaiserver.ingest import xmlfile

    # A DOCTYPE never gets this far (it is refused first); feed one straight to the parser.
    doc = b'<!DOCTYPE j [<!ENTITY x "expanded"><!ENTITY y SYSTEM "file:///etc/hostname">]><j>&x;&y;</j>'
    root = etree.fromstring(doc, xmlfile.hardened_parser())
    assert "expanded" not in etree.tostring(root, encoding="unicode")
    assert (root.text or "") == ""
