"""Tests for the JATS 1.3 crosswalk, and the hand-worked JATS record of the real sample."""
from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings as hsettings
from lxml import etree

import metadata_formats
from metadata_formats import common, venue
from oaiserver.ingest.parsing import parse_issue
from metadata_formats import CrosswalkSettings
from metadata_formats.jats import render as jats
from metadata_formats.article_types import article_type
from oaiserver.model import AbstractBlock, Author, Inline, PubDate
from tests.helpers.crosswalk_helpers import (
    ABSTRACT_EN,
    ABSTRACT_FA,
    INTERNAL_VALUES,
    SAMPLES_DIR,
    articles,
    assert_valid,
    assert_valid_response,
    forbidden_values,
    nkums_article,
)

NS = "https://jats.nlm.nih.gov/ns/publishing/1.3/"
J = {"j": NS, "xlink": "http://www.w3.org/1999/xlink", "ali": "http://www.niso.org/schemas/ali/1.0/"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
DEFAULT = CrosswalkSettings()

#: The JATS record of the real sample, worked by hand and validated, verbatim except: the OAI
#: namespace of decisions.md D4 on <article>; the abstracts (abridged by hand), which
#: test_sample_abstracts checks against the full text; and the aff ids, which carry a
#: per-record suffix (see AFF_SUFFIX).
WORKED_EXAMPLE_ABRIDGED = """
<article xmlns="https://jats.nlm.nih.gov/ns/publishing/1.3/" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:mml="http://www.w3.org/1998/Math/MathML"
  xmlns:ali="http://www.niso.org/schemas/ali/1.0/" article-type="review-article" dtd-version="1.3" xml:lang="fa">
 <front>
  <journal-meta>
   <journal-id journal-id-type="publisher-id">journal.nkums.ac.ir</journal-id>
   <journal-id journal-id-type="doi">10.22034/nkums</journal-id>
   <journal-title-group>
    <journal-title>مجله دانشگاه علوم پزشکی خراسان شمالی</journal-title>
    <trans-title-group xml:lang="en"><trans-title>North Khorasan University of Medical Sciences</trans-title></trans-title-group>
   </journal-title-group>
   <issn publication-format="print">2008-8701</issn>
   <issn publication-format="electronic">2008-8698</issn>
   <self-uri xlink:href="http://journal.nkums.ac.ir" xlink:title="Journal home page"/>
  </journal-meta>
  <article-meta>
   <article-id pub-id-type="publisher-id">A-10-25-972</article-id>
   <article-categories>
    <subj-group subj-group-type="display-channel"><subject>مقالات مروری</subject></subj-group>
    <subj-group subj-group-type="display-channel" xml:lang="en"><subject>Review Article</subject></subj-group>
    <subj-group subj-group-type="heading"><subject>علوم پایه</subject></subj-group>
    <subj-group subj-group-type="heading" xml:lang="en"><subject>Basic Sciences</subject></subj-group>
   </article-categories>
   <title-group>
    <article-title>کاربرد سلولهای بنیادی مزانشیمی در ترمیم ضایعات نخاعی: مروری بر پیشرفتها، مکانیسمها و مطالعات بالینی اخیر</article-title>
    <trans-title-group xml:lang="en"><trans-title>Applications of Mesenchymal Stem Cells in Spinal Cord Injury Repair: A Review of Advances, Mechanisms, and Recent Clinical Studies</trans-title></trans-title-group>
   </title-group>
   <contrib-group>
    <contrib contrib-type="author">
     <name-alternatives>
      <name name-style="western" xml:lang="en"><surname>Sadeghian-Nodoushan</surname><given-names>Fatemeh</given-names></name>
      <name name-style="western" xml:lang="fa"><surname>صادقیان ندوشن</surname><given-names>فاطمه</given-names></name>
     </name-alternatives>
     <xref ref-type="aff" rid="aff1"/>
    </contrib>
    <contrib contrib-type="author">
     <name-alternatives>
      <name name-style="western" xml:lang="en"><surname>Ahmadirad</surname><given-names>Nooshin</given-names></name>
      <name name-style="western" xml:lang="fa"><surname>احمدی راد</surname><given-names>نوشین</given-names></name>
     </name-alternatives>
     <xref ref-type="aff" rid="aff2"/>
    </contrib>
    <contrib contrib-type="author">
     <contrib-id contrib-id-type="orcid" authenticated="false">https://orcid.org/0009-0009-5218-9750</contrib-id>
     <name-alternatives>
      <name name-style="western" xml:lang="en"><surname>Kuchakzade</surname><given-names>Fatemeh</given-names></name>
      <name name-style="western" xml:lang="fa"><surname>کوچک زاده</surname><given-names>فاطمه</given-names></name>
     </name-alternatives>
     <xref ref-type="aff" rid="aff1"/>
    </contrib>
    <contrib contrib-type="author" corresp="yes">
     <name-alternatives>
      <name name-style="western" xml:lang="en"><surname>Babaloo</surname><given-names>Hamideh</given-names></name>
      <name name-style="western" xml:lang="fa"><surname>بابالو</surname><given-names>حمیده</given-names></name>
     </name-alternatives>
     <email>hbabaloo92@gmail.com</email>
     <xref ref-type="aff" rid="aff1"/>
    </contrib>
    <aff-alternatives id="aff1">
     <aff xml:lang="en">Assistant Professor, Biotechnology Research Center, Yazd Reproductive Sciences Institute, Shahid Sadoughi University of Medical Sciences and Health Services, Yazd, <country country="IR">Iran</country></aff>
     <aff xml:lang="fa">استادیار، مرکز تحقیقات زیستفناوری، پژوهشکده علوم تولیدمثل یزد، دانشگاه علوم پزشکی و خدمات بهداشتی درمانی شهید صدوقی، یزد، <country country="IR">ایران</country></aff>
    </aff-alternatives>
    <aff-alternatives id="aff2">
     <aff xml:lang="en">Assistant Professor, Cellular and Molecular Research Center, Iran University of Medical Sciences and Health Services, Tehran, <country country="IR">Iran</country></aff>
     <aff xml:lang="fa">استادیار، مرکز تحقیقات سلولی و مولکولی، دانشگاه علوم پزشکی و خدمات بهداشتی درمانی ایران، تهران، <country country="IR">ایران</country></aff>
    </aff-alternatives>
   </contrib-group>
   <pub-date publication-format="electronic" date-type="pub" calendar="gregorian" iso-8601-date="2026-07-01"><day>01</day><month>07</month><year>2026</year></pub-date>
   <pub-date publication-format="electronic" date-type="pub" calendar="persian"><day>01</day><month>04</month><year>1405</year></pub-date>
   <volume>18</volume>
   <issue>2</issue>
   <fpage>12</fpage>
   <lpage>25</lpage>
   <self-uri xlink:href="http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&amp;slc_lang=other&amp;sid=1" xlink:title="Article landing page"/>
   <kwd-group kwd-group-type="author">
    <kwd>ضایعه نخاعی</kwd><kwd>سلولهای بنیادی مزانشیمی</kwd><kwd>سلولدرمانی</kwd><kwd>سیستم اعصاب مرکزی</kwd>
   </kwd-group>
   <kwd-group kwd-group-type="author" xml:lang="en">
    <kwd>Cell Therapy</kwd><kwd>Central Nervous System</kwd><kwd>Mesenchymal Stem Cells</kwd><kwd>Spinal Cord Injury</kwd>
   </kwd-group>
   <counts><page-count count="14"/></counts>
  </article-meta>
 </front>
</article>
"""
#: xs:ID must be unique across a whole ListRecords response, so "aff1" becomes "aff1-<journal>-<article>".
AFF_SUFFIX = "-2008-8701-A-10-25-972"
WORKED_EXAMPLE = WORKED_EXAMPLE_ABRIDGED.replace('"aff1"', f'"aff1{AFF_SUFFIX}"').replace('"aff2"', f'"aff2{AFF_SUFFIX}"')


def parse(xml: str) -> etree._Element:
    """Parse a record, dropping indentation."""
    return etree.fromstring(xml, etree.XMLParser(remove_blank_text=True))


def canonical(root: etree._Element) -> bytes:
    """Exclusive C14N: attribute order and unused namespace declarations do not matter."""
    return etree.tostring(root, method="c14n", exclusive=True)


def find(root: etree._Element, path: str) -> list[etree._Element]:
    """XPath with the j: (JATS), xlink: and ali: prefixes."""
    return root.xpath(path, namespaces=J)


def render(article=None, settings: CrosswalkSettings = DEFAULT) -> etree._Element:
    """Render (the real sample by default), check it is valid, and parse it."""
    xml = jats.render(article or nkums_article(), settings)
    assert xml is not None
    assert_valid(xml, "jats")
    return parse(xml)


def texts(root: etree._Element, path: str) -> list[str]:
    """The string values of the nodes at ``path``."""
    return [node.xpath("string()") for node in find(root, path)]


# --- the real sample, field by field ---------------------------------------------------------


def test_registry_exposes_jats() -> None:
    fmt = metadata_formats.get("jats")
    assert fmt is jats.FORMAT
    assert fmt.namespace == NS
    assert fmt.schema == "https://jats.nlm.nih.gov/publishing/1.3/xsd/JATS-journalpublishing1-3-mathml3.xsd"


def test_sample_is_schema_valid() -> None:
    assert_valid(jats.render(nkums_article(), DEFAULT), "jats")


def test_sample_matches_worked_example() -> None:
    rendered = render()
    for abstract in find(rendered, "//j:abstract | //j:trans-abstract"):
        abstract.getparent().remove(abstract)
    assert canonical(rendered).decode() == canonical(parse(WORKED_EXAMPLE)).decode()


@pytest.mark.parametrize(("path", "expected"), [("j:abstract", ABSTRACT_FA), ("j:trans-abstract", ABSTRACT_EN)])
def test_sample_abstracts(path: str, expected: tuple) -> None:
    (abstract,) = find(render(), f"//j:article-meta/{path}")
    sections = [(texts(sec, "j:title")[0], texts(sec, "j:p")) for sec in find(abstract, "j:sec")]
    assert sections == [(label, [text]) for label, text in expected]
    assert find(abstract, "j:p") == []
    assert abstract.get(XML_LANG) == (None if path == "j:abstract" else "en")


def test_sample_every_element_is_namespaced_and_nothing_internal_leaks() -> None:
    xml = jats.render(nkums_article(), DEFAULT)
    root = parse(xml)
    assert {etree.QName(e).namespace for e in root.iter()} == {NS}
    assert "<!DOCTYPE" not in xml and not xml.startswith("<?xml")
    assert "break" not in xml
    for value in INTERNAL_VALUES:
        assert value not in xml


def test_records_of_one_response_have_distinct_ids() -> None:
    article = nkums_article()
    other = replace(article, key="A-10-25-973")
    other_journal = replace(article, journal=replace(article.journal, key="2008-8698"))
    fragments = [jats.render(a, DEFAULT) for a in (article, other, other_journal)]
    assert_valid_response(fragments, "jats")  # a repeated xs:ID would make the response invalid


def test_sample_fixture_equals_the_parser_output() -> None:
    from oaiserver.ingest import parsing
    issue = parsing.parse_issue((SAMPLES_DIR / "nkums-v18n2.xml").read_bytes())
    assert issue.articles == (nkums_article(),)


# --- journal-meta ----------------------------------------------------------------------------


def test_journal_id_comes_from_settings_then_host_then_key() -> None:
    article = nkums_article()
    configured = CrosswalkSettings(journal_ids={"2008-8701": "nkums"})
    assert texts(render(article, configured), "//j:journal-id[@journal-id-type='publisher-id']") == ["nkums"]
    no_url = replace(article, journal=replace(article.journal, web_url=None))
    assert texts(render(no_url), "//j:journal-id[@journal-id-type='publisher-id']") == ["2008-8701"]


def test_abbreviation_only_when_shorter_and_publisher_from_settings() -> None:
    article = nkums_article()
    article = replace(article, journal=replace(article.journal, short_title="J North Khorasan Univ Med Sci"))
    root = render(article, CrosswalkSettings(publisher="NKUMS Press"))
    (abbrev,) = find(root, "//j:abbrev-journal-title")
    assert (abbrev.text, abbrev.get("abbrev-type"), abbrev.get(XML_LANG)) == ("J North Khorasan Univ Med Sci", "publisher", "en")
    assert texts(root, "//j:publisher/j:publisher-name") == ["NKUMS Press"]


@pytest.mark.parametrize(("print_issn", "online_issn"), [(None, None), ("", "  "), ("12345678", "abcd-efgh")])
def test_no_valid_issn_means_no_jats_record(print_issn, online_issn) -> None:
    article = nkums_article()
    journal = replace(article.journal, issn_print=print_issn, issn_electronic=online_issn)
    assert jats.render(replace(article, journal=journal), DEFAULT) is None


def test_one_issn_is_enough() -> None:
    article = nkums_article()
    root = render(replace(article, journal=replace(article.journal, issn_print=None)))
    assert [(e.get("publication-format"), e.text) for e in find(root, "//j:issn")] == [("electronic", "2008-8698")]


# --- titles, languages, types ----------------------------------------------------------------


def test_no_title_at_all_means_no_jats_record() -> None:
    assert jats.render(replace(nkums_article(), title_en=None, title_fa=" "), DEFAULT) is None


def test_missing_primary_title_promotes_the_other_with_its_language() -> None:
    root = render(replace(nkums_article(), title_fa=None))
    (title,) = find(root, "//j:title-group/j:article-title")
    assert title.get(XML_LANG) == "en" and title.text.startswith("Applications of")
    assert find(root, "//j:title-group/j:trans-title-group") == []


def test_english_article_swaps_primary_and_translated_roles() -> None:
    root = render(replace(nkums_article(), language="en"))
    assert root.get(XML_LANG) == "en"
    assert texts(root, "//j:article-title")[0].startswith("Applications of")
    assert find(root, "//j:title-group/j:trans-title-group/@xml:lang") == ["fa"]
    assert find(root, "//j:trans-abstract/@xml:lang") == ["fa"]
    assert [g.get(XML_LANG) for g in find(root, "//j:kwd-group")] == [None, "fa"]
    # Journal-level text keeps the journal's language order, labelled against the article's.
    assert find(root, "//j:journal-title/@xml:lang") == ["fa"]


@pytest.mark.parametrize(
    ("type_en", "type_fa", "expected"),
    [
        ("Review Article", "مقالات مروری", "review-article"),
        ("  ORIGINAL   research article ", None, "research-article"),
        (None, "مقاله پژوهشي", "research-article"),  # Arabic Yeh folded for matching only
        ("Something odd", "گزارش مورد", "case-report"),
        ("Letter to Editor", None, "letter"),
        ("Meta-Analysis", None, "review-article"),
        ("Erratum", None, "correction"),
        (None, None, "other"),
        ("Poem", "شعر", "other"),
    ],
)
def test_article_type_table(type_en, type_fa, expected) -> None:
    assert article_type(type_en, type_fa) == expected


def test_article_type_overrides_from_settings() -> None:
    settings = CrosswalkSettings(article_types={"poem": "other-poem", "review article": "research-article"})
    assert article_type("POEM", None, settings.article_types) == "other-poem"
    root = render(nkums_article(), settings)
    assert root.get("article-type") == "research-article"


def test_article_type_overrides_are_merged_once_per_table() -> None:
    from metadata_formats import article_types

    overrides = {"pictorial essay": "other-essay", "Poem ": "other-poem"}
    article_type("poem", None, overrides)
    before = article_types._merged.cache_info().misses
    # An equal table (another settings object built from the same configuration) reuses the merge.
    assert article_type("Pictorial  Essay", None, dict(overrides)) == "other-essay"
    assert article_type(None, "poem", overrides) == "other-poem"
    assert article_types._merged.cache_info().misses == before


def test_article_type_overrides_with_an_unhashable_value_still_apply() -> None:
    # A label that cleans to nothing is skipped, whatever its value (a list from a JSON setting).
    overrides = {"   ": ["research-article"], "poem": "other-poem"}
    assert article_type("poem", None, overrides) == "other-poem"


# --- contributors ----------------------------------------------------------------------------


def test_one_script_gives_a_single_name_and_no_surname_is_given_only() -> None:
    authors = (Author(given_fa="مدونا"), Author(surname_en="Smit", given_en="J.", suffix_en="Jr."))
    root = render(replace(nkums_article(), authors=authors))
    names = find(root, "//j:contrib/j:name")
    assert [(n.get("name-style"), n.get(XML_LANG)) for n in names] == [("given-only", "fa"), ("western", "en")]
    assert texts(root, "//j:contrib[2]/j:name/*") == ["Smit", "J.", "Jr."]
    assert find(root, "//j:name-alternatives") == [] and find(root, "//j:xref") == []


def test_authors_without_any_name_are_left_out_and_no_authors_is_valid() -> None:
    root = render(replace(nkums_article(), authors=(Author(email="x@example.org", corresponding=True),)))
    assert find(root, "//j:contrib-group") == []


@pytest.mark.parametrize(
    ("orcid", "expected"),
    [
        ("0000-0002-1825-0097", ["https://orcid.org/0000-0002-1825-0097"]),
        ("https://orcid.org/0000-0001-5109-3700", ["https://orcid.org/0000-0001-5109-3700"]),
        ("0000-0002-1825-0098", []),  # bad checksum
        ("100319475328460031467", []),  # the internal author code (decisions.md Q8)
    ],
)
def test_orcid_only_when_valid_and_first(orcid: str, expected: list[str]) -> None:
    root = render(replace(nkums_article(), authors=(Author(given_en="A", surname_en="B", orcid=orcid),)))
    assert texts(root, "//j:contrib-id") == expected
    if expected:
        assert etree.QName(find(root, "//j:contrib/*[1]")[0]).localname == "contrib-id"


def test_email_only_for_the_corresponding_author_and_configurable() -> None:
    authors = (Author(given_en="A", surname_en="B", email="private.one@example.org"),
               Author(given_en="C", surname_en="D", email="corr@example.org", corresponding=True))
    article = replace(nkums_article(), authors=authors)
    assert texts(render(article), "//j:email") == ["corr@example.org"]
    assert find(render(article, CrosswalkSettings(emit_corresponding_email=False)), "//j:email") == []


def test_affiliations_are_deduplicated_and_single_language_ones_are_plain_aff() -> None:
    authors = (
        Author(given_en="A", affiliation_en="Dept X, Tehran, Iran"),
        Author(given_en="B", affiliation_en="Dept X, Tehran, Iran"),
        Author(given_en="C", affiliation_fa="دانشگاه تهران، ایران"),
        Author(given_en="D", affiliation_en="Dept X, Tehran, Iran", affiliation_fa="دانشگاه تهران، ایران"),
        Author(given_en="E"),
    )
    root = render(replace(nkums_article(), authors=authors))
    ids = [f"aff{n}{AFF_SUFFIX}" for n in (1, 2, 3)]
    assert find(root, "//j:xref/@rid") == [ids[0], ids[0], ids[1], ids[2]]
    assert [(e.get("id"), e.get(XML_LANG)) for e in find(root, "//j:contrib-group/j:aff")] == [(ids[0], "en"), (ids[1], "fa")]
    assert find(root, "//j:aff-alternatives/@id") == [ids[2]]
    assert texts(root, "//j:country") == ["Iran", "ایران", "Iran", "ایران"]


@pytest.mark.parametrize(
    ("text", "country"),
    [("Tehran, Iran.", "Iran"), ("Iran", "Iran"), ("Tehran, I.R. Iran", "I.R. Iran"),
     ("Iran University, Tehran", None), ("Tehran, Iraq", None), ("Tehran Iran", None)],
)
def test_trailing_iran_is_tagged_as_country(text: str, country: str | None) -> None:
    root = render(replace(nkums_article(), authors=(Author(given_en="A", affiliation_en=text),)))
    assert texts(root, "//j:country") == ([country] if country else [])
    assert texts(root, "//j:aff") == [text]  # verbatim


# --- dates, pages, permissions ---------------------------------------------------------------


def test_derived_gregorian_date_is_emitted_and_persian_has_no_iso_date() -> None:
    article = nkums_article()
    issue = replace(article.issue, pub_date=PubDate("gregorian", 2026, 6, None, derived=True), publication_format="print")
    root = render(replace(article, issue=issue))
    dates = find(root, "//j:pub-date")
    assert [d.get("iso-8601-date") for d in dates] == ["2026-06", None]
    assert [d.get("publication-format") for d in dates] == ["print", "print"]
    assert texts(root, "//j:pub-date[1]/*") == ["06", "2026"]


@pytest.mark.parametrize(
    ("first", "last", "pages", "count"),
    [("12", "25", ["fpage:12", "lpage:25"], ["14"]), ("e12", None, ["elocation-id:e12"], []),
     ("12", "xii", ["fpage:12"], []), (None, "25", [], []), ("25", "12", ["fpage:25", "lpage:12"], [])],
)
def test_pages_and_page_count(first, last, pages, count) -> None:
    root = render(replace(nkums_article(), first_page=first, last_page=last))
    found = find(root, "//j:article-meta/j:fpage | //j:article-meta/j:lpage | //j:article-meta/j:elocation-id")
    assert [f"{etree.QName(e).localname}:{e.text}" for e in found] == pages
    assert find(root, "//j:page-count/@count") == count


def test_permissions_only_from_settings() -> None:
    assert find(render(), "//j:permissions") == []
    url = "https://creativecommons.org/licenses/by-nc/4.0/"
    root = render(nkums_article(), CrosswalkSettings(license_url=url, rights="info:eu-repo/semantics/openAccess"))
    assert texts(root, "//j:permissions/j:license/ali:license_ref") == [url]
    assert "CC BY-NC 4.0" in texts(root, "//j:license-p")[0]
    assert len(find(root, "//j:permissions/ali:free_to_read")) == 1


# --- abstracts and keywords ------------------------------------------------------------------


def test_unlabelled_blocks_are_paragraphs_and_styles_nest() -> None:
    blocks = (
        AbstractBlock(None, (Inline("E = mc"), Inline("2", ("bold", "italic", "sup")), Inline(" holds."))),
        AbstractBlock(None, (Inline(" Second. "),)),
        AbstractBlock("Results:", (Inline(": fine"),)),
        AbstractBlock(None, (Inline("continued"),)),
    )
    root = render(replace(nkums_article(), language="en", abstract_en=blocks))
    (abstract,) = find(root, "//j:abstract")
    assert canonical(abstract).decode().replace(f' xmlns="{NS}"', "") == (
        "<abstract><p>E = mc<bold><italic><sup>2</sup></italic></bold> holds.</p><p>Second.</p>"
        "<sec><title>Results</title><p>fine</p><p>continued</p></sec></abstract>"
    )


def test_a_lone_secondary_abstract_stays_an_abstract_with_its_language() -> None:
    root = render(replace(nkums_article(), abstract_fa=(AbstractBlock(None, (Inline("  "),)),)))
    assert find(root, "//j:trans-abstract") == []
    assert find(root, "//j:abstract/@xml:lang") == ["en"]


def test_empty_keywords_are_skipped() -> None:
    root = render(replace(nkums_article(), keywords_fa=("", "  "), keywords_en=("A", "")))
    assert [(g.get(XML_LANG), texts(g, "j:kwd")) for g in find(root, "//j:kwd-group")] == [("en", ["A"])]


# --- property test and real files -----------------------------------------------------------


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(article=articles)
def test_any_article_renders_a_valid_record_or_none(article) -> None:
    xml = jats.render(article, DEFAULT)
    expressible = venue.issns_of_journal(article.journal) and any(common.titles(article, ("en", "fa")))
    assert (xml is not None) == bool(expressible)
    if xml is None:
        return
    assert_valid(xml, "jats")
    assert "<break" not in xml
    for value in forbidden_values(article, emails_allowed=True):
        assert value not in xml


@pytest.mark.parametrize("path", sorted(SAMPLES_DIR.glob("*.xml")), ids=lambda p: p.name)
def test_every_sample_file_renders_valid_records(path) -> None:
    issue = parse_issue(path.read_bytes())
    assert issue.articles
    for article in issue.articles:
        xml = jats.render(article, DEFAULT)
        assert xml is not None, f"{path.name}: {article.key} has no ISSN or title"
        assert_valid(xml, "jats")
        for value in INTERNAL_VALUES:
            assert value not in xml
