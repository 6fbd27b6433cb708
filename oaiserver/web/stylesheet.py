"""The browser view's XSLT (/oai.xsl), written from a template with the registered formats.

OAI responses only name the stylesheet, so the format links it draws can follow the
registry without changing a byte of any OAI response.
"""
from __future__ import annotations

import functools
import hashlib
import typing as t

import jinja2

if t.TYPE_CHECKING:
    from metadata_formats import MetadataFormat

TEMPLATE = "oai.xsl"  # in oaiserver/templates/

#: What the template needs of one format: (prefix, label, namespace).
FormatLinks = tuple[tuple[str, str, str], ...]


def render(formats: t.Mapping[str, MetadataFormat]) -> bytes:
    """Return the XSLT for these formats (in their order), as UTF-8."""
    return _rendered(_links(formats))[0]


def served(formats: t.Mapping[str, MetadataFormat]) -> tuple[bytes, str]:
    """Return the XSLT for these formats and its ETag (a hash of its content)."""
    return _rendered(_links(formats))


def _links(formats: t.Mapping[str, MetadataFormat]) -> FormatLinks:
    return tuple((fmt.prefix, fmt.label, fmt.namespace) for fmt in formats.values())


@functools.lru_cache(maxsize=8)
def _rendered(links: FormatLinks) -> tuple[bytes, str]:
    # Written once per set of formats: every worker and host serves the same bytes and ETag.
    formats = [{"prefix": prefix, "label": label, "namespace": namespace}
               for prefix, label, namespace in links]
    body = _environment().get_template(TEMPLATE).render(formats=formats).encode("utf-8")
    return body, hashlib.sha256(body).hexdigest()[:32]


@functools.cache
def _environment() -> jinja2.Environment:
    # Autoescaped: a label or namespace is written into XML text and attributes.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("oaiserver", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
