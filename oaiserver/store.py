"""Read queries behind the verbs; keyset pagination on (datestamp, identifier), never OFFSET."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# The lowest possible keyset position: every real (datestamp, identifier) sorts after it.
START = ("", "")


@dataclass(frozen=True)
class ListFilter:
    """The selection of a ListRecords/ListIdentifiers request."""

    prefix: str
    set_spec: str | None
    from_: str  # inclusive, seconds granularity ("" for no lower bound)
    until: str  # inclusive, seconds granularity


@dataclass(frozen=True)
class Item:
    """One row of a list page: the keyset position, the header and the metadata."""

    datestamp: str
    identifier: str
    header: str
    xml: str | None  # None for deleted records and for ListIdentifiers


def _selection(f: ListFilter, with_xml: bool) -> tuple[str, dict]:
    # Deleted records are listed in every format (header only); live ones where rendered.
    table, key = ("record_sets s", "s") if f.set_spec else ("records s", "s")
    join_record = "JOIN records r ON r.id = s.record_id" if f.set_spec else ""
    record = "r" if f.set_spec else "s"
    record_id = "s.record_id" if f.set_spec else "s.id"
    deleted = f"{record}.deleted"
    columns = f"{key}.datestamp, {key}.identifier, {record}.header, {deleted}"
    if with_xml:
        columns += ", x.xml"
    sql = (
        f"SELECT {columns} FROM {table} {join_record} "
        f"LEFT JOIN renditions x ON x.record_id = {record_id} AND x.prefix = :prefix "
        f"WHERE {key}.datestamp >= :from_ AND {key}.datestamp <= :until "
        f"AND (x.prefix IS NOT NULL OR {deleted} = 1)"
    )
    params = {"prefix": f.prefix, "from_": f.from_, "until": f.until}
    if f.set_spec:
        sql += " AND s.set_spec = :set_spec"
        params["set_spec"] = f.set_spec
    return sql, params


def count(conn: sqlite3.Connection, f: ListFilter) -> int:
    """Return how many records the selection holds (completeListSize)."""
    sql, params = _selection(f, with_xml=False)
    return conn.execute(f"SELECT COUNT(*) FROM ({sql})", params).fetchone()[0]


def page(
    conn: sqlite3.Connection,
    f: ListFilter,
    after: tuple[str, ...] | None,
    limit: int,
    with_xml: bool,
) -> list[Item]:
    """Return up to ``limit`` items after the keyset position ``after``, in order."""
    sql, params = _selection(f, with_xml)
    key = "s"
    last = tuple(after or START)
    sql += (
        f" AND ({key}.datestamp, {key}.identifier) > (:last_datestamp, :last_identifier)"
        f" ORDER BY {key}.datestamp, {key}.identifier LIMIT :limit"
    )
    params.update(last_datestamp=last[0], last_identifier=last[1], limit=limit)
    items = []
    for row in conn.execute(sql, params):
        xml = row[4] if with_xml and not row[3] else None
        items.append(Item(row[0], row[1], row[2], xml))
    return items


def earliest_datestamp(conn: sqlite3.Connection) -> str | None:
    """Return the smallest datestamp in the repository, or None when it is empty."""
    return conn.execute("SELECT MIN(datestamp) FROM records").fetchone()[0]


def sample_identifier(conn: sqlite3.Connection) -> str | None:
    """Return one identifier the repository really serves (for Identify)."""
    row = conn.execute("SELECT identifier FROM records ORDER BY id LIMIT 1").fetchone()
    return row[0] if row else None


def get_record(conn: sqlite3.Connection, identifier: str, prefix: str) -> tuple[str, bool, str | None] | None:
    """Return (header, deleted, xml or None) for one record, or None if unknown."""
    row = conn.execute(
        "SELECT r.header, r.deleted, x.xml FROM records r "
        "LEFT JOIN renditions x ON x.record_id = r.id AND x.prefix = ? WHERE r.identifier = ?",
        (prefix, identifier),
    ).fetchone()
    return None if row is None else (row[0], bool(row[1]), row[2])


def formats_of(conn: sqlite3.Connection, identifier: str) -> list[str] | None:
    """Return the prefixes one record is available in, or None if it is unknown."""
    row = conn.execute("SELECT id FROM records WHERE identifier = ?", (identifier,)).fetchone()
    if row is None:
        return None
    return [
        r[0]
        for r in conn.execute(
            "SELECT prefix FROM renditions WHERE record_id = ? ORDER BY prefix", (row[0],)
        )
    ]


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
