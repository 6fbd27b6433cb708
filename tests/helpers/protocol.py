"""Helpers of the protocol suite, and one fixture that modules import (the others are in conftest)."""
from __future__ import annotations

import typing as t

import pytest
from lxml import etree

from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, check_response

JOURNAL = "1234-5679"
#: A record of the shared samples: type review-article, issue set journal:2008-8701:v18n2.
REVIEW = f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972"
GENERATED = 7  # articles of the generated issue in the `loaded` fixture


def total_records(app) -> int:
    """Count the records of the database (deleted ones included)."""
    from oaiserver.storage.db import connect_reader

    conn = connect_reader(app.config["DATABASE"])
    try:
        return conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    finally:
        conn.close()


def request_attrs(tree: etree._Element) -> dict[str, str]:
    """The attributes of the <request> element of a response."""
    return dict(tree.find("o:request", NS).attrib)


def datestamps(pages: t.Iterable[etree._Element]) -> list[str]:
    """The header datestamps of some response pages, in order."""
    return [d.text for page in pages for d in page.iterfind(".//o:header/o:datestamp", NS)]


def other_app_client(config: dict[str, t.Any], **overrides: t.Any):
    """A test client of a second app on the same database and key (another worker or host)."""
    from oaiserver import create_app

    return create_app({**config, **overrides}).test_client()


def get(client, oai_schema: etree.XMLSchema, **params: str) -> etree._Element:
    """GET /oai on some client; checked tree."""
    params = {("from" if k == "from_" else k): v for k, v in params.items()}
    return check_response(client.get("/oai", query_string=params), oai_schema)


def headers(pages: t.Iterable[etree._Element]) -> dict[str, etree._Element]:
    """The <header> elements of some response pages by identifier."""
    return {h.findtext("o:identifier", namespaces=NS): h for p in pages for h in p.iterfind(".//o:header", NS)}


def set_specs(header: etree._Element) -> list[str]:
    """The setSpecs of a header, in order."""
    return [s.text for s in header.iterfind("o:setSpec", NS)]


def withdraw(runner, identifier: str) -> None:
    """Withdraw (delete) one record with the real CLI command."""
    result = runner.invoke(args=["withdraw", identifier])
    assert result.exit_code == 0 and "withdrawn" in result.output, result.output


#: OAI_JOURNALS with every sample journal open access: then every registered format expresses
#: every sample record (oai_openaire renders nothing for a journal without an access right).
EVERY_JOURNAL_OPEN = {"2008-8701": {"access_right": "open"}, "1234-5679": {"access_right": "open"}}


@pytest.fixture(name="config")
def every_journal_open_config(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The test configuration with every sample journal open access (every format, every record).

    A module imports this fixture to use it: it overrides ``config`` there.
    """
    return {**config, "OAI_JOURNALS": EVERY_JOURNAL_OPEN}
