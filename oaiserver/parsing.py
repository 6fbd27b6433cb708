"""Read one issue file (the ISC / Yektaweb journal XML, input-format.md) into an :class:`Issue`.

The XML parser is hardened: DOCTYPEs are refused outright, entities are never expanded or
fetched, nothing is loaded from the network. Every failure is an :class:`IngestError` with a
one-line reason; the caller prefixes the file name.
"""
from __future__ import annotations

import codecs
import html.entities
import logging
import re

from lxml import etree

from . import identity
from .abstracts import html_to_text, parse_abstract
from .model import Article, Author, Issue, IssueInfo, Journal
from .normalise import (
    clean_number, clean_text, clean_url, jalali_to_gregorian, normalise_doi, normalise_email,
    normalise_issn, normalise_language, normalise_orcid, parse_flag, parse_pubdate,
    resolve_language, split_keywords, trim_text,
)

log = logging.getLogger(__name__)


class IngestError(Exception):
    """An issue file that cannot be ingested; the message is a one-line reason."""


def _parser() -> etree.XMLParser:
    """Build a fresh hardened parser (parsers keep state, so one per parse)."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True, dtd_validation=False, attribute_defaults=False,
    )


# ---------------------------------------------------------------------------- document level

_DOCTYPE_MSG = "DOCTYPE declarations are not allowed (possible entity attack)"
_MARKUP_RE = re.compile(r"</?[A-Za-z][^<>]*>|&(?:#\d+|#x[0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*);")
_NAMED_REF_RE = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_PREDEFINED = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def parse_issue(data: bytes) -> Issue:
    """Parse the bytes of one issue file; raise :class:`IngestError` on any problem."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"parse_issue() needs bytes, not {type(data).__name__}")  # caller bug
    try:
        return _build_issue(_parse_xml(bytes(data)))
    except IngestError:
        raise
    except Exception as exc:  # a bug or an lxml surprise: still one clear line for the operator
        # The message below names the error; the traceback only at DEBUG ("never a traceback").
        log.debug("unexpected error while parsing an issue file", exc_info=True)
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        raise IngestError(f"internal error while reading the file ({reason})") from exc


