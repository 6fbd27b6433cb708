"""Tests for the mods format (MODS 3.8)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import metadata_formats
from metadata_formats import CrosswalkSettings, mods
from oaiserver.ingest.parsing import parse_issue
from oaiserver.model import Author
from tests.helpers.crosswalk_helpers import (
    AFF_YAZD_EN, INTERNAL_VALUES, SAMPLES_DIR, articles, assert_valid, forbidden_values, nkums_article,
)
from tests.helpers.formats import (
    CC_BY_NC, OPEN, REVIEW, XML_LANG, harvest_records, journal_settings, live_identifiers,
    schema_sample_verdicts, source_text, texts, tree, xpath,
)

render = mods.render
DEFAULT = CrosswalkSettings()
NKUMS_SAMPLE = SAMPLES_DIR / "nkums-v18n2.xml"
DOI = "10.22034/nkums.18.2.12"


def test_registry_exposes_mods() -> None:
    fmt = metadata_formats.get("mods")
    assert fmt is mods.FORMAT
    assert (fmt.namespace, fmt.schema) == ("http://www.loc.gov/mods/v3", "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd")


@pytest.fixture
def sample():
    """The real sample with a DOI, rendered without rights configured."""
    xml = render(replace(nkums_article(), doi=DOI), DEFAULT)
    return xml, tree(xml)


def test_sample_is_schema_valid(sample) -> None:
    assert_valid(sample[0], "mods")


def test_root(sample) -> None:
    xml, root = sample
    assert root.tag == "{http://www.loc.gov/mods/v3}mods" and root.get("version") == "3.8"
    assert "xmlns:xlink" not in xml  # declared only when an accessCondition needs it


def test_titles_with_marc_and_bcp47_languages(sample) -> None:
    infos = xpath(sample[1], "mods:titleInfo")
    assert [(i.get("type"), i.get("lang"), i.get(XML_LANG)) for i in infos] == [
        (None, "per", "fa"), ("translated", "eng", "en")]
    assert texts(sample[1], "mods:titleInfo/mods:title")[0] == nkums_article().title_fa


def test_names_with_roles_and_the_first_one_primary(sample) -> None:
    names = xpath(sample[1], "mods:name")
    assert [(n.get("type"), n.get("usage")) for n in names] == [("personal", "primary")] + [("personal", None)] * 3
    third = names[2]
    assert [(e.tag.split("}")[1], e.get("type"), e.text) for e in third][:4] == [
        ("namePart", "family", "Kuchakzade"), ("namePart", "given", "Fatemeh"),
        ("nameIdentifier", "orcid", "https://orcid.org/0009-0009-5218-9750"), ("affiliation", None, AFF_YAZD_EN)]
    assert texts(third, "mods:role/mods:roleTerm[@type='code'][@authority='marcrelator']") == ["aut"]


def test_persian_name_is_tagged_persian() -> None:
    author = Author(given_fa="فاطمه", surname_fa="کوچک زاده")
    (name,) = xpath(tree(render(replace(nkums_article(), authors=(author,)), DEFAULT)), "mods:name")
    assert (name.get("lang"), name.get(XML_LANG)) == ("per", "fa")


def test_type_genre_origin_and_language(sample) -> None:
    root = sample[1]
    assert texts(root, "mods:typeOfResource") == ["text"]
    (genre,) = xpath(root, "mods:genre")
    assert (genre.get("authority"), genre.get("valueURI"), genre.text) == (
        "coar", "http://purl.org/coar/resource_type/c_dcae04bc", "review article")
    (origin,) = xpath(root, "mods:originInfo")
    assert origin.get("eventType") == "publication"
    assert [(e.tag.split("}")[1], dict(e.attrib), e.text) for e in origin][1:] == [
        ("dateIssued", {"encoding": "w3cdtf", "keyDate": "yes"}, "2026-07-01"),
        ("dateIssued", {"calendar": "persian"}, "1405-04-01")]
    assert texts(root, "mods:language/mods:languageTerm[@type='code'][@authority='iso639-2b']") == ["per"]


def test_abstracts_and_subjects(sample) -> None:
    root = sample[1]
    assert [(a.get("lang"), a.get(XML_LANG)) for a in xpath(root, "mods:abstract")] == [("per", "fa"), ("eng", "en")]
    subjects = xpath(root, "mods:subject")
    assert len(subjects) == 10 and all(len(s) == 1 for s in subjects)
    assert (subjects[0].get("lang"), subjects[0][0].text) == ("per", "ضایعه نخاعی")


def test_host_item(sample) -> None:
    (host,) = xpath(sample[1], "mods:relatedItem[@type='host']")
    assert [(t.get("type"), t.get("lang")) for t in xpath(host, "mods:titleInfo")] == [(None, "per"), ("translated", "eng")]
    assert texts(host, "mods:originInfo/mods:issuance") == ["continuing"]
    assert [(i.get("displayLabel"), i.text) for i in xpath(host, "mods:identifier[@type='issn']")] == [
        ("print", "2008-8701"), ("online", "2008-8698")]
    assert texts(host, "mods:part/mods:detail[@type='volume']/mods:number") == ["18"]
    assert texts(host, "mods:part/mods:detail[@type='issue']/mods:number") == ["2"]
    assert texts(host, "mods:part/mods:extent[@unit='pages']/*") == ["12", "25"]
    assert texts(host, "mods:part/mods:date") == ["2026-07-01"]


def test_identifiers_and_location(sample) -> None:
    root = sample[1]
    assert texts(root, "mods:identifier[@type='doi']") == [DOI]
    (url,) = xpath(root, "mods:location/mods:url")
    assert (url.get("usage"), url.get("access"), url.text) == (
        "primary display", "object in context", nkums_article().web_url)
    assert texts(root, "mods:recordInfo/mods:recordIdentifier") == ["A-10-25-972"]


def test_access_conditions_only_when_configured(sample) -> None:
    assert xpath(sample[1], "mods:accessCondition") == []
    settings = journal_settings({"access_right": "embargoed", "embargo_end": "2027-01-01", "license_url": CC_BY_NC})
    xml = render(nkums_article(), settings)
    conditions = xpath(tree(xml), "mods:accessCondition")
    assert [(c.get("type"), c.get("{http://www.w3.org/1999/xlink}href"), c.text) for c in conditions] == [
        ("use and reproduction", CC_BY_NC, "CC BY-NC 4.0"),
        ("restriction on access", "http://purl.org/coar/access_right/c_f1cf", "embargoed access until 2027-01-01")]
    assert_valid(xml, "mods")


def test_every_article_is_expressed() -> None:
    bare = replace(nkums_article(), title_en=None, title_fa=None, authors=(), web_url=None, doi=None)
    xml = render(replace(bare, issue=replace(bare.issue, pub_date=None, pub_date_persian=None)), DEFAULT)
    assert_valid(xml, "mods")


rights_settings = st.sampled_from([
    DEFAULT, OPEN, journal_settings({"access_right": "embargoed", "embargo_end": "2030-12-31", "license_url": CC_BY_NC}),
    CrosswalkSettings(rights="info:eu-repo/semantics/closedAccess", license_url="not a url", publisher="P&Q"),
])


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles, settings=rights_settings)
def test_any_article_renders_a_valid_record(article, settings) -> None:
    settings = replace(settings, journals={article.journal.key: v for v in settings.journals.values()})
    xml = render(article, settings)
    assert_valid(xml, "mods")
    for value in forbidden_values(article, emails_allowed=False):
        assert value not in xml


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_every_sample_file_renders_valid_records(path) -> None:
    for article in parse_issue(path.read_bytes()).articles:
        xml = render(article, DEFAULT)
        assert_valid(xml, "mods")
        for value in INTERNAL_VALUES:
            assert value not in xml


def test_served_records_are_valid_in_both_get_record_and_list_records(repository, oai) -> None:
    records = harvest_records(oai, "mods")
    assert set(records) == live_identifiers(oai)
    assert texts(records[REVIEW], "mods:accessCondition") == ["CC BY-NC 4.0", "open access"]


def test_persian_values_are_byte_exact(repository, client) -> None:
    body = client.get("/oai", query_string={"verb": "GetRecord", "identifier": REVIEW, "metadataPrefix": "mods"}).data
    assert f"<title>{source_text(NKUMS_SAMPLE, 'title_fa', 1)}</title>".encode() in body
    assert f"<title>{source_text(NKUMS_SAMPLE, 'title_fa')}</title>".encode() in body
    for keyword in source_text(NKUMS_SAMPLE, "keyword_fa").split(", "):
        assert f'<subject lang="per" xml:lang="fa"><topic>{keyword}</topic></subject>'.encode() in body


def test_the_response_validator_on_the_hand_written_samples() -> None:
    assert schema_sample_verdicts("mods") == {"getrecord_mods.xml": True, "getrecord_mods_invalid.xml": False}
