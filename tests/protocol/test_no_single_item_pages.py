"""No list page holds a single item unless the whole list does (decisions.md P10).

A last item that would stand alone joins the page before it: that page holds a page and one,
and the list ends there, with cursor and completeListSize exact.
"""
from __future__ import annotations

import pytest
from lxml import etree

from tests.helpers.issues import A, write_issue
from tests.helpers.oai import harvest, list_items, page_sizes, token_of

PAGE = 4
VERBS = ["ListRecords", "ListIdentifiers"]
ISSUE_SET = "journal:1234-5679:v{volume}n1"


@pytest.fixture
def config(config):
    """Pages of four records and of four headers."""
    return {**config, "OAI_PAGE_SIZE": PAGE, "OAI_IDENTIFIERS_PAGE_SIZE": PAGE}


def ingest_articles(ingest, tmp_path, count: int, volume: int = 1) -> None:
    """Ingest one issue of ``count`` generated articles."""
    articles = [A(f"V{volume}-{i:02}") for i in range(count)]
    ingest(write_issue(tmp_path / f"v{volume}.xml", articles, volume=str(volume)))


def assert_exact_list(pages: list[etree._Element], total: int) -> None:
    """Cursor = items before the page, completeListSize = total, a token on all but the last page."""
    sizes = [len(list_items(p)) for p in pages]
    if len(pages) == 1:
        assert token_of(pages[0]) is None  # a complete list in one response has no token
        return
    for n, page in enumerate(pages):
        token = token_of(page)
        assert int(token.get("cursor")) == sum(sizes[:n])
        assert int(token.get("completeListSize")) == total
        assert bool(token.text) == (n < len(pages) - 1)


@pytest.mark.parametrize("verb", VERBS)
def test_thirteen_items_make_pages_of_four_four_five(app, ingest, tmp_path, oai, verb):
    """13 items at a page size of 4: the 13th joins the third page, which ends the list."""
    ingest_articles(ingest, tmp_path, 13)
    ids, pages = harvest(oai, verb, metadataPrefix="oai_dc")
    assert len(ids) == len(set(ids)) == 13
    assert [len(list_items(p)) for p in pages] == [4, 4, 5]
    assert [int(token_of(p).get("cursor")) for p in pages] == [0, 4, 8]
    assert token_of(pages[2]).text is None and token_of(pages[2]).get("expirationDate") is None
    assert_exact_list(pages, 13)


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("total", [1, 2, 5, 8, 9, 10, 12, 17])
def test_page_sizes(app, ingest, tmp_path, oai, verb, total):
    """A page and one left (5, 9, 17) end on a page of five; one item alone is its own list."""
    ingest_articles(ingest, tmp_path, total)
    ids, pages = harvest(oai, verb, metadataPrefix="oai_dc")
    assert len(ids) == len(set(ids)) == total
    assert [len(list_items(p)) for p in pages] == page_sizes(total, PAGE)
    assert all(len(list_items(p)) > 1 for p in pages) or total == 1
    assert_exact_list(pages, total)


@pytest.fixture
def two_issues(app, ingest, tmp_path, clock) -> tuple[str, str]:
    """Volume 1 (9 articles) ingested 10 s before volume 2 (13 articles); their datestamps."""
    first = clock.advance(10)
    ingest_articles(ingest, tmp_path, 9, volume=1)
    second = clock.advance(10)
    ingest_articles(ingest, tmp_path, 13, volume=2)
    clock.advance(10)
    return first.strftime("%Y-%m-%dT%H:%M:%SZ"), second.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("verb", VERBS)
@pytest.mark.parametrize("selection, total", [
    ({}, 22),
    ({"until": "first"}, 9),
    ({"from_": "second"}, 13),
    ({"set": ISSUE_SET.format(volume=1)}, 9),
    ({"set": ISSUE_SET.format(volume=2)}, 13),
    ({"set": "journal:1234-5679", "from_": "second"}, 13),
    ({"set": ISSUE_SET.format(volume=1), "until": "first"}, 9),
])
def test_selective_lists(two_issues, oai, verb, selection, total):
    """from, until and set: the selection's own last item joins the page before; sizes exact."""
    stamps = {"first": two_issues[0], "second": two_issues[1]}
    params = {key: stamps.get(value, value) for key, value in selection.items()}
    ids, pages = harvest(oai, verb, metadataPrefix="oai_dc", **params)
    assert len(ids) == len(set(ids)) == total
    assert [len(list_items(p)) for p in pages] == page_sizes(total, PAGE)
    assert_exact_list(pages, total)

