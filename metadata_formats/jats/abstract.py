"""JATS ``<abstract>``, ``<trans-abstract>`` and ``<kwd-group>`` (decisions.md D10)."""
from __future__ import annotations

import typing as t

from metadata_formats import common as c
from metadata_formats.jats.elements import lang_attr
from oaiserver.xmltext import XML_LANG, content, element, escape_safe_text, escape_text, strip_illegal

if t.TYPE_CHECKING:
    from oaiserver.model import AbstractBlock, Article, Inline

# Outermost first, so nesting is stable: <bold><italic><sup>x</sup></italic></bold>.
_STYLE_ORDER = ("bold", "italic", "sup", "sub")

#: A run of a paragraph: its (XML-safe) text and its styles.
Run = tuple[str, tuple[str, ...]]
#: A section: its title (None for the leading unlabelled paragraphs) and its paragraphs.
Section = tuple[str | None, list[tuple[Run, ...]]]


def abstracts(article: Article, slots: tuple[str, str]) -> str:
    """Primary-language abstract, then the other one as trans-abstract (or as the only abstract)."""
    present = [(slot, found) for slot in slots if (found := sections(getattr(article, f"abstract_{slot}")))]
    parts = []
    for index, (slot, found) in enumerate(present):
        # A lone abstract in the secondary language stays an <abstract>, labelled with its language.
        tag = "abstract" if index == 0 else "trans-abstract"
        attrs = {XML_LANG: slot} if tag == "trans-abstract" else lang_attr(slot, article.language)
        parts.append(element(tag, abstract_content(found), attrs))
    return "".join(parts)


def abstract_content(found: list[Section]) -> str | None:
    """Fill an abstract: leading paragraphs as ``<p>``, labelled blocks as ``<sec><title>``."""
    parts = []
    for title, paragraphs in found:
        text = "".join([paragraph(runs) for runs in paragraphs])
        # A section title is a cleaned, non-empty label (sections()).
        parts.append(text if title is None else f"<sec><title>{escape_text(title)}</title>{text}</sec>")
    return content(parts)


def sections(blocks: t.Sequence[AbstractBlock]) -> list[Section]:
    """Group blocks into sections; the content model puts every ``<p>`` before the first ``<sec>``.

    An unlabelled block after a labelled one therefore continues that section.
    """
    result: list[Section] = [(None, [])]
    for block in blocks:
        label = c.section_label(block.label)
        runs = _trimmed(block.content, labelled=bool(label))
        if label:
            result.append((label, [runs] if runs else []))
        elif runs:
            result[-1][1].append(runs)
    return [s for s in result if s[0] is not None or s[1]]


def paragraph(runs: tuple[Run, ...]) -> str:
    """Return one ``<p>`` with nested bold/italic/sup/sub; never ``<break/>`` (invalid in p)."""
    if not runs:
        return "<p/>"
    return f'<p>{"".join([styled(text, styles) for text, styles in runs])}</p>'


def styled(text: str, styles: tuple[str, ...]) -> str:
    """Return XML-safe ``text`` (a run of :func:`sections`) escaped, in one element per style."""
    markup = escape_safe_text(text)  # _trimmed made every run XML-safe; the styles go outermost first
    if not styles:  # most runs
        return markup
    for style in reversed(_STYLE_ORDER):
        if style in styles:
            markup = element(style, markup)
    return markup


def _trimmed(runs: t.Sequence[Inline], labelled: bool) -> tuple[Run, ...]:
    """Drop empty runs and the whitespace at the paragraph's edges (and a stray label colon)."""
    if len(runs) == 1:  # most paragraphs: the loops below, for one run
        text = _lead(strip_illegal(runs[0].text), labelled).rstrip()
        return ((text, runs[0].styles),) if text else ()
    # Plain (text, styles) pairs: a dataclasses.replace per run cost more than the rest here.
    kept = [(strip_illegal(r.text), r.styles) for r in runs]
    while kept and not _lead(kept[0][0], labelled):
        kept.pop(0)
    while kept and not kept[-1][0].rstrip():
        kept.pop()
    if not kept:
        return ()
    kept[0] = (_lead(kept[0][0], labelled), kept[0][1])
    kept[-1] = (kept[-1][0].rstrip(), kept[-1][1])
    return tuple(r for r in kept if r[0])


def _lead(text: str, labelled: bool) -> str:
    """Strip leading whitespace and, after a label, the colon the label left behind ("Methods</b>: …")."""
    text = text.lstrip()
    return text.lstrip(":").lstrip() if labelled else text


def keywords(article: Article, slots: tuple[str, str]) -> str:
    """One author kwd-group per language; xml:lang only where it differs from the article's."""
    parts = []
    for slot in slots:
        found = [k for k in (c.clean(k) for k in getattr(article, f"keywords_{slot}")) if k]
        if found:
            attrs = {"kwd-group-type": "author", **lang_attr(slot, article.language)}
            parts.append(element("kwd-group", "".join([f"<kwd>{escape_text(k)}</kwd>" for k in found]), attrs))
    return "".join(parts)
