"""Turn the pasted-HTML abstracts of the issue file into :class:`AbstractBlock` tuples.

The value arrives already XML-unescaped, so it is HTML (decisions.md Q1) that may still carry HTML named
entities (decisions.md Q2). It is parsed with lxml's *HTML* parser (never an XML parser), which decodes the
entities and survives unbalanced or hostile markup. Only paragraphs and bold/italic/sup/sub runs
survive; scripts, styles, images, tables (with their text), comments and attributes are dropped.
"""
from __future__ import annotations

import enum
import html
import logging
import re
from typing import Final

from lxml import etree

from oaiserver.model import AbstractBlock, Inline
from oaiserver.ingest.normalise import WHITESPACE, ZWNJ, collapse_spaces, trim_text
from oaiserver.ingest.xmlfile import per_thread
from oaiserver.xmltext import has_illegal, strip_illegal

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
class _Break(enum.Enum):
    """The type of _BREAK: an enum member, so that `is _BREAK` narrows a flattened item."""

    BREAK = 0


_BREAK: Final = _Break.BREAK  # marker for a paragraph break in the flattened run list
# What a block's edges lose. str.strip with this set works in C from the two ends only; an
# edge regex would try every position of a long paragraph.
_EDGE_CHARS = WHITESPACE + ZWNJ
_LABEL_MAX_CHARS = 60
_LABEL_MAX_WORDS = 6
_COLONS = ":\uff1a"
_COLON_CHARS = tuple(_COLONS)
# A complete character or entity reference, semicolon required: html.unescape on a whole text
# would also decode the legacy forms without one ("&para" inside "&parameter").
_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Some files escape their entities once more than needed, some twice (decisions.md Q2): after the HTML
# parser's decode a text may still read "&rsquo;" or "&amp;nbsp;". Decoding stops when nothing
# changes, and after this many rounds whatever happens.
_MAX_DECODES = 4



def _html_parser() -> etree.HTMLParser:
    """Build an HTML parser."""
    return etree.HTMLParser(
        recover=True, no_network=True, remove_comments=True, remove_pis=True,
        encoding="utf-8", default_doctype=False,
    )


#: This thread's HTML parser (lxml parsers must not be shared by threads).
_thread_html_parser = per_thread(_html_parser)


_Run = tuple[str, tuple[str, ...]]
_Item = _Run | _Break  # one entry of the flattened run list


def parse_abstract(value: str | None, xml_clean: bool = False) -> tuple[AbstractBlock, ...]:
    """Parse abstract HTML into blocks; labelled sections when it opens with one of several labels."""
    # ``xml_clean``: the value cannot hold an XML-illegal character (an XML parser produced
    # it), which spares a scan of the whole value.
    try:
        blocks = [b for b in _blocks(value, xml_clean) if b]
    except Exception:  # lxml or a pathological input: an abstract must never sink an issue
        log.warning("abstract could not be parsed; dropped", exc_info=True)
        return ()
    structured = _split_labels(blocks)
    if structured is not None:
        return structured
    return tuple([AbstractBlock(None, tuple([Inline(t, s) for t, s in b])) for b in blocks])


def html_to_text(value: str | None) -> str | None:
    """Flatten an HTML fragment (a title with ``<i>``) to plain text, entities decoded."""
    # The runs of _blocks are XML-clean already.
    return trim_text("".join(run.text for run in html_to_runs(value)), collapse=True)


def html_to_runs(value: str | None) -> tuple[Inline, ...]:
    """Flatten an HTML fragment to one line of runs that keep their bold/italic/sup/sub styles."""
    try:
        blocks = [b for b in _blocks(value) if b]
    except Exception:
        log.warning("HTML text could not be parsed; dropped", exc_info=True)
        return ()
    line: list[_Run] = []
    for block in blocks:
        if line:
            line.append((" ", ()))  # paragraphs of a one-line field join with a space
        line.extend(block)
    return tuple(Inline(text, styles) for text, styles in _normalise_block(line))


