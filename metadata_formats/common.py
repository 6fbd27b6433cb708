"""Helpers shared by the crosswalks: text cleaning, languages and identifier checks.

Everything here is pure string logic (no lxml), so both formats apply the same rules.
"""
from __future__ import annotations

import functools
import re
import typing as t
from urllib.parse import quote, urlsplit, urlunsplit

if t.TYPE_CHECKING:
    from oaiserver.model import Article

#: The two text slots of the model: every bilingual field exists as ``<field>_en`` / ``<field>_fa``.
SLOTS = ("en", "fa")

# ISO 639-1 -> ISO 639-3 for dc:language (crosswalks.md D6). "und" is deliberately absent.
_ISO639_3 = {"fa": "fas", "en": "eng", "ar": "ara"}

# Anything outside the XML 1.0 Char production (C0 controls, lone surrogates, U+FFFE/U+FFFF)
# makes lxml raise or the output unparsable, so it is dropped rather than escaped.
_ILLEGAL = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BCP47 = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_ISSN = re.compile(r"\d{4}-\d{3}[\dX]")
_ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_PAGE = re.compile(r"[0-9]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 pchar plus "/" and "?" (and "%", already-escaped); anything else gets percent-encoded.
_URI_SAFE = "/?:@!$&'()*+,;=-._~%"
# [userinfo@]host[:port] with an ASCII host name or a bracketed IPv6 literal.
_NETLOC = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:%-]*@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?")


def xml_safe(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 cannot carry."""
    # The isprintable test (see is_printable) is inline here and in clean(): they run ~300
    # times an article, and most values pass it, skipping the regex.
    if isinstance(text, str) and text.isprintable():
        return text
    return _ILLEGAL.sub("", text)


def is_printable(text: object) -> bool:
    """Tell cheaply that a string is XML-safe: ``str.isprintable`` (False for non-strings)."""
    # Every character XML forbids is a control (Cc), a surrogate (Cs) or a noncharacter (Cn:
    # U+FFFE, U+FFFF), and isprintable() is false for all three. False only means "look closer"
    # (for a non-string too: the regex then raises its usual TypeError).
    return isinstance(text, str) and text.isprintable()


def clean(text: str | None) -> str | None:
    """Return ``text`` XML-safe and trimmed, or None when nothing is left."""
    if text is None:
        return None
    if not (isinstance(text, str) and text.isprintable()):  # xml_safe, inline
        text = _ILLEGAL.sub("", text)
    return text.strip() or None


def collapse(text: str) -> str:
    """Collapse runs of whitespace (NBSP included, ZWNJ kept) into single spaces."""
    return " ".join(text.split())


def lang_tag(value: str | None) -> str:
    """Return ``value`` if it is a syntactically valid xml:lang, else ``und``."""
    value = clean(value)
    return value if value and _BCP47.fullmatch(value) else "und"


def iso639_3(lang: str) -> str | None:
    """Return the ISO 639-3 code for a BCP 47 primary language, or None when unknown/undetermined."""
    return _ISO639_3.get(lang.split("-")[0].lower())


def primary_slot(article: Article) -> str:
    """Return the text slot ("en" or "fa") that holds the article's primary language (D1)."""
    for lang in (article.language, article.journal.language):
        if lang in SLOTS:
            return lang
    # "ar"/"und": the non-Latin slot is the local-language one, if it has a title at all.
    return "fa" if clean(article.title_fa) else "en"


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


def web_uri(value: str | None) -> str | None:
    """Return an absolute http(s) URL as a valid xs:anyURI (percent-encoded), else None."""
    value = clean(value)
    if not value:
        return None
    try:
        parts = urlsplit(_BAD_PERCENT.sub("%25", value))
    except ValueError:  # e.g. "http://[::1" (unbalanced bracket)
        return None
    if parts.scheme.lower() not in ("http", "https") or not _NETLOC.fullmatch(parts.netloc):
        return None
    path, query, fragment = (quote(p, safe=_URI_SAFE) for p in (parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, query, fragment))


def valid_issn(value: str | None) -> str | None:
    """Return the ISSN if it has the ``NNNN-NNNC`` shape, else None."""
    value = clean(value)
    if value and _ISSN.fullmatch(value.upper()):
        return value.upper()
    return None


def valid_doi(value: str | None) -> str | None:
    """Return a bare DOI if it looks like one (``10.NNNN/…``), else None."""
    value = clean(value)
    return value if value and _DOI.fullmatch(value) else None


def orcid_uri(value: str | None) -> str | None:
    """Return ``https://orcid.org/<id>`` for a checksum-valid ORCID iD, else None (Q8)."""
    value = clean(value)
    if not value:
        return None
    bare = re.sub(r"^https?://orcid\.org/", "", value).upper()
    if not _ORCID.fullmatch(bare) or _orcid_check(bare[:-1]) != bare[-1]:
        return None
    return f"https://orcid.org/{bare}"


def _orcid_check(base: str) -> str:
    """ISO 7064 mod 11-2 check character over the first 15 digits."""
    total = 0
    for digit in base.replace("-", ""):
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def page_number(value: str | None) -> int | None:
    """Return the page as an int when it is plain ASCII digits, else None."""
    value = clean(value)
    return int(value) if value and _PAGE.fullmatch(value) else None


@functools.lru_cache(maxsize=1024)  # a few labels ("Methods:", "روش کار:") in every abstract
def section_label(label: str | None) -> str | None:
    """Return an abstract section label without a trailing colon ("Methods:" -> "Methods")."""
    label = clean(label)
    return clean(label.rstrip(":：").strip()) if label else None
