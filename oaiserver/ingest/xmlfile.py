"""Read the bytes of an issue file into an XML tree, safely (decisions.md Q21, Q22).

The parser is hardened: DOCTYPEs are refused outright, entities are never expanded or
fetched, nothing is loaded from the network. Pre-checks catch what lxml would accept but
should not be ingested (an empty file, a DOCTYPE, a declaration that lies about the encoding,
a foreign root element); raw HTML entities at XML level get one repair attempt (decisions.md Q21). Every
failure is an :class:`IngestError` with a one-line reason; the caller prefixes the file name.
"""
from __future__ import annotations

import codecs
import html.entities
import logging
import re
import sys
import threading
import typing as t
from pathlib import Path

from lxml import etree

log = logging.getLogger(__name__)


class IngestError(Exception):
    """An issue file that cannot be ingested; the message is a one-line reason."""


def hardened_parser() -> etree.XMLParser:
    """Build a fresh hardened parser."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
        remove_comments=True, remove_pis=True, dtd_validation=False, attribute_defaults=False,
    )


_P = t.TypeVar("_P")


def per_thread(factory: t.Callable[[], _P]) -> t.Callable[[], _P]:
    """A function giving each thread its own object made by ``factory``, at its first call.

    For lxml parsers: one may parse one document after another (lxml resets it, its error log
    included), but not in two threads at once. Reused, a parser spares setting up a parser
    context per document (~3-5 us each).
    """
    local = threading.local()

    def get() -> _P:
        found: _P | None = getattr(local, "made", None)
        if found is None:
            found = local.made = factory()
        return found

    return get


#: This thread's hardened parser.
_parser = per_thread(hardened_parser)


# ---------------------------------------------------------------------------- reading

def read_limited(path: Path | None, limit: int) -> bytes:
    """Read one issue file (``None``: standard input) of at most ``limit`` bytes.

    A bigger file is refused before it is read: at its peak, ingest holds 10 to 30 times a
    file's size in memory while it parses and renders it (more for many small articles).
    """
    if path is None:
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise IngestError(_too_large(None, limit))
        return data
    if not path.exists():
        raise IngestError("no such file")
    if not path.is_file():
        raise IngestError("not a regular file")
    size = path.stat().st_size
    if size > limit:
        raise IngestError(_too_large(size, limit))
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)  # it may have grown since
    except OSError as error:
        raise IngestError(f"cannot be read: {error.strerror}") from None
    if len(data) > limit:
        raise IngestError(_too_large(None, limit))
    return data


def _too_large(size: int | None, limit: int) -> str:
    what = f"{_mib(size)}, over" if size is not None else "over"
    return (f"{what} the {_mib(limit)} limit on issue files (OAI_MAX_FILE_BYTES; ingest needs "
            f"10 to 30 times a file's size in memory)")


def _mib(size: int) -> str:
    mib = 1024 * 1024
    if size < mib:
        return f"{size:,} bytes"
    return f"{size / mib:.1f} MiB" if size % mib else f"{size // mib} MiB"


# ---------------------------------------------------------------------------- document level

_DOCTYPE_MSG = "DOCTYPE declarations are not allowed (possible entity attack)"
_NAMED_REF_RE = re.compile(rb"&([A-Za-z][A-Za-z0-9]{1,31});")
_XML_PREDEFINED = {b"amp", b"lt", b"gt", b"quot", b"apos"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def read_issue_xml(data: bytes) -> etree._Element:
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
    """The fallback of decisions.md Q21: map raw HTML named entities (``&nbsp;``) to numeric references, retry."""
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
