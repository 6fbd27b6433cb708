"""protocol.uris: what it calls a URI reference, libxml2's xs:anyURI accepts too."""
from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from lxml import etree

from oaiserver.protocol.uris import is_uri_reference

ANY_URI = etree.XMLSchema(etree.fromstring(
    b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"><xs:element name="r"><xs:complexType>'
    b'<xs:attribute name="u" type="xs:anyURI"/></xs:complexType></xs:element></xs:schema>'))
PIECES = st.sampled_from(list(":/?#[]@!$&'()*+,;=%-._~") + ["0", "9", "a", "F", "v1.", "::1", "é", "م", "http://",
                                                             "oai:", "//", "%4", "%41", "%zz", "99999999999"])


def schema_accepts(value: str) -> bool:
    """libxml2's verdict on ``value`` as an xs:anyURI attribute."""
    element = etree.Element("r")
    element.set("u", value)
    return ANY_URI.validate(element)


@settings(max_examples=3000, deadline=None, database=None)
@given(st.lists(PIECES, max_size=12).map("".join) | st.text(max_size=20))
@example("oai:x:%ZZ")
@example("http://a:99999999999/")
@example("http://[::1%eth0]/")
def test_never_more_lenient_than_the_schema(value):
    """Everything accepted here is a valid xs:anyURI for libxml2 (so echoing it is safe)."""
    if "\x00" in value or any(ord(c) < 32 for c in value):
        return  # not XML at all; arguments.parse refuses these before
    if is_uri_reference(value):
        assert schema_accepts(value), value


@pytest.mark.parametrize("value,expected", [
    ("oai:journals.example.org:1234-5679/A-1", True), ("oai:x:%e2%82%ac", True), ("oai:x:مقاله", True),
    ("http://[::1]:8080/a?b#c", True), ("journal", True), ("", True),
    ("oai:x:%ZZ", False), ("oai:x:a#b#c", False), ("oai:x:[", False), ("1abc:x", False), ("http://a:/", False),
    ("http://a:1234567890/", False), ("http://[1.2.3.4]/", False), ("#a#", False),
])
def test_examples(value, expected):
    """RFC 3986's grammar, with non-ASCII letters allowed and ports of at most nine digits."""
    assert is_uri_reference(value) is expected
