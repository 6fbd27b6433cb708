"""The writer's low-level moves: many rows in few statements.

Each statement on a table with triggers makes SQLite copy every page it touches into a
statement journal first (64 KiB pages here), so the rows of a whole issue go in a few
multi-row statements rather than one statement per row. The list_sizes triggers are held
meanwhile: the writer's ListSizeKeeper counts the records it changes itself, set-based.
"""
from __future__ import annotations

import functools
import json
import sqlite3
import typing as t
from dataclasses import dataclass, field

from oaiserver.storage.list_sizes import Lists, ListSizeKeeper
from oaiserver.storage.packing import is_packed

#: Parameters per statement: SQLite allows 32,766 since 3.32, 999 before.
MAX_PARAMETERS = 32_766 if sqlite3.sqlite_version_info >= (3, 32) else 999

RECORD_COLUMNS = (
    "identifier", "datestamp", "deleted", "withdrawn", "issue_id", "journal_key", "article_key",
    "source_hash", "content_hash", "article", "header", "header_crc",
)
# The renditions stored as XML come as their UTF-8 bytes (made so by prepare.py for the trip
# from a worker): SQLite stores them as the same TEXT, without a decode and encode in Python.
# The article JSON comes packed (storage/packing.py pack_article) and is stored as the BLOB it is.
TEXT = "CAST(? AS TEXT)"
_RECORD_VALUES = "(?, " + ", ".join("?" for _ in RECORD_COLUMNS) + ")"


#: The formats and the sets a record is listed in, live or as a tombstone (decisions.md P16),
#: and which of those sets it is in as a tombstone, each with that tombstone's datestamp (its
#: record_sets rows with gone = 1, as (set_spec, datestamp) pairs).
Listed = tuple[frozenset[str], frozenset[str], frozenset[tuple[str, str]]]
_NOWHERE: Listed = (frozenset(), frozenset(), frozenset())


