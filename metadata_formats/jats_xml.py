"""Small lxml helpers for building JATS elements in the OAI namespace (crosswalks.md D4).

User text only ever reaches the tree through :func:`sub` and :func:`append_text`, which drop
XML-illegal characters; lxml does the escaping.
"""
from __future__ import annotations

import typing as t

from lxml import etree

from metadata_formats.common import xml_safe

#: JATS has no namespace of its own; OAI-PMH needs one, so we use PMC's pattern (D4).
JATS = "https://jats.nlm.nih.gov/ns/publishing/1.3/"
XLINK = "http://www.w3.org/1999/xlink"
ALI = "http://www.niso.org/schemas/ali/1.0/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
XLINK_HREF = f"{{{XLINK}}}href"

Attrs = t.Mapping[str, str | None]


def sub(
    parent: etree._Element, tag: str, text: str | None = None, attrs: Attrs | None = None
) -> etree._Element:
    """Append a JATS element (or a Clark-named one, e.g. ALI) with text and attributes."""
    element = etree.SubElement(parent, tag if tag.startswith("{") else f"{{{JATS}}}{tag}")
    for name, value in (attrs or {}).items():
        if value is not None:
            element.set(name, xml_safe(value))
    if text:
        element.text = xml_safe(text)
    return element


def append_text(element: etree._Element, text: str) -> None:
    """Append text after the last child of ``element`` (mixed content)."""
    text = xml_safe(text)
    if len(element):
        last = element[-1]
        last.tail = (last.tail or "") + text
    else:
        element.text = (element.text or "") + text


def lang_attr(lang: str, article_lang: str) -> dict[str, str]:
    """Return ``xml:lang`` only when it differs from the article's (J4R: equal is redundant)."""
    return {} if lang == article_lang else {XML_LANG: lang}


def other_slot(slot: str) -> str:
    """Return the other text slot ("en" <-> "fa")."""
    return "fa" if slot == "en" else "en"
