"""Shared fixtures: an app on a temporary instance, clients, and schema-validated OAI calls."""
from __future__ import annotations

import datetime as dt
import os
import typing as t
from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SCHEMAS = Path(os.environ.get("OAISERVER_SCHEMAS") or SHARED / "schemas")
SAMPLES = SHARED / "samples"
NS = {
    "o": "http://www.openarchives.org/OAI/2.0/",
    "oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "j": "https://jats.nlm.nih.gov/ns/publishing/1.3/",
    "id": "http://www.openarchives.org/OAI/2.0/oai-identifier",
}
BASE_URL = "http://oai.test/oai"
REPOSITORY_IDENTIFIER = "journals.example.org"
GOOD_SAMPLES = sorted(SAMPLES.glob("*.xml"))
BAD_SAMPLES = sorted((SAMPLES / "bad").glob("*"))


@pytest.fixture(scope="session")
def oai_schema() -> etree.XMLSchema:
    """The official OAI-PMH + oai_dc + oai-identifier + JATS schemas, loaded once."""
    # One cached load (~2 s) shared with the crosswalk tests' helper.
    from tests.crosswalk_helpers import oai_schema as cached_schema

    return cached_schema()


@pytest.fixture
def config(tmp_path: Path) -> dict[str, t.Any]:
    """The test configuration; tests may change it before asking for `app`."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE": str(tmp_path / "oai.sqlite3"),
        "OAI_BASE_URL": BASE_URL,
        "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_IDENTIFIER,
        "OAI_ADMIN_EMAILS": ["oai@journals.example.org"],
        "OAI_PAGE_SIZE": 2,
        "OAI_IDENTIFIERS_PAGE_SIZE": 3,
    }


@pytest.fixture
def app(config: dict[str, t.Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An app on a temporary instance folder and database."""
    from oaiserver import create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    return create_app(config)


@pytest.fixture
def client(app):
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner for the app's commands."""
    return app.test_cli_runner()


class Clock:
    """A settable UTC clock for ingest datestamps and responseDate."""

    def __init__(self, start: dt.datetime) -> None:
        self.current = start

    def __call__(self) -> dt.datetime:
        return self.current

    def advance(self, seconds: int) -> dt.datetime:
        """Move the clock forward and return the new time."""
        self.current += dt.timedelta(seconds=seconds)
        return self.current


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze oaiserver's clock at 2026-01-01T00:00:00Z; tests advance it."""
    fake = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    monkeypatch.setattr("oaiserver.datestamps.now", fake)
    return fake


@pytest.fixture
def ingest(runner):
    """Ingest files with the real CLI command; return the result."""

    def run(*paths: str | Path, expect_ok: bool = True):
        result = runner.invoke(args=["ingest", *map(str, paths)])
        if expect_ok:
            assert result.exit_code == 0, result.output
        return result

    return run


@pytest.fixture
def oai(client, oai_schema):
    """Call /oai (GET, or POST with method="POST"), check HTTP and schema; return the tree."""

    def call(method: str = "GET", **params: t.Any) -> etree._Element:
        params = {("from" if k == "from_" else k): v for k, v in params.items()}
        if method == "POST":
            response = client.post("/oai", data=params)
        else:
            response = client.get("/oai", query_string=params)
        return check_response(response, oai_schema)

    return call


def check_response(response, oai_schema: etree.XMLSchema) -> etree._Element:
    """Assert an OAI response is HTTP 200 text/xml and schema-valid; return its tree."""
    assert response.status_code == 200, response.data[:500]
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    tree = etree.fromstring(response.data)
    if not oai_schema.validate(tree):
        raise AssertionError(f"schema-invalid response: {oai_schema.error_log}\n{response.data[:400]!r}")
    return tree


def error_codes(tree: etree._Element) -> list[str]:
    """Return the codes of the <error> elements of a response."""
    return [e.get("code") for e in tree.findall("o:error", NS)]


def identifiers(tree: etree._Element) -> list[str]:
    """Return the identifiers of the headers in a response, in order."""
    return [e.text for e in tree.iterfind(".//o:header/o:identifier", NS)]


def token_of(tree: etree._Element) -> etree._Element | None:
    """Return the resumptionToken element of a list response, or None."""
    return tree.find(".//o:resumptionToken", NS)


def harvest(oai, verb: str = "ListRecords", method: str = "GET", **params: t.Any):
    """Follow resumption tokens to the end; return (identifiers, pages)."""
    pages = [oai(method, verb=verb, **params)]
    while (token := token_of(pages[-1])) is not None and token.text:
        pages.append(oai(method, verb=verb, resumptionToken=token.text))
    return [i for p in pages for i in identifiers(p)], pages
