"""Shared fixtures: an app on a temporary instance, clients, and schema-validated OAI calls."""
from __future__ import annotations

import datetime as dt
import typing as t
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers.oai import BASE_URL, REPOSITORY_IDENTIFIER, Clock, check_response

if t.TYPE_CHECKING:
    from tests.helpers.crosswalk_helpers import ResponseSchema


@pytest.fixture(scope="session")
def oai_schema() -> ResponseSchema:
    """The official schemas of OAI-PMH and of every format served; the bundle is picked per response."""
    # Bundles are loaded once (a few seconds each) and shared with the crosswalk tests' helper.
    from tests.helpers.crosswalk_helpers import oai_schema as cached_schema

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
        # Changes shown the moment they are committed, so tests see what they ingested at once
        # (the delay itself is tested in tests/protocol/test_visibility_delay.py).
        "OAI_VISIBILITY_DELAY": 0,
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


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze oaiserver's clock at 2026-01-01T00:00:00Z; tests advance it."""
    fake = Clock(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    monkeypatch.setattr("oaiserver.protocol.datestamps.now", fake)
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
