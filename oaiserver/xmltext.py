"""The XML text toolkit: the XML 1.0 character rule, escaping, element builders, namespaces.

oaiserver writes all of its XML as text: the crosswalks (~150 small elements an article), the
set descriptions, the record headers and the OAI-PMH envelope. Through lxml each element costs
several Python-to-C calls before the tree is serialised; one f-string per element costs a tenth
of that. The escaping here is lxml's own, character for character (tests/test_xmltext.py
compares both over every XML character), so the text is exactly what lxml would write.

Two builders, one contract each: :func:`leaf` takes *text* and escapes it; :func:`element`
takes *markup* (children already built by these functions) and never escapes it. Tag and
attribute names are constants of the callers, never user text; attribute values are always
escaped.
"""
from __future__ import annotations

import functools
import re
import typing as t

# ---------------------------------------------------------------------------- namespaces
# Shared by the metadata formats, the set descriptions and the OAI-PMH envelope.

NS_OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
NS_OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: The ``xml`` prefix is bound in every document, so ``xml:lang`` is written as it is.
XML_LANG = "xml:lang"

# ---------------------------------------------------------------------------- the character rule

#: The characters XML 1.0 forbids, as a regex class: everything outside its Char production
#: (C0 controls but tab, LF and CR; the surrogates; U+FFFE and U+FFFF). They cannot even be
#: written as references, so they are dropped, never escaped.
ILLEGAL_CLASS = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
_ILLEGAL = re.compile(f"[{ILLEGAL_CLASS}]")
# Most text needs neither escaping nor stripping: one search for a character that does (an
# XML-illegal one, or one lxml escapes) is cheaper than the regex sub and the replaces.
_TEXT_SPECIAL = re.compile(f"[&<>\r{ILLEGAL_CLASS}]")
_ATTR_SPECIAL = re.compile(f"[&<>\"\t\n\r{ILLEGAL_CLASS}]")


def strip_illegal(text: str) -> str:
    """Return ``text`` without the characters XML 1.0 cannot carry."""
    # Every character XML forbids is a control (Cc), a surrogate (Cs) or a noncharacter (Cn:
    # U+FFFE, U+FFFF), and isprintable() is false for all three: one C pass spares most values
    # the regex. False only means "look closer" (tab, LF, CR and many legal characters are not
    # printable either). A non-string goes on to the regex, which raises its usual TypeError.
    if isinstance(text, str) and text.isprintable():
        return text
    return _ILLEGAL.sub("", text)


def clean(text: str | None) -> str | None:
    """Return ``text`` XML-safe and trimmed of whitespace, or None when nothing is left."""
    if text is None:
        return None
    if not (isinstance(text, str) and text.isprintable()):  # strip_illegal, inline (hot path)
        text = _ILLEGAL.sub("", text)
    return text.strip() or None


def has_illegal(text: str) -> bool:
    """Tell whether ``text`` holds a character XML 1.0 cannot carry."""
    if isinstance(text, str) and text.isprintable():  # see strip_illegal
        return False
    return _ILLEGAL.search(text) is not None


# ---------------------------------------------------------------------------- escaping


def escape_text(text: str) -> str:
    """Return ``text`` as element content: XML-illegal characters dropped, ``& < > CR`` escaped."""
    if isinstance(text, str) and text.isprintable():  # no XML-illegal character and no CR
        if "&" in text or "<" in text or ">" in text:  # escape_safe_text, inline (hot path)
            return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return text
    if _TEXT_SPECIAL.search(text) is None:
        return text
    # lxml (libxml2) writes a carriage return as a reference so that it survives parsing.
    return (
        strip_illegal(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def escape_safe_text(text: str) -> str:
    """:func:`escape_text` for text that is XML-safe already (the output of :func:`strip_illegal`)."""
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


# ---------------------------------------------------------------------------- builders

#: Attributes in output order; a None value leaves the attribute out.
Attrs = t.Mapping[str, "str | None"]


def element(tag: str, content: str | None = None, attrs: Attrs | None = None) -> str:
    """Return ``<tag>content</tag>`` (``content`` is markup already) or, for None, ``<tag/>``."""
    # lxml writes an element with neither text nor children as <tag/>, but one whose text was
    # set to "" as <tag></tag>: None and "" stay distinct for that reason.
    if not attrs:  # most elements: no attribute to write
        return f"<{tag}/>" if content is None else f"<{tag}>{content}</{tag}>"
    start = tag
    for name, value in attrs.items():  # a plain loop: this runs ~150 times an article
        if value is not None:
            start += f' {name}="{escape_attr(value)}"'
    if content is None:
        return f"<{start}/>"
    return f"<{start}>{content}</{tag}>"


def attributes(attrs: Attrs) -> str:
    """Return the attributes as :func:`element` writes them: `` name="value"`` each, values escaped, None left out."""
    # For the callers that write a fixed structure as one f-string instead of nested builders.
    return "".join(f' {name}="{escape_attr(value)}"' for name, value in attrs.items() if value is not None)


def leaf(tag: str, text: str | None, attrs: Attrs | None = None) -> str:
    """Return an element holding ``text``, escaped; without text (None or "") an empty ``<tag/>``."""
    # element(tag, escape_text(text), attrs) with both calls inlined for the common case
    # (~250 leaves an article): printable text holds no character XML forbids and no CR.
    if not text:
        return element(tag, None, attrs)
    if isinstance(text, str) and text.isprintable():
        if "&" in text or "<" in text or ">" in text:
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    else:
        text = escape_text(text)
    if attrs:
        return element(tag, text, attrs)
    return f"<{tag}>{text}</{tag}>"


def content(parts: t.Sequence[str]) -> str | None:
    """Return the joined markup of an element's children, or None when it has none."""
    return "".join(parts) if parts else None
