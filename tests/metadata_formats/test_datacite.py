"""Tests for the datacite format (DataCite Metadata Schema 4.x, namespace kernel-4)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import metadata_formats
from metadata_formats import CrosswalkSettings, datacite
from oaiserver.ingest.parsing import parse_issue
from oaiserver.model import Author, PubDate
from tests.helpers.crosswalk_helpers import (
    AFF_YAZD_EN, INTERNAL_VALUES, SAMPLES_DIR, articles, assert_valid, forbidden_values, nkums_article, schema_for,
)
from tests.helpers.formats import (
    CC_BY_NC, NKUMS, OPEN, REVIEW, XML_LANG, harvest_records, journal_settings, live_identifiers,
    schema_sample_verdicts, source_text, texts, tree, xpath,
)

render = datacite.render
DEFAULT = CrosswalkSettings()
NKUMS_SAMPLE = SAMPLES_DIR / "nkums-v18n2.xml"
DOI = "10.22034/nkums.18.2.12"


def test_registry_exposes_datacite() -> None:
    fmt = metadata_formats.get("datacite")
    assert fmt is datacite.FORMAT
    assert fmt.namespace == "http://datacite.org/schema/kernel-4"
    assert fmt.schema == "http://schema.datacite.org/meta/kernel-4/metadata.xsd"


@pytest.fixture
def sample():
    """The real sample with a DOI, a licence and an access right."""
    settings = journal_settings({"access_right": "open", "license_url": CC_BY_NC})
    xml = render(replace(nkums_article(), doi=DOI), settings)
    return xml, tree(xml)


def test_sample_is_schema_valid(sample) -> None:
    assert_valid(sample[0], "datacite")


def test_the_openaire_bundle_cannot_validate_datacite(sample) -> None:
    """OpenAIRE's kernel-4 schema has no <resource>: the bundle must be chosen by prefix."""
    from tests.helpers.crosswalk_helpers import response

    assert not schema_for("oai_openaire").validate(response([sample[0]], "datacite"))


def test_mandatory_properties(sample) -> None:
    root = sample[1]
    assert root.tag == "{http://datacite.org/schema/kernel-4}resource"
    assert [(e.get("identifierType"), e.text) for e in xpath(root, "datacite:identifier")] == [("DOI", DOI)]
    assert texts(root, "datacite:publisher") == ["مجله دانشگاه علوم پزشکی خراسان شمالی"]
    assert texts(root, "datacite:publicationYear") == ["2026"]
    (kind,) = xpath(root, "datacite:resourceType")
    assert (kind.get("resourceTypeGeneral"), kind.text) == ("JournalArticle", "Review Article")
    titles = [(t.get(XML_LANG), t.get("titleType")) for t in xpath(root, "datacite:titles/datacite:title")]
    assert titles == [("fa", None), ("en", "TranslatedTitle")]


def test_creators_carry_the_language_of_their_script(sample) -> None:
    creators = xpath(sample[1], "datacite:creators/datacite:creator")
    assert len(creators) == 4
    third = creators[2]
    assert [e.tag.split("}")[1] for e in third] == [
        "creatorName", "givenName", "familyName", "nameIdentifier", "affiliation"]
    assert (third[0].text, third[0].get(XML_LANG), third[0].get("nameType")) == (
        "Kuchakzade, Fatemeh", "en", "Personal")
    assert (third[3].get("nameIdentifierScheme"), third[3].text) == ("ORCID", "https://orcid.org/0009-0009-5218-9750")
    assert third[4].text == AFF_YAZD_EN


