"""The completeListSize cache: the list_sizes table, the rule it counts by, and what keeps it exact.

The counting rule, the one place it is written in words (``ITEMS`` says it in SQL):
a list is what ListRecords or ListIdentifiers shows for one set (or the whole repository,
set_spec '') in one format. A record is one item of a list, on the datestamp it carries there:

* in the whole repository, on the record's datestamp, and in each set it belongs to, on the
  datestamp of that membership (a copy of the record's);
* if deleted, once under prefix '' (a deleted record is listed, header only, in every format);
  if live, once under the prefix of each format it is rendered in.

So the size of the list (set_spec, prefix) between two datestamps is the SUM of n over that
range for the prefix and for '' (:func:`size`).

Three things count by the rule, all with the statement :func:`count_items` makes: the
triggers (list_sizes.sql) for any writer; :class:`ListSizeKeeper` for the ingest writer,
which holds the triggers and counts the records it changes set-based; :func:`recount`.
"""
from __future__ import annotations

import collections
import functools
import importlib.resources
import json
import re
import sqlite3
import textwrap
import typing as t

from oaiserver.storage import timeline

#: The list items of the records that ``{chosen}`` (a condition on ``r.id``) picks, one row
#: (set_spec, prefix, datestamp) per item, by the rule above.
ITEMS = """\
SELECT scope.set_spec, coalesce(x.prefix, '') AS prefix, scope.datestamp
FROM (
        -- the whole repository
        SELECT '' AS set_spec, r.datestamp, r.id, r.deleted FROM records r
        WHERE {chosen}
    UNION ALL
        -- each set the record is in, on that membership's datestamp
        SELECT s.set_spec, s.datestamp, r.id, r.deleted FROM records r
        JOIN record_sets s ON s.record_id = r.id WHERE {chosen}
) AS scope
-- deleted: once, under prefix ''; live: once per rendition
LEFT JOIN renditions x ON x.record_id = scope.id AND scope.deleted = 0
WHERE scope.deleted = 1 OR x.prefix IS NOT NULL"""

# The items counted by list, with a sign.
_COUNTED = """\
SELECT set_spec, prefix, datestamp, {sign}count(*) FROM (
{items}
) GROUP BY set_spec, prefix, datestamp"""

# list_sizes.sql: "{add: ids};" or "{take_away: ids};" alone on a line.
_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<verb>add|take_away): (?P<ids>[^}]+)\};$", re.M)
_NAME = re.compile(r"^CREATE (?:TABLE|TRIGGER) (\w+)")


def count_items(sign: int, ids: str) -> str:
    """The statement adding (``sign`` 1) or taking away (-1) the items of the records with an id in (``ids``)."""
    return (
        "INSERT INTO list_sizes (set_spec, prefix, datestamp, n)\n"
        + _counted(sign, f"r.id IN ({ids})")
        + "\nON CONFLICT (set_spec, prefix, datestamp) DO UPDATE SET n = n + excluded.n"
    )


def _counted(sign: int, chosen: str) -> str:
    """The items of the records ``chosen`` picks, counted by list and datestamp, times ``sign``."""
    items = textwrap.indent(ITEMS.format(chosen=chosen), "    ")
    return _COUNTED.format(sign="-" if sign < 0 else "", items=items)


@functools.lru_cache(maxsize=1)
def statements() -> tuple[str, ...]:
    """The cache's tables and triggers, rendered from list_sizes.sql, in order, as SQLite stores them."""
    template = importlib.resources.files("oaiserver.storage").joinpath("list_sizes.sql").read_text("utf-8")
    return tuple(_split(_PLACEHOLDER.sub(_expand, template)))


def _expand(placeholder: re.Match[str]) -> str:
    sign = 1 if placeholder["verb"] == "add" else -1
    statement = count_items(sign, placeholder["ids"])
    return "\n".join(placeholder["indent"] + line for line in statement.splitlines()) + ";"


def _split(script: str) -> t.Iterator[str]:
    """The statements of ``script`` without the comments between them or their final ``;``."""
    pending = ""
    for line in script.splitlines(keepends=True):
        if not pending and (not line.strip() or line.lstrip().startswith("--")):
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip().removesuffix(";")
            pending = ""
    if pending.strip():
        raise ValueError(f"list_sizes.sql ends inside a statement: {pending[:60]!r}")


