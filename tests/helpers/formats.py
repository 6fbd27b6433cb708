"""The registered metadata formats as tests see them: the root element each one renders."""
from __future__ import annotations

import functools

from lxml import etree

from metadata_formats import FORMATS, CrosswalkSettings
from tests.helpers.crosswalk_helpers import nkums_article


@functools.lru_cache(maxsize=None)
def root_tag(prefix: str) -> str:
    """The ``{namespace}name`` of the element format ``prefix`` renders for the real sample article."""
    rendered = FORMATS[prefix].render(nkums_article(), CrosswalkSettings())
    assert rendered is not None, f"{prefix} renders nothing for the real sample"
    return etree.fromstring(rendered.encode("utf-8")).tag


def root_name(prefix: str) -> str:
    """The local name of :func:`root_tag` (what harvester programs report)."""
    return etree.QName(root_tag(prefix)).localname