def test_optional_properties(sample) -> None:
    root = sample[1]
    assert texts(root, "datacite:language") == ["fa"]
    assert [(d.get("dateType"), d.text) for d in xpath(root, "datacite:dates/datacite:date")] == [("Issued", "2026-07-01")]
    assert [(e.get("alternateIdentifierType"), e.text) for e in xpath(root, "datacite:alternateIdentifiers/*")] == [
        ("URL", nkums_article().web_url)]
    assert [(e.get("relatedIdentifierType"), e.get("relationType"), e.text)
            for e in xpath(root, "datacite:relatedIdentifiers/*")] == [
        ("ISSN", "IsPublishedIn", "2008-8701"), ("EISSN", "IsPublishedIn", "2008-8698")]
    descriptions = xpath(root, "datacite:descriptions/datacite:description")
    assert [(d.get("descriptionType"), d.get(XML_LANG)) for d in descriptions] == [("Abstract", "fa"), ("Abstract", "en")]
    assert len(xpath(root, "datacite:subjects/datacite:subject")) == 10


def test_rights_licence_with_spdx_then_access(sample) -> None:
    rights = xpath(sample[1], "datacite:rightsList/datacite:rights")
    assert [dict(r.attrib) for r in rights] == [
        {"rightsURI": CC_BY_NC, "rightsIdentifier": "cc-by-nc-4.0", "rightsIdentifierScheme": "SPDX",
         "schemeURI": "https://spdx.org/licenses/"},
        {"rightsURI": "http://purl.org/coar/access_right/c_abf2"},
    ]
    assert [r.text for r in rights] == ["CC BY-NC 4.0", "open access"]


def test_no_rights_configured_means_no_rights_list() -> None:
    assert xpath(tree(render(nkums_article(), DEFAULT)), "datacite:rightsList") == []


def test_a_licence_that_is_not_creative_commons_has_no_spdx_identifier() -> None:
    settings = journal_settings({"license_url": "https://example.org/terms", "license_label": "Our terms"})
    (rights,) = xpath(tree(render(nkums_article(), settings)), "datacite:rightsList/datacite:rights")
    assert (dict(rights.attrib), rights.text) == ({"rightsURI": "https://example.org/terms"}, "Our terms")


def test_related_item_is_the_journal_issue(sample) -> None:
    (item,) = xpath(sample[1], "datacite:relatedItems/datacite:relatedItem")
    assert (item.get("relatedItemType"), item.get("relationType")) == ("Journal", "IsPublishedIn")
    assert [(e.tag.split("}")[1], e.text) for e in item if e.text] == [
        ("relatedItemIdentifier", "2008-8698"), ("publicationYear", "2026"), ("volume", "18"), ("issue", "2"),
        ("firstPage", "12"), ("lastPage", "25")]
    assert item[0].get("relatedItemIdentifierType") == "EISSN"
    assert texts(item, "datacite:titles/datacite:title") == ["مجله دانشگاه علوم پزشکی خراسان شمالی"]


def test_without_doi_the_landing_page_is_the_identifier() -> None:
    root = tree(render(nkums_article(), DEFAULT))
    assert [(e.get("identifierType"), e.text) for e in xpath(root, "datacite:identifier")] == [
        ("URL", nkums_article().web_url)]
    assert xpath(root, "datacite:alternateIdentifiers") == []


def test_print_issn_when_there_is_no_online_one() -> None:
    article = nkums_article()
    article = replace(article, journal=replace(article.journal, issn_electronic=None))
    (identifier,) = xpath(tree(render(article, DEFAULT)), "//datacite:relatedItemIdentifier")
    assert (identifier.get("relatedItemIdentifierType"), identifier.text) == ("ISSN", "2008-8701")


@pytest.mark.parametrize("change", [
    {"doi": None, "web_url": None},
    {"title_en": None, "title_fa": None},
    {"authors": ()},
    {"authors": (Author(email="x@example.org"),)},
], ids=["no identifier", "no title", "no authors", "no named author"])
def test_a_missing_mandatory_property_means_no_record(change) -> None:
    assert render(replace(nkums_article(), **change), DEFAULT) is None


def test_no_year_or_no_publisher_means_no_record() -> None:
    article = nkums_article()
    assert render(replace(article, issue=replace(article.issue, pub_date=None)), DEFAULT) is None
    journal = replace(article.journal, title_en=None, title_fa=None)
    assert render(replace(article, journal=journal), DEFAULT) is None
    # A configured publisher is enough without a journal title.
    assert render(replace(article, journal=journal), CrosswalkSettings(publisher="P")) is not None


