"""The ``jats`` crosswalk: JATS 1.3 Journal Publishing front matter (crosswalks.md §3; D1-D4, D9-D11).

Every element is in the namespace ``https://jats.nlm.nih.gov/ns/publishing/1.3/`` (D4) and
appears in the order of the JATS 1.3 Publishing content model; there is no DOCTYPE.
Contributors live in :mod:`metadata_formats.jats_contribs`, abstracts and keywords in
:mod:`metadata_formats.jats_abstract`.
"""
from __future__ import annotations

import re
import typing as t
from dataclasses import replace
from urllib.parse import urlsplit

from lxml import etree

from metadata_formats import CrosswalkSettings, MetadataFormat
from metadata_formats import common as c
from metadata_formats.article_types import article_type
from metadata_formats.jats_abstract import add_abstracts, add_keywords
from metadata_formats.jats_contribs import add_contrib_group
from metadata_formats.jats_xml import ALI, JATS, XLINK, XLINK_HREF, XML_LANG, lang_attr, sub

if t.TYPE_CHECKING:
    from oaiserver.model import Article, IssueInfo, Journal

NAMESPACE = JATS
SCHEMA = "https://jats.nlm.nih.gov/publishing/1.3/xsd/JATS-journalpublishing1-3-mathml3.xsd"
OPEN_ACCESS = "info:eu-repo/semantics/openAccess"
_CC = re.compile(r"creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero))/(\d\.\d)", re.IGNORECASE)


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """Render ``article`` as a JATS ``<article>``; None without an ISSN or any title (both required)."""
    article = replace(article, language=c.lang_tag(article.language))
    if not issns(article.journal) or not titles(article, c.slot_order(article)):
        return None
    nsmap = {None: JATS, "xlink": XLINK, **({"ali": ALI} if c.clean(settings.license_url) else {})}
    root = etree.Element(f"{{{JATS}}}article", nsmap=nsmap)
    root.set("article-type", article_type(article.type_en, article.type_fa, settings.article_types))
    root.set("dtd-version", "1.3")
    root.set(XML_LANG, article.language)
    front = sub(root, "front")
    add_journal_meta(front, article, settings)
    add_article_meta(front, article, settings)
    return etree.tostring(root, encoding="unicode")


def issns(journal: Journal) -> list[tuple[str, str]]:
    """Return the valid ISSNs as (publication-format, ISSN), print first."""
    pairs = (("print", journal.issn_print), ("electronic", journal.issn_electronic))
    return [(fmt, issn) for fmt, issn in ((f, c.valid_issn(v)) for f, v in pairs) if issn]


def titles(obj: Article | Journal, slots: tuple[str, str]) -> list[tuple[str, str]]:
    """Return the (slot, title) pairs present, in ``slots`` order."""
    found = ((slot, c.field(obj, "title", slot)) for slot in slots)
    return [(slot, title) for slot, title in found if title]


# --- journal-meta ---------------------------------------------------------------------------


def add_journal_meta(front: etree._Element, article: Article, settings: CrosswalkSettings) -> None:
    """Append journal-meta: ids, titles, ISSNs, publisher, home page."""
    journal = article.journal
    meta = sub(front, "journal-meta")
    sub(meta, "journal-id", journal_publisher_id(journal, settings), {"journal-id-type": "publisher-id"})
    if c.valid_doi(journal.doi):
        sub(meta, "journal-id", c.valid_doi(journal.doi), {"journal-id-type": "doi"})
    add_journal_titles(meta, article)
    for fmt, issn in issns(journal):
        sub(meta, "issn", issn, {"publication-format": fmt})
    if c.clean(settings.publisher):
        sub(sub(meta, "publisher"), "publisher-name", c.clean(settings.publisher))
    add_self_uri(meta, journal.web_url)


def journal_publisher_id(journal: Journal, settings: CrosswalkSettings) -> str:
    """Configured slug, else the host of the journal's web_url, else the journal key."""
    configured = c.clean((settings.journal_ids or {}).get(journal.key))
    return configured or url_host(journal.web_url) or c.clean(journal.key) or issns(journal)[0][1]


def url_host(url: str | None) -> str | None:
    """Return the host name of an http(s) URL, or None."""
    uri = c.web_uri(url)
    return c.clean(urlsplit(uri).hostname) if uri else None


def add_journal_titles(meta: etree._Element, article: Article) -> None:
    """Title in the journal's language, the other as trans-title-group, then a real abbreviation."""
    found = titles(article.journal, c.journal_slot_order(article))
    abbrev = abbreviation(article.journal)
    if not found and not abbrev:
        return
    group = sub(meta, "journal-title-group")
    add_title_pair(group, "journal-title", found, article.language)
    if abbrev:
        attrs = {"abbrev-type": "publisher", **lang_attr("en", article.language)}
        sub(group, "abbrev-journal-title", abbrev, attrs)


def abbreviation(journal: Journal) -> str | None:
    """Return short_title only when it is shorter than the English title (Q13: often it is longer)."""
    short, title = c.clean(journal.short_title), c.clean(journal.title_en)
    return short if short and title and len(short) < len(title) else None