def install(conn: sqlite3.Connection) -> bool:
    """Make the file's cache the one :func:`statements` renders; return True if it had to change.

    Under the write lock, in one transaction, so readers see the old cache or the new one: a
    file made by another version gets the current triggers. Its counts are kept if its
    list_sizes table is the current one, word for word, and was kept by triggers: the table
    statement changes whenever the rule does (see list_sizes.sql). Otherwise they are counted
    again from scratch, a pass over the whole repository.
    """
    wanted = {_name(statement): statement for statement in statements()}
    conn.execute("BEGIN IMMEDIATE")
    try:
        installed = dict(conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE name LIKE 'list\\_size%' ESCAPE '\\'"))
        changed = installed != wanted
        if changed:
            trusted = installed.get("list_sizes") == wanted["list_sizes"] and any(
                name.startswith("list_sizes_") for name in installed)
            _drop(conn, keep_counts=trusted)
            for statement in statements():
                if not (trusted and _name(statement) == "list_sizes"):
                    conn.execute(statement)
            if not trusted:
                recount(conn)
        if changed:
            timeline.committing(conn, changes_data=True)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return changed


def _name(statement: str) -> str:
    found = _NAME.match(statement)
    if found is None:
        raise ValueError(f"list_sizes.sql: not a CREATE TABLE or TRIGGER: {statement[:60]!r}")
    return found[1]


def uninstall(conn: sqlite3.Connection) -> None:
    """Drop the cache's triggers and tables (:func:`install` brings them back, counted from scratch)."""
    _drop(conn, keep_counts=False)


def _drop(conn: sqlite3.Connection, keep_counts: bool) -> None:
    objects = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE name LIKE 'list\\_size%' ESCAPE '\\' "
        "AND type IN ('trigger', 'table') ORDER BY type = 'table'").fetchall()
    for kind, name in objects:
        if not (keep_counts and name == "list_sizes"):
            conn.execute(f'DROP {kind.upper()} "{name}"')


def recount(conn: sqlite3.Connection) -> None:
    """Count every list from scratch, by the rule (in the caller's transaction)."""
    conn.execute("DELETE FROM list_sizes")
    conn.execute("INSERT INTO list_sizes (set_spec, prefix, datestamp, n)\n" + _counted(1, "1"))