@dataclass
class RecordWrites:
    """What saving a batch of articles writes, gathered so that it takes a few statements."""

    moved: list[tuple[int, int]] = field(default_factory=list)  # (issue_id, id): unchanged otherwise
    quiet: list[tuple[str, bytes, int, int]] = field(default_factory=list)  # (source_hash, packed article, issue_id, id)
    inserted: list[tuple[t.Any, ...]] = field(default_factory=list)  # (id, *RECORD_COLUMNS)
    updated: list[tuple[t.Any, ...]] = field(default_factory=list)  # (*RECORD_COLUMNS, id)
    renditions: list[tuple[int, str, bytes, int]] = field(default_factory=list)  # (record_id, prefix, stored, crc)
    # record_sets rows: (set_spec, datestamp, identifier, record_id, gone)
    members: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    sets: dict[str, tuple[str, str, str | None]] = field(default_factory=dict)  # spec -> row, last wins
    # The lists (list_sizes.lists_of) of each record inserted or updated, for the keeper.
    listed: dict[int, Lists] = field(default_factory=dict)
    # The writer's, for its open transaction: what each record it has changed was listed in
    # (formats, sets, as renditions or tombstones) when the transaction began.
    visible: dict[int, Listed] = field(default_factory=dict)
    # The set tombstones left here on this transaction's datestamp, as (datestamp, record_id,
    # set_spec): the commit's restamp moves these, and no tombstone kept from before (writer.py).
    left: list[tuple[str, int, str]] = field(default_factory=list)

    def _leave_tombstones(self, conn: sqlite3.Connection, changed: list[int]) -> None:
        """Add a tombstone for each format and set the updated records (``changed``) leave (decisions.md P16).

        Whatever a record was listed in when the transaction began, rendered or as a
        tombstone, and is not in now, it stays listed in as deleted: a tombstone rendition
        (xml '', crc 0, the CRC-32 of no bytes) or set row (gone = 1). A tombstone rendition
        carries the record's new datestamp; a set tombstone the datestamp of the change that
        took the record out of the set: this one's, or an earlier one's kept, so that later
        changes of the record do not announce the deletion in that set again.
        What a record was listed in then is read at its first change in the transaction and
        kept in ``visible``: a format or set it had only in between (a group's files, P15),
        no harvester saw, so it leaves nothing. Two reads of narrow indexes, for the records
        updated the first time only: a new record leaves nothing.
        """
        unknown = [i for i in changed if i not in self.visible]
        if unknown:
            ids = json.dumps(unknown)
            found_prefixes: dict[int, set[str]] = {i: set() for i in unknown}
            found_specs: dict[int, set[str]] = {i: set() for i in unknown}
            found_gone: dict[int, set[tuple[str, str]]] = {i: set() for i in unknown}
            for record_id, prefix in conn.execute(
                    "SELECT record_id, prefix FROM renditions WHERE record_id IN (SELECT value FROM json_each(?))",
                    (ids,)):
                found_prefixes[record_id].add(prefix)
            for record_id, spec, gone, stamp in conn.execute(
                    "SELECT record_id, set_spec, gone, datestamp FROM record_sets "
                    "WHERE record_id IN (SELECT value FROM json_each(?))", (ids,)):
                found_specs[record_id].add(spec)
                if gone:
                    found_gone[record_id].add((spec, stamp))
            for i in unknown:
                self.visible[i] = (frozenset(found_prefixes[i]), frozenset(found_specs[i]), frozenset(found_gone[i]))
        prefixes: dict[int, set[str]] = {}
        specs: dict[int, set[str]] = {}
        for record_id, prefix, *_ in self.renditions:
            prefixes.setdefault(record_id, set()).add(prefix)
        for spec, _, _, record_id, _ in self.members:
            specs.setdefault(record_id, set()).add(spec)
        kept_tombstones = set()
        for row in self.updated:
            identifier, datestamp, record_id = row[0], row[1], row[-1]
            prefixes_then, specs_then, gone_then = self.visible[record_id]
            for prefix in sorted(prefixes_then - prefixes.get(record_id, set())):
                self.renditions.append((record_id, prefix, b"", 0))
                self._also_listed(record_id, (), (prefix,))
            left_before = dict(gone_then)
            for spec in sorted(specs_then - specs.get(record_id, set())):
                self.members.append((spec, left_before.get(spec, datestamp), identifier, record_id, 1))
                self._also_listed(record_id, (spec,), ())
                if spec in left_before:
                    kept_tombstones.add(record_id)
                else:
                    self.left.append((datestamp, record_id, spec))
        for record_id in kept_tombstones:
            # Not all on the datestamp the keeper counts written records on: it reads them back.
            del self.listed[record_id]

    def _also_listed(self, record_id: int, specs: tuple[str, ...], prefixes: tuple[str, ...]) -> None:
        scopes, kinds = self.listed[record_id]
        self.listed[record_id] = ((*scopes, *specs), (*kinds, *prefixes))

    def write(self, conn: sqlite3.Connection, lists: ListSizeKeeper) -> list[int]:
        """Write everything in order; return the ids of the records that got new output."""
        conn.executemany("UPDATE records SET issue_id = ? WHERE id = ?", self.moved)
        conn.executemany(
            "UPDATE records SET source_hash = ?, article = ?, issue_id = ? WHERE id = ?",
            self.quiet)
        changed = [row[-1] for row in self.updated]
        if changed:
            lists.before_change(changed)
            self._leave_tombstones(conn, changed)
            ids = json.dumps(changed)
            conn.execute("DELETE FROM renditions WHERE record_id IN (SELECT value FROM json_each(?))", (ids,))
            conn.execute("DELETE FROM record_sets WHERE record_id IN (SELECT value FROM json_each(?))", (ids,))
            assignments = ", ".join(f"{c} = ?" for c in RECORD_COLUMNS)
            conn.executemany(f"UPDATE records SET {assignments} WHERE id = ?", self.updated)
        added = [row[0] for row in self.inserted]
        if added:
            lists.added(added)
            for i in added:  # harvesters saw nothing of it before this transaction
                self.visible.setdefault(i, _NOWHERE)
            insert_many(conn, f"records (id, {', '.join(RECORD_COLUMNS)})", _RECORD_VALUES,
                        self.inserted)
        # In key order: consecutive rows land on the same pages. A rendition stored as XML is
        # TEXT, as always; a packed one (storage/packing.py) is a BLOB.
        ordered = sorted(self.renditions, key=_by_prefix)
        insert_many(conn, "renditions (record_id, prefix, xml, crc)", f"(?, ?, {TEXT}, ?)",
                    [row for row in ordered if not is_packed(row[2])])
        insert_many(conn, "renditions (record_id, prefix, xml, crc)", "(?, ?, ?, ?)",
                    [row for row in ordered if is_packed(row[2])])
        insert_many(conn, "record_sets (set_spec, datestamp, identifier, record_id, gone)", "(?, ?, ?, ?, ?)",
                    self.members)
        conn.executemany(
            "INSERT INTO sets (spec, name, description) VALUES (?, ?, ?) "
            "ON CONFLICT (spec) DO UPDATE SET name = excluded.name, "
            "description = excluded.description "
            "WHERE name IS NOT excluded.name OR description IS NOT excluded.description",
            list(self.sets.values()),
        )
        for record_id, lists_of_record in self.listed.items():
            lists.written(record_id, lists_of_record)
        return changed + added


def _by_prefix(row: tuple[int, str, bytes, int]) -> tuple[str, int]:
    return (row[1], row[0])


def insert_many(conn: sqlite3.Connection, into: str, values: str,
                rows: t.Sequence[tuple[t.Any, ...]]) -> None:
    """INSERT ``rows`` into ``into`` ("table (columns)") in as few statements as SQLite allows.

    ``values`` is one row's VALUES term, e.g. "(?, ?)". Each statement journals the pages it
    touches once, so one statement for a whole issue beats a few smaller ones (even though
    each new row count is a new statement to prepare).
    """
    if not rows:
        return
    most = MAX_PARAMETERS // len(rows[0])
    for start in range(0, len(rows), most):
        chunk = rows[start:start + most]
        conn.execute(f"INSERT INTO {into} VALUES {_repeated(values, len(chunk))}",
                     [value for row in chunk for value in row])


@functools.lru_cache(maxsize=256)
def _repeated(values: str, rows: int) -> str:
    return ", ".join([values] * rows)
