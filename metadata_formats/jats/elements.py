"""Names and small helpers for writing JATS in the OAI namespace (decisions.md D4).

The JATS is written as text (:mod:`oaiserver.xmltext`); user text only ever reaches it
through :func:`~oaiserver.xmltext.leaf` and :func:`~oaiserver.xmltext.escape_text`, which
drop XML-illegal characters and escape the rest, or, for text cleaned just before with
``xmltext.strip_illegal``, :func:`~oaiserver.xmltext.escape_safe_text`.
"""
from __future__ import annotations

from oaiserver.xmltext import XML_LANG

#: JATS has no namespace of its own; OAI-PMH needs one, so we use PMC's pattern (decisions.md D4).
JATS = "https://jats.nlm.nih.gov/ns/publishing/1.3/"
XLINK = "http://www.w3.org/1999/xlink"
ALI = "http://www.niso.org/schemas/ali/1.0/"
# Qualified names as written: JATS is the default namespace of the <article> element, which
# also declares the xlink and (with a licence) ali prefixes.
XLINK_HREF = "xlink:href"
XLINK_TITLE = "xlink:title"
ALI_PREFIX = "ali:"


def lang_attr(lang: str, article_lang: str) -> dict[str, str]:
    """Return ``xml:lang`` only when it differs from the article's (J4R: equal is redundant)."""
    return {} if lang == article_lang else {XML_LANG: lang}
