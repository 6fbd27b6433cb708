"""The faster ingest code gives exactly what the code it replaced gave.

Each test keeps the replaced implementation, small, as an oracle (regex edge trimming, the
stack-based HTML walk, per-field search of the affiliation country, json of ``plain``) and
compares over inputs built to hit the edge cases: every whitespace character, invisible
characters, XML-illegal characters, entities and unbalanced markup. Random inputs use fixed
seeds, so every run checks the same cases.
"""
from __future__ import annotations

import dataclasses
import json
import random
import re
import unicodedata
from pathlib import Path

import pytest
from lxml import etree

from metadata_formats.jats import contribs as jats_contribs
from oaiserver.ingest import abstracts, normalise, parsing, prepare as prepared, sets, xmlfile
from oaiserver import model, xmltext
from oaiserver.ingest.parsing import parse_issue
from tests.helpers.issues import A, issue

SAMPLES = "/work/shared/samples"

# ---------------------------------------------------------------------------- oracles

_NOISE = "\u200b\u200c\u200d\u2060\ufeff"
_OLD_EDGE_RE = re.compile(rf"^[\s{_NOISE}]+|(?<![\s{_NOISE}])[\s{_NOISE}]+$")
# The XML 1.0 character rule as the allowed set (the Char production), not as the forbidden one.
_OLD_XML_ILLEGAL_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_OLD_PLACEHOLDER_RE = re.compile(r"^[-\u2010-\u2015]+$")
_OLD_LEAD_RE = re.compile(r"^[\s\u200c]+")
_OLD_TRAIL_RE = re.compile(r"(?<![\s\u200c])[\s\u200c]+$")


def old_clean_text(value: str | None, collapse: bool = False) -> str | None:
    """normalise.clean_text as it was: edge regex, then a run-to-space sub."""
    if value is None:
        return None
    text = _OLD_EDGE_RE.sub("", _OLD_XML_ILLEGAL_RE.sub("", value))
    if collapse:
        text = re.sub(r"\s+", " ", text)
    if not text or _OLD_PLACEHOLDER_RE.match(text):
        return None
    return text


def old_flatten(root: etree._Element) -> list[object]:
    """abstracts._flatten as it was: an explicit stack of open/close actions."""
    out: list[object] = []
    stack = [("open", root, ())]
    while stack:
        action, el, styles = stack.pop()
        tag = el.tag.lower() if isinstance(el.tag, str) else ""
        if action == "close":
            if tag in abstracts._BLOCK_TAGS:
                out.append(abstracts._BREAK)
            if el.tail:
                out.append((el.tail, styles))
            continue
        if tag in abstracts._BLOCK_TAGS or tag == "br":
            out.append(abstracts._BREAK)
        stack.append(("close", el, styles))
        if not tag or tag in abstracts._DROP_TAGS:
            continue
        style = abstracts._STYLE_TAGS.get(tag)
        inner = tuple(sorted(set(styles) | {style})) if style else styles
        if el.text:
            out.append((el.text, inner))
        for child in reversed(el):
            stack.append(("open", child, inner))
    return out


def old_normalise_block(runs: list) -> list:
    """abstracts._normalise_block as it was: strip and collapse each run with regexes."""
    result: list = []
    for text, styles in runs:
        text = re.sub(r"\s+", " ", _OLD_XML_ILLEGAL_RE.sub("", text))
        if not text:
            continue
        if (not result or result[-1][0].endswith(" ")) and text.startswith(" "):
            text = text[1:]
            if not text:
                continue
        if not text.strip():
            styles = result[-1][1]
        if result and result[-1][1] == styles:
            result[-1] = (result[-1][0] + text, styles)
        else:
            result.append((text, styles))
    while result and not _OLD_LEAD_RE.sub("", result[0][0]):
        result.pop(0)
    if result:
        result[0] = (_OLD_LEAD_RE.sub("", result[0][0]), result[0][1])
    while result and not _OLD_TRAIL_RE.sub("", result[-1][0]):
        result.pop()
    if result:
        result[-1] = (_OLD_TRAIL_RE.sub("", result[-1][0]), result[-1][1])
    return result


