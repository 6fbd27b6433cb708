"""The ``jats`` crosswalk: JATS 1.3 Journal Publishing front matter (decisions.md D1-D4, D9-D11).

Every element is in the namespace ``https://jats.nlm.nih.gov/ns/publishing/1.3/`` (decisions.md D4) and
appears in the order of the JATS 1.3 Publishing content model; there is no DOCTYPE.
Contributors live in :mod:`metadata_formats.jats.contribs`, abstracts and keywords in
:mod:`metadata_formats.jats.abstract`. Each function returns its elements as serialised text
(:mod:`oaiserver.xmltext`), "" when it has none.
"""
from __future__ import annotations

import typing as t
from dataclasses import replace
from urllib.parse import urlsplit

from metadata_formats import CrosswalkSettings, MetadataFormat
from metadata_formats import bibliographic as b
from metadata_formats import common as c
from metadata_formats import rights
from metadata_formats import venue
from metadata_formats.article_types import article_type
from metadata_formats.jats.abstract import abstracts, keywords, styled
from metadata_formats.jats.contribs import contrib_group
from metadata_formats.jats.elements import ALI, ALI_PREFIX, JATS, XLINK, XLINK_HREF, XLINK_TITLE, lang_attr
from oaiserver import identifiers
from oaiserver.xmltext import XML_LANG, attributes, element, escape_attr, escape_text, leaf, strip_illegal

if t.TYPE_CHECKING:
    from oaiserver.model import Article, IssueInfo, Journal

NAMESPACE = JATS
SCHEMA = "https://jats.nlm.nih.gov/publishing/1.3/xsd/JATS-journalpublishing1-3-mathml3.xsd"
#: What the two links of a record point at (their xlink:title).
JOURNAL_LINK_TITLE = "Journal home page"
ARTICLE_LINK_TITLE = "Article landing page"


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """Render ``article`` as a JATS ``<article>``; None without an ISSN or any title (both required)."""
    language = c.lang_tag(article.language)
    if language != article.language:  # replace() copies 21 fields: only when it changes
        article = replace(article, language=language)
    issue = c.per_issue(article, settings, issue_parts, language, c.journal_slot_order(article))
    if issue is None:
        return None
    slots = c.slot_order(article)
    found_titles = b.titles(article)  # remembered: the four other formats read them too
    if not found_titles:
        return None
    kind = article_type(article.type_en, article.type_fa, settings.article_types)
    meta = article_meta(article, settings, issue, slots, found_titles)
    return (f'{issue.start}{escape_attr(kind)}" dtd-version="1.3" xml:lang="{escape_attr(language)}">'
            f"<front>{issue.journal_meta}{meta}</front></article>")


class IssueParts(t.NamedTuple):
    """What a record shares with every article of its issue (and settings and language), as markup."""

    start: str  # the <article> start tag up to the value of article-type
    journal_meta: str
    issue: str  # the pub-dates, volume and issue of article-meta
    permissions: str


def issue_parts(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings, article_lang: str,
                journal_slots: tuple[str, str]) -> IssueParts | None:
    """The issue-level parts of a record in ``article_lang``; None without an ISSN (JATS requires one).

    ``common.per_issue`` remembers them for the issue.
    """
    if not venue.issns_of_journal(journal):
        return None
    permission_part = permissions(*permission_facts(journal, settings), article_lang)
    attrs = {"xmlns": JATS, "xmlns:xlink": XLINK, "xmlns:ali": ALI if permission_part else None}
    configured_id = (settings.journal_ids or {}).get(journal.key)
    return IssueParts(
        start=f'<article{attributes(attrs)} article-type="',
        journal_meta=journal_meta(journal, article_lang, journal_slots, configured_id,
                                  rights.journal_publisher(journal.key, settings)),
        issue=issue_part(issue),
        permissions=permission_part,
    )


# --- journal-meta ---------------------------------------------------------------------------


def journal_meta(journal: Journal, article_lang: str, slots: tuple[str, str],
                 configured_id: str | None, publisher: str | None) -> str:
    """Return journal-meta (ids, titles, ISSNs, publisher, home page) from exactly what it depends on."""
    parts = [leaf("journal-id", publisher_id(journal, configured_id), {"journal-id-type": "publisher-id"})]
    journal_doi = identifiers.valid_doi(journal.doi)
    if journal_doi:
        parts.append(leaf("journal-id", journal_doi, {"journal-id-type": "doi"}))
    # The ids in the Iranian indexes, typed by the index's name (journal-id-type is open).
    for index, value in journal.index_ids:
        if c.clean(value):
            parts.append(leaf("journal-id", c.clean(value), {"journal-id-type": index}))
    parts.append(journal_titles(journal, slots, article_lang))
    parts += [leaf("issn", issn, {"publication-format": fmt}) for fmt, issn in venue.issns_of_journal(journal)]
    if c.clean(publisher):
        parts.append(element("publisher", leaf("publisher-name", c.clean(publisher))))
    parts.append(self_uri(journal.web_url, JOURNAL_LINK_TITLE))
    return element("journal-meta", "".join(parts))


