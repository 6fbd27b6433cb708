"""The ``datacite`` format: a DataCite Metadata Schema 4.x ``<resource>`` (namespace kernel-4).

Laid out like DataCite's own example of a journal article, with the journal, volume, issue and
pages as a ``relatedItem``. DataCite requires an identifier, a creator, a title, a publisher,
a publication year and a type: an article missing one of them is not disseminated in this
format (no placeholders such as ``(:unav)``). Without a DOI the landing page is the identifier
(decisions.md D15).
"""
from __future__ import annotations

import typing as t

from metadata_formats import CrosswalkSettings, MetadataFormat
from metadata_formats import bibliographic as b
from metadata_formats import common as c
from metadata_formats import datacite_kernel as kernel
from metadata_formats import rights
from metadata_formats import venue
from oaiserver.xmltext import XML_LANG, attributes, element, escape_attr, escape_safe_text, escape_text, leaf

if t.TYPE_CHECKING:
    from oaiserver.model import Article, IssueInfo, Journal

NAMESPACE = "http://datacite.org/schema/kernel-4"
SCHEMA = "http://schema.datacite.org/meta/kernel-4/metadata.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SPDX_SCHEME = "https://spdx.org/licenses/"
_ROOT_ATTRS = {"xmlns": NAMESPACE, "xmlns:xsi": XSI, "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}"}


_START = f"<resource{attributes(_ROOT_ATTRS)}>"


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """Render ``article`` as a DataCite ``<resource>``; None when a mandatory property is missing."""
    issue = c.per_issue(article, settings, issue_parts, c.journal_slot_order(article))
    if issue is None:  # no publisher or no publication year
        return None
    identifier = resource_identifier(article)
    found_titles = b.titles(article)
    if not (identifier and found_titles):
        return None
    found_creators = kernel.creators(article)
    if not found_creators:
        return None
    parts = [
        _START,
        leaf("identifier", identifier[1], {"identifierType": identifier[0]}),
        found_creators,
        kernel.titles(found_titles),
        issue.publisher,
        leaf("resourceType", type_text(article, settings), {"resourceTypeGeneral": "JournalArticle"}),
        kernel.subjects(article),
        issue.dates,
        language(article),
        alternate_identifiers(article, identifier),
        issue.related,
        descriptions(article),
        related_items(article, issue.item),
        "</resource>",
    ]
    return "".join(parts)


class IssueParts(t.NamedTuple):
    """What a record shares with every article of its issue (and settings), as markup."""

    publisher: str  # publisher and publicationYear
    dates: str
    related: str  # relatedIdentifiers and rightsList
    item: str  # the relatedItem's content up to the article's pages


def issue_parts(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings,
                journal_slots: tuple[str, str]) -> IssueParts | None:
    """The issue-level parts of a record, None without a publisher or a publication year.

    ``common.per_issue`` remembers them for the issue.
    """
    found_publisher = venue.publisher_of_journal(journal, settings, journal_slots)
    issued = venue.issue_issued(issue)
    if not (found_publisher and issued):
        return None
    name, publisher_lang = found_publisher
    return IssueParts(
        publisher=(leaf("publisher", name, {XML_LANG: publisher_lang})
                   + leaf("publicationYear", f"{issued.year:04d}")),
        dates=element("dates", leaf("date", issued.iso(), {"dateType": "Issued"})),
        related=related_identifiers(journal) + rights_list(journal, settings),
        item=related_item_head(journal, issue, journal_slots),
    )


def resource_identifier(article: Article) -> tuple[str, str] | None:
    """(identifierType, value): the DOI, else the landing page; None with neither."""
    doi = b.doi(article)
    if doi:
        return "DOI", doi
    url = b.landing_page(article)
    return ("URL", url) if url else None


def type_text(article: Article, settings: CrosswalkSettings) -> str:
    """The free-text type as the journal gives it (English, else Persian), else the COAR label."""
    return c.clean(article.type_en) or c.clean(article.type_fa) or b.resource_type(article, settings).label


