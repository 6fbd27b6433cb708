"""Small pure helpers that clean the leaf values of an issue file (decisions.md Q1-Q22).

The helpers take raw ``str | None`` leaves and return a cleaned value or ``None``; none of them
raises on odd input, because one bad leaf must never sink a whole issue. The XML character
rule is :mod:`oaiserver.xmltext`'s; identifiers (ISSN, DOI, ORCID, e-mail, URL) are read by
:mod:`oaiserver.identifiers` from the values cleaned here.
"""
from __future__ import annotations

import datetime
import re
import unicodedata

import jdatetime

from oaiserver.model import PubDate
from oaiserver.xmltext import strip_illegal

ZWNJ = "\u200c"

# Invisible characters that are noise at the edges of a value (zero-width space/joiners, word
# joiner, BOM); inside a word ZWNJ is meaningful Persian orthography and is kept (decisions.md Q3).
_EDGE_NOISE = "\u200b\u200c\u200d\u2060\ufeff"
#: Every character ``str.isspace()`` accepts: exactly what ``\s`` matches in a str pattern
#: (both use Py_UNICODE_ISSPACE), NBSP and the other Unicode spaces included.
WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())
# str.strip with an explicit set trims edges in C without scanning the middle of the value;
# an edge regex (``^[\s…]+|[\s…]+$``) tries every position of a long abstract.
_EDGE_CHARS = WHITESPACE + _EDGE_NOISE
_PLACEHOLDER_RE = re.compile(r"^[-\u2010-\u2015]+$")  # "-", "---", dashes (decisions.md Q17)
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015"  # a placeholder's first character

_DIGITS = str.maketrans(
    "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"  # Extended Arabic-Indic (fa)
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",  # Arabic-Indic (ar)
    "01234567890123456789",
)
# Arabic Yeh/Kaf (and Alef Maksura) folded to the Persian letters, for matching keys only (decisions.md Q20).
_ARABIC_FOLD = str.maketrans({"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"})
# Both in one pass: their keys are distinct, and neither maps a character to a key of the other.
_MATCH_FOLD: dict[int, str | int | None] = {**_ARABIC_FOLD, **_DIGITS}


def collapse_spaces(text: str) -> str:
    """Turn every whitespace run into one space, the runs at the edges included."""
    # split/join is the same as re.sub(r"\s+", " ", text) (same whitespace set) but runs in C
    # without the regex machinery; the edge spaces the join drops are put back.
    words = text.split()
    if not words:
        return " " if text else ""
    joined = " ".join(words)
    if text[0].isspace():
        joined = " " + joined
    if text[-1].isspace():
        joined += " "
    return joined


def clean_text(value: str | None, collapse: bool = False) -> str | None:
    """Trim Unicode whitespace and edge ZWNJ; empty, ``-`` and ``---`` become ``None``."""
    # ``collapse`` turns every inner whitespace run (tabs, newlines, NBSP) into one space: right
    # for one-line fields such as titles and names, wrong for nothing we read.
    if value is None:
        return None
    return trim_text(strip_illegal(value), collapse)


def trim_text(value: str | None, collapse: bool = False) -> str | None:
    """:func:`clean_text` for text known to hold only XML characters (an lxml-parsed leaf)."""
    # An XML parser never yields a character XML forbids, so the scan for them is skipped.
    if value is None:
        return None
    text = value.strip(_EDGE_CHARS)
    if collapse:
        # No whitespace is left at the edges, so this equals a plain run-to-space sub.
        text = " ".join(text.split())
    # Only a value starting with a dash can be a placeholder: most skip the regex.
    if not text or (text[0] in _DASHES and _PLACEHOLDER_RE.match(text)):
        return None
    return text


def ascii_digits(value: str | None) -> str | None:
    """Turn Persian and Arabic-Indic digits into ASCII ones (numeric fields only, decisions.md Q19)."""
    if value is None:
        return None
    return value.translate(_DIGITS)


def clean_number(value: str | None) -> str | None:
    """Clean a numeric-ish field (volume, number, page): trim, placeholders out, ASCII digits."""
    return clean_text(ascii_digits(value), collapse=True)


def parse_int(value: str | None) -> int | None:
    """Read a small non-negative integer (a date part), else ``None``."""
    text = clean_number(value)
    if text is None or not text.isascii() or not text.isdigit() or len(text) > 6:
        return None
    return int(text)


def match_key(value: str | None) -> str:
    """Fold a string for matching only (never display): casefold, no ZWNJ/whitespace, fa letters."""
    if not value:
        return ""
    if value.isascii():  # NFKC, the folds and ZWNJ leave ASCII as it is
        return "".join(value.casefold().split())
    text = unicodedata.normalize("NFKC", value).translate(_MATCH_FOLD)
    text = text.casefold().replace(ZWNJ, "")
    return "".join(text.split())  # drops every whitespace run, like re.sub(r"\s+", "", text)


