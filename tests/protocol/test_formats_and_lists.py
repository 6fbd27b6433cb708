"""Where the formats meet the list rules: one journal with an access right, one without.

oai_openaire is rendered only for a journal with an access right (OAI_JOURNALS), and only its
records are in the ``openaire`` set; a deleted record is listed, header only, in every format
(storage/list_sizes.py). Each full harvest, in every format, verb and selection, must list each
item once, with cursor and completeListSize exact on every page, no page of one item after the
first (decisions.md P10), and every response valid against its format's bundle (the ``oai``
fixture checks it).
"""
from __future__ import annotations

import pytest
from lxml import etree

from metadata_formats import FORMATS
from tests.helpers.issues import A, write_issue
from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, error_codes, harvest, list_items, token_of
from tests.helpers.protocol import withdraw

OPEN, CLOSED = "1234-5679", "0378-5955"
OPEN_LIVE = [f"oai:{REPOSITORY_IDENTIFIER}:{OPEN}/O-{i}" for i in (0, 1, 3, 4, 5, 6)]
CLOSED_LIVE = [f"oai:{REPOSITORY_IDENTIFIER}:{CLOSED}/C-{i}" for i in (0, 2, 3)]
OPEN_DELETED = f"oai:{REPOSITORY_IDENTIFIER}:{OPEN}/O-2"
CLOSED_DELETED = f"oai:{REPOSITORY_IDENTIFIER}:{CLOSED}/C-1"
VERBS = ["ListIdentifiers", "ListRecords"]


@pytest.fixture
def config(config):
    """Only the journal OPEN has an access right; pages of three records and three headers."""
    return {**config, "OAI_JOURNALS": {OPEN: {"access_right": "open"}},
            "OAI_PAGE_SIZE": 3, "OAI_IDENTIFIERS_PAGE_SIZE": 3}


@pytest.fixture
def two_journals(app, ingest, runner, tmp_path, clock):
    """Seven articles of OPEN and four of CLOSED, one of each withdrawn."""
    ingest(write_issue(tmp_path / "open.xml", [A(f"O-{i}") for i in range(7)], issn=OPEN))
    clock.advance(1)
    ingest(write_issue(tmp_path / "closed.xml", [A(f"C-{i}") for i in range(4)], issn=CLOSED,
                       host="closed.example.ac.ir"))
    clock.advance(1)
    withdraw(runner, OPEN_DELETED)
    withdraw(runner, CLOSED_DELETED)
    clock.advance(60)
    return app


def expected(prefix: str, set_spec: str | None) -> set[str]:
    """The items of a list: live records where rendered, deleted ones in every format."""
    open_items = {*OPEN_LIVE, OPEN_DELETED}
    closed_items = {*CLOSED_LIVE, CLOSED_DELETED} if prefix != "oai_openaire" else {CLOSED_DELETED}
    if set_spec == "openaire":
        return open_items
    if set_spec == f"journal:{CLOSED}":
        return closed_items
    return open_items | closed_items


def assert_exact(pages: list[etree._Element], ids: list[str]) -> None:
    """Each item once; cursor and completeListSize exact; a token on all pages but the last; P10."""
    assert len(ids) == len(set(ids))
    sizes = [len(list_items(p)) for p in pages]
    if len(pages) == 1:
        assert token_of(pages[0]) is None
        return
    assert all(n > 1 for n in sizes)
    for n, page in enumerate(pages):
        token = token_of(page)
        assert int(token.get("cursor")) == sum(sizes[:n])
        assert int(token.get("completeListSize")) == len(ids)
        assert bool(token.text) == (n < len(pages) - 1)


@pytest.mark.parametrize("set_spec", [None, "openaire", f"journal:{CLOSED}"])
@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("prefix", list(FORMATS))
def test_every_format_lists_what_it_disseminates(two_journals, oai, prefix, verb, set_spec):
    """§4.3 / §4.5 / §2.5.1: live items where rendered, deleted items (header only) in every format."""
    selection = {"set": set_spec} if set_spec else {}
    ids, pages = harvest(oai, verb, metadataPrefix=prefix, **selection)
    assert set(ids) == expected(prefix, set_spec)
    assert_exact(pages, ids)
    deleted = {h.findtext("o:identifier", namespaces=NS)
               for p in pages for h in p.iterfind(".//o:header[@status='deleted']", NS)}
    assert deleted == {OPEN_DELETED, CLOSED_DELETED} & set(ids)
    if verb == "ListRecords":
        for record in (r for p in pages for r in p.iterfind(".//o:record", NS)):
            is_deleted = record.find("o:header", NS).get("status") == "deleted"
            assert (record.find("o:metadata", NS) is None) == is_deleted


@pytest.mark.parametrize("prefix", list(FORMATS))
def test_byte_limited_pages_in_every_format(two_journals, app, oai, prefix):
    """decisions.md P10: pages ended by OAI_PAGE_MAX_BYTES hold two records at least, exactly counted."""
    app.config["OAI_PAGE_MAX_BYTES"] = 1
    ids, pages = harvest(oai, "ListRecords", metadataPrefix=prefix)
    assert set(ids) == expected(prefix, None)
    assert_exact(pages, ids)
    assert all(len(list_items(p)) in (2, 3) for p in pages)


def test_get_record_and_formats_of_a_journal_without_access_right(two_journals, oai):
    """§4.1 / §4.4: a live item of CLOSED is not in oai_openaire; its deleted neighbour is, header only."""
    item = CLOSED_LIVE[0]
    assert error_codes(oai(verb="GetRecord", identifier=item, metadataPrefix="oai_openaire")) == [
        "cannotDisseminateFormat"]
    listed = {p.text for p in oai(verb="ListMetadataFormats", identifier=item).iterfind(".//o:metadataPrefix", NS)}
    assert listed == set(FORMATS) - {"oai_openaire"}
    tree = oai(verb="GetRecord", identifier=CLOSED_DELETED, metadataPrefix="oai_openaire")
    assert tree.find(".//o:header", NS).get("status") == "deleted"
    assert tree.find(".//o:metadata", NS) is None


@pytest.mark.parametrize("journals", [
    {CLOSED: {"access_right": "open"}},
    {OPEN: {"access_right": "open"}, CLOSED: {"access_right": "open"}},
    {},
], ids=["swapped", "both-open", "none-open"])
@pytest.mark.parametrize("verb", VERBS)
def test_access_rights_changed_between_pages(two_journals, app, runner, clock, oai, verb, journals):
    """§3.5: OAI_JOURNALS changed and the records reindexed mid-harvest: the rest of the list is a
    valid continuation (records moved past the pinned until leave it) or noRecordsMatch, never an
    error page or an item twice; a new harvest is then exact again."""
    first = oai(verb=verb, metadataPrefix="oai_openaire")
    sent = [h.findtext("o:identifier", namespaces=NS) for h in first.iterfind(".//o:header", NS)]
    app.config["OAI_JOURNALS"] = journals
    clock.advance(5)
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    clock.advance(5)
    rest = harvest(oai, verb, resumptionToken=token_of(first).text)
    codes = [error_codes(p) for p in rest[1]]
    assert codes in ([[]] * len(codes), [["noRecordsMatch"]])
    assert len(sent + rest[0]) == len(set(sent + rest[0]))
    cursor = len(sent)
    for page in rest[1]:
        if not error_codes(page):
            assert int(token_of(page).get("cursor")) == cursor
            cursor += len(list_items(page))
    ids, pages = harvest(oai, verb, metadataPrefix="oai_openaire")
    if not error_codes(pages[0]):
        assert_exact(pages, ids)
