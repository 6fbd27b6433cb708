"""Turn the pasted-HTML abstracts of the issue file into :class:`AbstractBlock` tuples.

The value arrives already XML-unescaped, so it is HTML (Q1) that may still carry HTML named
entities (Q2). It is parsed with lxml's *HTML* parser (never an XML parser), which decodes the
entities and survives unbalanced or hostile markup. Only paragraphs and bold/italic/sup/sub runs
survive; scripts, styles, images, tables (with their text), comments and attributes are dropped.
"""
from __future__ import annotations

import logging
import re

from lxml import etree

from .model import AbstractBlock, Inline
from .normalise import clean_text, strip_xml_illegal

log = logging.getLogger(__name__)

_STYLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "sup": "sup", "sub": "sub",
}
# Their whole subtree is dropped. Tables are dropped with their text: cell text glued into a
# paragraph ("ESR85 mm/h") is garbage, and an abstract's tables belong in the full text.
_DROP_TAGS = {
    "script", "style", "head", "title", "meta", "link", "noscript", "template", "iframe",
    "object", "embed", "applet", "img", "svg", "math", "table", "form", "input", "button",
    "select", "textarea", "audio", "video", "canvas", "map", "picture", "source", "frameset",
}
_BLOCK_TAGS = {
    "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
    "blockquote", "pre", "section", "article", "header", "footer", "aside", "nav", "main",
    "figure", "figcaption", "address", "hr", "center", "body", "html",
    # Dropped, but still a paragraph boundary: text around a table is two paragraphs.
    "table", "form", "iframe", "object", "embed", "video", "audio", "canvas",
}
_BREAK = object()  # marker for a paragraph break in the flattened run list
_WS_RE = re.compile(r"\s+")
_LEAD_RE = re.compile(r"^[\s\u200c]+")
_TRAIL_RE = re.compile(r"(?<![\s\u200c])[\s\u200c]+$")  # lookbehind: linear on long inner runs
_LABEL_MAX_CHARS = 60
_LABEL_MAX_WORDS = 6
_COLONS = ":\uff1a"



def _html_parser() -> etree.HTMLParser:
    """Build an HTML parser; one per call because lxml parsers must not be shared by threads."""
    return etree.HTMLParser(
        recover=True, no_network=True, remove_comments=True, remove_pis=True,
        encoding="utf-8", default_doctype=False,
    )


_Run = tuple[str, tuple[str, ...]]


def parse_abstract(value: str | None) -> tuple[AbstractBlock, ...]:
    """Parse abstract HTML into blocks; labelled sections when every block starts with a label."""
    try:
        blocks = [b for b in _blocks(value) if b]
    except Exception:  # lxml or a pathological input: an abstract must never sink an issue
        log.warning("abstract could not be parsed; dropped", exc_info=True)
        return ()
    structured = _split_labels(blocks)
    if structured is not None:
        return structured
    return tuple(AbstractBlock(None, tuple(Inline(t, s) for t, s in b)) for b in blocks)


def html_to_text(value: str | None) -> str | None:
    """Flatten an HTML fragment (a title with ``<i>``) to plain text, entities decoded."""
    try:
        blocks = [b for b in _blocks(value) if b]
    except Exception:
        log.warning("HTML text could not be parsed; dropped", exc_info=True)
        return None
    return clean_text(" ".join("".join(t for t, _ in b) for b in blocks), collapse=True)


def _blocks(value: str | None) -> list[list[_Run]]:
    """Parse HTML and return normalised blocks, each a list of (text, styles) runs."""
    if value is None:
        return []
    text = strip_xml_illegal(value)
    if clean_text(text) is None:  # "---", "-", only whitespace/NBSP (Q17)
        return []
    # Bytes with an explicit parser encoding: a <meta charset> in the value cannot override it.
    root = etree.fromstring(text.encode("utf-8", "replace"), _html_parser())
    if root is None:
        return []
    blocks: list[list[_Run]] = [[]]
    for item in _flatten(root):
        if item is _BREAK:
            blocks.append([])
        else:
            blocks[-1].append(item)
    result = [_normalise_block(b) for b in blocks]
    if clean_text(" ".join(t for b in result for t, _ in b)) is None:
        return []  # "<p>---</p>": a placeholder wrapped in markup
    return result


