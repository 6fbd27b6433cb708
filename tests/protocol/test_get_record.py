"""OAI-PMH §4.1 GetRecord: one record in one format."""
from __future__ import annotations

import pytest
from lxml import etree

from metadata_formats import FORMATS
from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, error_codes, harvest, identifiers
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import REVIEW, headers, request_attrs, set_specs, withdraw
from tests.helpers.protocol import every_journal_open_config  # noqa: F401 (a fixture: every format expresses every record)

GENERATED_ONE = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/G-1"


def test_get_record_both_formats(loaded, oai):
    """§4.1: a record in oai_dc and in JATS, its header with every set it belongs to."""
    dc = oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="oai_dc")
    assert dc.find(".//o:record/o:metadata/oai_dc:dc", NS) is not None
    assert {"journal", "journal:2008-8701", "journal:2008-8701:v18n2", "type:review-article",
            "subject:basic-sciences"} <= set(set_specs(dc.find(".//o:header", NS)))
    jats = oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="jats")
    assert jats.find(".//o:record/o:metadata/j:article", NS) is not None
    assert request_attrs(jats) == {"verb": "GetRecord", "identifier": REVIEW, "metadataPrefix": "jats"}


@pytest.mark.parametrize("prefix", list(FORMATS))
def test_header_and_metadata_agree_with_the_lists(loaded, oai, prefix):
    """§4.1 / §4.5: GetRecord returns the very header and metadata that ListRecords lists."""
    _, pages = harvest(oai, "ListRecords", metadataPrefix=prefix)
    records = [r for p in pages for r in p.iterfind(".//o:record", NS)]
    listed = {r.findtext("o:header/o:identifier", namespaces=NS): r for r in records}
    for identifier, record in listed.items():
        single = oai(verb="GetRecord", identifier=identifier, metadataPrefix=prefix).find(".//o:record", NS)
        assert etree.tostring(single, method="c14n") == etree.tostring(record, method="c14n"), identifier


@pytest.mark.parametrize("identifier,prefix,codes", [
    ("oai:other.org:1", "oai_dc", ["idDoesNotExist"]),
    (REVIEW, "marc21", ["cannotDisseminateFormat"]),
    ("oai:other.org:1", "marc21", ["cannotDisseminateFormat", "idDoesNotExist"]),
    ("urn:nbn:de:1111-2004033116", "oai_dc", ["idDoesNotExist"]),
    ("oai:journals.example.org:ü/ß", "oai_dc", ["idDoesNotExist"]),
    ("oai:arXiv.org:hep-th/9901001", "jats", ["idDoesNotExist"]),
    ("10.1000/182", "oai_dc", ["idDoesNotExist"]),
    ("hdl:1234.5/678", "oai_dc", ["idDoesNotExist"]),
    ("https://tj.example.ac.ir/browse.php?a_code=G-1&slc_lang=en&sid=1", "oai_dc", ["idDoesNotExist"]),
    (GENERATED_ONE.upper(), "oai_dc", ["idDoesNotExist"]),
    (GENERATED_ONE.replace("G-1", "g-1"), "oai_dc", ["idDoesNotExist"]),
    (GENERATED_ONE + "/", "oai_dc", ["idDoesNotExist"]),
    (GENERATED_ONE.replace("/", "%2F"), "oai_dc", ["idDoesNotExist"]),
    (GENERATED_ONE, "OAI_DC", ["cannotDisseminateFormat"]),
])
def test_get_record_errors(loaded, oai, identifier, prefix, codes):
    """§4.1 / §2.4: identifiers are exact; unknown ones and formats are reported together, echoed."""
    tree = oai(verb="GetRecord", identifier=identifier, metadataPrefix=prefix)
    assert sorted(error_codes(tree)) == codes
    assert request_attrs(tree) == {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix}


@pytest.mark.parametrize("prefix", list(FORMATS))
def test_deleted_record(loaded, oai, runner, prefix):
    """§4.1 / §2.5.1: a deleted record is a header with status="deleted" and no metadata."""
    withdraw(runner, REVIEW)
    tree = oai(verb="GetRecord", identifier=REVIEW, metadataPrefix=prefix)
    record = tree.find(".//o:record", NS)
    assert record.find("o:header", NS).get("status") == "deleted"
    assert record.find("o:metadata", NS) is None
    assert "journal:2008-8701:v18n2" in set_specs(record.find("o:header", NS))


def test_restored_record_is_live_again(loaded, oai, runner, clock):
    """§2.5.1: a withdrawn record that is restored comes back with a new datestamp."""
    before = oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="oai_dc").findtext(".//o:datestamp", namespaces=NS)
    withdraw(runner, REVIEW)
    clock.advance(10)
    assert runner.invoke(args=["restore", REVIEW]).exit_code == 0
    tree = oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="oai_dc")
    header = tree.find(".//o:header", NS)
    assert header.get("status") is None and tree.find(".//o:metadata", NS) is not None
    assert header.findtext("o:datestamp", namespaces=NS) > before


def test_record_without_jats(app, ingest, tmp_path, oai):
    """§4.1: an item not available in a format is cannotDisseminateFormat for that format only."""
    ingest(write_issue(tmp_path / "no-issn.xml", [A("N-1")], issn=""))
    identifier = identifiers(oai(verb="ListIdentifiers", metadataPrefix="oai_dc"))[0]
    assert error_codes(oai(verb="GetRecord", identifier=identifier, metadataPrefix="jats")) == [
        "cannotDisseminateFormat"]
    assert identifiers(oai(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")) == [identifier]


def test_url_encoded_identifier(loaded, raw):
    """§3.1.1.1 / §4.1: a percent-encoded identifier is decoded before the lookup."""
    tree = raw("verb=GetRecord&metadataPrefix=oai_dc&identifier=" + REVIEW.replace(":", "%3A").replace("/", "%2F"))
    assert identifiers(tree) == [REVIEW]


def test_header_same_as_in_list_identifiers(loaded, oai):
    """§4.1 / §4.3: datestamp and setSpecs of GetRecord equal those of ListIdentifiers."""
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    single = oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="oai_dc").find(".//o:header", NS)
    assert etree.tostring(headers(pages)[REVIEW], method="c14n") == etree.tostring(single, method="c14n")


@pytest.mark.parametrize("params", [
    {"identifier": REVIEW},
    {"metadataPrefix": "oai_dc"},
    {},
    {"identifier": REVIEW, "metadataPrefix": "oai_dc", "set": "journal"},
    {"identifier": REVIEW, "metadataPrefix": "oai_dc", "from": "2020-01-01"},
    {"identifier": REVIEW, "metadataPrefix": "oai_dc", "resumptionToken": "abc"},
    {"identifier": "", "metadataPrefix": "oai_dc"},
    {"identifier": "has space", "metadataPrefix": "oai_dc"},
    {"identifier": REVIEW, "metadataPrefix": "oai dc"},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "none")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_arguments(loaded, oai, params, method):
    """§4.1 / §3.6: missing, extra or malformed arguments are badArgument; <request> bare."""
    tree = oai(method, verb="GetRecord", **params)
    assert set(error_codes(tree)) == {"badArgument"}
    assert request_attrs(tree) == {}


def test_repeated_identifier(loaded, raw):
    """§3.6: a repeated identifier argument is badArgument."""
    tree = raw(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={REVIEW}&identifier={REVIEW}")
    assert error_codes(tree) == ["badArgument"]
