"""OAI-PMH §4.5 ListRecords: records with metadata, selective by date and set, with flow control."""
from __future__ import annotations

import pytest
from lxml import etree

from metadata_formats import FORMATS
from tests.helpers.oai import NS, error_codes, harvest, identifiers, list_items, page_sizes, token_of
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import JOURNAL, REVIEW, request_attrs, total_records, withdraw
from tests.helpers.protocol import every_journal_open_config  # noqa: F401 (a fixture: every format expresses every record)

PAGE = 2  # OAI_PAGE_SIZE of the test configuration


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
@pytest.mark.parametrize("prefix", list(FORMATS))
def test_full_harvest_with_tokens(loaded, oai, verb, prefix):
    """§3.5: following tokens yields every record once, with a right cursor and list size."""
    ids, pages = harvest(oai, verb, metadataPrefix=prefix)
    assert len(ids) == len(set(ids)) == total_records(loaded)
    size = PAGE if verb == "ListRecords" else 3
    assert [len(list_items(p)) for p in pages] == page_sizes(len(ids), size)
    for n, page in enumerate(pages):
        token = token_of(page)
        assert int(token.get("cursor")) == n * size
        assert int(token.get("completeListSize")) == len(ids)
        if n < len(pages) - 1:
            assert token.text and token.get("expirationDate")
        else:
            assert not token.text and token.get("expirationDate") is None


@pytest.mark.parametrize("prefix", list(FORMATS))
def test_records_carry_metadata(loaded, oai, prefix):
    """§4.5: every live record has a header and metadata in the format asked for."""
    _, pages = harvest(oai, metadataPrefix=prefix)
    records = [r for p in pages for r in p.iterfind(".//o:record", NS)]
    assert len(records) == total_records(loaded)
    for record in records:
        assert record.find("o:header", NS).get("status") is None
        assert len(record.find("o:metadata", NS)) == 1
        assert etree.QName(record.find("o:metadata", NS)[0]).namespace == FORMATS[prefix].namespace


@pytest.mark.parametrize("prefix", list(FORMATS))
def test_deleted_record_has_no_metadata(loaded, oai, runner, prefix):
    """§4.5 / §2.5.1: a deleted record is listed as a header only, in every format."""
    withdraw(runner, REVIEW)
    ids, pages = harvest(oai, metadataPrefix=prefix)
    assert REVIEW in ids and len(ids) == total_records(loaded)
    deleted = [r for p in pages for r in p.iterfind(".//o:record", NS)
               if r.find("o:header", NS).get("status") == "deleted"]
    assert [r.findtext("o:header/o:identifier", namespaces=NS) for r in deleted] == [REVIEW]
    assert deleted[0].find("o:metadata", NS) is None


def test_post_harvest_equals_get_harvest(loaded, oai):
    """§3.1.1.2 / §4.5: a harvest by POST (tokens in the body) returns what GET returns."""
    by_get, _ = harvest(oai, metadataPrefix="jats")
    by_post, pages = harvest(oai, method="POST", metadataPrefix="jats")
    assert by_post == by_get and len(pages) > 2


def test_exact_multiple_of_page_size_has_no_empty_page(app, ingest, tmp_path, oai):
    """§3.5: a total that is a multiple of the page size ends on a full page with an empty token."""
    ingest(write_issue(tmp_path / "four.xml", [A(f"F-{i}") for i in range(2 * PAGE)]))
    ids, pages = harvest(oai, metadataPrefix="oai_dc")
    assert len(ids) == 2 * PAGE and len(pages) == 2
    assert token_of(pages[1]).text is None


def test_single_page_list_has_no_token(app, ingest, tmp_path, oai):
    """§3.5: a complete list in one response carries no resumptionToken."""
    ingest(write_issue(tmp_path / "one.xml", [A("ONE")]))
    assert token_of(oai(verb="ListRecords", metadataPrefix="oai_dc")) is None


def test_only_records_available_in_the_format(app, ingest, tmp_path, oai):
    """§4.5: records without a JATS rendition are left out of a JATS harvest, not errors."""
    ingest(write_issue(tmp_path / "no-issn.xml", [A("N-1"), A("N-2")], issn=""))
    ingest(write_issue(tmp_path / "issn.xml", [A("J-1")]))
    assert len(harvest(oai, metadataPrefix="oai_dc")[0]) == 3
    assert len(identifiers(oai(verb="ListRecords", metadataPrefix="jats"))) == 1


def test_no_records_match(loaded, oai):
    """§4.5 / §3.6: an empty selection is noRecordsMatch, arguments echoed."""
    tree = oai(verb="ListRecords", metadataPrefix="oai_dc", from_="2030-01-01")
    assert error_codes(tree) == ["noRecordsMatch"]
    assert request_attrs(tree) == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2030-01-01"}
    assert error_codes(oai(verb="ListRecords", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}:v0n0")) == [
        "noRecordsMatch"]


def test_unknown_format_and_set_reported_together(loaded, oai):
    """§3.6: an unknown metadataPrefix is cannotDisseminateFormat, with an unknown set as well."""
    assert error_codes(oai(verb="ListRecords", metadataPrefix="didl")) == ["cannotDisseminateFormat"]
    tree = oai(verb="ListRecords", metadataPrefix="didl", set="nosuchset")
    assert sorted(error_codes(tree)) == ["cannotDisseminateFormat", "noRecordsMatch"]


@pytest.mark.parametrize("params", [
    {},
    {"set": "journal"},
    {"metadataPrefix": ""},
    {"metadataPrefix": "oai dc"},
    {"metadataPrefix": "oai_dc", "set": "bad set!"},
    {"metadataPrefix": "oai_dc", "set": "journal:"},
    {"metadataPrefix": "oai_dc", "set": ":journal"},
    {"metadataPrefix": "oai_dc", "bogus": "1"},
    {"metadataPrefix": "oai_dc", "identifier": REVIEW},
    {"metadataPrefix": "oai_dc", "resumptionToken": "abc"},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "none")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_arguments(loaded, oai, params, method):
    """§4.5 / §3.6: missing, foreign, malformed or non-exclusive arguments are badArgument."""
    tree = oai(method, verb="ListRecords", **params)
    assert set(error_codes(tree)) == {"badArgument"}
    assert request_attrs(tree) == {}
