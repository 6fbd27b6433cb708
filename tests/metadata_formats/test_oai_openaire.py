"""Tests for the oai_openaire format (OpenAIRE Guidelines for Literature Repositories v4.0)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import metadata_formats
from metadata_formats import CrosswalkSettings, oai_openaire
from oaiserver.ingest.parsing import parse_issue
from oaiserver.model import Author, PubDate
from tests.helpers.crosswalk_helpers import (
    AFF_TEHRAN_EN, AFF_YAZD_EN, INTERNAL_VALUES, SAMPLES_DIR, articles, assert_valid, forbidden_values,
    nkums_article,
)
from tests.helpers.formats import (
    CC_BY_NC, HAND_MADE, NKUMS, OPEN, REVIEW, TJMS, XML_LANG, harvest_records, journal_settings,
    live_identifiers, schema_sample_verdicts, source_text, texts, tree, xpath,
)
from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, error_codes

render = oai_openaire.render
NKUMS_SAMPLE = SAMPLES_DIR / "nkums-v18n2.xml"


def test_registry_exposes_oai_openaire() -> None:
    fmt = metadata_formats.get("oai_openaire")
    assert fmt is oai_openaire.FORMAT
    assert fmt.namespace == "http://namespace.openaire.eu/schema/oaire/"
    assert fmt.schema == "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
    assert (fmt.version, fmt.label) == ("2", "OpenAIRE Literature v4")


# --- the access right decides whether the format exists for an article -----------------------


def test_no_access_right_means_no_record() -> None:
    assert render(nkums_article(), CrosswalkSettings()) is None
    assert render(nkums_article(), CrosswalkSettings(rights="© the authors")) is None
    # Another journal's access right is not this journal's.
    assert render(nkums_article(), journal_settings({"access_right": "open"}, key=TJMS)) is None


def test_a_global_embargo_term_is_not_an_access_right() -> None:
    """An embargo needs its end date, which only a journal's own entry gives."""
    assert render(nkums_article(), CrosswalkSettings(rights="info:eu-repo/semantics/embargoedAccess")) is None


@pytest.mark.parametrize(("entry", "uri", "label"), [
    ({"access_right": "open"}, "c_abf2", "open access"),
    ({"access_right": "embargoed", "embargo_end": "2027-01-01"}, "c_f1cf", "embargoed access"),
    ({"access_right": "restricted"}, "c_16ec", "restricted access"),
    ({"access_right": "metadata-only"}, "c_14cb", "metadata only access"),
])
def test_access_rights_are_coar_uris_with_their_labels(entry, uri, label) -> None:
    xml = render(nkums_article(), journal_settings(entry))
    root = tree(xml)
    (rights,) = xpath(root, "datacite:rights")
    assert (rights.get("rightsURI"), rights.text) == (f"http://purl.org/coar/access_right/{uri}", label)
    assert rights.get("uri") is None  # the validator's test record writes @uri: XSD-invalid
    assert_valid(xml, "oai_openaire")


@pytest.mark.parametrize(("global_term", "label"), [
    ("info:eu-repo/semantics/openAccess", "open access"),
    ("info:eu-repo/semantics/restrictedAccess", "restricted access"),
    ("info:eu-repo/semantics/closedAccess", "metadata only access"),
])
def test_a_global_access_term_applies_to_every_journal(global_term, label) -> None:
    root = tree(render(nkums_article(), CrosswalkSettings(rights=global_term)))
    assert texts(root, "datacite:rights") == [label]


def test_the_journal_access_right_wins_over_the_global_one() -> None:
    settings = journal_settings({"access_right": "restricted"}, rights="info:eu-repo/semantics/openAccess")
    assert texts(tree(render(nkums_article(), settings)), "datacite:rights") == ["restricted access"]


def test_embargo_dates_are_accepted_and_available() -> None:
    settings = journal_settings({"access_right": "embargoed", "embargo_end": "2027-01-01"})
    root = tree(render(nkums_article(), settings))
    dates = [(d.get("dateType"), d.text) for d in xpath(root, "datacite:dates/datacite:date")]
    assert dates == [("Accepted", "2026-07-01"), ("Available", "2027-01-01"), ("Issued", "2026-07-01")]


def test_open_access_has_only_the_issued_date() -> None:
    dates = [(d.get("dateType"), d.text) for d in xpath(tree(render(nkums_article(), OPEN)), "datacite:dates/datacite:date")]
    assert dates == [("Issued", "2026-07-01")]


def test_no_date_means_no_dates_element_and_no_ingest_date() -> None:
    article = nkums_article()
    article = replace(article, issue=replace(article.issue, pub_date=None))
    xml = render(article, OPEN)
    assert xpath(tree(xml), "datacite:dates") == []
    assert_valid(xml, "oai_openaire")


