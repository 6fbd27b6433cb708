"""Serialised XML built as text: exactly what lxml writes for the same elements, much faster.

Rendering makes ~150 small elements per article. Through lxml each one costs several
Python-to-C calls (element, attributes, text) before the tree is serialised; one f-string per
element costs a tenth of that. The escaping here is lxml's own, character for character
(tests/test_ingest_speed_markup.py compares both over every XML character), and every piece
of text, element content and attribute value alike, goes through it, XML-illegal characters
dropped first (:func:`escape_safe_text` is for text the caller has just passed through
``common.xml_safe``). Tag and attribute names are constants of the crosswalks, never user text.
"""
from __future__ import annotations

import functools
import re
import typing as t

from metadata_formats.common import is_printable, xml_safe

#: Attributes in output order; a None value leaves the attribute out.
Attrs = t.Mapping[str, "str | None"]

# Most text needs neither escaping nor stripping: one search for a character that does (an
# XML-illegal one, or one lxml escapes) is cheaper than the regex sub and the replaces.
_ILLEGAL_CHARS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_TEXT_SPECIAL = re.compile(f"[&<>\r{_ILLEGAL_CHARS}]")
_ATTR_SPECIAL = re.compile(f"[&<>\"\t\n\r{_ILLEGAL_CHARS}]")


def escape_text(text: str) -> str:
    """Return ``text`` as element content: XML-illegal characters dropped, ``& < > CR`` escaped."""
    if is_printable(text):  # no XML-illegal character and no CR
        return escape_safe_text(text)
    if _TEXT_SPECIAL.search(text) is None:
        return text
    # lxml (libxml2) writes a carriage return as a reference so that it survives parsing.
    return (
        xml_safe(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def escape_safe_text(text: str) -> str:
    """:func:`escape_text` for text that is XML-safe already (the output of ``common.xml_safe``)."""
    # Four memchr-speed scans instead of a regex pass: this is for the long texts (abstracts)
    # that were just cleaned, whose second regex scan cost more than all their markup.
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return text


@functools.lru_cache(maxsize=1024)
def escape_attr(text: str) -> str:
    """Return ``text`` as a double-quoted attribute value, escaped the way lxml does."""
    # Remembered: most attribute values are a few constants ("author", "en", "pub", ...).
    if _ATTR_SPECIAL.search(text) is None:
        return text
    # Tab, LF and CR are references too, else attribute-value normalisation turns them to spaces.
    return (
        escape_text(text).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    )


def element(tag: str, content: str | None = None, attrs: Attrs | None = None) -> str:
    """Return ``<tag>content</tag>`` (``content`` is markup already) or, for None, ``<tag/>``."""
    # lxml writes an element with neither text nor children as <tag/>, but one whose text was
    # set to "" as <tag></tag>: None and "" stay distinct for that reason.
    start = tag
    if attrs:
        for name, value in attrs.items():  # a plain loop: this runs ~150 times an article
            if value is not None:
                start += f' {name}="{escape_attr(value)}"'
    if content is None:
        return f"<{start}/>"
    return f"<{start}>{content}</{tag}>"


def leaf(tag: str, text: str | None, attrs: Attrs | None = None) -> str:
    """Return an element holding ``text``; without text (None or "") an empty ``<tag/>``."""
    return element(tag, escape_text(text) if text else None, attrs)


def content(parts: t.Sequence[str]) -> str | None:
    """Return the joined markup of an element's children, or None when it has none."""
    return "".join(parts) if parts else None
