"""Escaping for the XML that oaiserver writes as text (envelope, headers)."""
from __future__ import annotations

import re

# Characters XML 1.0 does not allow at all; they are removed rather than escaped.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def strip_illegal(text: str) -> str:
    """Remove characters that cannot appear in an XML 1.0 document."""
    return _ILLEGAL.sub("", text)


def has_illegal(text: str) -> bool:
    """Tell whether ``text`` holds a character XML 1.0 cannot carry."""
    return _ILLEGAL.search(text) is not None


def text(value: str) -> str:
    """Escape ``value`` for use as element content."""
    # A carriage return is written as a reference, as lxml writes it: a raw one would be read
    # back as a line feed by every XML parser (end-of-line handling).
    return (
        strip_illegal(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\r", "&#13;")
    )


def attr(value: str) -> str:
    """Escape ``value`` for use inside a double-quoted attribute."""
    return (
        text(value)
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def element(name: str, value: str) -> str:
    """Return ``<name>value</name>`` with the value escaped."""
    return f"<{name}>{text(value)}</{name}>"