def publisher_id(journal: Journal, configured: str | None) -> str:
    """The configured slug if any, else the host of the journal's web_url, else the journal key."""
    return c.clean(configured) or url_host(journal.web_url) or c.clean(journal.key) or venue.issns_of_journal(journal)[0][1]


def url_host(url: str | None) -> str | None:
    """Return the host name of an http(s) URL, or None."""
    uri = identifiers.web_uri(url)
    return c.clean(urlsplit(uri).hostname) if uri else None


def journal_titles(journal: Journal, slots: tuple[str, str], article_lang: str) -> str:
    """Title in the journal's language, the other as trans-title-group, then a real abbreviation."""
    found = c.titles(journal, slots)
    abbrev = abbreviation(journal)
    if not found and not abbrev:
        return ""
    parts = [title_pair("journal-title", [(slot, escape_text(title)) for slot, title in found], article_lang)]
    if abbrev:
        attrs = {"abbrev-type": "publisher", **lang_attr("en", article_lang)}
        parts.append(leaf("abbrev-journal-title", abbrev, attrs))
    return element("journal-title-group", "".join(parts) or None)


def abbreviation(journal: Journal) -> str | None:
    """Return short_title only when it is shorter than the English title (decisions.md Q13: often it is longer)."""
    short, title = c.clean(journal.short_title), c.clean(journal.title_en)
    return short if short and title and len(short) < len(title) else None


def title_pair(tag: str, found: list[tuple[str, str]], article_lang: str) -> str:
    """First title as ``tag`` (xml:lang only if not the article's), the other as trans-title-group.

    ``found`` holds (slot, title as markup) pairs.
    """
    parts = []
    for index, (slot, markup) in enumerate(found):
        if index == 0:
            parts.append(element(tag, markup, lang_attr(slot, article_lang)))
        else:
            parts.append(element("trans-title-group", element("trans-title", markup), {XML_LANG: slot}))
    return "".join(parts)


def title_markup(article: Article, slot: str, title: str) -> str:
    """The article title of ``slot`` with its bold/italic/sup/sub kept (article-title and trans-title allow them)."""
    runs = getattr(article, f"title_{slot}_runs")
    if not runs or "".join(run.text for run in runs).strip() != title:
        return escape_text(title)  # unstyled, or runs that do not spell the title: plain text
    return "".join(styled(strip_illegal(run.text), run.styles) for run in runs)


def self_uri(url: str | None, title: str) -> str:
    """Return ``<self-uri xlink:href xlink:title>`` for an http(s) URL (percent-encoded to a valid anyURI)."""
    # JATS4R requires every link to say what it points at, in its content or in xlink:title;
    # the URL itself does not count. A fixed title describes the page without repeating a
    # title of the record.
    uri = identifiers.web_uri(url)
    return element("self-uri", None, {XLINK_HREF: uri, XLINK_TITLE: title}) if uri else ""


# --- article-meta ---------------------------------------------------------------------------


def article_meta(article: Article, settings: CrosswalkSettings, issue: IssueParts, slots: tuple[str, str],
                 found_titles: list[tuple[str, str]]) -> str:
    """Return article-meta in content-model order (``issue`` from :func:`issue_parts`, ``slots`` from
    ``common.slot_order``, ``found_titles`` from ``bibliographic.titles``: the caller has them already)."""
    # A missing primary-language title promotes the other one to article-title, with its xml:lang.
    found = [(slot, title_markup(article, slot, title)) for slot, title in found_titles]
    title_group = title_pair("article-title", found, article.language)
    # The landing page as bibliographic.landing_page gives it (remembered for the other formats).
    uri = b.landing_page(article)
    parts = [
        "<article-meta>",
        article_ids(article),
        categories(article, slots),
        f"<title-group>{title_group}</title-group>" if title_group else "<title-group/>",
        contrib_group(article, settings),
        issue.issue,
        pages(article),
        issue.permissions,
        f'<self-uri xlink:href="{escape_attr(uri)}"{_ARTICLE_LINK}/>' if uri else "",
        abstracts(article, slots),
        keywords(article, slots),
        counts(article),
        "</article-meta>",
    ]
    return "".join(parts)


