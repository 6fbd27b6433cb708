"""OAI-PMH §4.6 ListSets and the set hierarchy (§2.6, §2.7.2)."""
from __future__ import annotations

import pytest

from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, error_codes, harvest, list_items, page_sizes, token_of
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import GENERATED, JOURNAL, REVIEW, get, headers, other_app_client, request_attrs, \
    set_specs, total_records, withdraw


def all_specs(oai) -> list[str]:
    """Every setSpec of a complete ListSets harvest, in order."""
    _, pages = harvest(oai, "ListSets")
    return [s.text for p in pages for s in p.iterfind(".//o:set/o:setSpec", NS)]


def test_every_listed_set_is_harvestable(loaded, oai):
    """§4.6 / §2.6: ListSets with tokens; each set's parent is listed and its members carry it."""
    specs = all_specs(oai)
    assert len(specs) == len(set(specs)) > 10 and specs == sorted(specs)
    assert {"journal", "type", "subject"} <= set(specs)
    for spec in specs:
        if spec.count(":") == 0:
            continue
        assert spec.rsplit(":", 1)[0] in specs, f"{spec} has no parent set"
        _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=spec)
        assert all(spec in set_specs(h) for h in headers(pages).values()), spec


def test_sets_are_hierarchical(loaded, oai):
    """§2.6 / §2.7.2: a journal's set holds its issues' records; roots hold everything."""
    journal, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}")
    issue_a, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}:v9n3")
    issue_b, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}:v27n4")
    assert len(issue_a) == GENERATED and len(issue_b) == 3
    assert set(issue_a) | set(issue_b) <= set(journal)
    for root in ("journal", "type", "subject"):
        everything, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=root)
        assert len(everything) == total_records(loaded), root
    reviews, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="type:review-article")
    assert reviews == [REVIEW]


def test_set_names_and_descriptions(loaded, oai):
    """§4.6: every set has a name; descriptions, where given, are oai_dc (schema-checked)."""
    _, pages = harvest(oai, "ListSets")
    sets = [s for p in pages for s in p.iterfind(".//o:set", NS)]
    assert all(s.findtext("o:setName", namespaces=NS).strip() for s in sets)
    for description in (s.find("o:setDescription", NS) for s in sets):
        if description is not None:
            assert description[0].tag == f"{{{NS['oai_dc']}}}dc"


def test_paging_and_cursor(loaded, oai):
    """§4.6 / §3.5: ListSets pages of 3 with cursor, completeListSize and a final empty token."""
    specs, pages = all_specs(oai), harvest(oai, "ListSets")[1]
    assert [len(list_items(p)) for p in pages] == page_sizes(len(specs), 3)
    for n, page in enumerate(pages):
        token = token_of(page)
        assert (token.get("cursor"), token.get("completeListSize")) == (str(3 * n), str(len(specs)))
    assert token_of(pages[-1]).text is None and token_of(pages[0]).text


