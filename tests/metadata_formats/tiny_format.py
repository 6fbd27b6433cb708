"""A throwaway metadata format for the plug-in tests, written as a new format's module would be.

It is not in the registration list: tests register it (tiny_plugin, or a fixture), which is
what one line in ``metadata_formats.REGISTRATION`` does for a real format.
"""
from __future__ import annotations

from pathlib import Path

from metadata_formats import CrosswalkSettings, MetadataFormat
from oaiserver import xmltext
from oaiserver.model import Article

NAMESPACE = "https://oaiserver.example/ns/tiny/1/"
SCHEMA = "https://oaiserver.example/schemas/tiny-1.xsd"
#: The schema at SCHEMA, kept here so that test responses can be validated strictly.
XSD = Path(__file__).with_name("tiny.xsd")


def render(article: Article, settings: CrosswalkSettings) -> str | None:
    """One ``tiny:item`` with the article's key and its first title."""
    title = article.title_en or article.title_fa or ""
    return (f'<tiny:item xmlns:tiny="{NAMESPACE}">{xmltext.element("tiny:key", article.key)}'
            f'{xmltext.element("tiny:title", title)}</tiny:item>')


FORMAT = MetadataFormat(prefix="tiny", namespace=NAMESPACE, schema=SCHEMA, render=render, version="1",
                        label="Tiny test format")
