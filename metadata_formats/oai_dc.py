"""The ``oai_dc`` crosswalk (decisions.md D1, D5-D8, D12).

OpenAIRE v3 / DRIVER flavour of simple Dublin Core, as OJS emits it, with one ``dc:creator``
per author, plain-text abstracts and ISO 639-3 ``dc:language``. :func:`dc_element` is the one
writer of ``oai_dc:dc`` elements: records go through it here, set descriptions in ingest.
"""
from __future__ import annotations

import typing as t

from metadata_formats import CrosswalkSettings, MetadataFormat
from metadata_formats import common as c
from metadata_formats import rights
from oaiserver import identifiers
from oaiserver.xmltext import (
    NS_DC, NS_OAI_DC, NS_XSI, OAI_DC_SCHEMA, XML_LANG, content, element, escape_safe_text, strip_illegal,
)

if t.TYPE_CHECKING:
    from oaiserver.model import Article, Author, PubDate

NAMESPACE = NS_OAI_DC
SCHEMA = OAI_DC_SCHEMA
EU_REPO = "info:eu-repo/semantics/"
# Written as text (oaiserver.xmltext): the namespace declarations, then the schema location.
_ROOT_ATTRS = {
    "xmlns:oai_dc": NAMESPACE, "xmlns:dc": NS_DC, "xmlns:xsi": NS_XSI,
    "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}",
}

#: One DC statement: (element name, value, xml:lang or None).
Field = tuple[str, str | None, str | None]
#: One DC statement ready to write: (element name, XML-safe text, xml:lang or None).
Statement = tuple[str, str, str | None]


def render(article: Article, settings: CrosswalkSettings) -> str:
    """Render ``article`` as an ``oai_dc:dc`` element (every article can be expressed)."""
    statements = []
    for name, value, lang in fields(article, settings):
        if name != "description":
            # A description is clean already (plain_abstract): cleaning would rescan the
            # longest values for nothing. Every other value is cleaned here.
            value = c.clean(value)  # XML-safe from here on
        if value:
            statements.append((name, value, lang))
    return dc_element(statements)


def dc_element(statements: t.Iterable[Statement]) -> str:
    """Return the ``oai_dc:dc`` element with one ``dc:<name>`` per statement, in the given order."""
    # The values must be XML-safe (xmltext.strip_illegal): they are escaped without a rescan.
    parts = [
        element(f"dc:{name}", escape_safe_text(value), {XML_LANG: lang} if lang else None)
        for name, value, lang in statements
    ]
    return element("oai_dc:dc", content(parts), _ROOT_ATTRS)


def fields(article: Article, settings: CrosswalkSettings) -> list[Field]:
    """Return every DC statement for ``article`` in output order (empty values are dropped later)."""
    slots = c.slot_order(article)
    return [
        *(("title", getattr(article, f"title_{s}"), s) for s in slots),
        *_creators(article),
        *_subjects(article, slots),
        *(("description", plain_abstract(article, s), s) for s in slots),
        _publisher(article, settings),
        ("date", gregorian.iso() if (gregorian := _gregorian(article)) else None, None),
        ("date", _embargo_end(article, settings), None),
        ("type", EU_REPO + "article", None),  # decisions.md D12: always "article"; the free text says "review"
        ("type", EU_REPO + "publishedVersion", None),
        *(("type", getattr(article, f"type_{s}"), s) for s in slots),
        *_identifiers(article),
        *_sources(article, slots),
        ("language", c.iso639_3(c.lang_tag(article.language)), None),
        *_relations(article),
        # Never invented: the configuration only, the journal's own settings first.
        ("rights", rights.rights_statement(article, settings), None),
        ("rights", _licence_url(article, settings), None),
    ]


def creator(author: Author) -> Field | None:
    """Return ``"Family Suffix, Given Middle"`` in Latin script, else in Persian (decisions.md D5)."""
    for slot, lang in (("en", None), ("fa", "fa")):
        name = inverted_name(*(c.field(author, part, slot) for part in ("surname", "given", "suffix")))
        if name:
            return ("creator", name, lang)
    return None


def inverted_name(surname: str | None, given: str | None, suffix: str | None) -> str | None:
    """Return the inverted form of a name; the suffix follows the surname ("Smit Jr., J.")."""
    if surname:
        family = f"{surname} {suffix}" if suffix else surname
        return f"{family}, {given}" if given else family
    if given:
        return f"{given} {suffix}" if suffix else given
    return None


def _creators(article: Article) -> list[Field]:
    """One creator per author in byline order; authors without any name are skipped."""
    return [f for f in (creator(a) for a in article.authors) if f]


def _subjects(article: Article, slots: tuple[str, str]) -> list[Field]:
    """Keywords (primary language first), then the journal's subject category per language."""
    keywords = [("subject", k, s) for s in slots for k in getattr(article, f"keywords_{s}")]
    return keywords + [("subject", getattr(article, f"subject_{s}"), s) for s in slots]


