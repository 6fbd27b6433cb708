"""The ``marcxml`` format: a MARC 21 bibliographic record (MARCXML slim) of a serial component part.

The leader says "language material, serial component part, Unicode, abbreviated level, ISBD
punctuation omitted", so no field carries trailing punctuation. The host journal goes in 773,
authors in 100/700, keywords in 653; fields come in tag order. Blank indicators are spaces.
"""
from __future__ import annotations

import typing as t

from metadata_formats import CrosswalkSettings, MetadataFormat
from metadata_formats import bibliographic as b
from metadata_formats import common as c
from metadata_formats import rights
from metadata_formats import venue
from oaiserver.xmltext import attributes, escape_safe_text, escape_text, leaf

if t.TYPE_CHECKING:
    from oaiserver.model import Article, IssueInfo, Journal

NAMESPACE = "http://www.loc.gov/MARC21/slim"
SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
#: 06 a language material, 07 b serial component part, 09 a UCS, 17 3 abbreviated, 18 c no ISBD punctuation.
LEADER = "00000nab a22000003c 4500"
PLACE = "ir "  # Iran: the country of the journals this input comes from
#: A subfield: (code, value); a None value leaves it out.
Subfield = tuple[str, "str | None"]
_ROOT_ATTRS = {"xmlns": NAMESPACE, "xmlns:xsi": XSI, "type": "Bibliographic",
               "xsi:schemaLocation": f"{NAMESPACE} {SCHEMA}"}
#: 506 per access right: (first indicator, $a, $f); first indicator 0 = no restrictions.
_ACCESS_NOTES = {
    "open": ("0", "Open access", "Unrestricted online access"),
    "embargoed": ("1", "Embargoed access", None),
    "restricted": ("1", "Restricted access", "Online access with authorization"),
    "metadata-only": ("1", "Metadata only access", None),
}


def datafield(tag: str, ind1: str, ind2: str, subfields: t.Sequence[Subfield],
              escape: t.Callable[[str], str] | None = escape_text) -> str:
    """Return a datafield with its non-empty subfields, or "" when none has a value.

    ``escape`` makes a value element content: ``xmltext.escape_safe_text`` for XML-safe text,
    None for values that are escaped already (``people_markup``, ``subjects_markup``).
    """
    # leaf("subfield", value, {"code": code}) and element("datafield", ...) written out: a record
    # has ~25 datafields and ~50 subfields, and the two calls and their attribute dicts were a
    # tenth of its rendering. Same escaping, same bytes: the tag, the indicators and the codes
    # are constants of this module (digits, letters and spaces), which escape_attr leaves as
    # they are; only the values are text.
    # One pass over the subfields either way: a second list per datafield cost a tenth again.
    if escape is None:
        parts = "".join([f'<subfield code="{code}">{value}</subfield>' for code, value in subfields if value])
    else:
        parts = "".join([f'<subfield code="{code}">{escape(value)}</subfield>' for code, value in subfields if value])
    if not parts:
        return ""
    return f'<datafield tag="{tag}" ind1="{ind1}" ind2="{ind2}">{parts}</datafield>'


# 336/337/338: text, computer, online resource (RDA content, media and carrier types).
_RDA_TYPES = "".join(
    datafield(tag, " ", " ", [("a", term), ("b", code), ("2", source)])
    for tag, term, code, source in (
        ("336", "text", "txt", "rdacontent"),
        ("337", "computer", "c", "rdamedia"),
        ("338", "online resource", "cr", "rdacarrier"),
    )
)


_START = f"<record{attributes(_ROOT_ATTRS)}>{leaf('leader', LEADER)}"


