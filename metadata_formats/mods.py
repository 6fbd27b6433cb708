"""The ``mods`` format: a MODS 3.8 record of a journal article, the journal issue as its host item.

Laid out the way the Library of Congress's MARC-to-MODS conversion describes an article: titles,
names with roles, COAR genre, publication event, languages as MARC codes (``per``) beside BCP 47
``xml:lang``, and a ``relatedItem type="host"`` carrying journal, volume, issue and pages.
"""
from __future__ import annotations

import typing as t

from metadata_formats import CrosswalkSettings, MetadataFormat
from metadata_formats import bibliographic as b
from metadata_formats import common as c
from metadata_formats import rights
from metadata_formats import venue
from oaiserver.xmltext import XML_LANG, attributes, element, escape_safe_text, escape_text, leaf

if t.TYPE_CHECKING:
    from oaiserver.model import Article, IssueInfo, Journal

NAMESPACE = "http://www.loc.gov/mods/v3"
SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
RECORD_ORIGIN = "Converted from the journal's ISC/Yektaweb issue XML"
_AUTHOR_ROLE = element("role", leaf("roleTerm", "aut", {"type": "code", "authority": "marcrelator"}))


def render(article: Article, settings: CrosswalkSettings) -> str:
    """Render ``article`` as a ``<mods>`` record (every article can be expressed)."""
    issue = c.per_issue(article, settings, issue_parts, c.journal_slot_order(article))
    first, last = b.pages(article)
    pages = ((f"<start>{escape_text(first)}</start>" if first else "")
             + (f"<end>{escape_text(last)}</end>" if last else ""))
    part_inner = issue.details + (f'<extent unit="pages">{pages}</extent>' if pages else "") + issue.date
    return "".join((
        issue.start,
        title_infos(b.titles(article)),
        names(article),
        "<typeOfResource>text</typeOfResource>",
        genre(article, settings),
        issue.origin,
        language(article),
        abstracts(article),
        subjects(article),
        issue.host,
        f"<part>{part_inner}</part></relatedItem>" if part_inner else "</relatedItem>",
        identifier(article),
        location(article),
        issue.conditions,
        record_info(article),
        "</mods>",
    ))


class IssueParts(t.NamedTuple):
    """What a record shares with every article of its issue (and settings), as markup."""

    start: str  # the <mods> start tag (it declares xlink only with access conditions)
    origin: str  # originInfo: publisher and dates
    host: str  # relatedItem type="host" up to its <part>, left open
    details: str  # the part's volume and issue details
    date: str  # the part's date
    conditions: str  # accessCondition elements


def issue_parts(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings,
                journal_slots: tuple[str, str]) -> IssueParts:
    """The issue-level parts of a record (``common.per_issue`` remembers them for the issue)."""
    conditions = access_conditions(journal, settings)
    attrs = {
        "xmlns": NAMESPACE, "xmlns:xlink": XLINK if conditions else None, "xmlns:xsi": XSI,
        "version": "3.8", "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}",
    }
    issued = venue.issue_issued(issue)
    numbers = (("volume", c.clean(issue.volume)), ("issue", c.clean(issue.number)))
    return IssueParts(
        start=f"<mods{attributes(attrs)}>",
        origin=origin_info(journal, issue, settings, journal_slots),
        host=host(journal, journal_slots),
        details="".join(element("detail", leaf("number", value), {"type": kind}) for kind, value in numbers if value),
        date=leaf("date", issued.iso(), {"encoding": "w3cdtf"}) if issued else "",
        conditions=conditions,
    )


def lang_attrs(slot: str) -> dict[str, str | None]:
    """``lang`` (MARC code) and ``xml:lang`` (BCP 47) for a text slot."""
    return {"lang": b.marc_language(slot), XML_LANG: slot}


#: lang_attrs of the two text slots, written out.
_SLOT_ATTRS = {slot: attributes(lang_attrs(slot)) for slot in c.SLOTS}


def slot_attributes(slot: str) -> str:
    """:func:`lang_attrs`, written as attributes."""
    return _SLOT_ATTRS[slot]


def title_infos(titles: t.Iterable[tuple[str, str]]) -> str:
    """The first (slot, title) as the title, the others as translated titles (of the article or of its journal)."""
    return "".join(
        f'<titleInfo{_TRANSLATED if index else ""}{slot_attributes(slot)}><title>{escape_text(title)}</title></titleInfo>'
        for index, (slot, title) in enumerate(titles)
    )


_TRANSLATED = ' type="translated"'