def test_exact_multiple_of_page_size(loaded, oai, config, oai_schema):
    """§3.5: when the number of sets is a multiple of the page size the last page is full."""
    count = len(all_specs(oai))
    size = next(n for n in range(count // 2, 1, -1) if count % n == 0)
    other = other_app_client(config, OAI_IDENTIFIERS_PAGE_SIZE=size)
    pages = [get(other, oai_schema, verb="ListSets")]
    while token_of(pages[-1]).text:
        pages.append(get(other, oai_schema, verb="ListSets", resumptionToken=token_of(pages[-1]).text))
    assert [len(p.findall(".//o:set", NS)) for p in pages] == [size] * (count // size)


def test_a_last_set_alone_joins_the_page_before(loaded, ingest, tmp_path, oai, config, oai_schema):
    """decisions.md P10: no page holds a single set; cursor and completeListSize stay exact."""
    # One more set (a new subject in the generated issue) makes an odd count: pages of two.
    ingest(write_issue(tmp_path / "extra.xml", [A("X-1", subject="Folded Topic")], volume="9", number="3"))
    count = len(all_specs(oai))
    assert count % 2 == 1
    size = 2
    other = other_app_client(config, OAI_IDENTIFIERS_PAGE_SIZE=size)
    pages = [get(other, oai_schema, verb="ListSets")]
    while token_of(pages[-1]).text:
        pages.append(get(other, oai_schema, verb="ListSets", resumptionToken=token_of(pages[-1]).text))
    assert [len(list_items(p)) for p in pages] == [size] * (count // size - 1) + [size + 1]
    assert [token_of(p).get("cursor") for p in pages] == [str(size * n) for n in range(len(pages))]
    assert {token_of(p).get("completeListSize") for p in pages} == {str(count)}
    assert len({s.text for p in pages for s in p.iterfind(".//o:setSpec", NS)}) == count


def test_token_used_again(loaded, oai):
    """§3.5.1: the same ListSets token gives the same page again."""
    token = token_of(oai(verb="ListSets")).text
    first, again = oai(verb="ListSets", resumptionToken=token), oai(verb="ListSets", resumptionToken=token)
    specs = [[s.text for s in t.iterfind(".//o:setSpec", NS)] for t in (first, again)]
    assert specs[0] == specs[1] and specs[0]
    assert request_attrs(again) == {"verb": "ListSets", "resumptionToken": token}


def test_set_whose_last_record_moved_elsewhere(app, ingest, tmp_path, oai, clock):
    """§4.6 / §2.5.1: a set whose last record moved elsewhere stays listed; its harvest says the record left (P16)."""
    ingest(write_issue(tmp_path / "issue.xml", [A("M-1", subject="Short Report"), A("M-2")]))
    clock.advance(5)
    ingest(write_issue(tmp_path / "issue.xml", [A("M-1", subject="Clinical Notes"), A("M-2")]))
    moved = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/M-1"
    assert {"subject:short-report", "subject:clinical-notes"} <= set(all_specs(oai))
    for verb in ("ListRecords", "ListIdentifiers"):
        tree = oai(verb=verb, metadataPrefix="oai_dc", set="subject:short-report")
        headers = tree.findall(".//o:header", NS)
        assert [(h.findtext("o:identifier", namespaces=NS), h.get("status")) for h in headers] == [
            (moved, "deleted")], verb
        assert "subject:short-report" not in [s.text for s in headers[0].iterfind("o:setSpec", NS)]
        assert tree.find(".//o:metadata", NS) is None
    ids, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="subject:clinical-notes")
    assert ids == [moved]


def test_sets_of_a_deleted_record(loaded, oai, runner):
    """§2.5.1 / §4.6: a deleted record keeps its sets; a set holding only it lists the header."""
    withdraw(runner, REVIEW)
    assert "type:review-article" in all_specs(oai)
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="jats", set="type:review-article")
    assert [h.get("status") for h in headers(pages).values()] == ["deleted"]


def test_empty_repository(oai):
    """§4.6: an empty repository lists its (empty) sets or says noSetHierarchy, never noRecordsMatch."""
    tree = oai(verb="ListSets")
    assert error_codes(tree) in ([], ["noSetHierarchy"])
    for spec in (s.text for s in tree.iterfind(".//o:setSpec", NS)):
        assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec)) == ["noRecordsMatch"]


@pytest.mark.parametrize("params", [
    {"metadataPrefix": "oai_dc"},
    {"set": "journal"},
    {"from": "2020-01-01"},
    {"identifier": REVIEW},
    {"resumptionToken": "abc", "set": "journal"},
    {"resumptionToken": ""},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_arguments(loaded, oai, params, method):
    """§4.6 / §3.6: ListSets takes only an exclusive resumptionToken."""
    tree = oai(method, verb="ListSets", **params)
    assert set(error_codes(tree)) == {"badArgument"}
    assert request_attrs(tree) == {}


@pytest.mark.parametrize("token", ["abc", "from-ListIdentifiers"])
def test_bad_token(loaded, oai, token):
    """§4.6 / §3.6: a garbage token, or one of another verb, is badResumptionToken."""
    if token == "from-ListIdentifiers":
        token = token_of(oai(verb="ListIdentifiers", metadataPrefix="oai_dc")).text
    tree = oai(verb="ListSets", resumptionToken=token)
    assert error_codes(tree) == ["badResumptionToken"]
    assert request_attrs(tree) == {"verb": "ListSets", "resumptionToken": token}


def test_token_whose_remaining_sets_are_gone(loaded, oai, app):
    """§4.6: the sets after a token's place removed (by hand, in the sqlite3 shell): badResumptionToken,
    never noRecordsMatch, which is no error of ListSets."""
    import sqlite3

    first = oai(verb="ListSets")
    last = [s.text for s in first.iterfind(".//o:setSpec", NS)][-1]
    conn = sqlite3.connect(app.config["DATABASE"])
    with conn:
        conn.execute("DELETE FROM sets WHERE spec > ?", (last,))
    conn.close()
    tree = oai(verb="ListSets", resumptionToken=token_of(first).text)
    assert error_codes(tree) == ["badResumptionToken"]