def _flatten(root: etree._Element) -> list[object]:
    """Walk the tree iteratively (deep nesting must not hit the recursion limit)."""
    out: list[object] = []
    # ("open", el, styles) visits an element; ("close", el, styles) ends it: a block break for
    # block elements, then its tail text, which carries the parent's styles.
    stack: list[tuple[str, etree._Element, tuple[str, ...]]] = [("open", root, ())]
    while stack:
        action, el, styles = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else ""  # comments/PIs/entities: ""
        if action == "close":
            if tag in _BLOCK_TAGS:
                out.append(_BREAK)
            if el.tail:
                out.append((el.tail, styles))
            continue
        if tag in _BLOCK_TAGS or tag == "br":
            out.append(_BREAK)
        stack.append(("close", el, styles))
        if not tag or tag in _DROP_TAGS:
            continue  # the subtree vanishes; only the tail (pushed above) survives
        inner = tuple(sorted(set(styles) | {_STYLE_TAGS[tag]})) if tag in _STYLE_TAGS else styles
        if el.text:
            out.append((el.text, inner))
        for child in reversed(el):
            stack.append(("open", child, inner))
    return out


def _normalise_block(runs: list[_Run]) -> list[_Run]:
    """Collapse whitespace across runs, trim the block, merge runs with equal styles."""
    result: list[_Run] = []
    for text, styles in runs:
        text = _WS_RE.sub(" ", strip_xml_illegal(text))
        if not text:
            continue
        prev_space = not result or result[-1][0].endswith(" ")
        if prev_space and text.startswith(" "):
            text = text[1:]
            if not text:
                continue
        if not text.strip():
            # A lone space carries no visible style: give it the previous run's styles so that
            # the runs around it can merge ("<b>A</b> <b>B</b>" -> one bold run).
            styles = result[-1][1]
        if result and result[-1][1] == styles:
            result[-1] = (result[-1][0] + text, styles)
        else:
            result.append((text, styles))
    return _trim_edges(result)


def _trim_edges(runs: list[_Run]) -> list[_Run]:
    """Strip whitespace and ZWNJ from the two ends of a block, dropping runs left empty."""
    while runs and not _LEAD_RE.sub("", runs[0][0]):
        runs.pop(0)
    if runs:
        runs[0] = (_LEAD_RE.sub("", runs[0][0]), runs[0][1])
    while runs and not _TRAIL_RE.sub("", runs[-1][0]):
        runs.pop()
    if runs:
        runs[-1] = (_TRAIL_RE.sub("", runs[-1][0]), runs[-1][1])
    return runs


def _split_labels(blocks: list[list[_Run]]) -> tuple[AbstractBlock, ...] | None:
    """Return labelled sections if every block starts with a bold label (Q4), else None."""
    sections: list[tuple[str, list[_Run]]] = []
    for block in blocks:
        found = _take_label(block)
        if found is None:
            if sections and not sections[-1][1]:
                # "<b>Methods:</b><br>text": a label alone on its line heads the next block.
                sections[-1] = (sections[-1][0], block)
                continue
            return None
        sections.append(found)
    if len(sections) < 2 or any(not content for _, content in sections):
        return None  # one "section" is just a bold lead-in, not a structured abstract
    return tuple(
        AbstractBlock(label, tuple(Inline(t, s) for t, s in content)) for label, content in sections
    )


def _take_label(block: list[_Run]) -> tuple[str, list[_Run]] | None:
    """Split a leading bold label off a block: ``(label, remaining runs)``, else None."""
    count = 0
    while count < len(block) and "bold" in block[count][1]:
        count += 1
    if count == 0:
        return None
    bold = "".join(t for t, _ in block[:count]).strip()
    rest = [(t, s) for t, s in block[count:]]
    if bold and bold[-1] in _COLONS:
        label = bold[:-1].strip()
    elif rest and rest[0][0].lstrip()[:1] in tuple(_COLONS):  # tuple: "" must not match
        label = bold  # "<b>Methods</b>: In this review" (colon outside the bold)
        rest[0] = (rest[0][0].lstrip()[1:], rest[0][1])
    else:
        return None
    if not label or len(label) > _LABEL_MAX_CHARS or len(label.split()) > _LABEL_MAX_WORDS:
        return None
    if any(c in _COLONS for c in label):
        return None
    return label, _trim_edges([(t, s) for t, s in rest if t])