def plain_abstract(article: Article, slot: str) -> str | None:
    """Return the abstract as one clean (XML-safe, collapsed) paragraph, labels inline (decisions.md D8)."""
    # Remembered: oai_dc and the four formats of bibliographic.py all write it (~25 us a slot).
    return c.remembered(article, f"plain_abstract_{slot}", lambda a: _plain_abstract(a, slot))


def _plain_abstract(article: Article, slot: str) -> str | None:
    pieces = []
    for block in getattr(article, f"abstract_{slot}"):
        label = c.section_label(block.label)
        # Not collapsed block by block: the collapse of the whole result below gives the same
        # text, and the whitespace of a long abstract is split and joined only once.
        text = strip_illegal("".join(run.text for run in block.content)).strip()
        if label:
            text = text.lstrip(":").lstrip()
        pieces.append(f"{label}: {text}" if label and text else label or text)
    return c.collapse(" ".join(p for p in pieces if p)) or None


def _publisher(article: Article, settings: CrosswalkSettings) -> Field:
    """Configured publisher, else the journal title in the journal's own language (OJS fallback)."""
    configured = rights.publisher(article, settings)
    if configured:
        return ("publisher", configured, None)
    journal = article.journal
    for slot in c.journal_slot_order(article):
        if c.field(journal, "title", slot):
            return ("publisher", c.field(journal, "title", slot), slot)
    return ("publisher", None, None)


def _embargo_end(article: Article, settings: CrosswalkSettings) -> str | None:
    """OpenAIRE v3's embargo end date term, for an embargoed journal."""
    access = rights.access(article, settings)
    if access is None or not access.embargo_end:
        return None
    return f"info:eu-repo/date/embargoEnd/{access.embargo_end}"


def _licence_url(article: Article, settings: CrosswalkSettings) -> str | None:
    """The configured licence URL."""
    found = rights.licence(article, settings)
    return found.url if found else None


def _gregorian(article: Article) -> PubDate | None:
    """The issue's date if it is Gregorian, else None (a Jalali year never goes into dc:date)."""
    date = article.issue.pub_date
    return date if date is not None and date.calendar == "gregorian" else None


def _identifiers(article: Article) -> list[Field]:
    """Landing page first (OpenAIRE v3 puts a URL at the top), then the DOI as a resolvable URL (decisions.md D7)."""
    doi = identifiers.valid_doi(article.doi)
    return [("identifier", article.web_url, None), ("identifier", doi and identifiers.DOI_RESOLVER + doi, None)]


def _sources(article: Article, slots: tuple[str, str]) -> list[Field]:
    """The citation per language (``Journal; Vol. 18 No. 2 (2026); 12-25``), then bare ISSNs."""
    tail = [p for p in (issue_designation(article), page_range(article)) if p]
    titles = [(s, c.field(article.journal, "title", s)) for s in slots]
    citations: list[Field] = [("source", "; ".join([title, *tail]), s) for s, title in titles if title]
    if not citations and tail:
        citations.append(("source", "; ".join(tail), None))
    return citations + [("source", issn, None) for issn in _issns(article)]


def issue_designation(article: Article) -> str | None:
    """Return ``Vol. 18 No. 2 (2026)``, leaving out whatever part is unknown."""
    issue = article.issue
    numbers = (("Vol.", c.clean(issue.volume)), ("No.", c.clean(issue.number)))
    parts = [f"{label} {value}" for label, value in numbers if value]
    gregorian = _gregorian(article)
    year = str(gregorian.year) if gregorian else None
    if year:
        parts.append(f"({year})" if parts else year)
    return " ".join(parts) or None


def page_range(article: Article) -> str | None:
    """Return ``first-last`` (or the single page) as given."""
    first, last = c.clean(article.first_page), c.clean(article.last_page)
    if first and last and first != last:
        return f"{first}-{last}"
    return first


def _issns(article: Article) -> list[str]:
    """The valid ISSNs, print first."""
    values = (identifiers.valid_issn(article.journal.issn_print), identifiers.valid_issn(article.journal.issn_electronic))
    return [v for v in values if v]


def _relations(article: Article) -> list[Field]:
    """Alternative identifiers in the OpenAIRE ``info:eu-repo`` form (OpenAIRE Guidelines v3)."""
    journal, base = article.journal, EU_REPO + "altIdentifier/"
    pairs = (("pissn", identifiers.valid_issn(journal.issn_print)), ("eissn", identifiers.valid_issn(journal.issn_electronic)),
             ("doi", identifiers.valid_doi(article.doi)))
    return [("relation", f"{base}{scheme}/{value}", None) for scheme, value in pairs if value]


FORMAT = MetadataFormat(prefix="oai_dc", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="Dublin Core (OpenAIRE v3)")