# --- the real sample, property by property (OpenAIRE Literature v4) ------------------------


@pytest.fixture
def sample():
    """The real sample rendered for an open-access journal with a licence and a DOI."""
    settings = journal_settings({"access_right": "open", "license_url": CC_BY_NC})
    xml = render(replace(nkums_article(), doi="10.22034/nkums.18.2.12"), settings)
    return xml, tree(xml)


def test_sample_is_schema_valid(sample) -> None:
    assert_valid(sample[0], "oai_openaire")


def test_root_declares_the_namespaces_and_schema_location(sample) -> None:
    xml, root = sample
    assert root.tag == "{http://namespace.openaire.eu/schema/oaire/}resource"
    assert root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation") == (
        "http://namespace.openaire.eu/schema/oaire/ https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd")
    assert not xml.startswith("<?xml")


def test_titles_primary_first_then_translated(sample) -> None:
    titles = [(t.get(XML_LANG), t.get("titleType"), t.text) for t in xpath(sample[1], "datacite:titles/datacite:title")]
    article = nkums_article()
    assert titles == [("fa", None, article.title_fa), ("en", "TranslatedTitle", article.title_en)]


def test_creators_in_byline_order_with_fixed_child_order(sample) -> None:
    creators = xpath(sample[1], "datacite:creators/datacite:creator")
    assert [c.findtext("{*}creatorName") for c in creators] == [
        "Sadeghian-Nodoushan, Fatemeh", "Ahmadirad, Nooshin", "Kuchakzade, Fatemeh", "Babaloo, Hamideh"]
    third = creators[2]
    assert [e.tag.split("}")[1] for e in third] == [
        "creatorName", "givenName", "familyName", "nameIdentifier", "affiliation"]
    assert third[0].get("nameType") == "Personal" and third[0].get(XML_LANG) is None
    assert (third[3].text, third[3].get("nameIdentifierScheme"), third[3].get("schemeURI")) == (
        "https://orcid.org/0009-0009-5218-9750", "ORCID", "https://orcid.org")
    assert third[4].text == AFF_YAZD_EN  # the English affiliation verbatim, rank included
    assert creators[1].findtext("{*}affiliation") == AFF_TEHRAN_EN
    assert len(xpath(sample[1], "//datacite:nameIdentifier")) == 1  # fake ORCIDs never appear


def test_identifiers(sample) -> None:
    root = sample[1]
    (identifier,) = xpath(root, "datacite:identifier")
    assert (identifier.get("identifierType"), identifier.text) == ("URL", nkums_article().web_url)
    assert [(e.get("alternateIdentifierType"), e.text) for e in xpath(root, "datacite:alternateIdentifiers/*")] == [
        ("DOI", "10.22034/nkums.18.2.12")]
    assert [(e.get("relatedIdentifierType"), e.get("relationType"), e.text)
            for e in xpath(root, "datacite:relatedIdentifiers/*")] == [
        ("PISSN", "IsPartOf", "2008-8701"), ("EISSN", "IsPartOf", "2008-8698")]


def test_without_landing_page_the_doi_is_the_identifier() -> None:
    article = replace(nkums_article(), web_url=None, doi="10.22034/nkums.18.2.12")
    root = tree(render(article, OPEN))
    assert [(e.get("identifierType"), e.text) for e in xpath(root, "datacite:identifier")] == [
        ("DOI", "10.22034/nkums.18.2.12")]
    assert xpath(root, "datacite:alternateIdentifiers") == []


def test_without_any_identifier_or_title_there_is_no_record() -> None:
    assert render(replace(nkums_article(), web_url="not a url", doi=None), OPEN) is None
    assert render(replace(nkums_article(), title_en=None, title_fa="  "), OPEN) is None


def test_language_publisher_type_version_and_citation(sample) -> None:
    root = sample[1]
    assert texts(root, "dc:language") == ["fas"]
    (publisher,) = xpath(root, "dc:publisher")
    assert (publisher.text, publisher.get(XML_LANG)) == ("مجله دانشگاه علوم پزشکی خراسان شمالی", "fa")
    (kind,) = xpath(root, "oaire:resourceType")
    assert (kind.get("resourceTypeGeneral"), kind.get("uri"), kind.text) == (
        "literature", "http://purl.org/coar/resource_type/c_dcae04bc", "review article")
    (version,) = xpath(root, "oaire:version")
    assert (version.get("uri"), version.text) == ("http://purl.org/coar/version/c_970fb48d4fbd8a85", "VoR")
    citation = [(e.tag.split("}")[1], e.text) for e in xpath(root, "oaire:*[starts-with(local-name(), 'citation')]")]
    assert citation == [("citationTitle", "مجله دانشگاه علوم پزشکی خراسان شمالی"), ("citationVolume", "18"),
                        ("citationIssue", "2"), ("citationStartPage", "12"), ("citationEndPage", "25")]
    # Deliberately absent: source (reserved for digitised originals), file (no PDF URL), format.
    assert xpath(root, "dc:source | oaire:file | dc:format") == []


