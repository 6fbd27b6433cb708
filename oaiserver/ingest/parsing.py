"""Read one issue file (the ISC / Yektaweb journal XML) into an :class:`Issue`.

oaiserver.ingest.xmlfile reads the bytes into a tree, safely; this module maps the tree to the model,
cleaning every leaf (normalise.py, abstracts.py). Every failure is an :class:`IngestError`
with a one-line reason; the caller prefixes the file name.
"""
from __future__ import annotations

import logging
import re

from lxml import etree

from oaiserver import identifiers
from oaiserver.ingest import keys as identity
from oaiserver.ingest.abstracts import html_to_runs, html_to_text, parse_abstract
from oaiserver.model import Article, Author, Inline, Issue, IssueInfo, Journal
from oaiserver.ingest.normalise import (
    clean_number, clean_text, jalali_to_gregorian, normalise_language, parse_flag, parse_pubdate,
    resolve_language, split_keywords, trim_text,
)
from oaiserver.ingest.xmlfile import IngestError, read_issue_xml

__all__ = ["IngestError", "parse_issue"]

log = logging.getLogger(__name__)
#: The Iranian indexes whose journal ids the file carries (journal_id_<index>), in output order.
INDEXES = ("iranmedex", "magiran", "sid", "nlai", "science")
_MARKUP_RE = re.compile(r"</?[A-Za-z][^<>]*>|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")


def parse_issue(data: bytes) -> Issue:
    """Parse the bytes of one issue file; raise :class:`IngestError` on any problem."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_issue() needs bytes, not {type(data).__name__}")  # caller bug
    try:
        return _build_issue(read_issue_xml(bytes(data)))
    except IngestError:
        raise
    except Exception as exc:  # a bug or an lxml surprise: still one clear line for the operator
        # The message below names the error; the traceback only at DEBUG ("never a traceback").
        log.debug("unexpected error while parsing an issue file", exc_info=True)
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        raise IngestError(f"internal error while reading the file ({reason})") from exc


# ---------------------------------------------------------------------------- leaf access

class _Leaves:
    """The leaf children of one element, by name: each name's first child, found in one pass."""

    # One walk over the ~40 children of an <article> replaces ~40 ElementPath finds.
    def __init__(self, el: etree._Element) -> None:
        self.first: dict[object, etree._Element] = {}
        for child in el:
            self.first.setdefault(child.tag, child)

    def raw(self, name: str) -> str | None:
        """Return the text of the first child ``name``; stray child elements are read as text."""
        return _raw_text(self.first.get(name))

    def text(self, name: str) -> str | None:
        """Return a cleaned one-line text leaf; HTML tags/entities in it are flattened (titles)."""
        value = _raw_text(self.first.get(name))
        if not value:
            return None  # what trim_text makes of ""
        # Markup starts with "<" or "&": two memchr scans spare most values the regex.
        if ("<" in value or "&" in value) and _MARKUP_RE.search(value):
            return html_to_text(value)
        return trim_text(value, collapse=True)  # lxml-parsed: no XML-illegal character in it

    def styled(self, name: str) -> tuple[str | None, tuple[Inline, ...]]:
        """Return :meth:`text` and, when the leaf's markup styles some of it, its styled runs."""
        value = _raw_text(self.first.get(name))
        if value is None or not (("<" in value or "&" in value) and _MARKUP_RE.search(value)):
            return self.text(name), ()
        runs = html_to_runs(value)
        text = trim_text("".join(run.text for run in runs), collapse=True)
        if text is None or not any(run.styles for run in runs) or "".join(r.text for r in runs) != text:
            return text, ()  # nothing styled, or runs that would not spell the plain title
        return text, runs

    def html(self, name: str) -> str | None:
        """Return an HTML leaf (abstract), also when it arrives as unescaped child elements."""
        return _html(self.first.get(name))


def _raw_text(child: etree._Element | None) -> str | None:
    """Return all the text inside ``child`` (None when there is no such child)."""
    if child is None:
        return None
    if len(child) == 0:
        return child.text or ""  # what itertext() gives for a leaf, without the iterator
    return "".join(child.itertext())


def _raw(el: etree._Element, name: str) -> str | None:
    """Return the text of the first child ``name``; stray child elements are read as text."""
    return _raw_text(el.find(name))


def _html(child: etree._Element | None) -> str | None:
    """Return an HTML leaf (abstract), also when it arrives as unescaped child elements."""
    if child is None:
        return None
    if len(child) == 0:
        return child.text
    inner = [etree.tostring(c, encoding="unicode", method="html", with_tail=True) for c in child]
    return (child.text or "") + "".join(inner)


# ---------------------------------------------------------------------------- journal / issue

def _build_issue(root: etree._Element) -> Issue:
    """Build the :class:`Issue` from a checked ``<journal>`` root."""
    journal = _journal(root)
    info = _issue_info(root)
    if root.find("articleset") is None and root.find("article") is not None:
        raise IngestError(
            "flattened <journal><article> layout (no <articleset>) is not supported"
        )
    elements = root.findall("articleset/article")
    if not elements:
        raise IngestError("no articles: expected journal/articleset/article")
    articles: list[Article] = []
    seen: dict[str, int] = {}
    for number, el in enumerate(elements, start=1):
        article = _article(el, number, journal, info)
        if article.key in seen:
            raise IngestError(
                f"article {number}: duplicate article key {article.key!r} "
                f"(same as article {seen[article.key]})"
            )
        seen[article.key] = number
        articles.append(article)
    return Issue(journal=journal, info=info, articles=tuple(articles))


