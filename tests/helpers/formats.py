"""What the format tests share: the root element each registered format renders; and for
oai_openaire, datacite, mods and marcxml, their settings, issues and harvest checks."""
from __future__ import annotations

import functools
import typing as t
from pathlib import Path

from lxml import etree

from metadata_formats import FORMATS, CrosswalkSettings
from metadata_formats.journals import parse_journals
from tests.helpers.crosswalk_helpers import nkums_article
from tests.helpers.issues import A, write_issue
from tests.helpers.oai import GOOD_SAMPLES, NS, REPOSITORY_IDENTIFIER, harvest

CC_BY_NC = "https://creativecommons.org/licenses/by-nc/4.0/"
NKUMS = "2008-8701"  # the real sample's journal key
TJMS = "1234-5679"  # the synthetic samples' journal (jalali-only, multi-article)
HAND_MADE = "2222-2222"  # the hand-made issue's journal: nothing configured
#: The record of the real sample.
REVIEW = f"oai:{REPOSITORY_IDENTIFIER}:{NKUMS}/A-10-25-972"

#: OAI_JOURNALS of the format tests' repository: one open journal, one embargoed, one unconfigured.
JOURNALS = {
    NKUMS: {"access_right": "open", "license_url": CC_BY_NC, "publisher": "NKUMS Press"},
    TJMS: {"access_right": "embargoed", "embargo_end": "2027-01-01",
           "license_url": "https://tjms.example.ac.ir/terms", "license_label": "TJMS terms of use"},
}

#: The hand-made issue: types of the COAR table, a DOI, odd pages, an author-less article.
HAND_MADE_ARTICLES = [
    A("H-1", content_type="Editorial", doi="10.5555/h.1"),
    A("H-2", content_type="Letter to the Editor", start_page="e12", end_page=""),
    A("H-3", content_type="Book review", language="fa", keywords="", abstract=""),
    A("H-4", content_type="Case Report", authors=[], start_page="", end_page=""),
]

#: Namespaces of the four formats (and their helpers) for XPath.
FNS = {
    **NS,
    "oaire": "http://namespace.openaire.eu/schema/oaire/",
    "datacite": "http://datacite.org/schema/kernel-4",
    "mods": "http://www.loc.gov/mods/v3",
    "marc": "http://www.loc.gov/MARC21/slim",
    "xlink": "http://www.w3.org/1999/xlink",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def journal_settings(entry: dict[str, str] | None = None, key: str = NKUMS, **global_keys: t.Any) -> CrosswalkSettings:
    """Settings with ``entry`` as the OAI_JOURNALS entry of journal ``key`` (and global keys)."""
    return CrosswalkSettings(journals=parse_journals({key: entry} if entry is not None else {}), **global_keys)


OPEN = journal_settings({"access_right": "open"})


def tree(xml: str | None) -> etree._Element:
    """Parse a rendered record (which must exist)."""
    assert xml is not None, "the article was not disseminated"
    return etree.fromstring(xml)


def xpath(root: etree._Element, path: str) -> list[t.Any]:
    """Evaluate ``path`` with the formats' prefixes."""
    return root.xpath(path, namespaces=FNS)


def texts(root: etree._Element, path: str) -> list[str]:
    """The texts of the elements at ``path``."""
    return [e.text for e in xpath(root, path)]


def ingest_everything(ingest: t.Callable[..., t.Any], folder: Path, clock: t.Any) -> None:
    """Ingest every good sample issue, then the hand-made issue, one second apart."""
    for sample in GOOD_SAMPLES:
        ingest(sample)
        clock.advance(1)
    ingest(write_issue(folder / "hand-made.xml", HAND_MADE_ARTICLES, issn=HAND_MADE, host="hm.example.ac.ir",
                       volume="4", number="2"))
    clock.advance(1)


def harvest_records(oai: t.Callable[..., etree._Element], prefix: str) -> dict[str, etree._Element]:
    """ListRecords in ``prefix`` to the end, then GetRecord of each record: every response checked
    against the schema bundle for ``prefix`` (the ``oai`` fixture); both must give the same record.

    Returns the metadata root of each record by identifier.
    """
    _, pages = harvest(oai, "ListRecords", metadataPrefix=prefix)
    listed = {r.findtext("o:header/o:identifier", namespaces=NS): r for p in pages for r in p.iterfind(".//o:record", NS)}
    for identifier, record in listed.items():
        single = oai(verb="GetRecord", identifier=identifier, metadataPrefix=prefix).find(".//o:record", NS)
        assert etree.tostring(single, method="c14n") == etree.tostring(record, method="c14n"), identifier
    return {identifier: record.find("o:metadata", NS)[0] for identifier, record in listed.items()}


def live_identifiers(oai: t.Callable[..., etree._Element]) -> set[str]:
    """Every item of the repository (oai_dc expresses every article)."""
    identifiers, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    return set(identifiers)


def schema_sample_verdicts(prefix: str) -> dict[str, bool]:
    """The verdict of the response validator on the shared hand-written GetRecord samples of ``prefix``.

    ``getrecord_<prefix>.xml`` is valid and ``getrecord_<prefix>_invalid.xml`` is not; both
    are whole responses, so this also proves that the validator picks the bundle that holds
    the format (and does not let unknown content through).
    """
    from tests.helpers.crosswalk_helpers import SCHEMAS_DIR, oai_schema

    validator = oai_schema()
    parser = etree.XMLParser(no_network=True)
    return {path.name: validator.validate(etree.parse(str(path), parser))
            for path in sorted((SCHEMAS_DIR / "samples").glob(f"getrecord_{prefix}*.xml"))}


def source_text(sample: Path, tag: str, index: int = 0) -> str:
    """The stripped text of the ``index``-th ``tag`` element of a sample issue file, as the file has it."""
    found = etree.parse(str(sample)).getroot().iter(tag)
    return [e.text.strip() for e in found if e.text and e.text.strip()][index]


@functools.lru_cache(maxsize=None)
def root_tag(prefix: str) -> str:
    """The ``{namespace}name`` of the element format ``prefix`` renders for the real sample article."""
    # An access right configured: oai_openaire renders nothing without one.
    settings = CrosswalkSettings(rights="info:eu-repo/semantics/openAccess")
    rendered = FORMATS[prefix].render(nkums_article(), settings)
    assert rendered is not None, f"{prefix} renders nothing for the real sample"
    return etree.fromstring(rendered.encode("utf-8")).tag


def root_name(prefix: str) -> str:
    """The local name of :func:`root_tag` (what harvester programs report)."""
    return etree.QName(root_tag(prefix)).localname