def counted(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """Every list's size per datestamp, counted from scratch by the rule: what list_sizes must hold."""
    rows = conn.execute(_counted(1, "1"))
    return {(set_spec, prefix, datestamp): n for set_spec, prefix, datestamp, n in rows}


def kept(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """What list_sizes holds, without its zero rows (a list item counted out leaves n = 0)."""
    return {(set_spec, prefix, datestamp): n for set_spec, prefix, datestamp, n in conn.execute(
        "SELECT set_spec, prefix, datestamp, n FROM list_sizes WHERE n != 0")}


def size(conn: sqlite3.Connection, set_spec: str, prefix: str, from_: str, until: str) -> int:
    """The number of items in list (``set_spec``, ``prefix``) with a datestamp in [from_, until].

    Raises sqlite3.OperationalError ("no such table") on a file without the cache.
    """
    return conn.execute(
        "SELECT coalesce(sum(n), 0) FROM list_sizes WHERE set_spec = ? AND prefix IN ('', ?) "
        "AND datestamp >= ? AND datestamp <= ?",
        (set_spec, prefix, from_, until),
    ).fetchone()[0]


class ListSizeKeeper:
    """Keeps list_sizes exact for the records one write transaction changes, set-based.

    The items of an existing record are taken away before its first change, and the items of
    every changed or new record are added back, as they then are, by :meth:`settle`, right
    before the commit: a few set-based statements per transaction instead of two trigger
    statements per changed row. A record whose writer said what it wrote (:meth:`written`)
    is added back without being read again. Meanwhile the triggers are held (a row in
    list_size_hold, never committed). Whatever changes a record's datestamp, deletion,
    renditions or sets must say so here first.
    """

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.changed: dict[int, None] = {}  # ordered set of record ids
        self.held = False
        # The lists of changed records as their writer wrote them (:meth:`written`), by id.
        self.known: dict[int, Lists] = {}

    def before_change(self, ids: t.Iterable[int]) -> None:
        """Take away the items of existing records about to change (once per transaction)."""
        ids = dict.fromkeys(ids)
        self.forget_written(ids)  # whatever was said of them no longer holds
        fresh = [i for i in ids if i not in self.changed]
        if not fresh:
            return
        self._hold()
        self._count(-1, fresh)
        self.changed.update(dict.fromkeys(fresh))

    def added(self, ids: t.Iterable[int]) -> None:
        """Note records about to be inserted: they count from :meth:`settle` on."""
        self._hold()
        self.changed.update(dict.fromkeys(ids))

    def written(self, record_id: int, lists: Lists) -> None:
        """Say which lists a record just noted (:meth:`before_change`, :meth:`added`) is in as written: :func:`lists_of`.

        :meth:`settle` given the datestamp then counts it without reading it back, unless
        :meth:`before_change` hears of it again first.
        """
        self.known[record_id] = lists

    def forget_written(self, ids: t.Iterable[int]) -> None:
        """Unsay :meth:`written` for records noted: :meth:`settle` reads them back instead (their datestamp is not the commit's)."""
        for i in ids:
            self.known.pop(i, None)

    def mark(self) -> tuple[dict[int, None], bool, dict[int, Lists]]:
        """What the keeper holds now, for :meth:`back_to` (a savepoint rolled back)."""
        return dict(self.changed), self.held, dict(self.known)

    def back_to(self, mark: tuple[dict[int, None], bool, dict[int, Lists]]) -> None:
        """Forget what was noted since :meth:`mark` gave ``mark``."""
        self.changed, self.held, self.known = mark

    def settle(self, datestamp: str | None = None) -> None:
        """Add back the items of every record noted, and release the triggers.

        ``datestamp``: the one every noted record and its set memberships now carry (the
        ingest writer stamps all it changed with its commit's); the records whose lists were
        said (:meth:`written`) are then counted here, the others read back.
        """
        if self.changed:
            known = self.known if datestamp is not None else {}
            unknown = [i for i in self.changed if i not in known]
            if unknown:
                self._count(1, unknown)
            # Most records are rendered in the same formats: their sets are counted by formats
            # first (Counter.update counts in C), and each count is spread over the formats once.
            scopes_by_kinds: dict[tuple[str, ...], collections.Counter[str]] = {}
            for i in self.changed:
                lists = known.get(i)
                if lists is not None:
                    scopes, kinds = lists
                    counter = scopes_by_kinds.get(kinds)
                    if counter is None:
                        counter = scopes_by_kinds[kinds] = collections.Counter()
                    counter.update(scopes)
            sizes: dict[tuple[str, str], int] = {}
            for kinds, counter in scopes_by_kinds.items():
                for scope, records in counter.items():
                    for kind in kinds:
                        sizes[scope, kind] = sizes.get((scope, kind), 0) + records
            if sizes:
                # In key order, as the statement of _count adds its rows.
                self.conn.executemany(_ADD_SIZE, [(s, p, datestamp, n) for (s, p), n in sorted(sizes.items())])
            self.changed = {}
        self.known = {}
        if self.held:
            self.conn.execute("DELETE FROM list_size_hold")
            self.held = False

    def _hold(self) -> None:
        if not self.held:
            self.conn.execute("INSERT INTO list_size_hold (holder) VALUES ('ingest')")
            self.held = True

    def _count(self, sign: int, ids: list[int]) -> None:
        self.conn.execute(_keeper_statement(sign), {"ids": json.dumps(ids)})


#: A record's lists: it is an item of (set_spec, prefix) for each set_spec of the first and prefix of the second.
Lists = tuple[tuple[str, ...], tuple[str, ...]]


def lists_of(deleted: bool, set_specs: t.Iterable[str], prefixes: t.Iterable[str]) -> Lists:
    """The lists a record is an item of, by the rule (``ITEMS`` in Python).

    ``set_specs``: the sets it belongs to; ``prefixes``: the formats it is rendered in.
    """
    return ("", *set_specs), ("",) if deleted else tuple(prefixes)


_ADD_SIZE = ("INSERT INTO list_sizes (set_spec, prefix, datestamp, n) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (set_spec, prefix, datestamp) DO UPDATE SET n = n + excluded.n")


@functools.lru_cache(maxsize=2)
def _keeper_statement(sign: int) -> str:
    return count_items(sign, "SELECT value FROM json_each(:ids)")