def render(article: Article, settings: CrosswalkSettings) -> str:
    """Render ``article`` as a MARCXML ``<record>`` (every article can be expressed)."""
    issue = c.per_issue(article, settings, issue_parts, c.journal_slot_order(article))
    people = b.people_markup(article)
    found_titles = b.titles(article)
    doi = b.doi(article)
    abstracts = b.abstracts(article)
    parts = [
        _START,
        leaf("controlfield", c.clean(article.key), {"tag": "001"}),
        f'<controlfield tag="008">{escape_text(fixed_data(article, issue.fixed))}</controlfield>',
        datafield("024", "7", " ", [("a", doi), ("2", "doi")]) if doi else "",
        languages(article),
        author("100", people[0]) if people else "",
        title_fields(found_titles, bool(people)),
        issue.publication,
        _RDA_TYPES,
        issue.access,
        # The abstracts are XML-safe (bibliographic.abstracts): escaped without a rescan.
        "".join([datafield("520", "3", " ", [("a", text)], escape=escape_safe_text) for _, text in abstracts]),
        issue.licence,
        datafield("546", " ", " ", [("a", language_note(article))]),
        "".join([datafield("653", " ", "0", [("a", term)], escape=None) for _, term in c.subjects_markup(article)]),
        datafield("655", " ", "4", [("a", genre_term(article, settings))]),
        "".join([author("700", person) for person in people[1:]]),
        host_item(article, issue),
        electronic_locations(article),
        "</record>",
    ]
    return "".join(parts)


class IssueParts(t.NamedTuple):
    """What a record shares with every article of its issue (and settings)."""

    fixed: str  # 008 up to the language: entered, dates, place, fill characters
    publication: str  # 264
    access: str  # 506
    licence: str  # 540
    journal_title: str | None  # 773 $t
    numbers: str | None  # the volume and number of 773 $g
    enumeration: str | None  # 773 $q without the first page
    issn: str | None  # 773 $x


def issue_parts(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings,
                journal_slots: tuple[str, str]) -> IssueParts:
    """The issue-level parts of a record (``common.per_issue`` remembers them for the issue)."""
    journal_title = venue.title_of_journal(journal, journal_slots)
    found_issns = dict(venue.issns_of_journal(journal))
    volume, number = c.clean(issue.volume), c.clean(issue.number)
    numbers = ", ".join(f"{label} {value}" for label, value in (("Vol.", volume), ("no.", number)) if value)
    issued = venue.issue_issued(issue)
    if issued:
        numbers = f"{numbers} ({issued.year})" if numbers else str(issued.year)
    return IssueParts(
        fixed=fixed_prefix(issue),
        publication=publication(journal, issue, settings, journal_slots),
        access=access_note(journal, settings),
        licence=licence_note(journal, settings),
        journal_title=journal_title[1] if journal_title else None,
        numbers=numbers or None,
        enumeration=":".join(v for v in (volume, number) if v) or None,
        issn=found_issns.get("electronic") or found_issns.get("print"),
    )


def fixed_data(article: Article, prefix: str) -> str:
    """008 for a continuing resource: entered, date type and year, place, 17 fill characters, language.

    ``prefix`` is :func:`fixed_prefix` of the article's issue.
    """
    lang = b.marc_language(b.article_language(article)) or "und"
    return f"{prefix}{lang} d"


def fixed_prefix(issue: IssueInfo) -> str:
    """008 up to the language: the same for every article of an issue.

    "Date entered on file" is the issue date, not the day of rendering: a record rendered twice
    must come out the same (decisions.md D16).
    """
    issued = venue.issue_issued(issue)
    if issued:
        entered = f"{issued.year % 100:02d}{issued.month or 1:02d}{issued.day or 1:02d}"
        dates = f"s{issued.year:04d}    "
    else:
        entered, dates = "000000", "nuuuu    "
    return f"{entered}{dates}{PLACE}{'|' * 17}"


def languages(article: Article) -> str:
    """041: the language of the text, then those of the abstracts."""
    subfields = [("a", b.marc_language(b.article_language(article)))]
    subfields += [("b", b.marc_language(slot)) for slot, _ in b.abstracts(article)]
    return datafield("041", "0", " ", subfields)


def author(tag: str, person: b.Person) -> str:
    """100 (first author) or 700: inverted name, relator, affiliation, ORCID (``person`` from ``people_markup``)."""
    ind1 = "1" if person.family else "0"  # surname, else forename only
    subfields = [("a", person.display), ("e", "author"), ("u", person.affiliation), ("1", person.orcid),
                 ("4", "aut")]
    return datafield(tag, ind1, " ", subfields, escape=None)