def test_derived_date_and_type_fallback() -> None:
    article = nkums_article()
    issue = replace(article.issue, pub_date=PubDate("gregorian", 2026, 6, 22, derived=True))
    root = tree(render(replace(article, issue=issue, type_en=None, type_fa=None), DEFAULT))
    assert texts(root, "datacite:dates/datacite:date") == ["2026-06-22"]
    assert texts(root, "datacite:resourceType") == ["journal article"]


def test_persian_name_has_persian_language() -> None:
    author = Author(given_fa="فاطمه", surname_fa="کوچک زاده")
    (name,) = xpath(tree(render(replace(nkums_article(), authors=(author,)), DEFAULT)), "//datacite:creatorName")
    assert (name.text, name.get(XML_LANG)) == ("کوچک زاده, فاطمه", "fa")


rights_settings = st.sampled_from([
    DEFAULT, OPEN, journal_settings({"access_right": "embargoed", "embargo_end": "2030-12-31", "license_url": CC_BY_NC}),
    CrosswalkSettings(rights="info:eu-repo/semantics/openAccess", license_url="not a url", publisher="P&Q"),
])


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles, settings=rights_settings)
def test_any_article_renders_a_valid_record_or_none(article, settings) -> None:
    settings = replace(settings, journals={article.journal.key: v for v in settings.journals.values()})
    xml = render(article, settings)
    if xml is None:
        return
    assert_valid(xml, "datacite")
    for value in forbidden_values(article, emails_allowed=False):
        assert value not in xml


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_every_sample_file_renders_valid_records(path) -> None:
    issue = parse_issue(path.read_bytes())
    for article in issue.articles:
        xml = render(article, DEFAULT)
        assert_valid(xml, "datacite")
        for value in INTERNAL_VALUES:
            assert value not in xml


def test_served_records_are_valid_in_both_get_record_and_list_records(repository, oai) -> None:
    """Every page (token pages too) is validated against the DataCite bundle."""
    records = harvest_records(oai, "datacite")
    # Every article has a year, a title, a named author and a landing page, but one has no author.
    assert set(records) == {i for i in live_identifiers(oai) if not i.endswith("/H-4")}
    open_access = records[REVIEW]
    assert texts(open_access, "datacite:rightsList/datacite:rights") == ["CC BY-NC 4.0", "open access"]


def test_persian_values_are_byte_exact(repository, client) -> None:
    body = client.get("/oai", query_string={"verb": "GetRecord", "identifier": REVIEW, "metadataPrefix": "datacite"}).data
    assert f'<title xml:lang="fa">{source_text(NKUMS_SAMPLE, "title_fa", 1)}</title>'.encode() in body
    assert f'<title xml:lang="fa">{source_text(NKUMS_SAMPLE, "title_fa")}</title>'.encode() in body  # the journal
    for keyword in source_text(NKUMS_SAMPLE, "keyword_fa").split(", "):
        assert f'<subject xml:lang="fa">{keyword}</subject>'.encode() in body
    assert source_text(NKUMS_SAMPLE, "affiliation_fa").encode() not in body  # the English one is carried
    assert NKUMS in body.decode()


def test_the_response_validator_on_the_hand_written_samples() -> None:
    assert schema_sample_verdicts("datacite") == {"getrecord_datacite.xml": True, "getrecord_datacite_invalid.xml": False}


def test_a_resumed_list_is_recognised_by_its_records() -> None:
    """A page reached with a resumptionToken echoes no metadataPrefix: its records tell the format."""
    from lxml import etree

    from tests.helpers.crosswalk_helpers import response, response_prefix

    page = response([render(nkums_article(), DEFAULT)] * 2, "datacite")
    del page.find("{http://www.openarchives.org/OAI/2.0/}request").attrib["metadataPrefix"]
    assert response_prefix(page) == "datacite"
    assert response_prefix(etree.ElementTree(page)) == "datacite"
