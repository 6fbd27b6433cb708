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
from metadata_formats import datacite_kernel as kernel
from metadata_formats import rights
from oaiserver.xmltext import element, leaf

if t.TYPE_CHECKING:
    from oaiserver.model import Article

NAMESPACE = "http://namespace.openaire.eu/schema/oaire/"
SCHEMA = "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
DATACITE = "http://datacite.org/schema/kernel-4"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "xml:lang"
#: Published journal articles are the version of record (COAR version vocabulary).
VERSION_OF_RECORD = ("http://purl.org/coar/version/c_970fb48d4fbd8a85", "VoR")
_ROOT_ATTRS = {
    "xmlns:oaire": NAMESPACE, "xmlns:datacite": DATACITE, "xmlns:dc": DC, "xmlns:xsi": XSI,
    "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}",
}


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """Render ``article`` as ``oaire:resource``; None without an access right, a title or an identifier."""
    access = rights.access(article, settings)
    found_titles = b.titles(article)
    identifier = resource_identifier(article)
    if access is None or not found_titles or identifier is None:
        return None
    parts = [
        kernel.titles(found_titles, "datacite:"),
        kernel.creators(article, "datacite:", name_lang=False),
        alternate_identifiers(article, identifier),
        related_identifiers(article),
        dates(article, access),
        language(article),
        publisher(article, settings),
        resource_type(article, settings),
        descriptions(article),
        leaf("datacite:identifier", identifier[1], {"identifierType": identifier[0]}),
        leaf("datacite:rights", access.coar_label, {"rightsURI": access.coar_uri}),
        kernel.subjects(article, "datacite:"),
        licence_condition(article, settings),
        leaf("oaire:version", VERSION_OF_RECORD[1], {"uri": VERSION_OF_RECORD[0]}),
        citation(article),
    ]
    return element("oaire:resource", "".join(parts), _ROOT_ATTRS)


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


def related_identifiers(article: Article) -> str:
    """The journal's ISSNs, as the thing the article is part of."""
    parts = [
        leaf("datacite:relatedIdentifier", issn,
             {"relatedIdentifierType": "PISSN" if kind == "print" else "EISSN", "relationType": "IsPartOf"})
        for kind, issn in b.issns(article)
    ]
    return element("datacite:relatedIdentifiers", "".join(parts)) if parts else ""


def dates(article: Article, access: rights.Access) -> str:
    """An embargo as Accepted (its start: the publication) and Available (its end); then Issued."""
    issued = b.issued(article)
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


def publisher(article: Article, settings: CrosswalkSettings) -> str:
    """The configured publisher, else the journal title (with its language)."""
    found = b.publisher(article, settings)
    if found is None:
        return ""
    name, lang = found
    return leaf("dc:publisher", name, {XML_LANG: lang})


def resource_type(article: Article, settings: CrosswalkSettings) -> str:
    """The COAR resource type under the ``literature`` general type."""
    found = b.resource_type(article, settings)
    return leaf("oaire:resourceType", found.label, {"resourceTypeGeneral": "literature", "uri": found.uri})


def descriptions(article: Article) -> str:
    """One plain-text abstract per language."""
    return "".join(leaf("dc:description", text, {XML_LANG: slot}) for slot, text in b.abstracts(article))




def licence_condition(article: Article, settings: CrosswalkSettings) -> str:
    """The configured licence, valid from the publication date."""
    found = rights.licence(article, settings)
    if found is None or found.uri is None:
        return ""
    issued = b.issued(article)
    start = issued.iso() if issued and issued.day else None  # a full date, or none at all
    return leaf("oaire:licenseCondition", found.label, {"startDate": start, "uri": found.uri})


def citation(article: Article) -> str:
    """Journal title, volume, issue and pages."""
    journal = b.journal_title(article)
    first, last = b.pages(article)
    pairs = (
        ("oaire:citationTitle", journal[1] if journal else None),
        ("oaire:citationVolume", b.volume(article)),
        ("oaire:citationIssue", b.number(article)),
        ("oaire:citationStartPage", first),
        ("oaire:citationEndPage", last),
    )
    return "".join(leaf(tag, value) for tag, value in pairs if value)


FORMAT = MetadataFormat(prefix="oai_openaire", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="OpenAIRE Literature v4")