def title_fields(found: list[tuple[str, str]], has_main_entry: bool) -> str:
    """245 with the primary-language title, 246 (parallel title) with the other."""
    if not found:
        return ""
    main = datafield("245", "1" if has_main_entry else "0", "0", [("a", found[0][1])])
    return main + "".join(datafield("246", "3", "1", [("a", title)]) for _, title in found[1:])


def publication(journal: Journal, issue: IssueInfo, settings: CrosswalkSettings,
                journal_slots: tuple[str, str]) -> str:
    """264 _1: publisher and year."""
    found = venue.publisher_of_journal(journal, settings, journal_slots)
    issued = venue.issue_issued(issue)
    return datafield("264", " ", "1", [("b", found[0] if found else None),
                                         ("c", f"{issued.year:04d}" if issued else None)])


def access_note(journal: Journal, settings: CrosswalkSettings) -> str:
    """506: the configured access right (STAR terms for the kind of access)."""
    access = rights.journal_access(journal.key, settings)
    if access is None:
        return ""
    ind1, text, term = _ACCESS_NOTES[access.right]
    return datafield("506", ind1, " ", [("a", text), ("f", term), ("g", access.embargo_end),
                                        ("2", "star" if term else None)])


def licence_note(journal: Journal, settings: CrosswalkSettings) -> str:
    """540: the configured licence; a Creative Commons one by its short name with source ``cc``."""
    found = rights.journal_licence(journal.key, settings)
    if found is None:
        return ""
    if found.spdx:
        return datafield("540", " ", " ", [("f", rights.licence_name(found.url)), ("2", "cc"), ("u", found.uri)])
    return datafield("540", " ", " ", [("a", found.label), ("u", found.uri or found.url)])


def language_note(article: Article) -> str | None:
    """546: "Text in Persian; abstracts in Persian and English." with what is known."""
    sentences = []
    text = b.language_name(b.article_language(article))
    if text:
        sentences.append(f"Text in {text}")
    abstract_langs = [name for name in (b.language_name(slot) for slot, _ in b.abstracts(article)) if name]
    if abstract_langs:
        sentences.append(f"abstracts in {' and '.join(abstract_langs)}")
    if not sentences:
        return None
    note = "; ".join(sentences)
    return f"{note[0].upper()}{note[1:]}."


def genre_term(article: Article, settings: CrosswalkSettings) -> str:
    """655 _4: the COAR type label, capitalised ("Review article")."""
    label = b.resource_type(article, settings).label
    return label[0].upper() + label[1:]


def host_item(article: Article, issue: IssueParts) -> str:
    """773: journal title, citation ("Vol. 18, no. 2 (2026), p. 12-25"), enumeration, ISSN."""
    subfields = [("t", issue.journal_title), ("g", citation(article, issue.numbers)),
                 ("q", enumeration(article, issue.enumeration)), ("x", issue.issn)]
    if not any(value for _, value in subfields):
        return ""
    return datafield("773", "0", " ", [*subfields, ("7", "nnas")])


def citation(article: Article, numbers: str | None) -> str | None:
    """The article's place in the journal, as it would be printed (``numbers``: "Vol. 18, no. 2 (2026)")."""
    first, last = b.pages(article)
    pages = f"p. {first}-{last}" if first and last and first != last else (f"p. {first}" if first else None)
    return ", ".join(p for p in (numbers, pages) if p) or None


def enumeration(article: Article, numbers: str | None) -> str | None:
    """773 $q: ``volume:issue<first page`` (``numbers``: "18:2"); None without a volume or issue."""
    if not numbers:
        return None
    first = c.page_number(article.first_page)
    return f"{numbers}<{first}" if first is not None else numbers


def electronic_locations(article: Article) -> str:
    """856 40: the DOI as a URL, then the landing page."""
    doi = b.doi(article)
    urls = [f"https://doi.org/{doi}" if doi else None, b.landing_page(article)]
    return "".join(datafield("856", "4", "0", [("u", url)]) for url in urls if url)


FORMAT = MetadataFormat(prefix="marcxml", schema=SCHEMA, namespace=NAMESPACE, render=render,
                        version="2", label="MARC 21 (MARCXML slim)")