def _blocks(value: str | None, xml_clean: bool = False) -> list[list[_Run]]:
    """Parse HTML and return normalised blocks, each a list of (text, styles) runs."""
    if value is None:
        return []
    text = value if xml_clean else strip_illegal(value)
    if trim_text(text) is None:  # "---", "-", only whitespace/NBSP (decisions.md Q17)
        return []
    # Bytes with an explicit parser encoding: a <meta charset> in the value cannot override it.
    root = etree.fromstring(text.encode("utf-8", "replace"), _thread_html_parser())
    if root is None:
        return []
    items = _decode_references(_flatten(root))
    if "&#" in text:
        # Only a character reference can give a character XML forbids ("&#1;"): the value is
        # XML-clean and no named reference stands for one. _decode_references cleans what it
        # decodes ("&amp;#12;"), so the whole text needs a scan only here.
        items = _xml_clean(items)
    blocks: list[list[_Run]] = [[]]
    for item in items:
        if item is _BREAK:
            blocks.append([])
        else:
            blocks[-1].append(item)
    result = [_normalise_block(b) for b in blocks]
    if trim_text(" ".join(t for b in result for t, _ in b)) is None:
        return []  # "<p>---</p>": a placeholder wrapped in markup
    return result


def _decode_references(items: list[_Item]) -> list[_Item]:
    """Decode the references left in the runs' text after the HTML parser (bounded); keep it XML-clean."""
    # A decoded reference may be a character XML forbids ("&amp;#12;" gives a form feed).
    return [i if i is _BREAK or "&" not in i[0] else (strip_illegal(decode_references(i[0])), i[1])
            for i in items]


def decode_references(text: str) -> str:
    """Decode complete entity and character references again and again, at most ``_MAX_DECODES`` times."""
    for _ in range(_MAX_DECODES):
        decoded = _REFERENCE.sub(lambda match: html.unescape(match.group()), text)
        if decoded == text:
            break
        text = decoded
    return text


def _xml_clean(items: list[_Item]) -> list[_Item]:
    """Remove XML-illegal characters from the runs, scanning them one time in the common case."""
    # One search over all the text costs far less than one regex call per run; the runs are
    # only rewritten when something is found (lxml's HTML parser decodes a "&#1;" to U+0001).
    texts = [item[0] for item in items if item is not _BREAK]
    if not has_illegal("".join(texts)):
        return items
    return [i if i is _BREAK else (strip_illegal(i[0]), i[1]) for i in items]


def _flatten(root: etree._Element) -> list[_Item]:
    """Return the text runs and paragraph breaks of a tree, in document order."""
    # lxml's iterwalk walks the tree in C (no recursion, so deep nesting is fine) and can skip
    # a dropped subtree; a hand-made stack of Python tuples cost half again as much. Most
    # elements are plain (<span>, <font>): one dict miss sends them on, and each text and
    # tail is read once (every read makes a new str).
    out: list[_Item] = []
    append = out.append
    styles: tuple[str, ...] = ()
    outer: list[tuple[str, ...]] = []  # the styles around each open element
    push, pop = outer.append, outer.pop
    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, el in walker:
        if event == "start":
            push(styles)
            kind = _START_KINDS.get(el.tag)  # lxml's HTML parser gives lower-case names
            if kind is not None:
                breaks, drops, style = kind
                if breaks:
                    append(_BREAK)
                if drops:
                    walker.skip_subtree()  # the subtree vanishes; its "end" still keeps the tail
                    continue
                if style is not None:
                    styles = _with_style(styles, style)
            text = el.text
            if text:
                append((text, styles))
            continue
        if event == "end":
            styles = pop()
            if el.tag in _BLOCK_TAGS:
                append(_BREAK)
        # The tail of an element, comment or PI carries the enclosing styles.
        tail = el.tail
        if tail:
            append((tail, styles))
    return out


