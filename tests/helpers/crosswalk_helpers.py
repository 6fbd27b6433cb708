"""Shared helpers for the crosswalk tests: the schema loaders, the real-sample Article, strategies.

Responses are validated against a bundle found under ``$OAISERVER_SCHEMAS`` or
``<repo root>/../shared/schemas``: ``oai-bundle-with-formats.xsd`` (OAI-PMH, oai_dc, JATS,
oai_openaire, MODS, MARCXML) for every response, except those holding ``datacite`` records,
which need ``oai-bundle-with-datacite.xsd`` (OpenAIRE and DataCite define the kernel-4
namespace differently, and one schema set can hold only one of them). Each bundle takes a few
seconds to compile, so each is loaded once per process, and only when first needed.
"""
from __future__ import annotations

import functools
import os
import string
import threading
import typing as t
from pathlib import Path

import pytest
from hypothesis import strategies as st
from lxml import etree

from oaiserver.model import AbstractBlock, Article, Author, Inline, IssueInfo, Journal, PubDate

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = Path(os.environ.get("OAISERVER_SCHEMAS") or REPO_ROOT.parent / "shared" / "schemas")
SAMPLES_DIR = REPO_ROOT.parent / "shared" / "samples"
OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DATACITE = "http://datacite.org/schema/kernel-4"
FORMATS_BUNDLE = "oai-bundle-with-formats.xsd"
DATACITE_BUNDLE = "oai-bundle-with-datacite.xsd"

#: Schemas of formats the bundles lack (namespace -> local .xsd): a test that registers a
#: format of its own adds its schema here, before the schema is first loaded.
EXTRA_SCHEMAS: dict[str, Path] = {}


