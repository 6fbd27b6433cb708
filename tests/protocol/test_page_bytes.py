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
    """A page ends after the record that reaches the byte limit; tokens, cursor and size stay exact."""
    ids, pages = harvest(oai, metadataPrefix=prefix)
    assert len(ids) == len(set(ids)) == len(ABSTRACTS)
    cursor = 0
    for n, page in enumerate(pages):
        sizes = record_bytes(page)
        assert 1 <= len(sizes) <= 5
        assert sum(sizes[:-1]) < LIMIT  # only the last record may cross the limit
        token = token_of(page)
        assert (int(token.get("cursor")), int(token.get("completeListSize"))) == (cursor, len(ABSTRACTS))
        assert bool(token.text) == (n < len(pages) - 1)
        cursor += len(sizes)
    assert [len(record_bytes(p)) for p in pages] == [3, 2, 1, 5, 1]


def test_a_record_larger_than_the_limit_is_a_page_of_its_own(app, ingest, tmp_path, oai):
    """At least one record per page, however large; the last one ends the list without a token."""
    app.config["OAI_PAGE_MAX_BYTES"] = 1
    ingest(write_issue(tmp_path / "two.xml", [A("BIG-1", abstract="<p>" + "y" * 5000 + "</p>"), A("BIG-2")]))
    ids, pages = harvest(oai, metadataPrefix="oai_dc")
    assert len(pages) == 2 and len(set(ids)) == 2
    assert token_of(pages[1]).text is None and token_of(pages[1]).get("cursor") == "1"


def test_identifier_pages_are_not_held_to_the_byte_limit(mixed, oai):
    """Headers are small: ListIdentifiers pages stay OAI_IDENTIFIERS_PAGE_SIZE long."""
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert [len(p.findall(".//o:header", NS)) for p in pages] == [3, 3, 3, 3]


def test_no_row_past_the_page_is_read(app, ingest, tmp_path):
    """Rows are read one by one: a page of one large record never holds the next one in memory too."""
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
    assert len(items) == 1 and more
    assert big < peak < 2 * big  # one record (reading all four would need four times as much)

