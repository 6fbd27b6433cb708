"""The ``oai_dc`` crosswalk (decisions.md D1, D5-D8, D12).

OpenAIRE v3 / DRIVER flavour of simple Dublin Core, as OJS emits it, with one ``dc:creator``
per author, plain-text abstracts and ISO 639-3 ``dc:language``. :func:`dc_element` is the one
writer of ``oai_dc:dc`` elements: records go through it here, set descriptions in ingest.
"""
from __future__ import annotations

import typing as t

from metadata_formats import CrosswalkSettings, MetadataFormat
from metadata_formats import common as c
from metadata_formats import rights, venue
from oaiserver import identifiers
from oaiserver.xmltext import (
    NS_DC, NS_OAI_DC, NS_XSI, OAI_DC_SCHEMA, XML_LANG, attributes, content, element, escape_attr, escape_safe_text,
    strip_illegal,
)

if t.TYPE_CHECKING:
    from oaiserver.model import Article, Author, IssueInfo, Journal, PubDate

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


_START = f"<oai_dc:dc{attributes(_ROOT_ATTRS)}>"
#: decisions.md D12: always "article"; the free text says "review".
_TYPES: tuple[Field, ...] = (("type", EU_REPO + "article", None), ("type", EU_REPO + "publishedVersion", None))
#: ``venue.issns_of_journal`` kind -> the info:eu-repo alternative identifier scheme.
_ISSN_SCHEMES = {"print": "pissn", "electronic": "eissn"}


def render(article: Article, settings: CrosswalkSettings) -> str:
    """Render ``article`` as an ``oai_dc:dc`` element (every article can be expressed)."""
    # The statements in output order, empty values dropped; what is the same for every article
    # of the issue comes written already from issue_parts.
    slots = c.slot_order(article)
    issue = c.per_issue(article, settings, issue_parts, c.journal_slot_order(article))
    doi = identifiers.valid_doi(article.doi)
    # The citation per language ("Journal; Vol. 18 No. 2 (2026); 12-25"); the bare ISSNs follow.
    tail = [p for p in (issue.designation, page_range(article)) if p]
    citations: list[Field] = [("source", "; ".join([title, *tail]), s)
                              for s in slots if (title := issue.journal_titles.get(s))]
    if not citations and tail:
        citations.append(("source", "; ".join(tail), None))
    return "".join((
        _START,
        statements([
            *(("title", getattr(article, f"title_{s}"), s) for s in slots),
            *_creators(article),
        ]),
        # Keywords (primary language first), then the journal's subject category per language:
        # cleaned and escaped once per article for every format that writes them.
        "".join([f'<dc:subject xml:lang="{escape_attr(s)}">{term}</dc:subject>' for s, term in c.subjects_markup(article)]),
        # A description is clean already (plain_abstract): cleaning would rescan the longest
        # values for nothing. Every other value is cleaned.
        statements([("description", plain_abstract(article, s), s) for s in slots], cleaned=True),
        issue.middle,
        statements([
            *(("type", getattr(article, f"type_{s}"), s) for s in slots),
            # Landing page first (OpenAIRE v3 puts a URL at the top), then the DOI as a resolvable
            # URL (decisions.md D7).
            ("identifier", article.web_url, None),
            ("identifier", doi and identifiers.DOI_RESOLVER + doi, None),
            *citations,
        ]),
        issue.issns,
        statements([("language", c.iso639_3(c.lang_tag(article.language)), None)]),
        issue.relations,
        statements([("relation", f"{EU_REPO}altIdentifier/doi/{doi}", None)]) if doi else "",
        issue.rights,
        "</oai_dc:dc>",
    ))


class IssueParts(t.NamedTuple):
    """What a record shares with every article of its issue (and settings)."""

    middle: str  # publisher, dates and the two fixed types, written
    issns: str  # the ISSNs as dc:source, written
    relations: str  # the ISSNs as info:eu-repo alternative identifiers (OpenAIRE Guidelines v3), written
    rights: str  # written
    designation: str | None  # "Vol. 18 No. 2 (2026)" for the citations
    journal_titles: dict[str, str]  # slot -> the journal's title in it (cleaned)


