"""JATS ``<contrib-group>``: authors, ORCIDs, e-mail and affiliations (decisions.md D9, D11)."""
from __future__ import annotations

import functools
import re
import typing as t

from metadata_formats import common as c
from oaiserver import identifiers
from oaiserver.xmltext import escape_text, leaf

if t.TYPE_CHECKING:
    from metadata_formats import CrosswalkSettings
    from oaiserver.model import Article, Author

#: (Latin, Persian) affiliation strings of one author; the dedup key (decisions.md Q12).
AffKey = tuple[str | None, str | None]
#: One script of an author's name: (lang, surname, given names, suffix).
Name = tuple[str, str | None, str | None, str | None]

# A trailing country after a comma (Latin or Arabic) or as the whole string. Only Iran is
# recognised: it is the only country this input is known to carry.
_IRAN = re.compile(
    r"(?:^|(?<=[,،;؛]))(\s*)"
    r"(Iran|I\.\s?R\.\s?Iran|IR Iran|Islamic Republic of Iran"
    r"|ایران|جمهوری اسلامی ایران)"
    r"(\s*\.?\s*)$",
    re.IGNORECASE,
)
_SEPARATORS = ",،;؛"


def contrib_group(article: Article, settings: CrosswalkSettings) -> str:
    """Return one contrib-group with every named author, then the deduplicated affiliations."""
    # Names and affiliation keys are worked out once per author and handed on.
    named = [(author, found) for author, parts in zip(article.authors, c.authors_name_parts(article))
             if (found := names(author, parts))]
    if not named:
        return ""  # an author without any name part cannot be told apart from the others
    keys = [aff_key(author) for author, _ in named]
    affs = number_affs(keys, id_suffix(article))
    parts = [contrib(author, found, affs.get(key), settings) for (author, found), key in zip(named, keys)]
    parts += [aff(key, rid) for key, rid in affs.items()]
    return f'<contrib-group>{"".join(parts)}</contrib-group>'


def contrib(author: Author, found: list[Name], rid: str | None, settings: CrosswalkSettings) -> str:
    """Return one ``<contrib>`` in content-model order: id, name(s) (``names``), email, xref."""
    # One f-string per part (~4 contribs an article). The ids (number_affs) are NCName
    # characters only, which escape_attr would leave as they are.
    markup = '<contrib contrib-type="author" corresp="yes">' if author.corresponding else '<contrib contrib-type="author">'
    orcid = identifiers.orcid_uri(author.orcid)
    if orcid:
        markup += f'<contrib-id contrib-id-type="orcid" authenticated="false">{escape_text(orcid)}</contrib-id>'
    markup += name_elements(found)
    if author.corresponding and settings.emit_corresponding_email:
        email = c.clean(author.email)
        if email:  # decisions.md D9: only the corresponding author's, as printed on the paper
            markup += f"<email>{escape_text(email)}</email>"
    if rid:
        markup += f'<xref ref-type="aff" rid="{rid}"/>'
    return markup + "</contrib>"


def names(author: Author, parts: dict[str, c.NameParts]) -> list[Name]:
    """Return (lang, surname, given, suffix) per script that has a surname or given name, Latin first.

    ``parts`` is ``common.name_parts(author)`` (worked out once per article: ``common.authors_name_parts``).
    """
    result = []
    for slot in ("en", "fa"):
        surname, given, suffix = parts[slot]
        if surname or given:
            result.append((slot, surname, given, suffix))
    return result


def name_elements(found: list[Name]) -> str:
    """One script: a single ``<name>``; two: ``<name-alternatives>``, JATS's wrapper for one name in several scripts."""
    markup = []
    for lang, surname, given, suffix in found:
        # Persian names are given-then-family too, hence "western"; no surname -> "given-only".
        # A Name has a surname or given names (names()), so <name> is never empty; lang is a slot.
        name = f'<name name-style="western" xml:lang="{lang}">' if surname else f'<name name-style="given-only" xml:lang="{lang}">'
        if surname:
            name += f"<surname>{escape_text(surname)}</surname>"
        if given:
            name += f"<given-names>{escape_text(given)}</given-names>"
        if suffix:
            name += f"<suffix>{escape_text(suffix)}</suffix>"
        markup.append(name + "</name>")
    if len(markup) > 1:
        return f'<name-alternatives>{"".join(markup)}</name-alternatives>'
    return "".join(markup)


def aff_key(author: Author) -> AffKey:
    """Return the author's (en, fa) affiliation pair."""
    return (c.clean(author.affiliation_en), c.clean(author.affiliation_fa))


def number_affs(keys: list[AffKey], suffix: str) -> dict[AffKey, str]:
    """Number the distinct non-empty affiliation keys ``aff1-<suffix>``… in the given order."""
    ids: dict[AffKey, str] = {}
    for key in keys:
        if any(key) and key not in ids:
            ids[key] = f"aff{len(ids) + 1}-{suffix}"
    return ids


def id_suffix(article: Article) -> str:
    """Return ``<journal key>-<article key>`` as NCName characters.

    xs:ID values must be unique in the whole document, and a ListRecords response holds many
    records, so a bare ``aff1`` would repeat; the OAI identifier's two keys make it unique.
    """
    return re.sub(r"[^A-Za-z0-9._-]", "_", f"{article.journal.key}-{article.key}")


def aff(key: AffKey, rid: str) -> str:
    """Return ``<aff-alternatives id>`` for a bilingual pair, else a single ``<aff id>``."""
    present = [(lang, text) for lang, text in zip(("en", "fa"), key) if text]
    # rid is NCName characters (number_affs), lang a slot: neither needs escaping.
    if len(present) == 1:
        lang, text = present[0]
        return f'<aff id="{rid}" xml:lang="{lang}">{aff_text(text)}</aff>'
    alternatives = "".join([f'<aff xml:lang="{lang}">{aff_text(text)}</aff>' for lang, text in present])
    return f'<aff-alternatives id="{rid}">{alternatives}</aff-alternatives>'


@functools.lru_cache(maxsize=1024)  # a journal's authors come from a limited set of institutions
def aff_text(text: str) -> str:
    """Return the affiliation verbatim, a trailing Iran/ایران tagged as ``<country country="IR">``."""
    match = iran_suffix(text)
    if not match:
        return escape_text(text)
    country = leaf("country", match.group(2), {"country": "IR"})
    return escape_text(text[: match.start(2)]) + country + escape_text(match.group(3))


def iran_suffix(text: str) -> re.Match[str] | None:
    """Return ``_IRAN.search(text)``, tried at the one place a match can start."""
    # A match starts at 0 or right after a separator and holds no separator itself (neither
    # the country names nor the spaces do), so only the position after the last separator can
    # start one. search() would try every position of the affiliation instead.
    start = max(text.rfind(separator) for separator in _SEPARATORS) + 1
    return _IRAN.match(text, start)