def add_title_pair(group: etree._Element, tag: str, found: list[tuple[str, str]], article_lang: str) -> None:
    """First title as ``tag`` (xml:lang only if not the article's), the other as trans-title-group."""
    for index, (slot, title) in enumerate(found):
        if index == 0:
            sub(group, tag, title, lang_attr(slot, article_lang))
        else:
            sub(sub(group, "trans-title-group", None, {XML_LANG: slot}), "trans-title", title)


def add_self_uri(meta: etree._Element, url: str | None) -> None:
    """Append ``<self-uri xlink:href>`` for an http(s) URL (percent-encoded to a valid anyURI)."""
    uri = c.web_uri(url)
    if uri:
        sub(meta, "self-uri", None, {XLINK_HREF: uri})


# --- article-meta ---------------------------------------------------------------------------


def add_article_meta(front: etree._Element, article: Article, settings: CrosswalkSettings) -> None:
    """Append article-meta; the call order is the JATS 1.3 content-model order."""
    meta = sub(front, "article-meta")
    slots = c.slot_order(article)
    add_article_ids(meta, article)
    add_categories(meta, article, slots)
    # A missing primary-language title promotes the other one to article-title, with its xml:lang.
    add_title_pair(sub(meta, "title-group"), "article-title", titles(article, slots), article.language)
    add_contrib_group(meta, article, settings)
    add_pub_dates(meta, article.issue)
    for tag, value in (("volume", article.issue.volume), ("issue", article.issue.number)):
        if c.clean(value):
            sub(meta, tag, c.clean(value))
    add_pages(meta, article)
    add_permissions(meta, settings, article.language)
    add_self_uri(meta, article.web_url)
    add_abstracts(meta, article, slots)
    add_keywords(meta, article, slots)
    add_counts(meta, article)


def add_article_ids(meta: etree._Element, article: Article) -> None:
    """The platform's a_code and the DOI (bare)."""
    for kind, value in (("publisher-id", c.clean(article.publisher_id)), ("doi", c.valid_doi(article.doi))):
        if value:
            sub(meta, "article-id", value, {"pub-id-type": kind})


def add_categories(meta: etree._Element, article: Article, slots: tuple[str, str]) -> None:
    """The free-text type as display-channel and the subject as heading, per language (J4R-HUB)."""
    groups = [
        (kind, slot, c.field(article, name, slot))
        for kind, name in (("display-channel", "type"), ("heading", "subject"))
        for slot in slots
    ]
    groups = [g for g in groups if g[2]]
    if not groups:
        return
    categories = sub(meta, "article-categories")
    for kind, slot, text in groups:
        attrs = {"subj-group-type": kind, **lang_attr(slot, article.language)}
        sub(sub(categories, "subj-group", None, attrs), "subject", text)


def add_pub_dates(meta: etree._Element, issue: IssueInfo) -> None:
    """Gregorian then Persian issue date (D3); only the Gregorian one has an ISO 8601 form."""
    fmt = "print" if issue.publication_format == "print" else "electronic"
    for date, calendar in ((issue.pub_date, "gregorian"), (issue.pub_date_persian, "persian")):
        if date is None or date.calendar != calendar:
            continue
        iso = date.iso() if calendar == "gregorian" else None
        attrs = {"publication-format": fmt, "date-type": "pub", "calendar": calendar, "iso-8601-date": iso}
        element = sub(meta, "pub-date", None, attrs)
        if date.month:
            if date.day:
                sub(element, "day", f"{date.day:02d}")
            sub(element, "month", f"{date.month:02d}")
        sub(element, "year", f"{date.year:04d}")


def add_pages(meta: etree._Element, article: Article) -> None:
    """fpage/lpage when numeric; a non-numeric first page ("e12") is an elocation-id."""
    first, last = c.clean(article.first_page), c.clean(article.last_page)
    if c.page_number(first) is not None:
        sub(meta, "fpage", first)
        if c.page_number(last) is not None:
            sub(meta, "lpage", last)
    elif first:
        sub(meta, "elocation-id", first)


def add_permissions(meta: etree._Element, settings: CrosswalkSettings, article_lang: str) -> None:
    """Licence from the configuration only: rights are never inferred from the input."""
    url = c.clean(settings.license_url)
    if not url:
        return
    permissions = sub(meta, "permissions")
    if c.clean(settings.rights) == OPEN_ACCESS:
        sub(permissions, f"{{{ALI}}}free_to_read")
    licence = sub(permissions, "license", None, lang_attr("en", article_lang))
    sub(licence, f"{{{ALI}}}license_ref", url)
    sub(licence, "license-p", f"This article is distributed under the terms of {licence_name(url)}.")


def licence_name(url: str) -> str:
    """Return "CC BY-NC 4.0" for a Creative Commons URL, else the URL itself."""
    match = _CC.search(url)
    if not match:
        return url
    licence, zero, version = match.groups()
    return f"CC0 {version}" if zero else f"CC {licence.upper()} {version}"


def add_counts(meta: etree._Element, article: Article) -> None:
    """``<page-count>`` when both pages are numeric and in order."""
    first, last = c.page_number(article.first_page), c.page_number(article.last_page)
    if first is not None and last is not None and last >= first:
        sub(sub(meta, "counts"), "page-count", None, {"count": str(last - first + 1)})


FORMAT = MetadataFormat(prefix="jats", schema=SCHEMA, namespace=NAMESPACE, render=render)