@functools.lru_cache(maxsize=None)
def _load_schema(name: str, extra: tuple[tuple[str, Path], ...] = ()) -> etree.XMLSchema | None:
    """Load one bundle (with any extra format schemas) once, offline; None when it is absent."""
    path = SCHEMAS_DIR / name
    if not path.is_file():
        return None
    parser = etree.XMLParser(no_network=True)
    if not extra:
        return etree.XMLSchema(etree.parse(str(path), parser))
    # A wrapper that imports the bundle and each extra schema, so that OAI-PMH's strict
    # wildcard inside <metadata> finds a declaration for the extra formats' elements too.
    bundle_ns = etree.parse(str(path), parser).getroot().get("targetNamespace")
    imports = [(bundle_ns, path), *extra]
    wrapper = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{location.as_uri()}"/>'
        for namespace, location in imports)
    return etree.XMLSchema(etree.fromstring(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="urn:oaiserver:test:schemas">{wrapper}</xs:schema>', parser))


def bundle_name(prefix: str | None) -> str:
    """The bundle that validates a response in the format ``prefix`` (None: no records)."""
    return DATACITE_BUNDLE if prefix == "datacite" else FORMATS_BUNDLE


def schema_for(prefix: str | None) -> etree.XMLSchema:
    """Return the bundle for ``prefix``, skipping the test when the schema files are absent."""
    name = bundle_name(prefix)
    schema = _load_schema(name, tuple(sorted(EXTRA_SCHEMAS.items())))
    if schema is None:
        pytest.skip(f"{name} not found under {SCHEMAS_DIR} (set OAISERVER_SCHEMAS)")
    return schema


def response_prefix(tree: t.Any) -> str | None:
    """The format of a response: ``request/@metadataPrefix``, else (a resumed list) its records' one."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    request = root.find(f"{{{OAI}}}request")
    prefix = request.get("metadataPrefix") if request is not None else None
    if prefix is not None:
        return prefix
    for metadata in root.iter(f"{{{OAI}}}metadata"):
        for child in metadata:
            return "datacite" if etree.QName(child).namespace == DATACITE else None
    return None


class ResponseSchema:
    """Validates whole OAI-PMH responses, each against the bundle its metadataPrefix needs.

    It answers like one ``etree.XMLSchema`` (``validate``, ``assertValid``, ``error_log``), so
    the fixtures and checks that took the single bundle take it unchanged.
    """

    def __init__(self) -> None:
        self._last = threading.local()  # the schema of this thread's last validation

    def pick(self, tree: t.Any) -> etree.XMLSchema:
        """The bundle for ``tree``, remembered for ``error_log``."""
        schema = schema_for(response_prefix(tree))
        self._last.schema = schema
        return schema

    def validate(self, tree: t.Any) -> bool:
        """Tell whether ``tree`` is valid against its bundle."""
        return bool(self.pick(tree).validate(tree))

    def assertValid(self, tree: t.Any) -> None:  # noqa: N802 (the name lxml uses)
        """Raise ``etree.DocumentInvalid`` when ``tree`` is invalid against its bundle."""
        self.pick(tree).assertValid(tree)

    @property
    def error_log(self) -> t.Any:
        """The errors of this thread's last validation."""
        schema = getattr(self._last, "schema", None)
        return schema.error_log if schema is not None else None


_RESPONSE_SCHEMA = ResponseSchema()


def oai_schema() -> ResponseSchema:
    """Return the response validator (bundles chosen per response), skipping when schemas are absent."""
    schema_for(None)  # skip now, not at the first validation, when the schemas are missing
    return _RESPONSE_SCHEMA


def response(fragments: list[str], prefix: str) -> etree._Element:
    """Wrap rendered metadata fragments in a complete OAI-PMH response (GetRecord for one)."""
    verb = "GetRecord" if len(fragments) == 1 else "ListRecords"
    root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
    etree.SubElement(root, f"{{{OAI}}}responseDate").text = "2026-11-26T10:00:00Z"
    request = etree.SubElement(root, f"{{{OAI}}}request", verb=verb, metadataPrefix=prefix)
    request.text = "https://oaiserver.localhost/oai"
    container = etree.SubElement(root, f"{{{OAI}}}{verb}")
    for number, fragment in enumerate(fragments):
        record = etree.SubElement(container, f"{{{OAI}}}record")
        header = etree.SubElement(record, f"{{{OAI}}}header")
        etree.SubElement(header, f"{{{OAI}}}identifier").text = f"oai:oaiserver.localhost:j/{number}"
        etree.SubElement(header, f"{{{OAI}}}datestamp").text = "2026-11-26T10:00:00Z"
        etree.SubElement(record, f"{{{OAI}}}metadata").append(etree.fromstring(fragment))
    if verb == "GetRecord":
        request.set("identifier", "oai:oaiserver.localhost:j/0")
    return root


def assert_valid_response(fragments: list[str], prefix: str) -> None:
    """Assert that the fragments make a schema-valid OAI-PMH response (bundle chosen by ``prefix``)."""
    schema = schema_for(prefix)
    if not schema.validate(response(fragments, prefix)):
        errors = "\n".join(f"{e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(f"{prefix} response is invalid:\n{errors}\n" + "\n".join(fragments))


def assert_valid(fragment: str, prefix: str) -> None:
    """Assert that ``fragment`` makes a schema-valid GetRecord response."""
    assert_valid_response([fragment], prefix)


# --- the real sample (/work/shared/samples/nkums-v18n2.xml) ----------------------------------

AFF_YAZD_EN = (
    "Assistant Professor, Biotechnology Research Center, Yazd Reproductive Sciences Institute, "
    "Shahid Sadoughi University of Medical Sciences and Health Services, Yazd, Iran"
)
AFF_YAZD_FA = (
    "استادیار، مرکز تحقیقات زیستفناوری، پژوهشکده علوم تولیدمثل یزد، "
    "دانشگاه علوم پزشکی و خدمات بهداشتی درمانی شهید صدوقی، یزد، ایران"
)
AFF_TEHRAN_EN = (
    "Assistant Professor, Cellular and Molecular Research Center, "
    "Iran University of Medical Sciences and Health Services, Tehran, Iran"
)
AFF_TEHRAN_FA = "استادیار، مرکز تحقیقات سلولی و مولکولی، دانشگاه علوم پزشکی و خدمات بهداشتی درمانی ایران، تهران، ایران"

ABSTRACT_EN = (
    ("Introduction", "Spinal cord injury (SCI) is a traumatic condition that causes sensory and motor deficits, affecting more than one million people worldwide. Current pharmacological treatments can only reduce injury severity and prevent further damage to the central nervous system, but none have succeeded in promoting axonal regeneration. In recent years, cell therapy has emerged as a promising regenerative approach for treating SCI."),
    ("Methods", "In this review, articles published between 2006 and 2025 were retrieved from ISI Web of Science, ScienceDirect, Scopus, PubMed, and Google Scholar databases. Keywords such as Spinal Cord Injury, Stem Cells, Central Nervous System, and Mesenchymal Stem Cells were used for the search. Articles were screened based on their titles and abstracts, and irrelevant studies were excluded."),
    ("Results", "The findings indicated that mesenchymal stem cells (MSCs) can improve neurological function after SCI through the secretion of neurotrophic factors, modulation of immune responses, differentiation into neural cells, and induction of neuroprotective and remyelination effects. Clinical studies have also reported improvements in patients\u2019 sensory and motor function, although variations in cell sources, dosing, delivery route, and timing have led to inconsistent outcomes."),
    ("Conclusions", "Overall, evidence suggests that MSC transplantation represents a safe and effective strategy for treating spinal cord injuries. However, limitations such as small sample sizes, lack of control groups, and heterogeneity in transplantation protocols highlight the need for larger clinical trials and standardized therapeutic procedures"),
)
ABSTRACT_FA = (
    ("مقدمه", "ضایعه نخاعی نوعی آسیب تروماتیک، همراه با نقص\u200cهای حسی و حرکتی است و بیش از یک میلیون نفر را در جهان دچار ناتوانی کرده است. درمان\u200cهای دارویی موجود فقط از شدت آسیب می\u200cکاهند و از آسیب بیشتر به دستگاه عصبی مرکزی جلوگیری می\u200cکنند، اما قادر به ترمیم آکسونی نیستند. در سال\u200cهای اخیر، سلول\u200cدرمانی به\u200cعنوان رویکردی بازساختی در درمان ضایعات نخاعی مورد توجه قرار گرفته است."),
    ("روش کار", "در این مطالعه مروری، مقالات منتشرشده بین سال\u200cهای 2006 تا 2025 در پایگاه\u200cهای ISI Web of Science، Science Direct، Scopus،PubMed و Google Scholar بررسی شدند. کلیدواژه\u200cهایی مانند Spinal Cord Injury، Stem Cells، Central Nervous System و Mesenchymal Stem Cells برای جست\u200cوجو به کار رفتند و مقالات، پس از غربالگری، براساس عنوان و چکیده انتخاب شدند."),
    ("یافته\u200cها", "نتایج نشان دادند که سلول\u200cهای بنیادی مزانشیمی از طریق ترشح فاکتورهای نوروتروفیک، تنظیم پاسخ ایمنی، تمایز به سلول\u200cهای عصبی و القای آثار محافظت عصبی و بازمیلینه\u200cسازی، می\u200cتوانند عملکرد عصبی را پس از آسیب نخاعی بهبود دهند. مطالعات بالینی نیز بهبودهایی در عملکرد حسی و حرکتی بیماران گزارش کرده\u200cاند، اگرچه تفاوت در منبع سلولی، دوز، مسیر و زمان تزریق باعث ناهمگونی در نتایج شده است."),
    ("نتیجه\u200cگیری", "به\u200cطور کلی، شواهد نشان می\u200cدهد پیوند سلول\u200cهای بنیادی مزانشیمی می\u200cتواند گزینه\u200cای ایمن و مؤثر در درمان ضایعات نخاعی باشد. بااین\u200cحال، محدودیت\u200cهایی مانند حجم کم نمونه\u200cها، نبود گروه کنترل و تفاوت در پروتکل\u200cهای پیوند، لزوم انجام کارآزمایی\u200cهای بالینی گسترده\u200cتر و استانداردسازی روش\u200cهای درمانی را برجسته می\u200cکند."),
)

#: Internal values of the real sample that must never appear in any record.
INTERNAL_VALUES = ("100319475328460031467", "100319475328460031468", "100319475328460031470", "admin")


def _blocks(pairs: tuple[tuple[str, str], ...]) -> tuple[AbstractBlock, ...]:
    """Labelled abstract blocks of one unstyled run each, as the parser builds them."""
    return tuple(AbstractBlock(label, (Inline(text),)) for label, text in pairs)


def nkums_journal() -> Journal:
    """The journal of the real sample, as the parser should normalise it."""
    return Journal(
        key="2008-8701",
        title_en="North Khorasan University of Medical Sciences",
        title_fa="مجله دانشگاه علوم پزشکی خراسان شمالی",
        short_title="Journal of North Khorasan University of Medical Sciences",
        web_url="http://journal.nkums.ac.ir",
        issn_print="2008-8701",
        issn_electronic="2008-8698",
        doi="10.22034/nkums",
        language="fa",
    )


def nkums_authors() -> tuple[Author, ...]:
    """The four authors of the real sample (fake ORCIDs already dropped by the parser)."""
    yazd = {"affiliation_en": AFF_YAZD_EN, "affiliation_fa": AFF_YAZD_FA}
    return (
        Author(given_en="Fatemeh", surname_en="Sadeghian-Nodoushan", given_fa="فاطمه",
               surname_fa="صادقیان ندوشن", **yazd),
        Author(given_en="Nooshin", surname_en="Ahmadirad", given_fa="نوشین", surname_fa="احمدی راد",
               affiliation_en=AFF_TEHRAN_EN, affiliation_fa=AFF_TEHRAN_FA),
        Author(given_en="Fatemeh", surname_en="Kuchakzade", given_fa="فاطمه", surname_fa="کوچک زاده",
               orcid="0009-0009-5218-9750", **yazd),
        Author(given_en="Hamideh", surname_en="Babaloo", given_fa="حمیده", surname_fa="بابالو",
               email="hbabaloo92@gmail.com", corresponding=True, **yazd),
    )


def nkums_article() -> Article:
    """The one article of the real sample, normalised (decisions.md D1 applied: language ``other`` -> ``fa``)."""
    return Article(
        journal=nkums_journal(),
        issue=IssueInfo(
            volume="18", number="2",
            pub_date=PubDate("gregorian", 2026, 7, 1),
            pub_date_persian=PubDate("persian", 1405, 4, 1),
            publication_format="electronic",
        ),
        key="A-10-25-972",
        language="fa",
        language_inferred=True,
        publisher_id="A-10-25-972",
        title_en="Applications of Mesenchymal Stem Cells in Spinal Cord Injury Repair: A Review of Advances, Mechanisms, and Recent Clinical Studies",
        title_fa="کاربرد سلولهای بنیادی مزانشیمی در ترمیم ضایعات نخاعی: مروری بر پیشرفتها، مکانیسمها و مطالعات بالینی اخیر",
        subject_en="Basic Sciences",
        subject_fa="علوم پایه",
        type_en="Review Article",
        type_fa="مقالات مروری",
        abstract_en=_blocks(ABSTRACT_EN),
        abstract_fa=_blocks(ABSTRACT_FA),
        keywords_en=("Cell Therapy", "Central Nervous System", "Mesenchymal Stem Cells", "Spinal Cord Injury"),
        keywords_fa=("ضایعه نخاعی", "سلولهای بنیادی مزانشیمی", "سلولدرمانی", "سیستم اعصاب مرکزی"),
        first_page="12",
        last_page="25",
        web_url="http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&slc_lang=other&sid=1",
        authors=nkums_authors(),
    )


# --- hypothesis strategies: any combination of present / empty / hostile fields ------------

#: Pieces that have broken XML writers before: controls, lone surrogates, bidi overrides, markup.
HOSTILE = (
    "\x00", "\x01", "\x0b", "\x1f", "\x7f", "\ufffe", "\uffff", "\ud800", "\udfff", "\u200c", "\u202e",
    "\u00a0", "\u2028", "<", ">", "&", "&amp;", "]]>", "<br>", '"', "'", "\t", "\r\n", " ",
    "Iran", "ایران", "، ", ", ", ":", "سلام", "مقالات مروری", "Review Article", "𝔘", "\U0010fffd",
)
text_piece = st.one_of(st.text(max_size=8), st.sampled_from(HOSTILE))
hostile_text = st.lists(text_piece, max_size=4).map("".join)
maybe_text = st.one_of(st.none(), st.just(""), st.just("  "), hostile_text)

#: Values the parser must have dropped; if one slips through, no crosswalk may print it.
FAKE_ORCIDS = ("100319475328460031467", "0000-0002-1825-0098", "0009-0009-5218-975X")
VALID_ORCIDS = ("0009-0009-5218-9750", "0000-0002-1825-0097", "https://orcid.org/0000-0001-5109-3700")
orcids = st.one_of(st.none(), st.sampled_from(FAKE_ORCIDS + VALID_ORCIDS), hostile_text)
pages = st.one_of(maybe_text, st.sampled_from(["1", "12", "25", "0", "e12", "xii", "۱۲", "12a", "99999"]))
issns = st.one_of(st.none(), st.sampled_from(["2008-8701", "2008-8698", "1234-567X", "12345678", "abcd-efgh"]))
languages = st.sampled_from(["fa", "en", "ar", "und", "other", "", "x y"])
types = st.one_of(maybe_text, st.sampled_from(["Review Article", "CASE  REPORT", "مقالات مروری", "نامه به سردبيير", "Letter to the Editor"]))
urls = st.one_of(maybe_text, st.sampled_from([
    "http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&slc_lang=other&sid=1",
    "https://example.org/a b?q=<x>", "http://[::1", "ftp://ex.org/ä", "http://exa mple.org/",
]))
dates = st.one_of(
    st.none(),
    st.builds(PubDate, st.just("gregorian"), st.integers(1, 9999), st.one_of(st.none(), st.integers(1, 12)),
              st.one_of(st.none(), st.integers(1, 31)), st.booleans()),
)
persian_dates = st.one_of(
    st.none(),
    st.builds(PubDate, st.just("persian"), st.integers(1300, 1500), st.one_of(st.none(), st.integers(1, 12)),
              st.one_of(st.none(), st.integers(1, 31))),
)
styles = st.lists(st.sampled_from(["bold", "italic", "sup", "sub", "underline"]), max_size=4, unique=True)
inlines = st.builds(Inline, hostile_text, styles.map(lambda s: tuple(sorted(s))))
blocks = st.builds(AbstractBlock, st.one_of(st.none(), maybe_text), st.lists(inlines, max_size=3).map(tuple))
abstracts = st.lists(blocks, max_size=4).map(tuple)
keywords = st.lists(maybe_text, max_size=4).map(lambda ks: tuple(k for k in ks if k is not None))
affiliations = st.one_of(maybe_text, st.sampled_from([AFF_YAZD_EN, AFF_YAZD_FA, AFF_TEHRAN_EN, "Tehran، ایران", "Iran"]))
EMAILS = ("private.one@example.org", "hbabaloo92@gmail.com")
emails = st.one_of(st.none(), st.sampled_from(EMAILS), hostile_text)
authors = st.builds(
    Author,
    given_en=maybe_text, surname_en=maybe_text, suffix_en=maybe_text,
    given_fa=maybe_text, surname_fa=maybe_text, suffix_fa=maybe_text,
    email=emails, orcid=orcids, corresponding=st.booleans(),
    affiliation_en=affiliations, affiliation_fa=affiliations,
)
journals = st.builds(
    Journal,
    key=st.one_of(st.just("2008-8701"), hostile_text),
    title_en=maybe_text, title_fa=maybe_text, short_title=maybe_text, web_url=urls,
    issn_print=issns, issn_electronic=issns,
    doi=st.one_of(st.none(), st.just("10.22034/nkums"), hostile_text),
    language=st.one_of(st.none(), languages),
)
issues = st.builds(
    IssueInfo, volume=maybe_text, number=maybe_text, pub_date=dates, pub_date_persian=persian_dates,
    publication_format=st.sampled_from(["electronic", "print", "online", ""]),
)
articles = st.builds(
    Article,
    journal=journals, issue=issues,
    key=st.text(string.ascii_letters + string.digits + "-", min_size=1, max_size=12),
    language=languages, language_inferred=st.booleans(),
    doi=st.one_of(st.none(), st.just("10.1234/ab.c-1"), hostile_text),
    publisher_id=maybe_text,
    title_en=maybe_text, title_fa=maybe_text, subject_en=maybe_text, subject_fa=maybe_text,
    type_en=types, type_fa=types,
    abstract_en=abstracts, abstract_fa=abstracts,
    keywords_en=keywords, keywords_fa=keywords,
    first_page=pages, last_page=pages, web_url=urls,
    authors=st.lists(authors, max_size=6).map(tuple),
)


def forbidden_values(article: Article, emails_allowed: bool) -> list[str]:
    """Values of ``article`` a record must not contain: fake ORCIDs, private e-mail addresses.

    With ``emails_allowed`` (JATS with the default settings) the corresponding authors'
    addresses may appear; every other address is private.
    """
    public = {a.email for a in article.authors if a.corresponding and emails_allowed}
    values = [a.orcid for a in article.authors if a.orcid in FAKE_ORCIDS]
    values += [a.email for a in article.authors if a.email in EMAILS and a.email not in public]
    return [v for v in values if v]