def _parse_xml(data: bytes) -> etree._Element:
    """Parse bytes with the hardened parser; check emptiness, DOCTYPE and the root element."""
    head = _prolog_text(data)
    # lstrip, not strip: it returns the text itself when nothing leads, where strip copies it
    # to drop a final newline; either leaves nothing exactly when all is blank.
    if not head.lstrip("\ufeff \t\r\n\x00"):
        raise IngestError("empty file")
    if _has_doctype(head):
        raise IngestError(_DOCTYPE_MSG)
    _check_declared_encoding(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        root = _retry_with_html_entities(data, exc)
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise IngestError(_DOCTYPE_MSG)  # belt and braces: an encoding the sniffer missed
    return _check_root(root)


#: Bytes decoded for the pre-checks: a multiple of 4, so no UTF-16/32 code unit is cut.
_PROLOG_BYTES = 1 << 16


def _prolog_text(data: bytes) -> str:
    """Decode as much of the document as the pre-checks need: up to its first element."""
    # The checks only look before the first element (_has_doctype), and a file with an
    # element is not blank, so the first 64 KiB decide; decoding a whole 200 KB file for them
    # cost more than parsing its journal fields. Without an element there, decode it all.
    head = _sniff_text(data[:_PROLOG_BYTES])
    if len(data) > _PROLOG_BYTES and _ELEMENT_RE.search(head) is None:
        return _sniff_text(data)
    return head


def _sniff_text(data: bytes) -> str:
    """Decode the document loosely for pre-checks (UTF-16/32 by BOM or NULs, else Latin-1)."""
    for bom, codec in _BOMS:  # UTF-32 before UTF-16: BOM_UTF32_LE starts with BOM_UTF16_LE
        if data.startswith(bom):
            return data[len(bom):].decode(codec, "replace")
    if data[:2] == b"<\x00":
        return data.decode("utf-16-le", "replace")
    if data[:2] == b"\x00<":
        return data.decode("utf-16-be", "replace")
    # Every ASCII-compatible encoding (UTF-8, windows-1256, ISO-8859-x) keeps "<!DOCTYPE" as
    # ASCII bytes, and Latin-1 decodes any byte, so this never fails.
    return data.decode("latin-1")


_DOCTYPE_RE = re.compile(r"<!DOCTYPE", re.IGNORECASE)
_ELEMENT_RE = re.compile(r"<[A-Za-z_:]")


def _has_doctype(text: str) -> bool:
    """Tell whether a DOCTYPE appears before the first element (i.e. in the prolog)."""
    # The first element is near the start: looking for a DOCTYPE only before it spares a
    # case-insensitive scan of the whole file. A DOCTYPE match before the element also ends
    # before it ("!DOCTYPE" holds no "<"), so endpos cuts off nothing that counts.
    element = _ELEMENT_RE.search(text)
    end = len(text) if element is None else element.start()
    return _DOCTYPE_RE.search(text, 0, end) is not None


_DECLARED_RE = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml[^>]*?\sencoding\s*=\s*[\"']([A-Za-z0-9._-]{1,40})[\"']"
)


def _check_declared_encoding(data: bytes) -> None:
    """Refuse a file declaring a non-Unicode encoding whose bytes are really UTF-8 (mojibake)."""
    # Persian in windows-1256 or Latin-1 text is practically never valid UTF-8 as a whole, so a
    # non-ASCII file that decodes as UTF-8 has a wrong declaration; parsing it would garble it.
    match = _DECLARED_RE.match(data)
    if match is None or data.isascii():
        return
    declared = match.group(1).decode("ascii")
    try:
        if codecs.lookup(declared).name.startswith("utf"):
            return
        data.decode("utf-8")
    except (LookupError, UnicodeDecodeError):
        return  # unknown names are lxml's to report; non-UTF-8 bytes may well be `declared`
    raise IngestError(f"the XML declaration says encoding {declared!r} but the file is UTF-8")


def _syntax_message(exc: etree.XMLSyntaxError) -> str:
    """Render an lxml syntax error as one line."""
    message = " ".join((exc.msg or str(exc)).split())
    if exc.lineno and f"line {exc.lineno}" not in message:
        message += f", line {exc.lineno}"
    return f"not well-formed XML: {message}"


def _retry_with_html_entities(data: bytes, exc: etree.XMLSyntaxError) -> etree._Element:
    """Q21 fallback: map raw HTML named entities (``&nbsp;``) to numeric references, retry."""
    fixed = _NAMED_REF_RE.sub(_numeric_ref, data) if "not defined" in (exc.msg or "") else data
    if fixed == data:
        raise IngestError(_syntax_message(exc)) from None
    try:
        root = etree.fromstring(fixed, _parser())
    except etree.XMLSyntaxError:
        raise IngestError(_syntax_message(exc)) from None
    log.warning("issue file has raw HTML entities at XML level; mapped them to numeric references")
    return root


def _numeric_ref(match: re.Match[bytes]) -> bytes:
    """Replace one HTML named entity reference by numeric character references."""
    name = match.group(1)
    if name in _XML_PREDEFINED:
        return match.group(0)
    chars = html.entities.html5.get(name.decode("ascii") + ";")
    if chars is None:
        return match.group(0)
    return "".join(f"&#{ord(c)};" for c in chars).encode("ascii")


def _check_root(root: etree._Element) -> etree._Element:
    """Accept only a ``<journal>`` root (no namespace); name the PubMed-style export explicitly."""
    tag = root.tag if isinstance(root.tag, str) else "?"
    if tag.rsplit("}", 1)[-1].lower() == "articleset":
        raise IngestError(
            "PubMed-style ArticleSet exports are not supported; "
            "export the issue in the journal XML format"
        )
    if tag != "journal":
        raise IngestError(f"root element is <{tag}>, expected <journal>")
    return root


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
        if value is None:
            return None
        # Markup starts with "<" or "&": two memchr scans spare most values the regex.
        if ("<" in value or "&" in value) and _MARKUP_RE.search(value):
            return html_to_text(value)
        return trim_text(value, collapse=True)  # lxml-parsed: no XML-illegal character in it

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
    issn_print = normalise_issn(leaves.raw("journal_id_issn"))
    issn_electronic = normalise_issn(leaves.raw("journal_id_issn_online"))
    web_url = clean_url(leaves.raw("web_url"))
    try:
        key = identity.journal_key(issn_print, issn_electronic, web_url)
    except ValueError as exc:
        raise IngestError(str(exc)) from None
    return Journal(
        key=key, title_en=title_en, title_fa=title_fa, short_title=leaves.text("short_title"),
        web_url=web_url, issn_print=issn_print, issn_electronic=issn_electronic,
        doi=normalise_doi(leaves.raw("journal_id_doi")),
        language=normalise_language(leaves.raw("language")),
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
    if gregorian is None and persian is not None:  # Q9: derive only when missing
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
    title_en, title_fa = leaves.text("title"), leaves.text("title_fa")
    if not (title_en or title_fa):
        raise IngestError(f"article {number}: no title in either language")
    language, inferred = resolve_language(leaves.raw("language"), journal.language)
    web_url = clean_url(leaves.raw("web_url"))
    first_page = clean_number(leaves.raw("start_page"))
    key = identity.article_key(web_url, journal.key, info.volume, info.number, first_page,
                               title_en or title_fa)
    return Article(
        journal=journal, issue=info, key=key, language=language, language_inferred=inferred,
        doi=normalise_doi(leaves.raw("article_id_doi")), publisher_id=identity.a_code(web_url),
        title_en=title_en, title_fa=title_fa,
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
            email=normalise_email(leaves.raw("email")),
            orcid=normalise_orcid(leaves.raw("orcid")),  # <code> is never read (internal id)
            corresponding=parse_flag(leaves.raw("coreauthor")),
            affiliation_en=leaves.text("affiliation"),
            affiliation_fa=leaves.text("affiliation_fa"),
        )
        if author.given_en or author.surname_en or author.given_fa or author.surname_fa:
            authors.append(author)
    return authors


def _given(leaves: _Leaves, first: str, middle: str) -> str | None:
    """Join first and middle names with one space."""
    parts = [p for p in (leaves.text(first), leaves.text(middle)) if p]
    return " ".join(parts) or None