def _journal(root: etree._Element) -> Journal:
    """Read the journal fields and derive the journal key."""
    leaves = _Leaves(root)
    title_en, title_fa = leaves.text("title"), leaves.text("title_fa")
    if not (title_en or title_fa):
        raise IngestError("journal has no title in either language")
    # clean_number: an ISSN may be written in Persian digits.
    issn_print = identifiers.issn(clean_number(leaves.raw("journal_id_issn")))
    issn_electronic = identifiers.issn(clean_number(leaves.raw("journal_id_issn_online")))
    web_url = identifiers.web_url(clean_text(leaves.raw("web_url")))
    try:
        key = identity.journal_key(issn_print, issn_electronic, web_url)
    except ValueError as exc:
        raise IngestError(str(exc)) from None
    return Journal(
        key=key, title_en=title_en, title_fa=title_fa, short_title=leaves.text("short_title"),
        web_url=web_url, issn_print=issn_print, issn_electronic=issn_electronic,
        doi=identifiers.doi(clean_text(leaves.raw("journal_id_doi"))),
        language=normalise_language(leaves.raw("language")),
        subject=leaves.text("subject"),
        index_ids=tuple((index, found) for index in INDEXES
                        if (found := clean_text(leaves.raw(f"journal_id_{index}"), collapse=True))),
    )


def _issue_info(root: etree._Element) -> IssueInfo:
    """Read volume, number, the two pubdates and the publication format."""
    volume, number = clean_number(_raw(root, "volume")), clean_number(_raw(root, "number"))
    if not (volume or number):
        # Re-ingest detects deletions per (journal, volume, number): without both, two
        # different issues would look like the same one.
        raise IngestError("issue has neither a volume nor a number")
    gregorian = persian = None
    for el in root.findall("pubdate"):
        date = parse_pubdate(*(_raw(el, part) for part in ("type", "year", "month", "day")))
        if date is None:
            continue
        if date.calendar == "gregorian" and gregorian is None:
            gregorian = date
        elif date.calendar == "persian" and persian is None:
            persian = date
    if gregorian is None and persian is not None:  # decisions.md Q9: derive only when missing
        gregorian = jalali_to_gregorian(persian.year, persian.month, persian.day)
    publish_type = (clean_text(_raw(root, "publish_type")) or "").casefold()
    return IssueInfo(
        volume=volume, number=number, pub_date=gregorian, pub_date_persian=persian,
        publication_format="print" if publish_type in {"print", "چاپی"} else "electronic",
    )


# ---------------------------------------------------------------------------- article level

def _article(el: etree._Element, number: int, journal: Journal, info: IssueInfo) -> Article:
    """Read one ``<article>``; ``number`` (1-based) names it in error messages."""
    leaves = _Leaves(el)
    (title_en, title_en_runs), (title_fa, title_fa_runs) = leaves.styled("title"), leaves.styled("title_fa")
    if not (title_en or title_fa):
        raise IngestError(f"article {number}: no title in either language")
    language, inferred = resolve_language(leaves.raw("language"), journal.language)
    web_url = identifiers.web_url(clean_text(leaves.raw("web_url")))
    first_page = clean_number(leaves.raw("start_page"))
    # The platform's id (two parses of the URL) found once, for the key and for the Article.
    publisher_id = identity.publisher_id(web_url)
    key = identity.key_for(publisher_id, journal.key, info.volume, info.number, first_page, title_en or title_fa)
    return Article(
        journal=journal, issue=info, key=key, language=language, language_inferred=inferred,
        doi=identifiers.doi(clean_text(leaves.raw("article_id_doi"))), publisher_id=publisher_id,
        title_en=title_en, title_fa=title_fa, title_en_runs=title_en_runs, title_fa_runs=title_fa_runs,
        subject_en=leaves.text("subject"), subject_fa=leaves.text("subject_fa"),
        type_en=leaves.text("content_type"), type_fa=leaves.text("content_type_fa"),
        abstract_en=parse_abstract(leaves.html("abstract"), xml_clean=True),
        abstract_fa=parse_abstract(leaves.html("abstract_fa"), xml_clean=True),
        keywords_en=split_keywords(leaves.text("keyword")),
        keywords_fa=split_keywords(leaves.text("keyword_fa")),
        first_page=first_page, last_page=clean_number(leaves.raw("end_page")),
        web_url=web_url, authors=tuple(_authors(el)),
    )


def _authors(article: etree._Element) -> list[Author]:
    """Read the authors in byline order; entries without any name are skipped."""
    authors = []
    for el in article.findall("author_list/author"):
        leaves = _Leaves(el)
        author = Author(
            given_en=_given(leaves, "first_name", "middle_name"),
            surname_en=leaves.text("last_name"), suffix_en=leaves.text("suffix"),
            given_fa=_given(leaves, "first_name_fa", "middle_name_fa"),
            surname_fa=leaves.text("last_name_fa"), suffix_fa=leaves.text("suffix_fa"),
            email=identifiers.email(clean_text(leaves.raw("email"))),
            orcid=identifiers.orcid(clean_text(leaves.raw("orcid"))),  # <code> is never read (internal id)
            corresponding=parse_flag(leaves.raw("coreauthor")),
            affiliation_en=leaves.text("affiliation"),
            affiliation_fa=leaves.text("affiliation_fa"),
        )
        if author.given_en or author.surname_en or author.given_fa or author.surname_fa:
            authors.append(author)
    return authors


def _given(leaves: _Leaves, first: str, middle: str) -> str | None:
    """Join first and middle names with one space."""
    given, other = leaves.text(first), leaves.text(middle)  # each None or not empty
    if given and other:
        return f"{given} {other}"
    return given or other
