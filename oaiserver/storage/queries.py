"""Read queries behind the verbs; keyset pagination on (datestamp, identifier), never OFFSET."""
from __future__ import annotations

import sqlite3
import typing as t
from dataclasses import dataclass

from oaiserver.storage import integrity, list_sizes, packing

# The lowest possible keyset position: every real (datestamp, identifier) sorts after it.
START = ("", "")


@dataclass(frozen=True)
class ListFilter:
    """The selection of a ListRecords/ListIdentifiers request."""

    prefix: str
    set_spec: str | None
    from_: str  # inclusive, seconds granularity ("" for no lower bound)
    until: str  # inclusive, seconds granularity


class Item(t.NamedTuple):
    """One row of a list page: the keyset position, the header and the metadata.

    A named tuple, made straight from the query's row: a page builds hundreds of them.
    """

    datestamp: str
    identifier: str
    header: bytes  # UTF-8, exactly as stored: pages are assembled as bytes, never re-encoded
    xml: bytes | None  # UTF-8, unpacked (packing.py); None for deleted records and for ListIdentifiers


# Without the XML, "is the record in this format?" is answered from this narrow index, not
# from the wide renditions rows (several times faster for a 500-header page).
_NARROW_PROBE = "INDEXED BY renditions_by_record"
# And the tombstones (decisions.md P16) from their own index, a few pages at most.
_TOMBSTONE_PROBE = "INDEXED BY renditions_gone"


#: The columns a query may read that older files lack: (records.header_crc, renditions.crc,
#: record_sets.gone); :func:`with_columns` finds which this file has.
Present = tuple[bool, bool, bool]
ALL_COLUMNS: Present = (True, True, True)

# A tombstone's header is its record's live header, marked deleted (decisions.md P16).
_LIVE_HEADER, _DELETED_HEADER = b"<header>", b'<header status="deleted">'
_DATESTAMP, _END_DATESTAMP = b"<datestamp>", b"</datestamp>"


def _as_deleted(header: bytes) -> bytes:
    """A live record's header as a tombstone shows it: the same, with status="deleted"."""
    return header.replace(_LIVE_HEADER, _DELETED_HEADER, 1)


def _selection(f: ListFilter, with_xml: bool, narrow: bool = False,
               present: Present = ALL_COLUMNS) -> tuple[str, dict]:
    # Deleted records are listed in every format (header only); live ones where rendered, or
    # where they have left a tombstone, listed as deleted (decisions.md P16).
    # CAST … AS BLOB hands the stored UTF-8 over as bytes: no decoding, no re-encoding.
    header_crc, crc, gone = present
    if f.set_spec:
        # The set's own index gives the order. The header comes from records_listing, found
        # by the (datestamp, identifier) copy that ingest keeps equal to the record's; the
        # record id must match too ("+" keeps SQLite from reading the wide row by it instead).
        # A set tombstone keeps the datestamp of the change that took the record out of the
        # set (decisions.md P16): the record's own is looked up by id, for those rows alone.
        record_datestamp = ("CASE WHEN s.gone THEN (SELECT d.datestamp FROM records d WHERE d.id = s.record_id) "
                            "ELSE s.datestamp END" if gone else "s.datestamp")
        source = (
            f"record_sets s JOIN records r ON r.datestamp = {record_datestamp} "
            "AND r.identifier = s.identifier AND +r.id = s.record_id"
        )
        record, record_id = "r", "s.record_id"
    else:
        # records_listing covers every column read here: the wide rows are never touched.
        source = "records s"
        record, record_id = "s", "s.id"
    # A row: the datestamp, identifier and header of an Item, the header's checksum, the
    # Item's metadata (a deleted record's page entry is its header alone), the rendition's
    # checksum (integrity.py). A checksum the database has no column for is NULL.
    # A record listed as a tombstone (decisions.md P16), having left the format (its
    # rendition is xml '') or, in a set's list, the set (its set row is gone, and so, even
    # if the record has been deleted since, its datestamp may not be the record's), has b''
    # for metadata, with or without the XML: _served makes its deleted header.
    left_set = "WHEN s.gone THEN X'' " if f.set_spec and gone else ""
    if with_xml:
        metadata = f"CASE {left_set}WHEN {record}.deleted THEN NULL ELSE CAST(x.xml AS BLOB) END"
    else:
        # Without the XML, the tombstones' own index tells them.
        left_format = "g.record_id IS NOT NULL" if narrow else "x.xml = ''"
        metadata = f"CASE {left_set}WHEN {record}.deleted THEN NULL WHEN {left_format} THEN X'' END"
    columns = (
        f"s.datestamp, s.identifier, CAST({record}.header AS BLOB), "
        f"{f'{record}.header_crc' if header_crc else 'NULL'}, {metadata}, "
        f"{'x.crc' if crc and with_xml else 'NULL'}"
    )
    sql = (
        f"SELECT {columns} FROM {source} "
        f"LEFT JOIN renditions x {_NARROW_PROBE if narrow else ''} "
        f"ON x.record_id = {record_id} AND x.prefix = :prefix "
        + (f"LEFT JOIN renditions g {_TOMBSTONE_PROBE} ON g.record_id = {record_id} "
           "AND g.prefix = :prefix AND g.xml = '' " if narrow else "")
        + f"WHERE s.datestamp <= :until AND (x.prefix IS NOT NULL OR {record}.deleted = 1)"
    )
    params = {"prefix": f.prefix, "until": f.until}
    if f.set_spec:
        sql += " AND s.set_spec = :set_spec"
        params["set_spec"] = f.set_spec
    return sql, params