def names(article: Article) -> str:
    """One personal name per named author; the first is the primary one."""
    parts = []
    for index, person in enumerate(b.people_markup(article)):
        # Every value is cleaned (bibliographic.person), so non-empty where tested, and escaped.
        inner = ""
        if person.family:
            inner += f'<namePart type="family">{person.family}</namePart>'
        if person.given:
            inner += f'<namePart type="given">{person.given}</namePart>'
        if person.orcid:
            inner += f'<nameIdentifier type="orcid">{person.orcid}</nameIdentifier>'
        if person.affiliation:
            inner += f"<affiliation>{person.affiliation}</affiliation>"
        usage = "" if index else ' usage="primary"'
        lang = slot_attributes("fa") if person.lang == "fa" else ""
        parts.append(f'<name type="personal"{usage}{lang}>{inner}{_AUTHOR_ROLE}</name>')
    return "".join(parts)


def genre(article: Article, settings: CrosswalkSettings) -> str:
    """The COAR resource type."""
    found = b.resource_type(article, settings)
    attrs = {"authority": "coar", "authorityURI": b.COAR_TYPES, "valueURI": found.uri}
    return leaf("genre", found.label, attrs)


def origin_info(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings,
                journal_slots: tuple[str, str]) -> str:
    """Publisher and issue date: Gregorian (the key date), and the Jalali date as given."""
    parts = []
    found = venue.publisher_of_journal(journal, settings, journal_slots)
    if found is not None:
        name, lang = found
        parts.append(leaf("publisher", name, lang_attrs(lang) if lang else None))
    issued, persian = venue.issue_issued(issue), venue.issue_persian_date(issue)
    if issued:
        parts.append(leaf("dateIssued", issued.iso(), {"encoding": "w3cdtf", "keyDate": "yes"}))
    if persian:
        parts.append(leaf("dateIssued", persian.iso(), {"calendar": "persian"}))
    return element("originInfo", "".join(parts), {"eventType": "publication"}) if parts else ""


def language(article: Article) -> str:
    """The article's language as a MARC code."""
    code = b.marc_language(b.article_language(article))
    if not code:
        return ""
    return element("language", leaf("languageTerm", code, {"type": "code", "authority": "iso639-2b"}))


def abstracts(article: Article) -> str:
    """One plain-text abstract per language."""
    # The abstracts are XML-safe already (bibliographic.abstracts): escaped without a rescan.
    return "".join(f"<abstract{slot_attributes(slot)}>{escape_safe_text(text)}</abstract>"
                   for slot, text in b.abstracts(article))


def subjects(article: Article) -> str:
    """One subject per keyword (and the subject category), each a topic in its language."""
    return "".join([f"<subject{slot_attributes(slot)}><topic>{term}</topic></subject>"
                    for slot, term in c.subjects_markup(article)])


def host(journal: Journal, journal_slots: tuple[str, str]) -> str:
    """The journal: titles and ISSNs, in a ``relatedItem type="host"`` left open for the article's part."""
    parts = [title_infos(c.titles(journal, journal_slots))]
    parts.append(element("originInfo", leaf("issuance", "continuing")))
    parts += [
        leaf("identifier", issn, {"type": "issn", "displayLabel": "print" if kind == "print" else "online"})
        for kind, issn in venue.issns_of_journal(journal)
    ]
    return '<relatedItem type="host">' + "".join(parts)


def identifier(article: Article) -> str:
    """The bare DOI."""
    doi = b.doi(article)
    return f'<identifier type="doi">{escape_text(doi)}</identifier>' if doi else ""


def location(article: Article) -> str:
    """The landing page."""
    url = b.landing_page(article)
    if not url:
        return ""
    return f'<location><url usage="primary display" access="object in context">{escape_text(url)}</url></location>'


def access_conditions(journal: Journal, settings: CrosswalkSettings) -> str:
    """The configured licence (use and reproduction) and access right (restriction on access)."""
    parts = []
    found = rights.journal_licence(journal.key, settings)
    if found is not None:
        parts.append(leaf("accessCondition", found.label,
                          {"type": "use and reproduction", "xlink:href": found.uri}))
    access = rights.journal_access(journal.key, settings)
    if access is not None:
        label = access.coar_label
        if access.embargo_end:
            label = f"{label} until {access.embargo_end}"
        parts.append(leaf("accessCondition", label, {"type": "restriction on access", "xlink:href": access.coar_uri}))
    return "".join(parts)


def record_info(article: Article) -> str:
    """The article's key on its platform and where the record comes from."""
    return element("recordInfo", leaf("recordIdentifier", c.clean(article.key)) + _RECORD_ORIGIN)


_RECORD_ORIGIN = leaf("recordOrigin", RECORD_ORIGIN)


FORMAT = MetadataFormat(prefix="mods", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="MODS 3.8")