_ARTICLE_LINK = f' xlink:title="{ARTICLE_LINK_TITLE}"'


def article_ids(article: Article) -> str:
    """The platform's a_code and the DOI (bare)."""
    pairs = (("publisher-id", c.clean(article.publisher_id)), ("doi", identifiers.valid_doi(article.doi)))
    return "".join(leaf("article-id", value, {"pub-id-type": kind}) for kind, value in pairs if value)


def categories(article: Article, slots: tuple[str, str]) -> str:
    """The free-text type as display-channel and the subject as heading, per language, as in the JATS4R examples."""
    groups = [
        (kind, slot, c.field(article, name, slot))
        for kind, name in (("display-channel", "type"), ("heading", "subject"))
        for slot in slots
    ]
    parts = [
        element("subj-group", leaf("subject", text),
                {"subj-group-type": kind, **lang_attr(slot, article.language)})
        for kind, slot, text in groups if text
    ]
    return element("article-categories", "".join(parts)) if parts else ""


def issue_part(issue: IssueInfo) -> str:
    """The issue's pub-dates, volume and issue number."""
    numbers = (("volume", c.clean(issue.volume)), ("issue", c.clean(issue.number)))
    return pub_dates(issue) + "".join(leaf(tag, value) for tag, value in numbers if value)


def pub_dates(issue: IssueInfo) -> str:
    """Gregorian then Persian issue date (decisions.md D3); only the Gregorian one has an ISO 8601 form."""
    fmt = "print" if issue.publication_format == "print" else "electronic"
    parts = []
    for date, calendar in ((issue.pub_date, "gregorian"), (issue.pub_date_persian, "persian")):
        if date is None or date.calendar != calendar:
            continue
        iso = date.iso() if calendar == "gregorian" else None
        attrs = {"publication-format": fmt, "date-type": "pub", "calendar": calendar, "iso-8601-date": iso}
        inner = ""
        if date.month:
            if date.day:
                inner += leaf("day", f"{date.day:02d}")
            inner += leaf("month", f"{date.month:02d}")
        inner += leaf("year", f"{date.year:04d}")
        parts.append(element("pub-date", inner, attrs))
    return "".join(parts)


def pages(article: Article) -> str:
    """fpage/lpage when numeric; a non-numeric first page ("e12") is an elocation-id."""
    first, last = c.clean(article.first_page), c.clean(article.last_page)
    if c.page_number(first) is not None:
        last_part = leaf("lpage", last) if c.page_number(last) is not None else ""
        return leaf("fpage", first) + last_part
    return leaf("elocation-id", first) if first else ""


def permission_facts(journal: Journal, settings: CrosswalkSettings) -> tuple[str | None, str | None,
                                                                            str | None, str | None]:
    """(licence URL, its name, free-to-read state, its start date), from the configuration."""
    found = rights.journal_licence(journal.key, settings)
    access = rights.journal_access(journal.key, settings)
    state = access.right if access and access.right in ("open", "embargoed") else None
    return (found.url if found else None, found.label if found else None, state,
            access.embargo_end if access else None)


def permissions(license_url: str | None, license_label: str | None, free_to_read: str | None,
                free_from: str | None, article_lang: str) -> str:
    """Licence and free-to-read state from the configuration only: never inferred from the input.

    ``free_to_read`` is "open" (free now) or "embargoed" (free from ``free_from``), else None.
    """
    parts = []
    if free_to_read == "open":
        parts.append(element(ALI_PREFIX + "free_to_read"))
    elif free_to_read == "embargoed":
        parts.append(element(ALI_PREFIX + "free_to_read", None, {"start_date": free_from}))
    if license_url:
        name = license_label or rights.licence_name(license_url)
        licence = leaf(ALI_PREFIX + "license_ref", license_url) + leaf(
            "license-p", f"This article is distributed under the terms of {name}.")
        parts.append(element("license", licence, lang_attr("en", article_lang)))
    return element("permissions", "".join(parts)) if parts else ""


def counts(article: Article) -> str:
    """``<page-count>`` when both pages are numeric and in order."""
    first, last = c.page_number(article.first_page), c.page_number(article.last_page)
    if first is not None and last is not None and last >= first:
        return element("counts", element("page-count", None, {"count": str(last - first + 1)}))
    return ""


FORMAT = MetadataFormat(prefix="jats", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="JATS 1.3 Journal Publishing")