def language(article: Article) -> str:
    """The article's language as BCP 47 (``fa``), DataCite's ``xs:language``."""
    lang = b.article_language(article)
    return leaf("language", lang) if lang else ""


def alternate_identifiers(article: Article, identifier: tuple[str, str]) -> str:
    """The landing page, when the DOI is the identifier."""
    url = b.landing_page(article)
    if not url or identifier[0] == "URL":
        return ""
    return element("alternateIdentifiers", leaf("alternateIdentifier", url, {"alternateIdentifierType": "URL"}))


def related_identifiers(journal: Journal) -> str:
    """The journal's ISSNs, as where the article is published."""
    parts = [
        leaf("relatedIdentifier", issn,
             {"relatedIdentifierType": "ISSN" if kind == "print" else "EISSN", "relationType": "IsPublishedIn"})
        for kind, issn in venue.issns_of_journal(journal)
    ]
    return element("relatedIdentifiers", "".join(parts)) if parts else ""


def rights_list(journal: Journal, settings: CrosswalkSettings) -> str:
    """The configured licence (with its SPDX identifier when certain), then the access right."""
    parts = []
    found = rights.journal_licence(journal.key, settings)
    if found is not None:
        spdx = {"rightsIdentifier": found.spdx, "rightsIdentifierScheme": "SPDX", "schemeURI": SPDX_SCHEME}
        parts.append(leaf("rights", found.label, {"rightsURI": found.uri, **(spdx if found.spdx else {})}))
    access = rights.journal_access(journal.key, settings)
    if access is not None:
        parts.append(leaf("rights", access.coar_label, {"rightsURI": access.coar_uri}))
    return element("rightsList", "".join(parts)) if parts else ""


def descriptions(article: Article) -> str:
    """One plain-text abstract per language."""
    # The abstracts are XML-safe and never empty (bibliographic.abstracts): escaped without a rescan.
    parts = [f'<description descriptionType="Abstract" xml:lang="{escape_attr(slot)}">{escape_safe_text(text)}</description>'
             for slot, text in b.abstracts(article)]
    return f'<descriptions>{"".join(parts)}</descriptions>' if parts else ""


def related_items(article: Article, head: str) -> str:
    """The journal issue the article appears in: ``head`` (:func:`related_item_head`), then the pages."""
    first, last = b.pages(article)
    inner = (head + (f"<firstPage>{escape_text(first)}</firstPage>" if first else "")
             + (f"<lastPage>{escape_text(last)}</lastPage>" if last else ""))
    if not inner:
        return ""
    return ('<relatedItems><relatedItem relatedItemType="Journal" relationType="IsPublishedIn">'
            f"{inner}</relatedItem></relatedItems>")


def related_item_head(journal_: Journal, issue: IssueInfo, journal_slots: tuple[str, str]) -> str:
    """The relatedItem's ISSN, title, year, volume and issue: the same for every article of the issue."""
    found_issns = dict(venue.issns_of_journal(journal_))
    issn_kind = "electronic" if "electronic" in found_issns else "print"
    issued = venue.issue_issued(issue)
    journal = venue.title_of_journal(journal_, journal_slots)
    parts = []
    if found_issns:
        parts.append(leaf("relatedItemIdentifier", found_issns[issn_kind],
                          {"relatedItemIdentifierType": "EISSN" if issn_kind == "electronic" else "ISSN"}))
    if journal:
        parts.append(element("titles", leaf("title", journal[1], {XML_LANG: journal[0]})))
    parts += [
        leaf(tag, value) for tag, value in (
            ("publicationYear", f"{issued.year:04d}" if issued else None),
            ("volume", c.clean(issue.volume)), ("issue", c.clean(issue.number)),
        ) if value
    ]
    return "".join(parts)


FORMAT = MetadataFormat(prefix="datacite", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="DataCite Metadata Schema 4")
