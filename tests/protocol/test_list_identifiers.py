"""OAI-PMH §4.3 ListIdentifiers: headers only, selective by date and set, with flow control."""
from __future__ import annotations

import pytest

from metadata_formats import FORMATS
from tests.helpers.oai import NS, error_codes, harvest, identifiers, token_of
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import JOURNAL, REVIEW, datestamps, headers, request_attrs, set_specs, total_records, withdraw
from tests.helpers.protocol import every_journal_open_config  # noqa: F401 (a fixture: every format expresses every record)

PAGE = 3  # OAI_IDENTIFIERS_PAGE_SIZE of the test configuration


@pytest.mark.parametrize("prefix", list(FORMATS))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_full_harvest_with_tokens(loaded, oai, prefix, method):
    """§4.3 / §3.5: every header once, in datestamp order, pages of the configured size."""
    ids, pages = harvest(oai, "ListIdentifiers", method=method, metadataPrefix=prefix)
    assert len(ids) == len(set(ids)) == total_records(loaded)
    assert datestamps(pages) == sorted(datestamps(pages))
    assert [len(identifiers(p)) for p in pages[:-1]] == [PAGE] * (len(pages) - 1)
    assert 1 <= len(identifiers(pages[-1])) <= PAGE


def test_headers_only(loaded, oai):
    """§4.3: the response holds headers, never records or metadata."""
    tree = oai(verb="ListIdentifiers", metadataPrefix="jats")
    body = tree.find("o:ListIdentifiers", NS)
    assert {child.tag for child in body} <= {f"{{{NS['o']}}}header", f"{{{NS['o']}}}resumptionToken"}
    assert tree.find(".//o:metadata", NS) is None
    assert request_attrs(tree) == {"verb": "ListIdentifiers", "metadataPrefix": "jats"}


@pytest.mark.parametrize("prefix", list(FORMATS))
def test_deleted_records_listed(loaded, oai, runner, prefix):
    """§4.3 / §2.5.1: a deleted record's header has status="deleted" in every format and set."""
    withdraw(runner, REVIEW)
    ids, pages = harvest(oai, "ListIdentifiers", metadataPrefix=prefix)
    assert len(ids) == total_records(loaded)
    deleted = [i for i, h in headers(pages).items() if h.get("status") == "deleted"]
    assert deleted == [REVIEW]
    for spec in set_specs(headers(pages)[REVIEW]):
        _, set_pages = harvest(oai, "ListIdentifiers", metadataPrefix=prefix, set=spec)
        assert headers(set_pages)[REVIEW].get("status") == "deleted", spec


def test_only_records_available_in_the_format(app, ingest, tmp_path, oai):
    """§4.3: only items available in metadataPrefix are listed (no ISSN, no JATS)."""
    ingest(write_issue(tmp_path / "no-issn.xml", [A("N-1")], issn=""))
    ingest(write_issue(tmp_path / "issn.xml", [A("J-1")]))
    dc = identifiers(oai(verb="ListIdentifiers", metadataPrefix="oai_dc"))
    jats = identifiers(oai(verb="ListIdentifiers", metadataPrefix="jats"))
    assert len(dc) == 2 and len(jats) == 1 and set(jats) < set(dc)


def test_exact_multiple_of_page_size(app, ingest, tmp_path, oai):
    """§3.5: 6 headers in pages of 3: two full pages, the second with an empty token."""
    ingest(write_issue(tmp_path / "six.xml", [A(f"S-{i}") for i in range(2 * PAGE)]))
    ids, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert len(ids) == 2 * PAGE and len(pages) == 2
    last = token_of(pages[1])
    assert last.text is None and last.get("completeListSize") == str(2 * PAGE) and last.get("cursor") == str(PAGE)


def test_set_harvest_follows_tokens(loaded, oai):
    """§4.3 / §2.7.2: a set harvest over several pages keeps to the set's members."""
    ids, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}")
    assert len(pages) > 1 and len(ids) == len(set(ids)) == total_records(loaded) - 1
    assert all(f"journal:{JOURNAL}" in set_specs(h) for h in headers(pages).values())


@pytest.mark.parametrize("params", [
    {"metadataPrefix": "oai_dc", "set": f"journal:{JOURNAL}:v99n99"},
    {"metadataPrefix": "oai_dc", "set": "nosuchset"},
    {"metadataPrefix": "oai_dc", "from": "2030-01-01"},
    {"metadataPrefix": "oai_dc", "until": "2025-12-31T23:59:59Z"},
    {"metadataPrefix": "jats", "set": "type:review-article", "from": "2026-01-01T00:00:01Z"},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_no_records_match(loaded, oai, params):
    """§4.3 / §3.6: an empty selection is noRecordsMatch, with the arguments echoed."""
    tree = oai(verb="ListIdentifiers", **params)
    assert error_codes(tree) == ["noRecordsMatch"]
    assert request_attrs(tree) == {"verb": "ListIdentifiers", **params}


def test_unknown_format(loaded, oai):
    """§4.3 / §3.6: an unknown metadataPrefix is cannotDisseminateFormat."""
    assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="marc21")) == ["cannotDisseminateFormat"]


@pytest.mark.parametrize("params", [
    {},
    {"from": "2020-01-01"},
    {"metadataPrefix": "oai_dc", "identifier": REVIEW},
    {"resumptionToken": "abc", "set": "journal"},
    {"resumptionToken": "abc", "metadataPrefix": "oai_dc"},
    {"metadataPrefix": "oai_dc", "set": ""},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "none")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_arguments(loaded, oai, params, method):
    """§4.3 / §3.6: a missing metadataPrefix, foreign or non-exclusive arguments are badArgument."""
    tree = oai(method, verb="ListIdentifiers", **params)
    assert set(error_codes(tree)) == {"badArgument"}
    assert request_attrs(tree) == {}
