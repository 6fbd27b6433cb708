"""`oaiserver verify`: read the whole database and say whether anything in it is damaged.

SQLite's integrity_check covers the structure (pages, b-trees, indexes against their tables);
the rest is what SQLite cannot see: every header and rendition as the server would check it
(integrity.py, packed ones unpacked first: packing.py), renditions without a checksum parsed as XML, every stored article unpacked
and parsed as JSON (reindex and restore read them), and the kept list sizes against a count from scratch.
"""
from __future__ import annotations

import json
import sqlite3
import typing as t
from dataclasses import dataclass, field

from oaiserver.storage import integrity, packing, queries

#: Problems listed in full; beyond these only counted.
MAX_LISTED = 20


@dataclass
class Report:
    """What verify read and what it found."""

    records: int = 0
    renditions: int = 0
    tombstones: int = 0  # rendition rows that mark a format a record left (decisions.md P16), not among renditions
    unchecked: int = 0  # renditions without a checksum, checked by parsing instead
    problems: list[str] = field(default_factory=list)
    more: int = 0  # problems found beyond MAX_LISTED

    def add(self, problem: str) -> None:
        """Note one problem."""
        if len(self.problems) < MAX_LISTED:
            self.problems.append(problem)
        else:
            self.more += 1

    @property
    def found(self) -> int:
        """How many problems in all."""
        return len(self.problems) + self.more


def verify(conn: sqlite3.Connection, quick: bool = False) -> Report:
    """Check the structure and every stored value; return what was found."""
    report = Report()
    steps: list[tuple[str, t.Callable[[sqlite3.Connection, Report], None]]] = [
        ("SQLite's check", _structure_quick if quick else _structure),
        ("records", _records), ("renditions", _renditions), ("list sizes", _list_sizes)]
    for name, step in steps:
        try:
            step(conn, report)
        except sqlite3.DatabaseError as error:
            report.add(f"{name}: SQLite cannot read them: {error}")
    return report


def _structure(conn: sqlite3.Connection, report: Report) -> None:
    for (line,) in conn.execute(f"PRAGMA integrity_check({MAX_LISTED})"):
        if line != "ok":
            report.add(f"SQLite integrity_check: {line}")


def _structure_quick(conn: sqlite3.Connection, report: Report) -> None:
    for (line,) in conn.execute(f"PRAGMA quick_check({MAX_LISTED})"):
        if line != "ok":
            report.add(f"SQLite quick_check: {line}")


def _records(conn: sqlite3.Connection, report: Report) -> None:
    rows = queries.with_columns(lambda present: conn.execute(
        f"SELECT identifier, CAST(header AS BLOB), {'header_crc' if present[0] else 'NULL'}, "
        "CAST(article AS BLOB) FROM records"))
    for identifier, header, header_crc, article in rows:
        report.records += 1
        try:
            integrity.check_header(identifier, header, header_crc)
        except integrity.DamagedRecord:
            report.add(f"{identifier}: its header is damaged")
        try:
            json.loads(packing.unpack(identifier, article, "the article"))
        except integrity.DamagedRecord:
            report.add(f"{identifier}: its stored article is damaged (cannot be unpacked; reindex and restore need it)")
        except ValueError:
            report.add(f"{identifier}: its stored article is not valid JSON (reindex and restore need it)")


def _renditions(conn: sqlite3.Connection, report: Report) -> None:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    for identifier, prefix, xml, crc in conn.execute(
            "SELECT r.identifier, x.prefix, CAST(x.xml AS BLOB), x.crc FROM renditions x "
            "JOIN records r ON r.id = x.record_id"):
        if not xml:
            # A tombstone: no XML, and the checksum of no bytes (0), as the writer leaves it.
            report.tombstones += 1
            if crc != integrity.checksum(b""):
                report.add(f"{identifier}: its {prefix} tombstone is damaged (checksum)")
            continue
        report.renditions += 1
        try:
            xml = packing.unpack(identifier, xml)
        except integrity.DamagedRecord:
            report.add(f"{identifier}: its {prefix} rendition is damaged (cannot be unpacked)")
            continue
        if crc is not None:
            if integrity.checksum(xml) != crc:
                report.add(f"{identifier}: its {prefix} rendition is damaged (checksum)")
            continue
        report.unchecked += 1
        try:
            etree.fromstring(xml, parser)
        except etree.XMLSyntaxError as error:
            report.add(f"{identifier}: its {prefix} rendition is not well-formed XML ({error})")


def _list_sizes(conn: sqlite3.Connection, report: Report) -> None:
    from oaiserver.storage import list_sizes

    fresh, kept = list_sizes.counted(conn), list_sizes.kept(conn)
    wrong = {key for key in fresh.keys() | kept.keys() if fresh.get(key) != kept.get(key)}
    if wrong:
        report.add(f"list sizes: {len(wrong)} counts differ from the records "
                   f"(completeListSize would be wrong), e.g. {sorted(wrong)[0]}")
