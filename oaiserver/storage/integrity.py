"""Cheap checks that what a list page or GetRecord is about to send is what ingest wrote.

SQLite notices damage to the structure of its pages, never to the text inside a value: a
flipped byte in a stored rendition or header comes back as it is, and would go out as a
document that is not well-formed XML. So each rendition and each header carries the CRC-32 of
its UTF-8 bytes, written by the writer and compared when served. A header without one (written
before header checksums, or changed by hand) must match the exact shape the writer gives it
(ASCII identifier, datestamp, setSpecs), which makes it well-formed; the CRC costs a tenth of
that check and also catches a changed letter. A mismatch raises :class:`DamagedRecord`, an
``sqlite3.DatabaseError``, so it is handled like SQLite's own "database disk image is
malformed" (decisions.md P9).

The CRC-32 is zlib's (the same polynomial and values), computed by ISA-L (the ``isal``
package) where it is installed: its carry-less-multiply code checks a 10 KB rendition in
0.25 us against zlib's 2.5 us, about 0.2 ms of every page of 100 records. Without it zlib
computes the same numbers.
"""
from __future__ import annotations

import re
import sqlite3
import typing as t
import zlib

try:
    from isal.isal_zlib import crc32 as _crc32
except ImportError:  # pragma: no cover - a platform without an isal wheel: the same values, slower
    _crc32 = zlib.crc32

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
    return _crc32(xml.encode("utf-8") if isinstance(xml, str) else xml)


def check_header(identifier: str, header: str | bytes, crc: int | None = None) -> None:
    """Raise :class:`DamagedRecord` unless ``header`` has the checksum stored with it.

    ``crc`` is None for a header without a known checksum (written before checksums existed,
    or changed by hand): it must then have the exact shape the writer gives headers.
    """
    data = header.encode("utf-8") if isinstance(header, str) else header
    if (HEADER_RE.fullmatch(data) is None) if crc is None else (_crc32(data) != crc):
        raise DamagedRecord(f"database disk image is malformed: the header of {identifier} is damaged")


def check_rendition(identifier: str, xml: str | bytes, crc: int | None) -> None:
    """Raise :class:`DamagedRecord` if ``xml`` does not have the checksum stored with it.

    ``crc`` is None for a rendition written before checksums existed: not checked.
    """
    if crc is not None and checksum(xml) != crc:
        raise DamagedRecord(f"database disk image is malformed: a rendition of {identifier} is damaged")


def check_rows(rows: t.Iterable[tuple[str, str, bytes, int | None, bytes | None, int | None]]) -> None:
    """Check the rows of a list page: (datestamp, identifier, header, its crc, xml or None, its crc)."""
    match, crc32 = HEADER_RE.fullmatch, _crc32
    for _, identifier, header, header_crc, xml, crc in rows:
        # Inlined check_header and check_rendition: this runs for every item of every page.
        if (crc32(header) != header_crc) if header_crc is not None else (match(header) is None):
            check_header(identifier, header, header_crc)
        if xml is not None and crc is not None and crc32(xml) != crc:
            check_rendition(identifier, xml, crc)
