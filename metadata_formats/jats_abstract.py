"""JATS ``<abstract>``, ``<trans-abstract>`` and ``<kwd-group>`` (crosswalks.md §3.2, D10)."""
from __future__ import annotations

import typing as t
from dataclasses import replace

from lxml import etree

from metadata_formats import common as c
from metadata_formats.jats_xml import XML_LANG, append_text, lang_attr, sub

if t.TYPE_CHECKING:
    from oaiserver.model import AbstractBlock, Article, Inline

# Outermost first, so nesting is stable: <bold><italic><sup>x</sup></italic></bold>.
_STYLE_ORDER = ("bold", "italic", "sup", "sub")

#: A section: its title (None for the leading unlabelled paragraphs) and its paragraphs.
Section = tuple[str | None, list[tuple["Inline", ...]]]


def add_abstracts(meta: etree._Element, article: Article, slots: tuple[str, str]) -> None:
    """Primary-language abstract, then the other one as trans-abstract (or as the only abstract)."""
    present = [s for s in slots if sections(getattr(article, f"abstract_{s}"))]
    for index, slot in enumerate(present):
        # A lone abstract in the secondary language stays an <abstract>, labelled with its language.
        tag = "abstract" if index == 0 else "trans-abstract"
        attrs = {XML_LANG: slot} if tag == "trans-abstract" else lang_attr(slot, article.language)
        add_abstract(sub(meta, tag, None, attrs), getattr(article, f"abstract_{slot}"))


def add_abstract(element: etree._Element, blocks: t.Sequence[AbstractBlock]) -> None:
    """Fill an abstract: leading paragraphs as ``<p>``, labelled blocks as ``<sec><title>``."""
    for title, paragraphs in sections(blocks):
        target = element if title is None else sub(element, "sec")
        if title is not None:
            sub(target, "title", title)
        for runs in paragraphs:
            add_paragraph(target, runs)


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


def add_paragraph(parent: etree._Element, runs: tuple[Inline, ...]) -> None:
    """Append one ``<p>`` with nested bold/italic/sup/sub; never ``<break/>`` (invalid in p)."""
    paragraph = sub(parent, "p")
    for run in runs:
        target = paragraph
        for style in (s for s in _STYLE_ORDER if s in run.styles):
            target = sub(target, style)
        append_text(target, run.text)


def _trimmed(runs: t.Sequence[Inline], labelled: bool) -> tuple[Inline, ...]:
    """Drop empty runs and the whitespace at the paragraph's edges (and a stray label colon)."""
    kept = [replace(r, text=c.xml_safe(r.text)) for r in runs]
    while kept and not _lead(kept[0].text, labelled):
        kept.pop(0)
    while kept and not kept[-1].text.rstrip():
        kept.pop()
    if not kept:
        return ()
    kept[0] = replace(kept[0], text=_lead(kept[0].text, labelled))
    kept[-1] = replace(kept[-1], text=kept[-1].text.rstrip())
    return tuple(r for r in kept if r.text)


def _lead(text: str, labelled: bool) -> str:
    """Strip leading whitespace and, after a label, the colon the label left behind ("Methods</b>: …")."""
    text = text.lstrip()
    return text.lstrip(":").lstrip() if labelled else text


def add_keywords(meta: etree._Element, article: Article, slots: tuple[str, str]) -> None:
    """One author kwd-group per language; xml:lang only where it differs from the article's."""
    for slot in slots:
        keywords = [k for k in (c.clean(k) for k in getattr(article, f"keywords_{slot}")) if k]
        if keywords:
            attrs = {"kwd-group-type": "author", **lang_attr(slot, article.language)}
            group = sub(meta, "kwd-group", None, attrs)
            for keyword in keywords:
                sub(group, "kwd", keyword)