def issue_parts(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings,
                journal_slots: tuple[str, str]) -> IssueParts:
    """The issue-level statements of a record (``common.per_issue`` remembers them for the issue)."""
    gregorian = venue.issue_issued(issue)
    pairs = [(_ISSN_SCHEMES[kind], issn) for kind, issn in venue.issns_of_journal(journal)]
    publisher = venue.publisher_of_journal(journal, settings, journal_slots) or (None, None)
    return IssueParts(
        middle=statements([
            ("publisher", *publisher),
            ("date", gregorian.iso() if gregorian else None, None),
            ("date", _embargo_end(journal, settings), None),
            *_TYPES,
        ]),
        issns=statements([("source", issn, None) for _, issn in pairs]),
        relations=statements([("relation", f"{EU_REPO}altIdentifier/{scheme}/{value}", None)
                              for scheme, value in pairs]),
        # Never invented: the configuration only, the journal's own settings first.
        rights=statements([("rights", rights.journal_rights_statement(journal.key, settings), None),
                           ("rights", _licence_url(journal, settings), None)]),
        designation=issue_designation(issue, gregorian),
        journal_titles=dict(c.titles(journal, c.SLOTS)),
    )


def statements(found: t.Iterable[Field], cleaned: bool = False) -> str:
    """Write a ``dc:<name>`` element per non-empty value, cleaning the values unless they are ``cleaned`` already."""
    markup = ""
    for name, value, lang in found:
        if not cleaned:
            value = c.clean(value)  # XML-safe from here on
        if value:
            if lang:
                markup += f'<dc:{name} xml:lang="{escape_attr(lang)}">{escape_safe_text(value)}</dc:{name}>'
            else:
                markup += f"<dc:{name}>{escape_safe_text(value)}</dc:{name}>"
    return markup


def dc_element(statements: t.Iterable[Statement]) -> str:
    """Return the ``oai_dc:dc`` element with one ``dc:<name>`` per statement, in the given order."""
    # The values must be XML-safe (xmltext.strip_illegal): they are escaped without a rescan.
    parts = [
        element(f"dc:{name}", escape_safe_text(value), {XML_LANG: lang} if lang else None)
        for name, value, lang in statements
    ]
    return element("oai_dc:dc", content(parts), _ROOT_ATTRS)


def creator(author: Author, parts: dict[str, c.NameParts] | None = None) -> Field | None:
    """Return ``"Family Suffix, Given Middle"`` in Latin script, else in Persian (decisions.md D5).

    ``parts`` is ``common.name_parts(author)`` when the caller has it already.
    """
    parts = parts or c.name_parts(author)
    for slot, lang in (("en", None), ("fa", "fa")):
        name = inverted_name(*parts[slot])
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
    found = (creator(author, parts) for author, parts in zip(article.authors, c.authors_name_parts(article)))
    return [f for f in found if f]


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


def _embargo_end(journal: Journal, settings: CrosswalkSettings) -> str | None:
    """OpenAIRE v3's embargo end date term, for an embargoed journal."""
    access = rights.journal_access(journal.key, settings)
    if access is None or not access.embargo_end:
        return None
    return f"info:eu-repo/date/embargoEnd/{access.embargo_end}"


def _licence_url(journal: Journal, settings: CrosswalkSettings) -> str | None:
    """The configured licence URL."""
    found = rights.journal_licence(journal.key, settings)
    return found.url if found else None


def issue_designation(issue: IssueInfo, gregorian: PubDate | None) -> str | None:
    """Return ``Vol. 18 No. 2 (2026)``, leaving out whatever part is unknown (``gregorian``: the issue's date)."""
    numbers = (("Vol.", c.clean(issue.volume)), ("No.", c.clean(issue.number)))
    parts = [f"{label} {value}" for label, value in numbers if value]
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


FORMAT = MetadataFormat(prefix="oai_dc", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="Dublin Core (OpenAIRE v3)")
