"""DataCite kernel elements that two formats write: ``datacite`` (default namespace) and
``oai_openaire`` (the ``datacite:`` prefix, in OpenAIRE's own schema for that namespace).

Each builder takes the prefix its format writes the kernel's tags with; where the two
schemas differ (OpenAIRE's creatorName takes no ``xml:lang``) a parameter says so.
"""
from __future__ import annotations

import typing as t

from metadata_formats import bibliographic as b
from oaiserver.xmltext import element, leaf

if t.TYPE_CHECKING:
    from oaiserver.model import Article

XML_LANG = "xml:lang"
ORCID_SCHEME = {"nameIdentifierScheme": "ORCID", "schemeURI": "https://orcid.org"}


def titles(found: list[tuple[str, str]], ns: str = "") -> str:
    """The primary-language title, then the other one as a TranslatedTitle."""
    parts = [
        leaf(f"{ns}title", title, {XML_LANG: slot, "titleType": "TranslatedTitle" if index else None})
        for index, (slot, title) in enumerate(found)
    ]
    return element(f"{ns}titles", "".join(parts))


def creators(article: Article, ns: str = "", name_lang: bool = True) -> str:
    """One creator per named author; the name with the language of its script if ``name_lang``."""
    parts = []
    for person in b.people(article):
        inner = [leaf(f"{ns}creatorName", person.display,
                      {"nameType": "Personal", XML_LANG: person.lang if name_lang else None})]
        if person.given:
            inner.append(leaf(f"{ns}givenName", person.given))
        if person.family:
            inner.append(leaf(f"{ns}familyName", person.family))
        if person.orcid:
            inner.append(leaf(f"{ns}nameIdentifier", person.orcid, ORCID_SCHEME))
        if person.affiliation:
            inner.append(leaf(f"{ns}affiliation", person.affiliation))
        parts.append(element(f"{ns}creator", "".join(inner)))
    return element(f"{ns}creators", "".join(parts)) if parts else ""


def subjects(article: Article, ns: str = "") -> str:
    """Keywords and the subject category: free terms with their language, without a scheme."""
    parts = [leaf(f"{ns}subject", term, {XML_LANG: slot}) for slot, term in b.subjects(article)]
    return element(f"{ns}subjects", "".join(parts)) if parts else ""
