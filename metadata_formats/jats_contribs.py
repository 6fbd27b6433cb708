"""JATS ``<contrib-group>``: authors, ORCIDs, e-mail and affiliations (crosswalks.md §3.2, D9, D11)."""
from __future__ import annotations

import re
import typing as t

from lxml import etree

from metadata_formats import common as c
from metadata_formats.jats_xml import XML_LANG, append_text, sub

if t.TYPE_CHECKING:
    from metadata_formats import CrosswalkSettings
    from oaiserver.model import Article, Author

#: (Latin, Persian) affiliation strings of one author; the dedup key (input-format.md Q12).
AffKey = tuple[str | None, str | None]

# A trailing country after a comma (Latin or Arabic) or as the whole string. Only Iran is
# recognised: it is the only country this input is known to carry.
_IRAN = re.compile(
    r"(?:^|(?<=[,،;؛]))(\s*)"
    r"(Iran|I\.\s?R\.\s?Iran|IR Iran|Islamic Republic of Iran"
    r"|ایران|جمهوری اسلامی ایران)"
    r"(\s*\.?\s*)$",
    re.IGNORECASE,
)


def add_contrib_group(meta: etree._Element, article: Article, settings: CrosswalkSettings) -> None:
    """Append one contrib-group with every named author, then the deduplicated affiliations."""
    authors = [a for a in article.authors if names(a)]
    if not authors:
        return  # an author without any name part cannot be told apart from the others
    affs = aff_ids(authors, id_suffix(article))
    group = sub(meta, "contrib-group")
    for author in authors:
        add_contrib(group, author, affs.get(aff_key(author)), settings)
    for key, rid in affs.items():
        add_aff(group, key, rid)


def add_contrib(group: etree._Element, author: Author, rid: str | None, settings: CrosswalkSettings) -> None:
    """Append one ``<contrib>`` in content-model order: id, name(s), email, xref."""
    corresp = "yes" if author.corresponding else None
    contrib = sub(group, "contrib", None, {"contrib-type": "author", "corresp": corresp})
    orcid = c.orcid_uri(author.orcid)
    if orcid:
        sub(contrib, "contrib-id", orcid, {"contrib-id-type": "orcid", "authenticated": "false"})
    add_names(contrib, names(author))
    email = c.clean(author.email)
    if author.corresponding and email and settings.emit_corresponding_email:
        sub(contrib, "email", email)  # D9: only the corresponding author's, as printed on the paper
    if rid:
        sub(contrib, "xref", None, {"ref-type": "aff", "rid": rid})


def names(author: Author) -> list[tuple[str, str | None, str | None, str | None]]:
    """Return (lang, surname, given, suffix) per script that has a surname or given name, Latin first."""
    result = []
    for slot in ("en", "fa"):
        surname, given, suffix = (c.field(author, part, slot) for part in ("surname", "given", "suffix"))
        if surname or given:
            result.append((slot, surname, given, suffix))
    return result


def add_names(contrib: etree._Element, found: list[tuple[str, str | None, str | None, str | None]]) -> None:
    """One script: a single ``<name>``; two: ``<name-alternatives>`` (JATSCON-ML)."""
    parent = sub(contrib, "name-alternatives") if len(found) > 1 else contrib
    for lang, surname, given, suffix in found:
        # Persian names are given-then-family too, hence "western"; no surname -> "given-only".
        style = "western" if surname else "given-only"
        name = sub(parent, "name", None, {"name-style": style, XML_LANG: lang})
        if surname:
            sub(name, "surname", surname)
        if given:
            sub(name, "given-names", given)
        if suffix:
            sub(name, "suffix", suffix)


def aff_key(author: Author) -> AffKey:
    """Return the author's (en, fa) affiliation pair."""
    return (c.clean(author.affiliation_en), c.clean(author.affiliation_fa))


def aff_ids(authors: list[Author], suffix: str) -> dict[AffKey, str]:
    """Number the distinct non-empty affiliation pairs ``aff1-<suffix>``… in byline order."""
    ids: dict[AffKey, str] = {}
    for author in authors:
        key = aff_key(author)
        if any(key) and key not in ids:
            ids[key] = f"aff{len(ids) + 1}-{suffix}"
    return ids


def id_suffix(article: Article) -> str:
    """Return ``<journal key>-<article key>`` as NCName characters.

    xs:ID values must be unique in the whole document, and a ListRecords response holds many
    records, so a bare ``aff1`` would repeat; the OAI identifier's two keys make it unique.
    """
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{article.journal.key}-{article.key}")


def add_aff(group: etree._Element, key: AffKey, rid: str) -> None:
    """Append ``<aff-alternatives id>`` for a bilingual pair, else a single ``<aff id>``."""
    present = [(lang, text) for lang, text in zip(("en", "fa"), key) if text]
    if len(present) == 1:
        lang, text = present[0]
        add_aff_text(sub(group, "aff", None, {"id": rid, XML_LANG: lang}), text)
        return
    wrapper = sub(group, "aff-alternatives", None, {"id": rid})
    for lang, text in present:
        add_aff_text(sub(wrapper, "aff", None, {XML_LANG: lang}), text)


def add_aff_text(aff: etree._Element, text: str) -> None:
    """Write the affiliation verbatim, tagging a trailing Iran/ایران as ``<country country="IR">``."""
    match = _IRAN.search(text)
    if not match:
        append_text(aff, text)
        return
    append_text(aff, text[: match.start(2)])
    sub(aff, "country", match.group(2), {"country": "IR"})
    append_text(aff, match.group(3))