def count(conn: sqlite3.Connection, f: ListFilter) -> int:
    """Return how many records the selection holds (completeListSize)."""
    try:
        # Exact, from the cache (list_sizes.py): a SUM over the datestamps in range.
        return list_sizes.size(conn, f.set_spec or "", f.prefix, f.from_, f.until)
    except sqlite3.OperationalError as error:
        # A database made before list_sizes existed: count the rows instead.
        if "no such table" not in str(error):
            raise
    sql, params = _selection(f, with_xml=False)
    sql += " AND s.datestamp >= :from_"
    params["from_"] = f.from_
    return conn.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]


class Page(t.NamedTuple):
    """One list page's items, and whether the list goes on after them."""

    items: list[Item]
    more: bool


def page(
    conn: sqlite3.Connection,
    f: ListFilter,
    after: tuple[str, ...] | None,
    limit: int,
    with_xml: bool,
    max_bytes: int | None = None,
) -> Page:
    """Return the next page of items after the keyset position ``after``, in order.

    A page holds up to ``limit`` items; with ``max_bytes`` it also ends after the item that
    brings its headers and metadata to that many bytes, but never before its second item.
    A page that would leave exactly one item behind takes it too (``limit`` + 1 items, or one
    more record past the byte limit): no page holds a single item unless the list does
    (decisions.md P10). Rows are read one by one and no row past the page is read: what
    follows is counted on the narrow index.
    """
    # One lower bound, as a row value, so that SQLite seeks the index straight to it (a deep
    # page costs what the first one does). Identifiers are never empty: (from, "") is from.
    low = max((f.from_, ""), tuple(after or START))
    rows, full = _read_rows(conn, f, with_xml, low, limit, max_bytes)
    if not full:
        return Page(_checked(rows), False)
    position = (rows[-1][0], rows[-1][1])
    following = _count_after(conn, f, position, 2)
    if following == 1:
        # The list's last item joins this page instead of making a page of its own.
        rows += _read_rows(conn, f, with_xml, position, 1, None)[0]
        return Page(_checked(rows), False)
    return Page(_checked(rows), following > 0)


def _read_rows(
    conn: sqlite3.Connection, f: ListFilter, with_xml: bool, low: tuple[str, ...], limit: int,
    max_bytes: int | None,
) -> tuple[list[tuple[t.Any, ...]], bool]:
    # Up to `limit` rows after `low` (fewer at the byte limit): (rows, whether the page is full).
    cursor = _execute_page(conn, f, with_xml, low, limit)
    try:
        if max_bytes is None:
            rows = [_served(row) for row in cursor.fetchall()]
            return rows, len(rows) == limit
        return _fill(cursor, limit, max_bytes)
    finally:
        cursor.close()  # ends the statement: the rows past the page are never read


# A page the byte limit ends holds at least this many items: a page of one item is what some
# harvesters cannot read (decisions.md P10).
MIN_ITEMS = 2


