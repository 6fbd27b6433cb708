"""oaiserver.xmltext: its XML 1.0 character rule, and text-built XML exactly as lxml serialises it.

The crosswalks, set descriptions, headers and envelope write their XML as text for speed; these
tests pin that text to lxml's own output for the same elements, over every character XML can
carry and every one it cannot, and the character rule to the Char production of XML 1.0.
"""
from __future__ import annotations

import random

import pytest
from lxml import etree

from oaiserver.xmltext import (
    attributes, clean, content, element, escape_attr, escape_safe_text, escape_text, has_illegal, leaf, strip_illegal,
)

def is_xml_char(c: int) -> bool:
    """The Char production of XML 1.0, written out: the oracle of the character rule."""
    return c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD or c >= 0x10000


LEGAL = [chr(c) for c in range(0x110000) if is_xml_char(c)]
ILLEGAL = [chr(c) for c in (*range(0x9), 0xB, 0xC, *range(0xE, 0x20), 0xD800, 0xDBFF, 0xDFFF, 0xFFFE, 0xFFFF)]
CHUNK = 4000
XML_NS = "http://www.w3.org/XML/1998/namespace"


def lxml_leaf(tag: str, text: str | None, attrs: dict[str, str | None] | None = None) -> str:
    """What lxml writes for an element built the way the crosswalks built them before."""
    node = etree.Element(tag)
    for name, value in (attrs or {}).items():
        if value is not None:
            node.set(name, strip_illegal(value))
    if text:
        node.text = strip_illegal(text)
    return etree.tostring(node, encoding="unicode")


def chunks() -> list[str]:
    """Every XML character, in strings of CHUNK characters, with markup-like runs mixed in."""
    return ["".join(LEGAL[i:i + CHUNK]) + "]]> &amp; \r\n\t\"'" for i in range(0, len(LEGAL), CHUNK)]


def test_text_and_attribute_escaping_equal_lxml_for_every_xml_character():
    for text in chunks():
        assert leaf("a", text, {"v": text}) == lxml_leaf("a", text, {"v": text})


def test_illegal_characters_are_dropped_as_lxml_needs():
    text = "a" + "".join(ILLEGAL) + "<b>&\r"
    assert leaf("a", text, {"v": text}) == lxml_leaf("a", text, {"v": text})
    assert escape_text("".join(ILLEGAL)) == ""


@pytest.mark.parametrize("seed", range(5))
def test_random_mixtures_equal_lxml(seed):
    rng = random.Random(seed)
    pool = LEGAL[:300] + ILLEGAL + ["&", "<", ">", '"', "'", "\r", "\n", "\t", "\u200c", "\U0001f600"]
    for _ in range(300):
        text = "".join(rng.choice(pool) for _ in range(rng.randrange(0, 12)))
        attrs = {"x": text, "y": None, "xml:lang": "fa"}
        expected = lxml_leaf("t", text, {"x": text, "y": None, f"{{{XML_NS}}}lang": "fa"})
        assert leaf("t", text, attrs) == expected


def test_safe_text_escapes_like_escape_text_once_clean():
    for text in chunks():
        safe = strip_illegal(text)
        assert escape_safe_text(safe) == escape_text(safe) == escape_text(text)


def test_empty_elements_follow_lxml():
    # No text: <a/>; text that was set but is empty (all XML-illegal): <a></a>, as lxml writes.
    assert leaf("a", None) == leaf("a", "") == "<a/>" == lxml_leaf("a", None)
    assert leaf("a", "\x01") == "<a></a>" == lxml_leaf("a", "\x01")
    assert element("a", "") == "<a></a>"
    attrs = {"k": "", "n": None}
    assert element("a", None, attrs) == '<a k=""/>' == lxml_leaf("a", None, attrs)


def test_attributes_are_written_as_element_writes_them():
    attrs = {"k": 'a "b" & <c>\t', "n": None, "z": "", "lang": "fa"}
    assert f"<a{attributes(attrs)}/>" == element("a", None, attrs) == lxml_leaf("a", None, attrs)
    assert attributes({}) == attributes({"n": None}) == ""


def test_nested_elements_equal_lxml():
    root = etree.Element("p")
    bold = etree.SubElement(root, "bold")
    bold.text = "x < y"
    bold.tail = " & z"
    expected = etree.tostring(root, encoding="unicode")
    assert element("p", element("bold", escape_text("x < y")) + escape_text(" & z")) == expected


def test_escape_attr_is_remembered_but_still_exact():
    for value in ("author", "a\tb\nc\r", 'say "hi" & <go>', "\x00"):
        assert escape_attr(value) == escape_attr(value) == lxml_leaf("a", None, {"v": value})[6:-3]


def test_the_character_rule_is_the_char_production_for_every_code_point():
    for start in range(0, 0x110000, CHUNK):
        codes = range(start, min(start + CHUNK, 0x110000))
        text = "".join(map(chr, codes))
        legal = "".join(chr(c) for c in codes if is_xml_char(c))
        assert strip_illegal(text) == legal
        assert has_illegal(text) == (legal != text)
        for c in codes[:: 97]:
            assert strip_illegal(chr(c)) == (chr(c) if is_xml_char(c) else "")
            assert has_illegal(chr(c)) is not is_xml_char(c)
    with pytest.raises(TypeError):
        strip_illegal(5)  # type: ignore[arg-type]


def test_a_carriage_return_is_a_reference_in_text_and_attributes():
    # lxml writes both; a raw CR would be read back as LF.
    assert escape_text("a\rb") == escape_safe_text("a\rb") == "a&#13;b"
    assert leaf("a", "x\r", {"v": "\r"}) == '<a v="&#13;">x&#13;</a>' == lxml_leaf("a", "x\r", {"v": "\r"})


def test_content_is_none_without_children():
    assert content([]) is None
    assert element("a", content([])) == "<a/>"
    assert element("a", content([leaf("b", "1"), leaf("c", None)])) == "<a><b>1</b><c/></a>"


def test_clean_is_xml_safe_and_trimmed_or_none():
    assert clean(None) is None
    assert clean(" \x00 \u2003") is None
    assert clean("\ta\x01b\ufffe\n") == "ab"
    assert clean("سلام\u200c") == "سلام\u200c"  # ZWNJ is not whitespace
