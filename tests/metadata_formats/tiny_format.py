"""A throwaway metadata format for the plug-in tests, written as a new format's module would be.

It is not in the registration list: tests register it (tiny_plugin, or a fixture), which is
what one line in ``metadata_formats.REGISTRATION`` does for a real format.
"""
from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from metadata_formats import CrosswalkSettings, MetadataFormat
from oaiserver import xmltext
from oaiserver.model import Article

NAMESPACE = "https://oaiserver.example/ns/tiny/1/"
SCHEMA = "https://oaiserver.example/schemas/tiny-1.xsd"
#: The schema at SCHEMA, kept here so that test responses can be validated strictly.
XSD_TEXT = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           targetNamespace="{NAMESPACE}" elementFormDefault="qualified">
  <xs:element name="item">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="key" type="xs:string"/>
        <xs:element name="title" type="xs:string"/>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


@functools.cache
def xsd_path() -> Path:
    """XSD_TEXT in a file of this process's own (schema imports name their schemas by URI)."""
    path = Path(tempfile.mkdtemp(prefix="oaiserver-tiny-")) / "tiny.xsd"
    path.write_text(XSD_TEXT, encoding="utf-8")
    return path


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """One ``tiny:item`` with the article's key and its first title."""
    title = article.title_en or article.title_fa or ""
    return (f'<tiny:item xmlns:tiny="{NAMESPACE}">{xmltext.leaf("tiny:key", article.key)}'
            f'{xmltext.leaf("tiny:title", title)}</tiny:item>')


FORMAT = MetadataFormat(prefix="tiny", namespace=NAMESPACE, schema=SCHEMA, render=render, version="1",
                        label="Tiny test format")
