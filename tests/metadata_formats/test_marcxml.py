"""Tests for the marcxml format (MARC 21 bibliographic, MARCXML slim)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

import metadata_formats
from metadata_formats import CrosswalkSettings, marcxml
from oaiserver.ingest.parsing import parse_issue
from oaiserver.model import Author, PubDate
from tests.helpers.crosswalk_helpers import (
    AFF_TEHRAN_EN, AFF_YAZD_EN, INTERNAL_VALUES, SAMPLES_DIR, articles, assert_valid, forbidden_values, nkums_article,
)
from tests.helpers.formats import (
    CC_BY_NC, OPEN, REVIEW, harvest_records, journal_settings, live_identifiers, schema_sample_verdicts,
    source_text, texts, tree, xpath,
)

render = marcxml.render
DEFAULT = CrosswalkSettings()
NKUMS_SAMPLE = SAMPLES_DIR / "nkums-v18n2.xml"
DOI = "10.22034/nkums.18.2.12"


def fields(root) -> list[tuple[str, str, str, list[tuple[str, str]]]]:
    """Every datafield as (tag, ind1, ind2, [(code, value)])."""
    return [(f.get("tag"), f.get("ind1"), f.get("ind2"), [(s.get("code"), s.text) for s in f])
            for f in xpath(root, "marc:datafield")]


def field(root, tag: str) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """The datafields with one tag, as (ind1, ind2, subfields)."""
    return [(i1, i2, subs) for t, i1, i2, subs in fields(root) if t == tag]


def test_registry_exposes_marcxml() -> None:
    fmt = metadata_formats.get("marcxml")
    assert fmt is marcxml.FORMAT
    assert (fmt.namespace, fmt.schema) == (
        "http://www.loc.gov/MARC21/slim", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd")


@pytest.fixture
def sample():
    """The real sample with a DOI, an access right and a licence."""
    settings = journal_settings({"access_right": "open", "license_url": CC_BY_NC, "publisher": "NKUMS Press"})
    xml = render(replace(nkums_article(), doi=DOI), settings)
    return xml, tree(xml)


def test_sample_is_schema_valid(sample) -> None:
    assert_valid(sample[0], "marcxml")


def test_leader_and_control_fields(sample) -> None:
    root = sample[1]
    assert root.get("type") == "Bibliographic"
    assert texts(root, "marc:leader") == ["00000nab a22000003c 4500"]
    assert texts(root, "marc:controlfield[@tag='001']") == ["A-10-25-972"]
    (fixed,) = texts(root, "marc:controlfield[@tag='008']")
    assert fixed == "260701s2026    ir |||||||||||||||||per d" and len(fixed) == 40


@pytest.mark.parametrize(("date", "language", "expected"), [
    (PubDate("gregorian", 2026, 7), "en", "260701s2026    ir |||||||||||||||||eng d"),
    (PubDate("gregorian", 1999), "und", "990101s1999    ir |||||||||||||||||und d"),
    (None, "fa", "000000nuuuu    ir |||||||||||||||||per d"),
])
def test_fixed_data_comes_from_the_issue_not_the_clock(date, language, expected) -> None:
    article = nkums_article()
    article = replace(article, issue=replace(article.issue, pub_date=date), language=language)
    assert texts(tree(render(article, DEFAULT)), "marc:controlfield[@tag='008']") == [expected]


def test_fields_are_in_tag_order_and_blank_indicators_are_spaces(sample) -> None:
    tags = [tag for tag, _, _, _ in fields(sample[1])]
    assert tags == sorted(tags)
    assert tags == ["024", "041", "100", "245", "246", "264", "336", "337", "338", "506", "520", "520", "540",
                    "546", "653", "653", "653", "653", "653", "653", "653", "653", "653", "653", "655", "700",
                    "700", "700", "773", "856", "856"]
    assert "#" not in sample[0].replace("&#", "")


def test_identifiers_and_languages(sample) -> None:
    root = sample[1]
    assert field(root, "024") == [("7", " ", [("a", DOI), ("2", "doi")])]
    assert field(root, "041") == [("0", " ", [("a", "per"), ("b", "per"), ("b", "eng")])]
    assert field(root, "546") == [(" ", " ", [("a", "Text in Persian; abstracts in Persian and English.")])]
    assert field(root, "856") == [("4", "0", [("u", f"https://doi.org/{DOI}")]),
                                  ("4", "0", [("u", nkums_article().web_url)])]


def test_authors(sample) -> None:
    root = sample[1]
    assert field(root, "100") == [("1", " ", [("a", "Sadeghian-Nodoushan, Fatemeh"), ("e", "author"),
                                               ("u", AFF_YAZD_EN), ("4", "aut")])]
    added = field(root, "700")
    assert [subs[0][1] for _, _, subs in added] == ["Ahmadirad, Nooshin", "Kuchakzade, Fatemeh", "Babaloo, Hamideh"]
    assert added[0][2][2] == ("u", AFF_TEHRAN_EN)
    assert ("1", "https://orcid.org/0009-0009-5218-9750") in added[1][2]


def test_a_forename_only_author_and_no_author_at_all() -> None:
    root = tree(render(replace(nkums_article(), authors=(Author(given_en="Madonna"),)), DEFAULT))
    assert field(root, "100") == [("0", " ", [("a", "Madonna"), ("e", "author"), ("4", "aut")])]
    root = tree(render(replace(nkums_article(), authors=()), DEFAULT))
    assert field(root, "100") == [] and field(root, "245")[0][:2] == ("0", "0")


def test_titles_and_publication(sample) -> None:
    root = sample[1]
    article = nkums_article()
    assert field(root, "245") == [("1", "0", [("a", article.title_fa)])]
    assert field(root, "246") == [("3", "1", [("a", article.title_en)])]
    assert field(root, "264") == [(" ", "1", [("b", "NKUMS Press"), ("c", "2026")])]
    assert field(root, "336")[0][2] == [("a", "text"), ("b", "txt"), ("2", "rdacontent")]


def test_notes_subjects_and_genre(sample) -> None:
    root = sample[1]
    assert field(root, "506") == [("0", " ", [("a", "Open access"), ("f", "Unrestricted online access"), ("2", "star")])]
    assert field(root, "540") == [(" ", " ", [("f", "CC BY-NC 4.0"), ("2", "cc"), ("u", CC_BY_NC)])]
    abstracts = field(root, "520")
    assert [i1 for i1, _, _ in abstracts] == ["3", "3"]
    assert abstracts[1][2][0][1].startswith("Introduction: Spinal cord injury")
    assert [subs[0][1] for _, _, subs in field(root, "653")][:2] == ["ضایعه نخاعی", "سلولهای بنیادی مزانشیمی"]
    assert field(root, "655") == [(" ", "4", [("a", "Review article")])]


def test_host_item(sample) -> None:
    assert field(sample[1], "773") == [("0", " ", [
        ("t", "مجله دانشگاه علوم پزشکی خراسان شمالی"), ("g", "Vol. 18, no. 2 (2026), p. 12-25"),
        ("q", "18:2<12"), ("x", "2008-8698"), ("7", "nnas")])]


@pytest.mark.parametrize(("volume", "number", "first", "last", "g", "q"), [
    ("18", None, "12", "12", "Vol. 18 (2026), p. 12", "18<12"),
    (None, None, "e12", None, "2026, p. e12", None),
    (None, "3", None, None, "no. 3 (2026)", "3"),
])
def test_host_item_with_missing_parts(volume, number, first, last, g, q) -> None:
    article = nkums_article()
    article = replace(article, issue=replace(article.issue, volume=volume, number=number),
                      first_page=first, last_page=last)
    ((_, _, subs),) = field(tree(render(article, DEFAULT)), "773")
    assert dict(subs).get("g") == g and dict(subs).get("q") == q


@pytest.mark.parametrize(("entry", "expected"), [
    ({"access_right": "embargoed", "embargo_end": "2027-01-01"},
     ("1", " ", [("a", "Embargoed access"), ("g", "2027-01-01")])),
    ({"access_right": "restricted"},
     ("1", " ", [("a", "Restricted access"), ("f", "Online access with authorization"), ("2", "star")])),
    ({"access_right": "metadata-only"}, ("1", " ", [("a", "Metadata only access")])),
])
def test_access_notes(entry, expected) -> None:
    assert field(tree(render(nkums_article(), journal_settings(entry))), "506") == [expected]


def test_rights_notes_only_when_configured() -> None:
    root = tree(render(nkums_article(), DEFAULT))
    assert field(root, "506") == [] and field(root, "540") == []
    settings = journal_settings({"license_url": "https://example.org/terms", "license_label": "Our terms"})
    assert field(tree(render(nkums_article(), settings)), "540") == [
        (" ", " ", [("a", "Our terms"), ("u", "https://example.org/terms")])]


rights_settings = st.sampled_from([
    DEFAULT, OPEN, journal_settings({"access_right": "embargoed", "embargo_end": "2030-12-31", "license_url": CC_BY_NC}),
    CrosswalkSettings(rights="info:eu-repo/semantics/restrictedAccess", license_url="not a url", publisher="P&Q"),
])


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles, settings=rights_settings)
def test_any_article_renders_a_valid_record(article, settings) -> None:
    settings = replace(settings, journals={article.journal.key: v for v in settings.journals.values()})
    xml = render(article, settings)
    assert_valid(xml, "marcxml")
    assert len(texts(tree(xml), "marc:controlfield[@tag='008']")[0]) == 40
    for value in forbidden_values(article, emails_allowed=False):
        assert value not in xml


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_every_sample_file_renders_valid_records(path) -> None:
    for article in parse_issue(path.read_bytes()).articles:
        xml = render(article, DEFAULT)
        assert_valid(xml, "marcxml")
        for value in INTERNAL_VALUES:
            assert value not in xml


def test_served_records_are_valid_in_both_get_record_and_list_records(repository, oai) -> None:
    records = harvest_records(oai, "marcxml")
    assert set(records) == live_identifiers(oai)
    assert texts(records[REVIEW], "marc:datafield[@tag='506']/marc:subfield[@code='a']") == ["Open access"]


def test_persian_values_are_byte_exact(repository, client) -> None:
    body = client.get("/oai", query_string={"verb": "GetRecord", "identifier": REVIEW, "metadataPrefix": "marcxml"}).data
    assert f'<subfield code="a">{source_text(NKUMS_SAMPLE, "title_fa", 1)}</subfield>'.encode() in body
    assert f'<subfield code="t">{source_text(NKUMS_SAMPLE, "title_fa")}</subfield>'.encode() in body
    for keyword in source_text(NKUMS_SAMPLE, "keyword_fa").split(", "):
        assert f'<subfield code="a">{keyword}</subfield>'.encode() in body


def test_the_response_validator_on_the_hand_written_samples() -> None:
    assert schema_sample_verdicts("marcxml") == {"getrecord_marcxml.xml": True, "getrecord_marcxml_invalid.xml": False}