def _fill(rows: t.Iterable[tuple[t.Any, ...]], limit: int, max_bytes: int) -> tuple[list[tuple[t.Any, ...]], bool]:
    # Stop at `limit` rows, or once the page holds `max_bytes` and MIN_ITEMS rows:
    # (rows, whether the page is full).
    taken: list[tuple[t.Any, ...]] = []
    size = 0
    for row in rows:
        row = _served(row)  # the page is bounded by the bytes it sends
        taken.append(row)
        size += len(row[2]) + (len(row[4]) if row[4] is not None else 0)
        if size >= max_bytes and len(taken) >= MIN_ITEMS:
            return taken, True
    return taken, len(taken) == limit


def _served(row: tuple[t.Any, ...]) -> tuple[t.Any, ...]:
    """A page row as it is served: a packed rendition (packing.py) replaced by its XML, a tombstone by its deleted header."""
    xml = row[4]
    if xml is None:
        return row
    if not packing.is_packed(xml):
        return row if xml else _tombstone(row)
    datestamp, identifier, header, header_crc, _, crc = row
    return (datestamp, identifier, header, header_crc, packing.unpack(identifier, xml), crc)


def _tombstone(row: tuple[t.Any, ...]) -> tuple[t.Any, ...]:
    """A tombstone's page row (decisions.md P16): its record's header, checked, marked deleted and given the tombstone's datestamp; no metadata."""
    datestamp, identifier, header, header_crc = row[:4]
    if header_crc is not None:
        integrity.check_header(identifier, header, header_crc)
    # A set tombstone keeps the datestamp of its record's change that left the set; a
    # format tombstone has its record's. (The new header is checked by its shape: a header
    # without a datestamp to replace is left as it is, and fails that check.)
    start, end = header.find(_DATESTAMP), header.find(_END_DATESTAMP)
    if 0 <= start < end:
        header = header[:start + len(_DATESTAMP)] + datestamp.encode("ascii") + header[end:]
    return (datestamp, identifier, _as_deleted(header), None, None, None)


def _checked(rows: list[tuple[t.Any, ...]]) -> list[Item]:
    """The page's items, once every header and rendition is checked (integrity.DamagedRecord)."""
    integrity.check_rows(rows)
    return [Item(datestamp, identifier, header, xml) for datestamp, identifier, header, _, xml, _ in rows]


def _execute_page(
    conn: sqlite3.Connection, f: ListFilter, with_xml: bool, low: tuple[str, ...], limit: int
) -> sqlite3.Cursor:
    def execute(present: Present) -> sqlite3.Cursor:
        if not with_xml:
            try:
                return conn.execute(*_page_sql(f, False, low, limit, True, present))
            except sqlite3.OperationalError as error:
                # A database made before that index: the plain query gives the same rows.
                if "no such index" not in str(error):
                    raise
        return conn.execute(*_page_sql(f, with_xml, low, limit, False, present))

    return with_columns(execute)


T = t.TypeVar("T")


def with_columns(run: t.Callable[[Present], T]) -> T:
    """``run(present)`` with the columns this database has (:data:`Present`).

    A database no writer has opened since set tombstones came (or, older, since header
    checksums, or rendition checksums came) lacks the column: its query fails with "no such
    column", and runs again without it, a missing checksum read as NULL and no set row a
    tombstone.
    """
    for present in ((True, True, True), (True, True, False), (False, True, False)):
        try:
            return run(present)
        except sqlite3.OperationalError as error:
            if "no such column" not in str(error):
                raise
    return run((False, False, False))


def _count_after(conn: sqlite3.Connection, f: ListFilter, position: tuple[str, str], most: int) -> int:
    # How many items follow `position`, counting to `most` at most, by the narrow index:
    # their headers and metadata are not read.
    cursor = _execute_page(conn, f, False, position, most)
    try:
        return len(cursor.fetchall())
    finally:
        cursor.close()


def _page_sql(
    f: ListFilter, with_xml: bool, low: tuple[str, ...], limit: int, narrow: bool = False,
    present: Present = ALL_COLUMNS,
) -> tuple[str, dict]:
    sql, params = _selection(f, with_xml, narrow, present)
    sql += (
        " AND (s.datestamp, s.identifier) > (:low_datestamp, :low_identifier)"
        " ORDER BY s.datestamp, s.identifier LIMIT :limit"
    )
    params.update(low_datestamp=low[0], low_identifier=low[1], limit=limit)
    return sql, params


