"""What the aggregator and library formats (oai_openaire, datacite, mods, marcxml) read from an article.

One reading of the article for the four formats, so they agree on names, affiliations,
abstracts, subjects, dates, languages and types; each format module only lays them out.
Every text returned is cleaned (XML-safe, trimmed, never empty).
"""
from __future__ import annotations

import functools
import typing as t
from dataclasses import dataclass

from metadata_formats import common as c
from oaiserver import identifiers
from metadata_formats.article_types import article_type
from metadata_formats.oai_dc import inverted_name, plain_abstract
from oaiserver.xmltext import escape_text

if t.TYPE_CHECKING:
    from metadata_formats import CrosswalkSettings
    from oaiserver.model import Article, Author

#: BCP 47 primary language -> (ISO 639-3, MARC code = ISO 639-2/B, English name).
_LANGUAGES = {
    "fa": ("fas", "per", "Persian"),
    "en": ("eng", "eng", "English"),
    "ar": ("ara", "ara", "Arabic"),
}

COAR_TYPES = "http://purl.org/coar/resource_type/"
#: JATS @article-type -> COAR resource type (id, label), all in the COAR list of OpenAIRE 4.0.
_COAR = {
    "research-article": ("c_2df8fbb1", "research article"),
    "review-article": ("c_dcae04bc", "review article"),
    "editorial": ("c_b239", "editorial"),
    "letter": ("c_545b", "letter to the editor"),
    "book-review": ("c_ba08", "book review"),
}
_JOURNAL_ARTICLE = ("c_6501", "journal article")  # case reports, corrections, anything else

@dataclass(frozen=True)
class ResourceType:
    """The COAR resource type of an article."""

    uri: str
    label: str  # lower case, as COAR writes it ("review article")


class Person(t.NamedTuple):
    """One named author, in the one script the formats carry (Latin when there is a Latin name).

    Every text is cleaned, then escaped as element content (``xmltext.escape_text``).
    """

    # A NamedTuple, not a frozen dataclass: a few are made per article, and a frozen
    # dataclass's __init__ costs several times a tuple's.

    display: str  # "Family Suffix, Given Middle" (or whichever part exists)
    family: str | None
    given: str | None
    lang: str  # "en" or "fa": the script the name is in
    orcid: str | None  # https://orcid.org/… for a checksum-valid iD
    affiliation: str | None  # the English string verbatim, else the Persian one


def article_language(article: Article) -> str | None:
    """The article's BCP 47 language, or None when it is undetermined."""
    lang = c.lang_tag(article.language)
    return None if lang == "und" else lang


def iso639_3(lang: str | None) -> str | None:
    """ISO 639-3 code ("fas") of a BCP 47 language, or None."""
    return c.iso639_3(lang) if lang else None


@functools.lru_cache(maxsize=64)
def marc_language(lang: str | None) -> str | None:
    """MARC language code ("per", the ISO 639-2/B form) of a BCP 47 language, or None."""
    found = _LANGUAGES.get((lang or "").split("-")[0].lower())
    return found[1] if found else None


@functools.lru_cache(maxsize=64)
def language_name(lang: str | None) -> str | None:
    """English name ("Persian") of a BCP 47 language, or None."""
    found = _LANGUAGES.get((lang or "").split("-")[0].lower())
    return found[2] if found else None


def resource_type(article: Article, settings: CrosswalkSettings) -> ResourceType:
    """The COAR type, through the same content-type table as JATS (and its configured additions)."""
    return _resource_type(article_type(article.type_en, article.type_fa, settings.article_types))


@functools.lru_cache(maxsize=64)  # one per JATS article type
def _resource_type(jats_type: str) -> ResourceType:
    code, label = _COAR.get(jats_type, _JOURNAL_ARTICLE)
    return ResourceType(COAR_TYPES + code, label)


def titles(article: Article) -> list[tuple[str, str]]:
    """The article's (slot, title) pairs, primary language first."""
    return c.remembered(article, "titles", _titles)


def _titles(article: Article) -> list[tuple[str, str]]:
    return c.titles(article, c.slot_order(article))


def people_markup(article: Article) -> list[Person]:
    """The authors that have a name, in byline order, every text escaped as element content (``xmltext.escape_text``), None kept None."""
    # Four formats write the same names: each is escaped once per article, not once per format.
    return c.remembered(article, "people_markup", _people_markup)


def _people_markup(article: Article) -> list[Person]:
    found = (person(author, parts) for author, parts in zip(article.authors, c.authors_name_parts(article)))
    return [p for p in found if p]


def person(author: Author, parts: dict[str, c.NameParts]) -> Person | None:
    """The author's name in Latin script, else in Persian, escaped as element content; None without any name part.

    ``parts`` is ``common.name_parts(author)`` (worked out once per article: ``common.authors_name_parts``).
    """
    for slot in c.SLOTS:
        family, given, suffix = parts[slot]
        display = inverted_name(family, given, suffix)
        if display:
            # Escaped as it is built: only the escaped form is ever written.
            affiliation = c.clean(author.affiliation_en) or c.clean(author.affiliation_fa)
            orcid = identifiers.orcid_uri(author.orcid)
            return Person(escape_text(display), family and escape_text(family), given and escape_text(given), slot,
                          orcid and escape_text(orcid), affiliation and escape_text(affiliation))
    return None


def abstracts(article: Article) -> list[tuple[str, str]]:
    """Plain-text abstracts as (slot, text), primary language first."""
    return c.remembered(article, "abstracts", _abstracts)


def _abstracts(article: Article) -> list[tuple[str, str]]:
    found = ((slot, plain_abstract(article, slot)) for slot in c.slot_order(article))
    return [(slot, text) for slot, text in found if text]


def pages(article: Article) -> tuple[str | None, str | None]:
    """(first page, last page) as given."""
    return c.clean(article.first_page), c.clean(article.last_page)


def landing_page(article: Article) -> str | None:
    """The article's landing page as a valid http(s) URI, or None."""
    return _web_uri(article.web_url)


@functools.lru_cache(maxsize=256)
def _web_uri(url: str | None) -> str | None:
    # Every format asks for the landing page once or twice.
    return identifiers.web_uri(url)


def doi(article: Article) -> str | None:
    """The article's bare DOI, or None."""
    return identifiers.valid_doi(article.doi)
