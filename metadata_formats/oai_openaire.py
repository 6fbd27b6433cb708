"""The ``oai_openaire`` format: OpenAIRE Guidelines for Literature Repositories v4.0.

One ``<oaire:resource>`` per article: DataCite-kernel elements (in OpenAIRE's own schema for
that namespace), a few Dublin Core ones and OpenAIRE's citation, version and licence elements.
The access right is mandatory and the input has none, so an article is disseminated in this
format only when its journal's access right is configured (decisions.md D13); an article
without any title or identifier is not disseminated either.
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

NAMESPACE = "http://namespace.openaire.eu/schema/oaire/"
SCHEMA = "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
DATACITE = "http://datacite.org/schema/kernel-4"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: Published journal articles are the version of record (COAR version vocabulary).
VERSION_OF_RECORD = ("http://purl.org/coar/version/c_970fb48d4fbd8a85", "VoR")
_ROOT_ATTRS = {
    "xmlns:oaire": NAMESPACE, "xmlns:datacite": DATACITE, "xmlns:dc": DC, "xmlns:xsi": XSI,
    "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}",
}


_START = f"<oaire:resource{attributes(_ROOT_ATTRS)}>"
_VERSION = leaf("oaire:version", VERSION_OF_RECORD[1], {"uri": VERSION_OF_RECORD[0]})


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """Render ``article`` as ``oaire:resource``; None without an access right, a title or an identifier."""
    issue = c.per_issue(article, settings, issue_parts, c.journal_slot_order(article))
    if issue is None:  # no access right
        return None
    found_titles = b.titles(article)
    identifier = resource_identifier(article)
    if not found_titles or identifier is None:
        return None
    parts = [
        _START,
        kernel.titles(found_titles, "datacite:"),
        kernel.creators(article, "datacite:", name_lang=False),
        alternate_identifiers(article, identifier),
        issue.head,
        language(article),
        issue.publisher,
        resource_type(article, settings),
        descriptions(article),
        leaf("datacite:identifier", identifier[1], {"identifierType": identifier[0]}),
        issue.rights,
        kernel.subjects(article, "datacite:"),
        issue.licence,
        _VERSION,
        issue.citation,
        citation_pages(article),
        "</oaire:resource>",
    ]
    return "".join(parts)


class IssueParts(t.NamedTuple):
    """What a record shares with every article of its issue (and settings), as markup."""

    head: str  # relatedIdentifiers (the ISSNs) and dates
    publisher: str  # dc:publisher
    rights: str  # datacite:rights (the access right)
    licence: str  # oaire:licenseCondition
    citation: str  # citation title, volume and issue


def issue_parts(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings,
                journal_slots: tuple[str, str]) -> IssueParts | None:
    """The issue-level parts of a record, None without an access right.

    ``common.per_issue`` remembers them for the issue.
    """
    access = rights.journal_access(journal.key, settings)
    if access is None:
        return None
    found_publisher = venue.publisher_of_journal(journal, settings, journal_slots)
    title = venue.title_of_journal(journal, journal_slots)
    numbers = (("oaire:citationTitle", title[1] if title else None),
               ("oaire:citationVolume", c.clean(issue.volume)), ("oaire:citationIssue", c.clean(issue.number)))
    return IssueParts(
        head=related_identifiers(journal) + dates(issue, access),
        publisher=leaf("dc:publisher", found_publisher[0], {XML_LANG: found_publisher[1]}) if found_publisher else "",
        rights=leaf("datacite:rights", access.coar_label, {"rightsURI": access.coar_uri}),
        licence=licence_condition(journal, issue, settings),
        citation="".join(leaf(tag, value) for tag, value in numbers if value),
    )


def resource_identifier(article: Article) -> tuple[str, str] | None:
    """(identifierType, value): the landing page, else the DOI; None with neither."""
    url = b.landing_page(article)
    if url:
        return "URL", url
    doi = b.doi(article)
    return ("DOI", doi) if doi else None


def alternate_identifiers(article: Article, identifier: tuple[str, str]) -> str:
    """The DOI, when the landing page is the resource identifier."""
    doi = b.doi(article)
    if not doi or identifier[0] == "DOI":
        return ""
    return element("datacite:alternateIdentifiers",
                   leaf("datacite:alternateIdentifier", doi, {"alternateIdentifierType": "DOI"}))


def related_identifiers(journal: Journal) -> str:
    """The journal's ISSNs, as the thing the article is part of."""
    parts = [
        leaf("datacite:relatedIdentifier", issn,
             {"relatedIdentifierType": "PISSN" if kind == "print" else "EISSN", "relationType": "IsPartOf"})
        for kind, issn in venue.issns_of_journal(journal)
    ]
    return element("datacite:relatedIdentifiers", "".join(parts)) if parts else ""


def dates(issue: IssueInfo, access: rights.Access) -> str:
    """An embargo as Accepted (its start: the publication) and Available (its end); then Issued."""
    issued = venue.issue_issued(issue)
    parts = []
    if access.right == "embargoed":
        if issued:
            parts.append(leaf("datacite:date", issued.iso(), {"dateType": "Accepted"}))
        parts.append(leaf("datacite:date", access.embargo_end, {"dateType": "Available"}))
    if issued:
        parts.append(leaf("datacite:date", issued.iso(), {"dateType": "Issued"}))
    return element("datacite:dates", "".join(parts)) if parts else ""


def language(article: Article) -> str:
    """``dc:language`` in ISO 639-3, as OpenAIRE recommends."""
    code = b.iso639_3(b.article_language(article))
    return leaf("dc:language", code) if code else ""


def resource_type(article: Article, settings: CrosswalkSettings) -> str:
    """The COAR resource type under the ``literature`` general type."""
    found = b.resource_type(article, settings)
    return leaf("oaire:resourceType", found.label, {"resourceTypeGeneral": "literature", "uri": found.uri})


def descriptions(article: Article) -> str:
    """One plain-text abstract per language."""
    # The abstracts are XML-safe and never empty (bibliographic.abstracts): escaped without a rescan.
    return "".join(f'<dc:description xml:lang="{escape_attr(slot)}">{escape_safe_text(text)}</dc:description>'
                   for slot, text in b.abstracts(article))


def licence_condition(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings) -> str:
    """The configured licence, valid from the publication date."""
    found = rights.journal_licence(journal.key, settings)
    if found is None or found.uri is None:
        return ""
    issued = venue.issue_issued(issue)
    start = issued.iso() if issued and issued.day else None  # a full date, or none at all
    return leaf("oaire:licenseCondition", found.label, {"startDate": start, "uri": found.uri})


def citation_pages(article: Article) -> str:
    """The article's first and last page, after the issue's citation title, volume and issue."""
    first, last = b.pages(article)
    return ((f"<oaire:citationStartPage>{escape_text(first)}</oaire:citationStartPage>" if first else "")
            + (f"<oaire:citationEndPage>{escape_text(last)}</oaire:citationEndPage>" if last else ""))


FORMAT = MetadataFormat(prefix="oai_openaire", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="OpenAIRE Literature v4")
