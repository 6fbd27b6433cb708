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
from oaiserver.xmltext import element, leaf

if t.TYPE_CHECKING:
    from oaiserver.model import Article

NAMESPACE = "http://datacite.org/schema/kernel-4"
SCHEMA = "http://schema.datacite.org/meta/kernel-4/metadata.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "xml:lang"
SPDX_SCHEME = "https://spdx.org/licenses/"
_ROOT_ATTRS = {"xmlns": NAMESPACE, "xmlns:xsi": XSI, "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}"}


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """Render ``article`` as a DataCite ``<resource>``; None when a mandatory property is missing."""
    identifier = resource_identifier(article)
    found_titles = b.titles(article)
    found_creators = kernel.creators(article)
    found_publisher = b.publisher(article, settings)
    issued = b.issued(article)
    if not (identifier and found_titles and found_creators and found_publisher and issued):
        return None
    name, publisher_lang = found_publisher
    parts = [
        leaf("identifier", identifier[1], {"identifierType": identifier[0]}),
        found_creators,
        kernel.titles(found_titles),
        leaf("publisher", name, {XML_LANG: publisher_lang}),
        leaf("publicationYear", f"{issued.year:04d}"),
        leaf("resourceType", type_text(article, settings), {"resourceTypeGeneral": "JournalArticle"}),
        kernel.subjects(article),
        element("dates", leaf("date", issued.iso(), {"dateType": "Issued"})),
        language(article),
        alternate_identifiers(article, identifier),
        related_identifiers(article),
        rights_list(article, settings),
        descriptions(article),
        related_items(article),
    ]
    return element("resource", "".join(parts), _ROOT_ATTRS)


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


def related_identifiers(article: Article) -> str:
    """The journal's ISSNs, as where the article is published."""
    parts = [
        leaf("relatedIdentifier", issn,
             {"relatedIdentifierType": "ISSN" if kind == "print" else "EISSN", "relationType": "IsPublishedIn"})
        for kind, issn in b.issns(article)
    ]
    return element("relatedIdentifiers", "".join(parts)) if parts else ""


def rights_list(article: Article, settings: CrosswalkSettings) -> str:
    """The configured licence (with its SPDX identifier when certain), then the access right."""
    parts = []
    found = rights.licence(article, settings)
    if found is not None:
        spdx = {"rightsIdentifier": found.spdx, "rightsIdentifierScheme": "SPDX", "schemeURI": SPDX_SCHEME}
        parts.append(leaf("rights", found.label, {"rightsURI": found.uri, **(spdx if found.spdx else {})}))
    access = rights.access(article, settings)
    if access is not None:
        parts.append(leaf("rights", access.coar_label, {"rightsURI": access.coar_uri}))
    return element("rightsList", "".join(parts)) if parts else ""


def descriptions(article: Article) -> str:
    """One plain-text abstract per language."""
    parts = [leaf("description", text, {"descriptionType": "Abstract", XML_LANG: slot})
             for slot, text in b.abstracts(article)]
    return element("descriptions", "".join(parts)) if parts else ""


def related_items(article: Article) -> str:
    """The journal issue the article appears in: ISSN, title, year, volume, issue, pages."""
    found_issns = dict(b.issns(article))
    issn_kind = "electronic" if "electronic" in found_issns else "print"
    issued = b.issued(article)
    journal = b.journal_title(article)
    first, last = b.pages(article)
    parts = []
    if found_issns:
        parts.append(leaf("relatedItemIdentifier", found_issns[issn_kind],
                          {"relatedItemIdentifierType": "EISSN" if issn_kind == "electronic" else "ISSN"}))
    if journal:
        parts.append(element("titles", leaf("title", journal[1], {XML_LANG: journal[0]})))
    parts += [
        leaf(tag, value) for tag, value in (
            ("publicationYear", f"{issued.year:04d}" if issued else None),
            ("volume", b.volume(article)), ("issue", b.number(article)),
            ("firstPage", first), ("lastPage", last),
        ) if value
    ]
    if not parts:
        return ""
    item = element("relatedItem", "".join(parts), {"relatedItemType": "Journal", "relationType": "IsPublishedIn"})
    return element("relatedItems", item)


FORMAT = MetadataFormat(prefix="datacite", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="DataCite Metadata Schema 4")