def old_blocks(value: str | None) -> list:
    """abstracts._blocks as it was."""
    if value is None:
        return []
    text = _OLD_XML_ILLEGAL_RE.sub("", value)
    if old_clean_text(text) is None:
        return []
    root = etree.fromstring(text.encode("utf-8", "replace"), abstracts._html_parser())
    if root is None:
        return []
    blocks: list = [[]]
    for item in old_flatten(root):
        if item is abstracts._BREAK:
            blocks.append([])
        else:
            blocks[-1].append(item)
    result = [old_normalise_block(b) for b in blocks]
    if old_clean_text(" ".join(t for b in result for t, _ in b)) is None:
        return []
    return result


# ---------------------------------------------------------------------------- inputs

WHITESPACE = [c for c in map(chr, range(0x110000)) if c.isspace()]
PIECES = [
    *WHITESPACE, *_NOISE, "a", "Bc", "سلام", "پیش\u200cبینی", "-", "---", "\u2013", ":", "\uff1a",
    "\x01", "\x0b", "\x1f", "\ufffe", "\x85", "\xa0", "&nbsp;", "&amp;", "&#1;", "&#x0b;", "&#65534;",
    "&#xD800;", "&#32;", "&zwnj;", "<", ">",
]
TAGS = ["b", "strong", "i", "em", "sup", "sub", "p", "div", "li", "br", "span", "o:p", "P", "B",
        "table", "td", "script", "img", "h1", "font", "hr"]


def random_text(rng: random.Random, count: int) -> str:
    """Up to ``count`` pieces of tricky text."""
    return "".join(rng.choice(PIECES) for _ in range(rng.randrange(count + 1)))


def random_html(rng: random.Random, depth: int = 0) -> str:
    """Nested, sometimes unbalanced HTML with tricky text."""
    parts = []
    for _ in range(rng.randrange(1, 5)):
        if depth < 4 and rng.random() < 0.5:
            tag = rng.choice(TAGS)
            close = f"</{tag}>" if rng.random() < 0.9 else ""
            parts.append(f"<{tag}>{random_html(rng, depth + 1)}{close}")
        else:
            parts.append(random_text(rng, 4))
    return "".join(parts)


# ---------------------------------------------------------------------------- tests


def test_whitespace_set_is_what_regex_s_matches():
    full = "".join(c for c in map(chr, range(0x110000)) if c.isspace())
    assert normalise.WHITESPACE == full
    assert all(re.fullmatch(r"\s", c) for c in full)


@pytest.mark.parametrize("seed", range(4))
def test_clean_and_trim_text_equal_the_regex_version(seed):
    rng = random.Random(seed)
    for _ in range(3000):
        text = random_text(rng, 8)
        for collapse in (False, True):
            assert normalise.clean_text(text, collapse) == old_clean_text(text, collapse), repr(text)
            if not xmltext.has_illegal(text):
                assert normalise.trim_text(text, collapse) == old_clean_text(text, collapse), repr(text)
        assert normalise.collapse_spaces(text) == re.sub(r"\s+", " ", text)
        assert xmltext.strip_illegal(text) == _OLD_XML_ILLEGAL_RE.sub("", text)
        assert xmltext.has_illegal(text) == bool(_OLD_XML_ILLEGAL_RE.search(text))
        folded = unicodedata.normalize("NFKC", text).translate(normalise._ARABIC_FOLD)
        folded = folded.translate(normalise._DIGITS).casefold().replace("\u200c", "")
        assert normalise.match_key(text) == re.sub(r"\s+", "", folded)


@pytest.mark.parametrize("seed", range(6))
def test_abstract_blocks_equal_the_old_walk(seed):
    rng = random.Random(seed)
    for _ in range(400):
        html = random_html(rng)
        assert abstracts._blocks(html) == old_blocks(html), repr(html)
        legal = xmltext.strip_illegal(html)
        assert abstracts._blocks(legal, xml_clean=True) == old_blocks(legal), repr(html)


def test_abstract_blocks_equal_the_old_walk_on_the_samples():
    for name in ("nkums-v18n2.xml", "multi-article.xml", "jalali-only.xml"):
        root = etree.fromstring(Path(SAMPLES, name).read_bytes())
        for el in root.iter("abstract", "abstract_fa"):
            value = parsing._html(el)
            assert abstracts._blocks(value, xml_clean=True) == old_blocks(value)