#: What the start of an element does, for the elements that do something: (starts a
#: paragraph, is dropped with its subtree, the style it adds).
_START_KINDS: dict[object, tuple[bool, bool, str | None]] = {
    tag: (tag in _BLOCK_TAGS or tag == "br", tag in _DROP_TAGS, _STYLE_TAGS.get(tag))
    for tag in (*_BLOCK_TAGS, *_DROP_TAGS, *_STYLE_TAGS, "br")
}


def _with_style(styles: tuple[str, ...], style: str) -> tuple[str, ...]:
    """Return ``styles`` (sorted, distinct) with ``style`` added."""
    return styles if style in styles else tuple(sorted((*styles, style)))


def _normalise_block(runs: list[_Run]) -> list[_Run]:
    """Collapse whitespace across runs, trim the block, merge runs with equal styles."""
    result: list[_Run] = []
    for text, styles in runs:
        text = collapse_spaces(text)  # the runs are XML-clean already (_xml_clean)
        if not text:
            continue
        if text[0] == " " and (not result or result[-1][0][-1] == " "):
            text = text[1:]
            if not text:
                continue
        if text == " ":  # the only blank a collapsed run can be
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
    while runs and not runs[0][0].lstrip(_EDGE_CHARS):
        runs.pop(0)
    if runs:
        runs[0] = (runs[0][0].lstrip(_EDGE_CHARS), runs[0][1])
    while runs and not runs[-1][0].rstrip(_EDGE_CHARS):
        runs.pop()
    if runs:
        runs[-1] = (runs[-1][0].rstrip(_EDGE_CHARS), runs[-1][1])
    return runs


def _split_labels(blocks: list[list[_Run]]) -> tuple[AbstractBlock, ...] | None:
    """Return labelled sections if the first block and at least one more start with a bold label (decisions.md Q4).

    After the first, a block with a label heads a new section and a block without one continues
    the section before it; a label alone on its line heads the block that follows it. One
    labelled block is a bold lead-in, not a structure: as a lone ``<sec>`` it would be a JATS4R
    error, so it stays a paragraph (in either language: the rule is the same for both).
    """
    sections: list[tuple[str | None, list[_Run]]] = []
    for block in blocks:
        found = _take_label(block)
        if found is None:
            if not sections:
                return None  # the abstract does not open with a label: plain paragraphs
            if not sections[-1][1]:
                # "<b>Methods:</b><br>text": a label alone on its line heads the next block.
                sections[-1] = (sections[-1][0], block)
            else:
                sections.append((None, block))
            continue
        sections.append(found)
    if len([label for label, _ in sections if label]) < 2 or not all([c for _, c in sections]):
        return None  # a lone lead-in; or a label with no text at all after it, which heads nothing
    return tuple([
        AbstractBlock(label, tuple([Inline(t, s) for t, s in content])) for label, content in sections
    ])


def _take_label(block: list[_Run]) -> tuple[str, list[_Run]] | None:
    """Split a leading bold label off a block: ``(label, remaining runs)``, else None."""
    if not block or "bold" not in block[0][1]:
        return None  # most blocks: no label
    count = 1
    while count < len(block) and "bold" in block[count][1]:
        count += 1
    bold = "".join([t for t, _ in block[:count]]).strip()
    rest = block[count:]  # a new list: the runs themselves are tuples
    if bold and bold[-1] in _COLONS:
        label = bold[:-1].strip()
    elif rest and rest[0][0].lstrip()[:1] in _COLON_CHARS:  # a tuple: "" must not match
        label = bold  # "<b>Methods</b>: In this review" (colon outside the bold)
        rest[0] = (rest[0][0].lstrip()[1:], rest[0][1])
    else:
        return None
    if not label or len(label) > _LABEL_MAX_CHARS or len(label.split()) > _LABEL_MAX_WORDS:
        return None
    if ":" in label or "\uff1a" in label:  # a colon of _COLONS
        return None
    return label, _trim_edges([run for run in rest if run[0]])
