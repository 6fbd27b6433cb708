"""Helpers shared by the crosswalks: text cleaning, languages, slots and page numbers.

Everything here is pure string logic (no lxml), so both formats apply the same rules. The XML
character rule lives in :mod:`oaiserver.xmltext`, the identifier rules (ISSN, DOI, ORCID, URL)
in :mod:`oaiserver.identifiers`.
"""
from __future__ import annotations

import functools
import re
import typing as t

# Re-exported: the crosswalks call it as c.clean, beside the other helpers here.
from oaiserver.xmltext import clean as clean
from oaiserver.xmltext import escape_text

if t.TYPE_CHECKING:
    from oaiserver.model import Article, Author, Journal

#: The two text slots of the model: every bilingual field exists as ``<field>_en`` / ``<field>_fa``.
SLOTS = ("en", "fa")

# ISO 639-1 -> ISO 639-3 for dc:language (decisions.md D6). "und" is deliberately absent.
_ISO639_3 = {"fa": "fas", "en": "eng", "ar": "ara"}

_BCP47 = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_PAGE = re.compile(r"[0-9]+")


_ZWNJ = "\u200c"


def collapse(text: str) -> str:
    """Collapse runs of whitespace (NBSP included, ZWNJ kept) into single spaces."""
    # Most text (whole abstracts) is collapsed already, and two C scans tell so faster than the
    # split and join: a printable string holds no whitespace but the ASCII space (every other
    # whitespace character is a control or a separator, which isprintable() rejects), so without
    # a double or an edge space the split and join give it back unchanged. ZWNJ, a format
    # character that Persian text is full of, is not printable but not whitespace either.
    if "  " not in text and not text.startswith(" ") and not text.endswith(" "):
        if text.isprintable() or (_ZWNJ in text and text.replace(_ZWNJ, "").isprintable()):
            return text
    return " ".join(text.split())


def lang_tag(value: str | None) -> str:
    """Return ``value`` if it is a syntactically valid xml:lang, else ``und``."""
    value = clean(value)
    return value if value and _BCP47.fullmatch(value) else "und"


def iso639_3(lang: str) -> str | None:
    """Return the ISO 639-3 code for a BCP 47 primary language, or None when unknown/undetermined."""
    return _ISO639_3.get(lang.split("-")[0].lower())


def primary_slot(article: Article) -> str:
    """Return the text slot ("en" or "fa") that holds the article's primary language (decisions.md D1)."""
    for lang in (article.language, article.journal.language):
        if lang in SLOTS:
            return lang
    # "ar"/"und": the non-Latin slot is the local-language one, if it has a title at all.
    return "fa" if clean(article.title_fa) else "en"


def titles(obj: Article | Journal, slots: tuple[str, str]) -> list[tuple[str, str]]:
    """The (slot, title) pairs of an article or a journal that has a title there, in the order ``slots``."""
    found = ((slot, field(obj, "title", slot)) for slot in slots)
    return [(slot, title) for slot, title in found if title]


def slot_order(article: Article) -> tuple[str, str]:
    """Return both slots, the primary one first."""
    first = primary_slot(article)
    return (first, "fa" if first == "en" else "en")


def journal_slot_order(article: Article) -> tuple[str, str]:
    """Slots for journal-level text: the journal's own language first, else the article's order."""
    first = article.journal.language
    if first in SLOTS:
        return (first, "fa" if first == "en" else "en")
    return slot_order(article)


def field(obj: object, name: str, slot: str) -> str | None:
    """Return the cleaned value of ``<name>_<slot>`` on a model object."""
    return clean(getattr(obj, f"{name}_{slot}"))


#: One script of an author's name, cleaned: (surname, given names, suffix).
NameParts = tuple[str | None, str | None, str | None]


