"""Cheap checks that what a list page or GetRecord is about to send is what ingest wrote.

SQLite notices damage to the structure of its pages, never to the text inside a value: a
flipped byte in a stored rendition or header comes back as it is, and would go out as a
document that is not well-formed XML. So each rendition carries the CRC-32 of its UTF-8 bytes,
written at ingest and compared when served (CRC-32 runs at several GB/s: about 0.1 ms for a
page of 100 records), and each header, short and rewritten in place by the writer, must match
the exact shape the writer gives it (ASCII identifier, datestamp, setSpecs), which makes it
well-formed. A mismatch raises :class:`DamagedRecord`, an ``sqlite3.DatabaseError``, so it is
handled like SQLite's own "database disk image is malformed" (decisions.md P9).
"""
from __future__ import annotations

import re
import sqlite3
import typing as t
import zlib

#: A header exactly as the writer renders it: well-formed by construction, ASCII only.
HEADER_RE = re.compile(
    rb'<header(?: status="deleted")?>'
    # Character classes, not a choice per character: the check runs at ~2.5 ns a byte.
    rb"<identifier>[\x21-\x25\x27-\x3b\x3d-\x7e]*(?:&(?:amp|lt|gt);[\x21-\x25\x27-\x3b\x3d-\x7e]*)*</identifier>"
    rb"<datestamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ</datestamp>"
    rb"(?:<setSpec>[A-Za-z0-9\-_.!~*'():]+</setSpec>)*"
    rb"</header>"
)


class DamagedRecord(sqlite3.DatabaseError):
    """A stored header or rendition is not what ingest wrote: the file is damaged."""


def checksum(xml: str | bytes) -> int:
    """The CRC-32 of a rendition's UTF-8 bytes, as stored beside it."""
    return zlib.crc32(xml.encode("utf-8") if isinstance(xml, str) else xml)


def check_header(identifier: str, header: str | bytes) -> None:
    """Raise :class:`DamagedRecord` unless ``header`` has the shape the writer gives headers."""
    data = header.encode("utf-8") if isinstance(header, str) else header
    if HEADER_RE.fullmatch(data) is None:
        raise DamagedRecord(f"database disk image is malformed: the header of {identifier} is damaged")


def check_rendition(identifier: str, xml: str | bytes, crc: int | None) -> None:
    """Raise :class:`DamagedRecord` if ``xml`` does not have the checksum stored with it.

    ``crc`` is None for a rendition written before checksums existed: not checked.
    """
    if crc is not None and checksum(xml) != crc:
        raise DamagedRecord(f"database disk image is malformed: a rendition of {identifier} is damaged")


def check_rows(rows: t.Iterable[tuple[str, str, bytes, bytes | None, int | None]]) -> None:
    """Check the rows of a list page: (datestamp, identifier, header, xml or None, crc or None)."""
    match, crc32 = HEADER_RE.fullmatch, zlib.crc32
    for _, identifier, header, xml, crc in rows:
        # Inlined check_header and check_rendition: this runs for every item of every page.
        if match(header) is None:
            check_header(identifier, header)
        if xml is not None and crc is not None and crc32(xml) != crc:
            check_rendition(identifier, xml, crc)
