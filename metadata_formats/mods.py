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
from oaiserver.xmltext import element, leaf

if t.TYPE_CHECKING:
    from oaiserver.model import Article

NAMESPACE = "http://www.loc.gov/mods/v3"
SCHEMA = "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "xml:lang"
RECORD_ORIGIN = "Converted from the journal's ISC/Yektaweb issue XML"
_AUTHOR_ROLE = element("role", leaf("roleTerm", "aut", {"type": "code", "authority": "marcrelator"}))


def render(article: Article, settings: CrosswalkSettings) -> str:
    """Render ``article`` as a ``<mods>`` record (every article can be expressed)."""
    conditions = access_conditions(article, settings)
    attrs = {
        "xmlns": NAMESPACE, "xmlns:xlink": XLINK if conditions else None, "xmlns:xsi": XSI,
        "version": "3.8", "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}",
    }
    parts = [
        title_infos(article),
        names(article),
        leaf("typeOfResource", "text"),
        genre(article, settings),
        origin_info(article, settings),
        language(article),
        abstracts(article),
        subjects(article),
        host(article),
        identifier(article),
        location(article),
        conditions,
        record_info(article),
    ]
    return element("mods", "".join(parts), attrs)


def lang_attrs(slot: str) -> dict[str, str | None]:
    """``lang`` (MARC code) and ``xml:lang`` (BCP 47) for a text slot."""
    return {"lang": b.marc_language(slot), XML_LANG: slot}


def title_infos(article: Article) -> str:
    """The primary-language title, then the other as a translated title."""
    return "".join(
        element("titleInfo", leaf("title", title), {"type": "translated" if index else None, **lang_attrs(slot)})
        for index, (slot, title) in enumerate(b.titles(article))
    )


def names(article: Article) -> str:
    """One personal name per named author; the first is the primary one."""
    parts = []
    for index, person in enumerate(b.people(article)):
        inner = [leaf("namePart", value, {"type": kind})
                 for kind, value in (("family", person.family), ("given", person.given)) if value]
        if person.orcid:
            inner.append(leaf("nameIdentifier", person.orcid, {"type": "orcid"}))
        if person.affiliation:
            inner.append(leaf("affiliation", person.affiliation))
        inner.append(_AUTHOR_ROLE)
        attrs = {"type": "personal", "usage": None if index else "primary",
                 **(lang_attrs("fa") if person.lang == "fa" else {})}
        parts.append(element("name", "".join(inner), attrs))
    return "".join(parts)


def genre(article: Article, settings: CrosswalkSettings) -> str:
    """The COAR resource type."""
    found = b.resource_type(article, settings)
    attrs = {"authority": "coar", "authorityURI": b.COAR_TYPES, "valueURI": found.uri}
    return leaf("genre", found.label, attrs)


def origin_info(article: Article, settings: CrosswalkSettings) -> str:
    """Publisher and issue date: Gregorian (the key date), and the Jalali date as given."""
    parts = []
    found = b.publisher(article, settings)
    if found is not None:
        name, lang = found
        parts.append(leaf("publisher", name, lang_attrs(lang) if lang else None))
    issued, persian = b.issued(article), b.persian_date(article)
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
    return "".join(leaf("abstract", text, lang_attrs(slot)) for slot, text in b.abstracts(article))


def subjects(article: Article) -> str:
    """One subject per keyword (and the subject category), each a topic in its language."""
    return "".join(element("subject", leaf("topic", term), lang_attrs(slot)) for slot, term in b.subjects(article))


def host(article: Article) -> str:
    """The journal issue: titles, ISSNs and the part (volume, issue, pages, date)."""
    parts = [
        element("titleInfo", leaf("title", title), {"type": "translated" if index else None, **lang_attrs(slot)})
        for index, (slot, title) in enumerate(b.journal_titles(article))
    ]
    parts.append(element("originInfo", leaf("issuance", "continuing")))
    parts += [
        leaf("identifier", issn, {"type": "issn", "displayLabel": "print" if kind == "print" else "online"})
        for kind, issn in b.issns(article)
    ]
    parts.append(part(article))
    return element("relatedItem", "".join(parts), {"type": "host"})


def part(article: Article) -> str:
    """Volume, issue, page range and year of the article within its journal."""
    inner = [
        element("detail", leaf("number", value), {"type": kind})
        for kind, value in (("volume", b.volume(article)), ("issue", b.number(article))) if value
    ]
    first, last = b.pages(article)
    if first or last:
        pages = "".join(leaf(tag, value) for tag, value in (("start", first), ("end", last)) if value)
        inner.append(element("extent", pages, {"unit": "pages"}))
    issued = b.issued(article)
    if issued:
        inner.append(leaf("date", issued.iso(), {"encoding": "w3cdtf"}))
    return element("part", "".join(inner)) if inner else ""


def identifier(article: Article) -> str:
    """The bare DOI."""
    doi = b.doi(article)
    return leaf("identifier", doi, {"type": "doi"}) if doi else ""


def location(article: Article) -> str:
    """The landing page."""
    url = b.landing_page(article)
    if not url:
        return ""
    return element("location", leaf("url", url, {"usage": "primary display", "access": "object in context"}))


def access_conditions(article: Article, settings: CrosswalkSettings) -> str:
    """The configured licence (use and reproduction) and access right (restriction on access)."""
    parts = []
    found = rights.licence(article, settings)
    if found is not None:
        parts.append(leaf("accessCondition", found.label,
                          {"type": "use and reproduction", "xlink:href": found.uri}))
    access = rights.access(article, settings)
    if access is not None:
        label = access.coar_label
        if access.embargo_end:
            label = f"{label} until {access.embargo_end}"
        parts.append(leaf("accessCondition", label, {"type": "restriction on access", "xlink:href": access.coar_uri}))
    return "".join(parts)


def record_info(article: Article) -> str:
    """The article's key on its platform and where the record comes from."""
    return element("recordInfo", leaf("recordIdentifier", c.clean(article.key)) + leaf("recordOrigin", RECORD_ORIGIN))


FORMAT = MetadataFormat(prefix="mods", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="MODS 3.8")
