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
    resolve_language, split_keywords,
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
    head = _sniff_text(data)
    if not head.strip("\ufeff \t\r\n\x00"):
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


def _has_doctype(text: str) -> bool:
    """Tell whether a DOCTYPE appears before the first element (i.e. in the prolog)."""
    doctype = re.search(r"<!DOCTYPE", text, re.IGNORECASE)
    if doctype is None:
        return False
    element = re.search(r"<[A-Za-z_:]", text)
    return element is None or doctype.start() < element.start()


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

def _raw(el: etree._Element, name: str) -> str | None:
    """Return the text of the first child ``name``; stray child elements are read as text."""
    child = el.find(name)
    if child is None:
        return None
    return "".join(child.itertext())


def _text(el: etree._Element, name: str) -> str | None:
    """Return a cleaned one-line text leaf; HTML tags/entities in it are flattened (titles)."""
    value = _raw(el, name)
    if value is not None and _MARKUP_RE.search(value):
        return html_to_text(value)
    return clean_text(value, collapse=True)


def _html(el: etree._Element, name: str) -> str | None:
    """Return an HTML leaf (abstract), also when it arrives as unescaped child elements."""
    child = el.find(name)
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
    title_en, title_fa = _text(root, "title"), _text(root, "title_fa")
    if not (title_en or title_fa):
        raise IngestError("journal has no title in either language")
    issn_print = normalise_issn(_raw(root, "journal_id_issn"))
    issn_electronic = normalise_issn(_raw(root, "journal_id_issn_online"))
    web_url = clean_url(_raw(root, "web_url"))
    try:
        key = identity.journal_key(issn_print, issn_electronic, web_url)
    except ValueError as exc:
        raise IngestError(str(exc)) from None
    return Journal(
        key=key, title_en=title_en, title_fa=title_fa, short_title=_text(root, "short_title"),
        web_url=web_url, issn_print=issn_print, issn_electronic=issn_electronic,
        doi=normalise_doi(_raw(root, "journal_id_doi")),
        language=normalise_language(_raw(root, "language")),
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
    title_en, title_fa = _text(el, "title"), _text(el, "title_fa")
    if not (title_en or title_fa):
        raise IngestError(f"article {number}: no title in either language")
    language, inferred = resolve_language(_raw(el, "language"), journal.language)
    web_url = clean_url(_raw(el, "web_url"))
    first_page = clean_number(_raw(el, "start_page"))
    key = identity.article_key(web_url, journal.key, info.volume, info.number, first_page,
                               title_en or title_fa)
    return Article(
        journal=journal, issue=info, key=key, language=language, language_inferred=inferred,
        doi=normalise_doi(_raw(el, "article_id_doi")), publisher_id=identity.a_code(web_url),
        title_en=title_en, title_fa=title_fa,
        subject_en=_text(el, "subject"), subject_fa=_text(el, "subject_fa"),
        type_en=_text(el, "content_type"), type_fa=_text(el, "content_type_fa"),
        abstract_en=parse_abstract(_html(el, "abstract")),
        abstract_fa=parse_abstract(_html(el, "abstract_fa")),
        keywords_en=split_keywords(_text(el, "keyword")),
        keywords_fa=split_keywords(_text(el, "keyword_fa")),
        first_page=first_page, last_page=clean_number(_raw(el, "end_page")),
        web_url=web_url, authors=tuple(_authors(el)),
    )


def _authors(article: etree._Element) -> list[Author]:
    """Read the authors in byline order; entries without any name are skipped."""
    authors = []
    for el in article.findall("author_list/author"):
        author = Author(
            given_en=_given(el, "first_name", "middle_name"), surname_en=_text(el, "last_name"),
            suffix_en=_text(el, "suffix"),
            given_fa=_given(el, "first_name_fa", "middle_name_fa"),
            surname_fa=_text(el, "last_name_fa"), suffix_fa=_text(el, "suffix_fa"),
            email=normalise_email(_raw(el, "email")),
            orcid=normalise_orcid(_raw(el, "orcid")),  # <code> is never read (internal id)
            corresponding=parse_flag(_raw(el, "coreauthor")),
            affiliation_en=_text(el, "affiliation"), affiliation_fa=_text(el, "affiliation_fa"),
        )
        if author.given_en or author.surname_en or author.given_fa or author.surname_fa:
            authors.append(author)
    return authors


def _given(el: etree._Element, first: str, middle: str) -> str | None:
    """Join first and middle names with one space."""
    parts = [p for p in (_text(el, first), _text(el, middle)) if p]
    return " ".join(parts) or None
