"""The normalised article: what ingest produces and every crosswalk reads.

Plain frozen dataclasses, free of Flask and lxml. Every text field is already cleaned
(trimmed, placeholders turned into ``None``); crosswalks never re-parse the issue XML.
"""
from __future__ import annotations

import dataclasses
import typing as t
from dataclasses import dataclass, field


@dataclass(frozen=True)
class PubDate:
    """A date in one calendar; month and day may be unknown."""

    calendar: str  # "gregorian" or "persian" (the Jalali / Solar Hijri calendar)
    year: int
    month: int | None = None
    day: int | None = None
    derived: bool = False  # True when converted from the other calendar, not given in the file

    def iso(self) -> str:
        """Return ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (zero-padded)."""
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
            if self.day:
                text += f"-{self.day:02d}"
        return text


@dataclass(frozen=True)
class Inline:
    """A run of abstract text with its inline styles (a subset of bold, italic, sup, sub)."""

    text: str
    styles: tuple[str, ...] = ()  # sorted, each one of "bold", "italic", "sub", "sup"


@dataclass(frozen=True)
class AbstractBlock:
    """One paragraph of an abstract; ``label`` is set for a labelled section ("Methods")."""

    label: str | None
    content: tuple[Inline, ...]


@dataclass(frozen=True)
class Author:
    """One author in byline order, in Latin script (en) and Persian script (fa)."""

    given_en: str | None = None  # first and middle names joined with a space
    surname_en: str | None = None
    suffix_en: str | None = None
    given_fa: str | None = None
    surname_fa: str | None = None
    suffix_fa: str | None = None
    email: str | None = None  # syntax-checked, else None
    orcid: str | None = None  # bare "0000-0002-1825-0097", checksum-valid, else None
    corresponding: bool = False
    affiliation_en: str | None = None
    affiliation_fa: str | None = None


@dataclass(frozen=True)
class Journal:
    """The journal an issue belongs to."""

    key: str  # print ISSN, else electronic ISSN, else host of web_url (decisions.md P2)
    title_en: str | None = None
    title_fa: str | None = None
    short_title: str | None = None
    web_url: str | None = None
    issn_print: str | None = None
    issn_electronic: str | None = None
    doi: str | None = None  # journal-level DOI prefix, e.g. "10.22034/nkums"
    language: str | None = None  # BCP 47 primary language of the journal ("fa")
    subject: str | None = None  # the journal's subject area, as the file gives it (no language)
    # The journal's ids in the Iranian indexes, as (index, id): index is one of "iranmedex",
    # "magiran", "sid", "nlai", "science", in that order; only the non-empty ones.
    index_ids: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class IssueInfo:
    """The issue-level context that every article record repeats."""

    volume: str | None = None
    number: str | None = None
    pub_date: PubDate | None = None  # Gregorian (given, or derived from the Jalali date)
    pub_date_persian: PubDate | None = None  # the Jalali date as given
    publication_format: str = "electronic"  # "print" or "electronic" (from publish_type)


@dataclass(frozen=True)
class Article:
    """One article with its journal and issue context: the unit of one OAI item."""

    journal: Journal
    issue: IssueInfo
    key: str  # article key (a_code, Yektaweb id, or hash), decisions.md P2
    language: str  # resolved BCP 47: "fa", "en", "ar" or "und" (decisions.md D1)
    language_inferred: bool = False
    doi: str | None = None  # normalised bare DOI "10.xxxx/…"
    # The platform's id of the article: its a_code ("A-10-25-972"), else, for a Yektaweb page
    # (".../article-1-2201-en.html" or "browse.php?a_id=2201&sid=1"), "article-1-2201".
    publisher_id: str | None = None
    title_en: str | None = None
    title_fa: str | None = None
    # The title with its inline styles ("<i>Helicobacter pylori</i> in …"), only when some run
    # is styled; its text is exactly the plain title's.
    title_en_runs: tuple[Inline, ...] = ()
    title_fa_runs: tuple[Inline, ...] = ()
    subject_en: str | None = None
    subject_fa: str | None = None
    type_en: str | None = None  # free-text content_type
    type_fa: str | None = None
    abstract_en: tuple[AbstractBlock, ...] = ()
    abstract_fa: tuple[AbstractBlock, ...] = ()
    keywords_en: tuple[str, ...] = ()
    keywords_fa: tuple[str, ...] = ()
    first_page: str | None = None
    last_page: str | None = None
    web_url: str | None = None
    authors: tuple[Author, ...] = ()


@dataclass(frozen=True)
class Issue:
    """One parsed issue file: its journal, its issue fields and its articles."""

    journal: Journal
    info: IssueInfo
    articles: tuple[Article, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class SetInfo:
    """A set as ListSets shows it; ``description`` is an oai_dc fragment or None."""

    spec: str
    name: str
    description: str | None = None


#: The roots of the set hierarchy: they always exist, so ListSets is never empty.
ROOT_SETS = (
    SetInfo("journal", "Journals"),
    SetInfo("type", "Article types"),
    SetInfo("subject", "Subjects"),
)


def to_dict(value: t.Any) -> t.Any:
    """Turn a model object into plain JSON-able data."""
    return dataclasses.asdict(value)


def _build(cls: t.Any, data: t.Any) -> t.Any:
    """Rebuild a dataclass (recursively) from the output of :func:`to_dict`."""
    if data is None:
        return None
    hints = t.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(hint: t.Any, value: t.Any) -> t.Any:
    if value is None:
        return None
    origin = t.get_origin(hint)
    args = t.get_args(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value)
    if origin is tuple:
        return tuple(_convert(args[0], v) for v in value)
    if origin in (t.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in args:
            if arg is type(None):
                continue
            return _convert(arg, value)
    return value


def article_from_dict(data: dict) -> Article:
    """Rebuild an :class:`Article` from its JSON form (the inverse of :func:`to_dict`)."""
    return _build(Article, data)