def page_plan(conn: sqlite3.Connection, f: ListFilter, with_xml: bool = True) -> list[str]:
    """Return SQLite's query plan for a list page (benchmarks check that it seeks)."""
    try:
        sql, params = _page_sql(f, with_xml, START, 1, narrow=not with_xml)
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    except sqlite3.OperationalError:  # no narrow index in this database
        sql, params = _page_sql(f, with_xml, START, 1)
        return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]


def earliest_datestamp(conn: sqlite3.Connection) -> str | None:
    """Return the smallest datestamp in the repository, or None when it is empty."""
    # A set tombstone keeps the datestamp of its record's leaving (decisions.md P16), which
    # may be older than every record's now: the smallest is one seek of their own index.
    try:
        return conn.execute(
            "SELECT MIN(d) FROM (SELECT MIN(datestamp) AS d FROM records UNION ALL "
            "SELECT MIN(datestamp) FROM record_sets INDEXED BY record_sets_gone WHERE gone = 1)").fetchone()[0]
    except sqlite3.OperationalError as error:
        # A file no writer has opened since set tombstones came has none (db._add_set_tombstones).
        if "no such" not in str(error):
            raise
        return conn.execute("SELECT MIN(datestamp) FROM records").fetchone()[0]


def sample_identifier(conn: sqlite3.Connection) -> str | None:
    """Return one identifier the repository really serves (for Identify)."""
    row = conn.execute("SELECT identifier FROM records ORDER BY id LIMIT 1").fetchone()
    return row[0] if row else None


def get_record(conn: sqlite3.Connection, identifier: str, prefix: str) -> tuple[str, bool, str | None] | None:
    """Return (header, deleted, xml or None) for one record, or None if unknown.

    A live record with a tombstone in the format (decisions.md P16) is deleted there.
    """
    row = with_columns(lambda present: conn.execute(
        f"SELECT r.header, {'r.header_crc' if present[0] else 'NULL'}, r.deleted, "
        f"CAST(x.xml AS BLOB), {'x.crc' if present[1] else 'NULL'} FROM records r "
        "LEFT JOIN renditions x ON x.record_id = r.id AND x.prefix = ? WHERE r.identifier = ?",
        (prefix, identifier),
    ).fetchone())
    if row is None:
        return None
    header, header_checksum, deleted, xml, checksum = row
    integrity.check_header(identifier, header, header_checksum)
    if xml is not None:
        xml = packing.unpack(identifier, xml)
        integrity.check_rendition(identifier, xml, checksum)
    if xml == b"" and not deleted:
        return (_as_deleted(header.encode("utf-8")).decode("utf-8"), True, None)
    return (header, bool(deleted), None if xml is None else xml.decode("utf-8"))


def formats_of(conn: sqlite3.Connection, identifier: str) -> tuple[bool, list[str]] | None:
    """Return whether one record is deleted and the prefixes it is rendered in or has a tombstone in; None if it is unknown."""
    rows = conn.execute(
        "SELECT r.deleted, x.prefix FROM records r LEFT JOIN renditions x ON x.record_id = r.id "
        "WHERE r.identifier = ? ORDER BY x.prefix",
        (identifier,),
    ).fetchall()
    if not rows:
        return None
    return bool(rows[0][0]), [prefix for _, prefix in rows if prefix is not None]


def count_sets(conn: sqlite3.Connection) -> int:
    """Return the number of sets."""
    return conn.execute("SELECT COUNT(*) FROM sets").fetchone()[0]


def set_exists(conn: sqlite3.Connection, spec: str) -> bool:
    """Tell whether a set is known."""
    return conn.execute("SELECT 1 FROM sets WHERE spec = ?", (spec,)).fetchone() is not None


def sets_page(conn: sqlite3.Connection, after: str | None, limit: int) -> list[tuple[str, str, str | None]]:
    """Return up to ``limit`` sets (spec, name, description) after ``after``, by spec."""
    return conn.execute(
        "SELECT spec, name, description FROM sets WHERE spec > ? ORDER BY spec LIMIT ?",
        (after or "", limit),
    ).fetchall()
