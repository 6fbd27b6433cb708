"""ListRecords pages are held to OAI_PAGE_MAX_BYTES as well as OAI_PAGE_SIZE."""
from __future__ import annotations

import tracemalloc

import pytest
from lxml import etree

from tests.helpers.issues import A, write_issue
from tests.helpers.oai import NS, harvest, token_of

# Sizes of the generated records' abstracts: small ones and a few far over the byte limit.
SMALL, LARGE = 100, 60_000
ABSTRACTS = [SMALL, SMALL, LARGE, SMALL, LARGE, LARGE, SMALL, SMALL, SMALL, SMALL, LARGE, SMALL]
LIMIT = 50_000


@pytest.fixture
def config(config):
    config.update(OAI_PAGE_SIZE=5, OAI_PAGE_MAX_BYTES=LIMIT)
    return config


@pytest.fixture
def mixed(app, ingest, tmp_path):
    """One issue whose records are small or large, in datestamp order as listed in ABSTRACTS."""
    articles = [A(f"S-{i:02}", abstract=f"<p>{'x' * size}</p>") for i, size in enumerate(ABSTRACTS)]
    ingest(write_issue(tmp_path / "mixed.xml", articles))
    return app


def record_bytes(page: etree._Element) -> list[int]:
    """The serialised size of each record of a page."""
    return [len(etree.tostring(r)) for r in page.iterfind(".//o:record", NS)]


@pytest.mark.parametrize("prefix", ["oai_dc", "jats"])
def test_large_records_make_shorter_pages(mixed, oai, prefix):
    """A page ends after the record that reaches the byte limit, at its second record at the
    earliest, and takes a last record that would stand alone (decisions.md P10); tokens, cursor
    and size stay exact."""
    ids, pages = harvest(oai, metadataPrefix=prefix)
    assert len(ids) == len(set(ids)) == len(ABSTRACTS)
    cursor = 0
    for n, page in enumerate(pages):
        sizes = record_bytes(page)
        assert 2 <= len(sizes) <= 5 + 1
        # Here at most one record past the one that reaches the limit (the rule allows two: a
        # record alone over the limit takes a second, and a last one left alone joins too).
        assert sum(sizes[:-2]) < LIMIT
        token = token_of(page)
        assert (int(token.get("cursor")), int(token.get("completeListSize"))) == (cursor, len(ABSTRACTS))
        assert bool(token.text) == (n < len(pages) - 1)
        cursor += len(sizes)
    # S S L | S L | L S (a large record alone is no page) | S S S L + the last S (no page of one)
    assert [len(record_bytes(p)) for p in pages] == [3, 2, 2, 5]


def test_records_larger_than_the_limit_go_two_to_a_page(app, ingest, tmp_path, oai):
    """Two records per page however large, three on the last rather than one alone; exact tokens."""
    app.config["OAI_PAGE_MAX_BYTES"] = 1
    big = A("BIG-0", abstract="<p>" + "y" * 5000 + "</p>")
    ingest(write_issue(tmp_path / "five.xml", [big] + [A(f"BIG-{i}") for i in range(1, 5)]))
    ids, pages = harvest(oai, metadataPrefix="oai_dc")
    assert len(ids) == len(set(ids)) == 5
    assert [len(record_bytes(p)) for p in pages] == [2, 3]
    assert [(token_of(p).get("cursor"), token_of(p).get("completeListSize")) for p in pages] == [("0", "5"), ("2", "5")]
    assert token_of(pages[0]).text and token_of(pages[1]).text is None


def test_a_list_of_one_large_record_is_one_page(app, ingest, tmp_path, oai):
    """A one-record list is a page of one record (it cannot be helped), and carries no token."""
    app.config["OAI_PAGE_MAX_BYTES"] = 1
    ingest(write_issue(tmp_path / "one.xml", [A("BIG-1", abstract="<p>" + "y" * 5000 + "</p>")]))
    ids, pages = harvest(oai, metadataPrefix="oai_dc")
    assert len(pages) == len(ids) == 1 and token_of(pages[0]) is None


def test_identifier_pages_are_not_held_to_the_byte_limit(mixed, oai):
    """Headers are small: ListIdentifiers pages stay OAI_IDENTIFIERS_PAGE_SIZE long."""
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert [len(p.findall(".//o:header", NS)) for p in pages] == [3, 3, 3, 3]


def test_no_row_past_the_page_is_read(app, ingest, tmp_path):
    """Rows are read one by one: a page of two large records never holds the next ones in memory too."""
    from oaiserver.storage import queries as store
    from oaiserver.storage.db import connect_reader

    big = 3_000_000
    ingest(write_issue(tmp_path / "big.xml", [A(f"HUGE-{i}", abstract=f"<p>{'z' * big}</p>") for i in range(4)]))
    conn = connect_reader(app.config["DATABASE"])
    try:
        selection = store.ListFilter("oai_dc", None, "", "9999-12-31T23:59:59Z")
        tracemalloc.start()
        try:
            items, more = store.page(conn, selection, None, 100, True, max_bytes=1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    finally:
        conn.close()
    assert len(items) == 2 and more
    assert 2 * big < peak < 3 * big  # two records (reading all four would need four times as much)

