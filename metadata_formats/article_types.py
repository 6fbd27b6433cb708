"""The free-text ``content_type`` -> JATS ``@article-type`` table.

This is the one place the table lives. Deployments extend or override it with
``OAI_ARTICLE_TYPES`` (``CrosswalkSettings.article_types``). Values are from the JATS tag
library's suggested list; the Persian keys are educated guesses except ``مقالات مروری``,
which the real sample attests.
"""
from __future__ import annotations

import functools
import re
import typing as t

from metadata_formats.common import clean

#: Used when nothing matches (the JATS tag library: "the 'other' value may be used").
FALLBACK = "other"

_TABLE: dict[str, tuple[str, ...]] = {
    "research-article": (
        "research article", "original article", "original research article",
        "original research", "research paper", "original paper",
        "مقاله پژوهشی", "مقالات پژوهشی",
        "مقاله اصیل", "مقالات اصیل",
    ),
    "review-article": (
        "review article", "review", "systematic review", "meta-analysis",
        "meta analysis", "systematic review and meta-analysis",
        "مقاله مروری", "مقالات مروری",
    ),
    "case-report": ("case report", "case study", "گزارش مورد", "گزارش موردی"),
    "brief-report": (
        "short communication", "brief communication", "brief report",
        "short article", "short paper", "مقاله کوتاه",
    ),
    "letter": ("letter to editor", "letter to the editor", "letter", "نامه به سردبیر"),
    "editorial": ("editorial", "سرمقاله"),
    "book-review": ("book review", "نقد کتاب", "معرفی کتاب"),
    "correction": ("erratum", "correction", "corrigendum"),
}

# Arabic Yeh/Kaf are folded to their Persian forms only for matching (decisions.md Q20).
_FOLD = str.maketrans({"\u064a": "\u06cc", "\u0643": "\u06a9", "\u0649": "\u06cc"})


def match_key(text: str) -> str:
    """Return the comparison key for a type label: case-folded, ZWNJ removed, spaces collapsed."""
    text = text.casefold().translate(_FOLD).replace("\u200c", " ")
    return " ".join(re.sub(r"[\s\-–]+", " ", text).split())


_DEFAULTS: dict[str, str] = {
    match_key(label): jats_type for jats_type, labels in _TABLE.items() for label in labels
}


def article_type(
    type_en: str | None, type_fa: str | None, overrides: t.Mapping[str, str] | None = None
) -> str:
    """Return the JATS @article-type for a content type, trying English first, then Persian."""
    if not overrides:
        return _default_type(type_en, type_fa)
    try:
        return _overridden_type(type_en, type_fa, tuple(overrides.items()))
    except TypeError:  # an unhashable value (a list, from a JSON setting): merged as it comes, uncached
        return _lookup(_with_overrides(overrides), type_en, type_fa)


@functools.lru_cache(maxsize=1024)  # a journal has a handful of type labels; five formats ask
def _default_type(type_en: str | None, type_fa: str | None) -> str:
    """:func:`article_type` with the built-in table only."""
    return _lookup(_DEFAULTS, type_en, type_fa)


@functools.lru_cache(maxsize=1024)
def _overridden_type(type_en: str | None, type_fa: str | None, overrides: tuple[tuple[str, str], ...]) -> str:
    """:func:`article_type` with the built-in table and ``overrides`` (the configured table's items)."""
    return _lookup(_merged(overrides), type_en, type_fa)


def _lookup(table: t.Mapping[str, str], type_en: str | None, type_fa: str | None) -> str:
    """The type of the first label (English, then Persian) that ``table`` knows, else the fallback."""
    for label in (type_en, type_fa):
        label = clean(label)
        if label:
            key = match_key(label)
            if key in table:
                return table[key]
    return FALLBACK


# Keyed by the table's content, not the settings object: one entry per OAI_ARTICLE_TYPES in use
# (a process has one), and the same labels can never map differently.
@functools.lru_cache(maxsize=8)
def _merged(overrides: tuple[tuple[str, str], ...]) -> t.Mapping[str, str]:
    """:func:`_with_overrides`, once per table: five formats ask for every article."""
    return _with_overrides(dict(overrides))


def _with_overrides(overrides: t.Mapping[str, str]) -> dict[str, str]:
    """The default table with the deployment's extra labels added."""
    table = dict(_DEFAULTS)
    for label, jats_type in overrides.items():
        if clean(label) and clean(jats_type):
            table[match_key(label)] = clean(jats_type)  # type: ignore[assignment]
    return table