def name_parts(author: Author) -> dict[str, NameParts]:
    """The author's cleaned (surname, given names, suffix) per slot, "en" first."""
    return {
        "en": (clean(author.surname_en), clean(author.given_en), clean(author.suffix_en)),
        "fa": (clean(author.surname_fa), clean(author.given_fa), clean(author.suffix_fa)),
    }


def authors_name_parts(article: Article) -> list[dict[str, NameParts]]:
    """:func:`name_parts` of every author in byline order, worked out once per article (three formats read them)."""
    return remembered(article, "name_parts", lambda a: [name_parts(author) for author in a.authors])


def _subjects(article: Article) -> list[tuple[str, str]]:
    # (slot, term): the keywords, then the journal's subject category, primary language first; cleaned.
    slots = slot_order(article)
    keywords = [(s, k) for s in slots for k in map(clean, getattr(article, f"keywords_{s}")) if k]
    categories = [(s, field(article, "subject", s)) for s in slots]
    return keywords + [(s, term) for s, term in categories if term]


def subjects_markup(article: Article) -> list[tuple[str, str]]:
    """(slot, term): the keywords, then the journal's subject category, primary language first;
    cleaned, and escaped as element content (``xmltext.escape_text``)."""
    # Five formats write the same terms: each is escaped once per article, not once per format.
    return remembered(article, "subjects_markup", lambda a: [(s, escape_text(term)) for s, term in _subjects(a)])


def page_number(value: str | None) -> int | None:
    """Return the page as an int when it is plain ASCII digits, else None."""
    value = clean(value)
    return int(value) if value and _PAGE.fullmatch(value) else None


@functools.lru_cache(maxsize=1024)  # a few labels ("Methods:", "روش کار:") in every abstract
def section_label(label: str | None) -> str | None:
    """Return an abstract section label without a trailing colon ("Methods:" -> "Methods")."""
    label = clean(label)
    return clean(label.rstrip(":：").strip()) if label else None


_T = t.TypeVar("_T")
# What the formats read most, remembered for the last article only: ingest renders every format
# of one article in a row, so each is worked out once, not once per format. Keyed by identity
# (hashing a whole article costs more than the work), and the article is held so that its id
# cannot be reused meanwhile.
_last: tuple[object, dict[str, object]] | None = None


def remembered(article: Article, name: str, compute: t.Callable[[Article], _T]) -> _T:
    """``compute(article)``, once per article and name."""
    global _last
    last = _last  # one read: another thread may replace it meanwhile
    if last is None or last[0] is not article:
        last = _last = (article, {})
    found = last[1]
    if name not in found:
        found[name] = compute(article)
    return t.cast(_T, found[name])


# What is the same for every article of an issue (journal titles, ISSNs, publisher, rights, the
# issue's dates and numbers, and the fragments written from them), remembered for the last issue
# only. The articles of one parsed issue file share one Journal and one IssueInfo object, so
# identity tells "same issue" without hashing either; the objects (and the settings) are held so
# that their ids cannot be reused meanwhile. The settings are part of the key: a fragment is
# never served for settings other than those it was built with. Articles rebuilt from stored
# JSON each have their own objects: they simply miss.
_issue_last: tuple[object, object, object, dict[t.Hashable, object]] | None = None


def per_issue(article: Article, settings: object, compute: t.Callable[..., _T], *args: t.Hashable) -> _T:
    """``compute(article.journal, article.issue, settings, *args)``, once per issue, settings and arguments.

    ``compute`` sees only the journal, the issue and the settings: whatever else it depends on
    (an article's language, say) must be among ``args``, which are part of the key.
    """
    global _issue_last
    journal, issue = article.journal, article.issue
    last = _issue_last  # one read: another thread may replace it meanwhile
    if last is None or last[0] is not journal or last[1] is not issue or last[2] is not settings:
        last = _issue_last = (journal, issue, settings, {})
    key = (compute, *args)
    found = last[3]
    if key not in found:
        found[key] = compute(journal, issue, settings, *args)
    return t.cast(_T, found[key])
