"""DataCite kernel elements that two formats write: ``datacite`` (default namespace) and
``oai_openaire`` (the ``datacite:`` prefix, in OpenAIRE's own schema for that namespace).

Each builder takes the prefix its format writes the kernel's tags with; where the two
schemas differ (OpenAIRE's creatorName takes no ``xml:lang``) a parameter says so.
"""
from __future__ import annotations

import typing as t

from metadata_formats import bibliographic as b
from metadata_formats import common as c
from oaiserver.xmltext import attributes, escape_attr, escape_text

if t.TYPE_CHECKING:
    from oaiserver.model import Article

ORCID_SCHEME = {"nameIdentifierScheme": "ORCID", "schemeURI": "https://orcid.org"}


def titles(found: list[tuple[str, str]], ns: str = "") -> str:
    """The primary-language title, then the other one as a TranslatedTitle."""
    parts = [
        f'<{ns}title xml:lang="{escape_attr(slot)}"{_TRANSLATED if index else ""}>{escape_text(title)}</{ns}title>'
        for index, (slot, title) in enumerate(found)
    ]
    return f'<{ns}titles>{"".join(parts)}</{ns}titles>'


_TRANSLATED = ' titleType="TranslatedTitle"'


def creators(article: Article, ns: str = "", name_lang: bool = True) -> str:
    """One creator per named author; the name with the language of its script if ``name_lang``."""
    # One f-string per creator: the structure is fixed and every value is cleaned and, where
    # tested, non-empty (bibliographic.person); people_markup escaped them as leaf escapes text.
    parts = []
    for person in b.people_markup(article):
        lang = f' xml:lang="{escape_attr(person.lang)}"' if name_lang else ""
        inner = f'<{ns}creatorName nameType="Personal"{lang}>{person.display}</{ns}creatorName>'
        if person.given:
            inner += f"<{ns}givenName>{person.given}</{ns}givenName>"
        if person.family:
            inner += f"<{ns}familyName>{person.family}</{ns}familyName>"
        if person.orcid:
            inner += f"<{ns}nameIdentifier{_ORCID_SCHEME}>{person.orcid}</{ns}nameIdentifier>"
        if person.affiliation:
            inner += f"<{ns}affiliation>{person.affiliation}</{ns}affiliation>"
        parts.append(f"<{ns}creator>{inner}</{ns}creator>")
    return f'<{ns}creators>{"".join(parts)}</{ns}creators>' if parts else ""


_ORCID_SCHEME = attributes(ORCID_SCHEME)


def subjects(article: Article, ns: str = "") -> str:
    """Keywords and the subject category: free terms with their language, without a scheme."""
    parts = [f'<{ns}subject xml:lang="{escape_attr(slot)}">{term}</{ns}subject>'
             for slot, term in c.subjects_markup(article)]
    return f'<{ns}subjects>{"".join(parts)}</{ns}subjects>' if parts else ""