def test_configured_publisher_is_used() -> None:
    root = tree(render(nkums_article(), journal_settings({"access_right": "open", "publisher": "NKUMS Press"})))
    assert [(e.text, e.get(XML_LANG)) for e in xpath(root, "dc:publisher")] == [("NKUMS Press", None)]


def test_descriptions_and_subjects(sample) -> None:
    root = sample[1]
    descriptions = [(d.get(XML_LANG), d.text) for d in xpath(root, "dc:description")]
    assert [lang for lang, _ in descriptions] == ["fa", "en"]
    assert descriptions[1][1].startswith("Introduction: Spinal cord injury (SCI)")
    assert " نتیجه\u200cگیری: " in descriptions[0][1]  # ZWNJ kept
    subjects = [(s.get(XML_LANG), s.text) for s in xpath(root, "datacite:subjects/datacite:subject")]
    assert subjects[0] == ("fa", "ضایعه نخاعی") and subjects[4] == ("en", "Cell Therapy")
    assert subjects[-2:] == [("fa", "علوم پایه"), ("en", "Basic Sciences")]
    assert all(s.get("subjectScheme") is None for s in xpath(root, "//datacite:subject"))


def test_licence_condition_only_when_configured(sample) -> None:
    (licence,) = xpath(sample[1], "oaire:licenseCondition")
    assert (licence.get("uri"), licence.get("startDate"), licence.text) == (CC_BY_NC, "2026-07-01", "CC BY-NC 4.0")
    assert xpath(tree(render(nkums_article(), OPEN)), "oaire:licenseCondition") == []


def test_licence_label_and_start_date_only_for_a_full_date() -> None:
    settings = journal_settings({"access_right": "open", "license_url": CC_BY_NC, "license_label": "Attribution-NC"})
    article = nkums_article()
    article = replace(article, issue=replace(article.issue, pub_date=PubDate("gregorian", 2026, 7)))
    (licence,) = xpath(tree(render(article, settings)), "oaire:licenseCondition")
    assert (licence.get("startDate"), licence.text) == (None, "Attribution-NC")


@pytest.mark.parametrize(("type_en", "uri", "label"), [
    ("Original Article", "c_2df8fbb1", "research article"),
    ("Systematic Review", "c_dcae04bc", "review article"),
    ("Editorial", "c_b239", "editorial"),
    ("Letter to the Editor", "c_545b", "letter to the editor"),
    ("Book Review", "c_ba08", "book review"),
    ("Case Report", "c_6501", "journal article"),
    ("Erratum", "c_6501", "journal article"),
    (None, "c_6501", "journal article"),
])
def test_resource_type_table(type_en, uri, label) -> None:
    article = replace(nkums_article(), type_en=type_en, type_fa=None)
    (kind,) = xpath(tree(render(article, OPEN)), "oaire:resourceType")
    assert (kind.get("uri"), kind.text) == (f"http://purl.org/coar/resource_type/{uri}", label)


def test_resource_type_follows_the_configured_article_types() -> None:
    settings = replace(OPEN, article_types={"pictorial essay": "review-article"})
    article = replace(nkums_article(), type_en="Pictorial Essay", type_fa=None)
    assert texts(tree(render(article, settings)), "oaire:resourceType") == ["review article"]


def test_persian_only_author_and_undetermined_language() -> None:
    author = Author(given_fa="فاطمه", surname_fa="کوچک زاده", affiliation_fa="دانشگاه، یزد، ایران")
    article = replace(nkums_article(), authors=(author,), language="und")
    xml = render(article, OPEN)
    (creator,) = xpath(tree(xml), "datacite:creators/datacite:creator")
    assert [e.text for e in creator] == ["کوچک زاده, فاطمه", "فاطمه", "کوچک زاده", "دانشگاه، یزد، ایران"]
    assert xpath(tree(xml), "dc:language") == []
    assert_valid(xml, "oai_openaire")


def test_no_named_author_means_no_creators() -> None:
    xml = render(replace(nkums_article(), authors=(Author(email="x@example.org"),)), OPEN)
    assert xpath(tree(xml), "datacite:creators") == []
    assert_valid(xml, "oai_openaire")