def test_iran_suffix_equals_a_full_search():
    rng = random.Random(7)
    pieces = [",", "،", ";", "؛", " ", "\n", ".", "Iran", "IRAN", "I.R. Iran", "I.R.Iran", "IR Iran",
              "Islamic Republic of Iran", "ایران", "جمهوری اسلامی ایران", "x", "Tehran", "ıran", "\xa0"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(8)))
        found, expected = jats_contribs.iran_suffix(text), jats_contribs._IRAN.search(text)
        found_at = found and (found.span(), found.groups())
        assert found_at == (expected and (expected.span(), expected.groups())), repr(text)


def test_doctype_check_equals_a_whole_file_search():
    def old(text: str) -> bool:
        doctype = re.search(r"<!DOCTYPE", text, re.IGNORECASE)
        element = re.search(r"<[A-Za-z_:]", text)
        return doctype is not None and (element is None or doctype.start() < element.start())

    rng = random.Random(3)
    pieces = ["<!DOCTYPE", "<!doctype x>", "<", "<a", "<_", "<:", "<!", "<!--", "-->", " ", "x", "<1"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randrange(7)))
        assert xmlfile._has_doctype(text) == old(text), repr(text)


@pytest.mark.parametrize("prefix", [b"", b"\xef\xbb\xbf"])
def test_prolog_beyond_the_first_64k_is_still_checked(prefix):
    blank = prefix + b" " * (xmlfile._PROLOG_BYTES + 10)
    with pytest.raises(parsing.IngestError, match="empty file"):
        parse_issue(blank)
    with pytest.raises(parsing.IngestError, match="DOCTYPE"):
        parse_issue(blank + b'<!DOCTYPE journal [<!ENTITY x "y">]><journal/>')
    good = issue([A("E-1")])
    late = good.replace(b"<journal>", b" " * xmlfile._PROLOG_BYTES + b"<journal>", 1)
    assert parse_issue(late).articles[0].publisher_id == "E-1"


def test_model_objects_keep_exactly_their_fields_in_dict():
    article = parse_issue(Path(SAMPLES, "nkums-v18n2.xml").read_bytes()).articles[0]
    seen = set()
    stack: list = [article]
    while stack:
        value = stack.pop()
        if isinstance(value, tuple):
            stack.extend(value)
        elif dataclasses.is_dataclass(value):
            seen.add(type(value))
            assert list(vars(value)) == [f.name for f in dataclasses.fields(value)]
            stack.extend(vars(value).values())
    assert {model.Article, model.Journal, model.IssueInfo, model.Author, model.AbstractBlock,
            model.Inline, model.PubDate} <= seen


@pytest.mark.parametrize("name", ["nkums-v18n2.xml", "multi-article.xml", "jalali-only.xml", "crlf-bom.xml"])
def test_article_json_equals_json_of_plain(name):
    for article in parse_issue(Path(SAMPLES, name).read_bytes()).articles:
        hostile = dataclasses.replace(
            article, title_en="\x01 \ud800 \"q\" \\ \u2028", keywords_en=("a", "\x00"))
        expected = json.dumps(prepared.plain(article), ensure_ascii=False, sort_keys=True)
        assert prepared.article_json(article) == expected
        # A lone surrogate cannot be hashed (prepare_article raises either way): the JSON only.
        expected = json.dumps(prepared.plain(hostile), ensure_ascii=False, sort_keys=True)
        assert prepared._ENCODER.encode(hostile) == expected


def test_set_descriptions_follow_each_issue():
    first = parse_issue(issue([A("E-1")], volume="1", number="1")).articles[0]
    other = parse_issue(issue([A("E-2")], volume="2", number="5", title="Other Journal")).articles[0]
    for article in (first, other, first, other):
        descriptions = {s.spec: s.description for s in sets.article_sets(article)}
        journal_spec = f"journal:{article.journal.key}"
        assert descriptions[journal_spec] == sets._journal_description(article)
        issue_spec = next(spec for spec in descriptions if spec.startswith(journal_spec + ":"))
        assert descriptions[issue_spec] == sets._issue_description(article)