_KEYWORD_SPLIT_RE = re.compile(r"[,،;؛]")
# A "Keywords:" label in front of the list (Parser A cuts it); only known label words are cut,
# because a colon inside a real keyword ("COVID-19: vaccines") is content.
_KEYWORD_LABEL_RE = re.compile(
    r"^\s*(?:key\s*-?\s*words?|index\s+terms|"
    r"کلید[\s\u200c]*واژه(?:[\s\u200c]*(?:ها|های))?|کلمات[\s\u200c]*کلیدی|"
    r"واژه(?:[\s\u200c]*(?:ها|های))[\s\u200c]*کلیدی|واژگان[\s\u200c]*کلیدی)\s*[:：]",
    re.IGNORECASE,
)


def split_keywords(value: str | None) -> tuple[str, ...]:
    """Split a keyword string on ``, ، ; ؛``; drop a label, empties and duplicates (decisions.md Q11)."""
    text = clean_text(value, collapse=True)
    if text is None:
        return ()
    text = _KEYWORD_LABEL_RE.sub("", text)
    seen: set[str] = set()
    result: list[str] = []
    for part in _KEYWORD_SPLIT_RE.split(text):
        keyword = trim_text(part, collapse=True)  # part of a cleaned text: XML-clean already
        key = match_key(keyword)
        if keyword is None or key in seen:
            continue
        seen.add(key)
        result.append(keyword)
    return tuple(result)


def parse_flag(value: str | None) -> bool:
    """Read a yes/no flag case-insensitively (``Yes\\n``, ``true``, ``1`` are true, decisions.md Q7)."""
    text = clean_text(value)
    return text is not None and text.casefold() in {"yes", "y", "true", "1"}


_LANGUAGE_ALIASES = {
    "fa": "fa", "fas": "fa", "per": "fa", "persian": "fa", "farsi": "fa",
    "en": "en", "eng": "en", "english": "en",
    "ar": "ar", "ara": "ar", "arabic": "ar",
}


def normalise_language(value: str | None) -> str | None:
    """Map a language token to ``fa``/``en``/``ar`` (ISO 639-1/-2 codes and names), else None."""
    text = clean_text(value)
    if text is None:
        return None
    return _LANGUAGE_ALIASES.get(text.casefold().split("-")[0].split("_")[0])


def resolve_language(article_lang: str | None, journal_lang: str | None) -> tuple[str, bool]:
    """Resolve the article language (decisions.md D1): ``(bcp47, inferred)``."""
    # fa/en/ar are taken literally; anything else ("other", empty, an unknown code) falls back
    # to the journal language, else "und"; both fallbacks are flagged as inferred. Only these
    # three codes (and "und") come out, because the crosswalks map them to ISO 639-3.
    own = normalise_language(article_lang)
    if own is not None:
        return own, False
    return normalise_language(journal_lang) or "und", True


def jalali_to_gregorian(year: int, month: int | None = None, day: int | None = None) -> PubDate | None:
    """Convert a Jalali date to a derived Gregorian :class:`PubDate` of the same precision."""
    # A missing day converts the month's first day and keeps only year-month; a missing month
    # converts 1 Farvardin and keeps only the year, so no precision is invented.
    try:
        converted = jdatetime.date(year, month or 1, day or 1).togregorian()
    except (ValueError, TypeError, OverflowError):
        return None
    return PubDate(
        calendar="gregorian",
        year=converted.year,
        month=converted.month if month else None,
        day=converted.day if month and day else None,
        derived=True,
    )


def valid_jalali(year: int, month: int | None, day: int | None) -> bool:
    """Tell whether a (possibly partial) Jalali date exists."""
    if month is None and day is not None:
        return False
    try:
        jdatetime.date(year, month or 1, day or 1)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


_CALENDARS = {
    "gregorian": "gregorian", "miladi": "gregorian", "میلادی": "gregorian",
    "jalali": "persian", "persian": "persian", "shamsi": "persian", "solar": "persian",
    "شمسی": "persian", "خورشیدی": "persian",
}


def parse_pubdate(
    calendar: str | None, year: str | None, month: str | None, day: str | None
) -> PubDate | None:
    """Build a :class:`PubDate` from the raw ``<pubdate>`` leaves; invalid dates give ``None``."""
    y, m, d = parse_int(year), parse_int(month), parse_int(day)
    if y is None or not 1000 <= y <= 9999:
        return None
    kind = _CALENDARS.get((clean_text(calendar) or "").casefold())
    if kind is None:  # no or unknown type: the year tells (Jalali years are ~621 lower)
        kind = "persian" if y < 1700 else "gregorian"
    if m is None:
        d = None  # a day without a month means nothing
    if kind == "persian":
        return PubDate("persian", y, m, d) if valid_jalali(y, m, d) else None
    try:
        datetime.date(y, m or 1, d or 1)
    except ValueError:
        return None
    return PubDate("gregorian", y, m, d)