access_settings = st.sampled_from([
    OPEN, journal_settings({"access_right": "embargoed", "embargo_end": "2030-12-31", "license_url": CC_BY_NC}),
    journal_settings({"access_right": "metadata-only", "license_url": "https://example.org/a b", "publisher": "P&Q"}),
    CrosswalkSettings(rights="info:eu-repo/semantics/openAccess", license_url="not a url"),
])


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles, settings=access_settings)
def test_any_article_renders_a_valid_record_or_none(article, settings) -> None:
    settings = replace(settings, journals={article.journal.key: v for v in settings.journals.values()})
    xml = render(article, settings)
    if xml is None:
        return
    assert_valid(xml, "oai_openaire")
    for value in forbidden_values(article, emails_allowed=False):
        assert value not in xml


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_every_sample_file_renders_valid_records(path) -> None:
    issue = parse_issue(path.read_bytes())
    settings = journal_settings({"access_right": "open", "license_url": CC_BY_NC}, key=issue.journal.key)
    for article in issue.articles:
        xml = render(article, settings)
        assert_valid(xml, "oai_openaire")
        for value in INTERNAL_VALUES:
            assert value not in xml


# --- served: GetRecord / ListRecords over every sample and the hand-made issue ----------------


def test_served_records_are_valid_and_only_for_journals_with_an_access_right(repository, oai) -> None:
    records = harvest_records(oai, "oai_openaire")
    journals = {identifier.split(":")[2].split("/")[0] for identifier in records}
    assert journals == {NKUMS, TJMS}  # the hand-made issue's journal has no access right
    everything = live_identifiers(oai)
    assert set(records) == {i for i in everything if f":{HAND_MADE}/" not in i}
    embargoed = [r for i, r in records.items() if f":{TJMS}/" in i]
    assert embargoed and all(texts(r, "datacite:rights") == ["embargoed access"] for r in embargoed)
    assert all(texts(r, "datacite:dates/datacite:date[@dateType='Available']") == ["2027-01-01"] for r in embargoed)


def test_a_journal_without_access_right_cannot_disseminate(repository, oai) -> None:
    hand_made = f"oai:{REPOSITORY_IDENTIFIER}:{HAND_MADE}/H-1"
    assert hand_made in live_identifiers(oai)
    tree_ = oai(verb="GetRecord", identifier=hand_made, metadataPrefix="oai_openaire")
    assert error_codes(tree_) == ["cannotDisseminateFormat"]
    listed = {f.text for f in oai(verb="ListMetadataFormats", identifier=hand_made).iterfind(".//o:metadataPrefix", NS)}
    assert "oai_openaire" not in listed and {"oai_dc", "datacite", "mods", "marcxml"} <= listed
    listed = {f.text for f in oai(verb="ListMetadataFormats", identifier=REVIEW).iterfind(".//o:metadataPrefix", NS)}
    assert "oai_openaire" in listed


def test_no_configured_journal_means_no_oai_openaire_records(config, app, oai) -> None:
    from oaiserver import create_app

    bare = create_app({**config, "OAI_JOURNALS": {}})  # the same database, no rights configured
    assert bare.test_cli_runner().invoke(args=["ingest", str(NKUMS_SAMPLE)]).exit_code == 0
    assert error_codes(oai(verb="ListRecords", metadataPrefix="oai_openaire")) == ["noRecordsMatch"]
    assert error_codes(oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="oai_openaire")) == [
        "cannotDisseminateFormat"]


def test_persian_values_are_byte_exact(repository, client) -> None:
    body = client.get("/oai", query_string={"verb": "GetRecord", "identifier": REVIEW,
                                             "metadataPrefix": "oai_openaire"}).data
    journal_title, article_title = source_text(NKUMS_SAMPLE, "title_fa"), source_text(NKUMS_SAMPLE, "title_fa", 1)
    assert f'<datacite:title xml:lang="fa">{article_title}</datacite:title>'.encode() in body
    assert f"<oaire:citationTitle>{journal_title}</oaire:citationTitle>".encode() in body
    assert f'>{source_text(NKUMS_SAMPLE, "subject_fa")}</datacite:subject>'.encode() in body
    for keyword in source_text(NKUMS_SAMPLE, "keyword_fa").split(", "):
        assert f">{keyword}</datacite:subject>".encode() in body


def test_the_response_validator_on_the_hand_written_samples() -> None:
    """Valid, invalid, and "XSD-valid but incomplete" (the XSD enforces no mandatory property)."""
    assert schema_sample_verdicts("oai_openaire") == {
        "getrecord_oai_openaire.xml": True, "getrecord_oai_openaire_invalid.xml": False,
        "getrecord_oai_openaire_xsd_valid_incomplete.xml": True}
