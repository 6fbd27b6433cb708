"""Tests for the oai_dc crosswalk, and the hand-worked oai_dc record of the real sample."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from lxml import etree

import metadata_formats
from oaiserver.ingest.parsing import parse_issue
from metadata_formats import CrosswalkSettings, oai_dc
from oaiserver.model import AbstractBlock, Author, Inline, PubDate
from tests.helpers.crosswalk_helpers import (
    INTERNAL_VALUES,
    SAMPLES_DIR,
    articles,
    assert_valid,
    forbidden_values,
    nkums_article,
)

DC = "{http://purl.org/dc/elements/1.1/}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DEFAULT = CrosswalkSettings()

#: The hand-worked oai_dc record of the real sample, field by field (descriptions are checked
#: separately: the hand-worked record abridges them). The two subject categories after the
#: keywords are our addition: the subject category is also a dc:subject.
EXPECTED = [
    ("title", "fa", "کاربرد سلولهای بنیادی مزانشیمی در ترمیم ضایعات نخاعی: مروری بر پیشرفتها، مکانیسمها و مطالعات بالینی اخیر"),
    ("title", "en", "Applications of Mesenchymal Stem Cells in Spinal Cord Injury Repair: A Review of Advances, Mechanisms, and Recent Clinical Studies"),
    ("creator", None, "Sadeghian-Nodoushan, Fatemeh"),
    ("creator", None, "Ahmadirad, Nooshin"),
    ("creator", None, "Kuchakzade, Fatemeh"),
    ("creator", None, "Babaloo, Hamideh"),
    ("subject", "fa", "ضایعه نخاعی"),
    ("subject", "fa", "سلولهای بنیادی مزانشیمی"),
    ("subject", "fa", "سلولدرمانی"),
    ("subject", "fa", "سیستم اعصاب مرکزی"),
    ("subject", "en", "Cell Therapy"),
    ("subject", "en", "Central Nervous System"),
    ("subject", "en", "Mesenchymal Stem Cells"),
    ("subject", "en", "Spinal Cord Injury"),
    ("subject", "fa", "علوم پایه"),
    ("subject", "en", "Basic Sciences"),
    ("publisher", "fa", "مجله دانشگاه علوم پزشکی خراسان شمالی"),
    ("date", None, "2026-07-01"),
    ("type", None, "info:eu-repo/semantics/article"),
    ("type", None, "info:eu-repo/semantics/publishedVersion"),
    ("type", "fa", "مقالات مروری"),
    ("type", "en", "Review Article"),
    ("identifier", None, "http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&slc_lang=other&sid=1"),
    ("source", "fa", "مجله دانشگاه علوم پزشکی خراسان شمالی; Vol. 18 No. 2 (2026); 12-25"),
    ("source", "en", "North Khorasan University of Medical Sciences; Vol. 18 No. 2 (2026); 12-25"),
    ("source", None, "2008-8701"),
    ("source", None, "2008-8698"),
    ("language", None, "fas"),
    ("relation", None, "info:eu-repo/semantics/altIdentifier/pissn/2008-8701"),
    ("relation", None, "info:eu-repo/semantics/altIdentifier/eissn/2008-8698"),
]


def statements(xml: str, name: str | None = None) -> list[tuple[str, str | None, str]]:
    """Return (element, xml:lang, text) for every DC element of a record, optionally one kind."""
    root = etree.fromstring(xml)
    found = [(e.tag.replace(DC, ""), e.get(XML_LANG), e.text) for e in root]
    return [s for s in found if name is None or s[0] == name]


def values(xml: str, name: str) -> list[str]:
    """Return the texts of one DC element."""
    return [text for _, _, text in statements(xml, name)]


@pytest.fixture
def sample_xml() -> str:
    """The rendered real sample with default settings."""
    return oai_dc.render(nkums_article(), DEFAULT)


def test_registry_exposes_oai_dc() -> None:
    fmt = metadata_formats.get("oai_dc")
    assert fmt is oai_dc.FORMAT
    assert fmt.namespace == "http://www.openarchives.org/OAI/2.0/oai_dc/"
    assert fmt.schema == "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"


def test_sample_is_schema_valid(sample_xml: str) -> None:
    assert_valid(sample_xml, "oai_dc")


def test_sample_matches_worked_example_field_by_field(sample_xml: str) -> None:
    rendered = [s for s in statements(sample_xml) if s[0] != "description"]
    assert rendered == EXPECTED


def test_sample_descriptions_are_plain_text_with_inline_labels(sample_xml: str) -> None:
    (fa_lang, fa), (en_lang, en) = [(lang, text) for _, lang, text in statements(sample_xml, "description")]
    assert (fa_lang, en_lang) == ("fa", "en")
    assert fa.startswith("مقدمه: ضایعه نخاعی نوعی آسیب تروماتیک")
    assert " نتیجه\u200cگیری: به\u200cطور کلی" in fa  # ZWNJ kept (decisions.md Q3)
    assert en.startswith("Introduction: Spinal cord injury (SCI) is a traumatic condition")
    assert " Methods: In this review" in en and " Results: The findings" in en
    assert " Conclusions: Overall, evidence suggests" in en
    assert "patients\u2019 sensory" in en
    assert not any(ch in en + fa for ch in "<>&\n")


def test_sample_root_declares_schema_location(sample_xml: str) -> None:
    root = etree.fromstring(sample_xml)
    assert root.tag == "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
    location = root.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation")
    assert location == "http://www.openarchives.org/OAI/2.0/oai_dc/ http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
    assert not sample_xml.startswith("<?xml")


def test_sample_has_no_internal_values_or_author_details(sample_xml: str) -> None:
    for value in INTERNAL_VALUES + ("hbabaloo92@gmail.com", "0009-0009-5218-9750", "Assistant Professor"):
        assert value not in sample_xml


def test_settings_supply_publisher_and_rights() -> None:
    settings = CrosswalkSettings(
        publisher="North Khorasan University of Medical Sciences Press",
        rights="info:eu-repo/semantics/openAccess",
        license_url="https://creativecommons.org/licenses/by-nc/4.0/",
    )
    xml = oai_dc.render(nkums_article(), settings)
    assert statements(xml, "publisher") == [("publisher", None, settings.publisher)]
    assert values(xml, "rights") == [settings.rights, settings.license_url]
    assert_valid(xml, "oai_dc")


def test_doi_is_a_url_identifier_and_an_alt_identifier() -> None:
    xml = oai_dc.render(replace(nkums_article(), doi="10.22034/nkums.18.2.12"), DEFAULT)
    assert values(xml, "identifier") == [
        "http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&slc_lang=other&sid=1",
        "https://doi.org/10.22034/nkums.18.2.12",
    ]
    assert values(xml, "relation")[-1] == "info:eu-repo/semantics/altIdentifier/doi/10.22034/nkums.18.2.12"


@pytest.mark.parametrize(
    ("author", "expected"),
    [
        (Author(given_en="John Paul", surname_en="Smit", suffix_en="Jr."), ("creator", "Smit Jr., John Paul", None)),
        (Author(given_fa="فاطمه", surname_fa="کوچک زاده"), ("creator", "کوچک زاده, فاطمه", "fa")),
        (Author(given_en="Madonna", given_fa="مدونا"), ("creator", "Madonna", None)),
        (Author(surname_en="Babaloo"), ("creator", "Babaloo", None)),
        (Author(email="x@example.org"), None),
    ],
)
def test_creator_name_forms(author: Author, expected: tuple | None) -> None:
    assert oai_dc.creator(author) == expected


@pytest.mark.parametrize(("language", "code"), [("fa", "fas"), ("en", "eng"), ("ar", "ara"), ("und", None)])
def test_language_is_iso_639_3(language: str, code: str | None) -> None:
    xml = oai_dc.render(replace(nkums_article(), language=language), DEFAULT)
    assert values(xml, "language") == ([code] if code else [])


def test_english_article_lists_english_first() -> None:
    xml = oai_dc.render(replace(nkums_article(), language="en"), DEFAULT)
    assert [lang for _, lang, _ in statements(xml, "title")] == ["en", "fa"]
    assert [lang for _, lang, _ in statements(xml, "subject")][:4] == ["en"] * 4
    # The publisher fallback follows the journal's language, not the article's.
    assert statements(xml, "publisher")[0][1] == "fa"


@pytest.mark.parametrize(
    ("volume", "number", "date", "first", "last", "expected"),
    [
        ("18", None, PubDate("gregorian", 2026), "12", None, "Vol. 18 (2026); 12"),
        (None, "2", None, None, "25", "No. 2"),
        (None, None, PubDate("gregorian", 2026, 7), None, None, "2026"),
        (None, None, None, None, None, None),
        ("3", "1", None, "e12", "e12", "Vol. 3 No. 1; e12"),
    ],
)
def test_source_handles_missing_parts(volume, number, date, first, last, expected) -> None:
    article = nkums_article()
    issue = replace(article.issue, volume=volume, number=number, pub_date=date)
    xml = oai_dc.render(replace(article, issue=issue, first_page=first, last_page=last), DEFAULT)
    title = "North Khorasan University of Medical Sciences"
    english = [text for _, lang, text in statements(xml, "source") if lang == "en"]
    assert english == ([f"{title}; {expected}"] if expected else [title])


def test_source_without_journal_title_still_cites_the_issue() -> None:
    article = nkums_article()
    journal = replace(article.journal, title_en=None, title_fa=None)
    xml = oai_dc.render(replace(article, journal=journal), DEFAULT)
    assert statements(xml, "source")[0] == ("source", None, "Vol. 18 No. 2 (2026); 12-25")
    assert values(xml, "publisher") == []


@pytest.mark.parametrize(
    ("date", "expected"),
    [(PubDate("gregorian", 2026, 7), ["2026-07"]), (PubDate("gregorian", 2026), ["2026"]),
     (PubDate("gregorian", 2026, 6, 22, derived=True), ["2026-06-22"]),
     (PubDate("persian", 1405, 4, 1), []), (None, [])],
)
def test_date_is_gregorian_w3cdtf(date: PubDate | None, expected: list[str]) -> None:
    article = nkums_article()
    xml = oai_dc.render(replace(article, issue=replace(article.issue, pub_date=date)), DEFAULT)
    assert values(xml, "date") == expected


def test_description_drops_styles_and_markup() -> None:
    block = AbstractBlock("Methods:", (Inline(": We used "), Inline("H", ("bold",)), Inline("2", ("sub",)),
                                        Inline("O <b>&amp;</b>\n\n  more.")))
    xml = oai_dc.render(replace(nkums_article(), abstract_en=(block,)), DEFAULT)
    assert values(xml, "description")[1] == "Methods: We used H2O <b>&amp;</b> more."
    assert "<b>" not in xml  # the literal text is escaped, never markup


def test_missing_title_and_types_in_one_language() -> None:
    article = replace(nkums_article(), title_fa=None, type_fa="  ", keywords_fa=())
    xml = oai_dc.render(article, DEFAULT)
    assert statements(xml, "title") == [("title", "en", article.title_en)]
    assert values(xml, "type")[2:] == ["Review Article"]
    assert_valid(xml, "oai_dc")


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles)
def test_any_article_renders_a_valid_record(article) -> None:
    xml = oai_dc.render(article, DEFAULT)
    assert_valid(xml, "oai_dc")
    for value in forbidden_values(article, emails_allowed=False):
        assert value not in xml


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_every_sample_file_renders_valid_records(path) -> None:
    issue = parse_issue(path.read_bytes())
    assert issue.articles
    for article in issue.articles:
        xml = oai_dc.render(article, DEFAULT)
        assert_valid(xml, "oai_dc")
        for value in INTERNAL_VALUES:
            assert value not in xml


def test_the_plain_abstract_is_worked_out_once_per_article_and_slot(monkeypatch):
    """Every format of one article shares it (ingest renders them in a row); another article gets its own."""
    from oaiserver.ingest.prepare import render_article

    calls: list[str] = []
    original = oai_dc._plain_abstract

    def counted(article, slot):  # type: ignore[no-untyped-def]
        calls.append(slot)
        return original(article, slot)

    monkeypatch.setattr(oai_dc, "_plain_abstract", counted)
    article = nkums_article()
    settings = CrosswalkSettings.from_config({"OAI_JOURNALS": {article.journal.key: {"access_right": "open"}}})
    rendered = render_article(article, settings)
    assert sorted(calls) == ["en", "fa"] and len(rendered.renditions) == len(metadata_formats.FORMATS)
    other = replace(article, key=article.key + "-2")
    assert oai_dc.plain_abstract(other, "en") == original(article, "en")
    assert sorted(calls) == ["en", "en", "fa"]
