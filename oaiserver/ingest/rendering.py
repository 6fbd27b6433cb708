"""What the server disseminates for one article: its renditions, its sets and its header.

Pure functions of the article and the settings: ingest workers call them (pipeline.py), the
writer compares their content hash with the stored one to decide whether a record changed.
"""
from __future__ import annotations

import functools
import hashlib
import typing as t
from dataclasses import dataclass

from metadata_formats import FORMATS, CrosswalkSettings, rights
from oaiserver import xmltext
from oaiserver.model import Article
from oaiserver.ingest.sets import SetInfo, article_sets


@dataclass(frozen=True)
class Rendered:
    """Everything the server disseminates for one live article."""

    sets: list[SetInfo]
    renditions: dict[str, str]  # prefix -> XML (its UTF-8 bytes on the way from a worker)
    content_hash: str


def render_article(article: Article, settings: CrosswalkSettings) -> Rendered:
    """Render every metadata format and the set membership of one article."""
    renditions = {}
    for prefix, fmt in FORMATS.items():
        xml = fmt.render(article, settings)
        if xml is not None:
            renditions[prefix] = xml
    access = rights.access(article, settings)
    sets = article_sets(article, access.right if access else None)
    digest = hashlib.sha256()
    for info in sets:
        digest.update(f"set\0{info.spec}\0".encode())
    for prefix in sorted(renditions):
        digest.update(f"format\0{prefix}\0{renditions[prefix]}\0".encode())
    return Rendered(sets, renditions, digest.hexdigest())


def render_header(identifier: str, datestamp: str, specs: t.Iterable[str], deleted: bool) -> str:
    """Return the pre-rendered ``<header>`` element of a record."""
    status = ' status="deleted"' if deleted else ""
    return (
        f"<header{status}>{xmltext.element('identifier', identifier)}"
        f"<datestamp>{datestamp}</datestamp>{_spec_xml(tuple(specs))}</header>"
    )


@functools.lru_cache(maxsize=4096)
def _spec_xml(specs: tuple[str, ...]) -> str:
    # Articles share lists of sets, and lists share sets: each escaped and ordered once.
    return "".join(map(_spec_element, _ordered(specs)))


@functools.lru_cache(maxsize=4096)
def _spec_element(spec: str) -> str:
    return xmltext.element("setSpec", spec)


def _ordered(specs: t.Iterable[str]) -> list[str]:
    # One stable order for live and deleted headers: by root, then depth, then name.
    return sorted(specs, key=_spec_order)


@functools.lru_cache(maxsize=4096)
def _spec_order(spec: str) -> tuple[str, int, str]:
    return (spec.split(":")[0], spec.count(":"), spec)
