"""What many tests share: paths, namespaces, the test repository's names, and OAI response checks."""
from __future__ import annotations

import datetime as dt
import os
import typing as t
from pathlib import Path

from lxml import etree

REPO = Path(__file__).resolve().parents[2]
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


def check_response(response, oai_schema: t.Any) -> etree._Element:
    """Assert an OAI response is HTTP 200 text/xml and schema-valid; return its tree.

    ``oai_schema`` is the ``oai_schema`` fixture (which picks the bundle for the response's
    format) or one ``etree.XMLSchema``.
    """
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


def page_sizes(total: int, size: int) -> list[int]:
    """The item counts of the pages of a ``total``-item list, ``size`` a page.

    A last item that would stand alone on a page joins the page before (decisions.md P10).
    """
    sizes = [size] * (total // size) + ([total % size] if total % size else [])
    if len(sizes) > 1 and sizes[-1] == 1:
        sizes[-2:] = [size + 1]
    return sizes


def list_items(page: etree._Element) -> list[etree._Element]:
    """The items of a list page: its records, headers or sets."""
    items = page.findall(".//o:record", NS) or page.findall(".//o:header", NS)
    return items or page.findall(".//o:set", NS)
