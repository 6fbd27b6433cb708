"""The completeListSize cache: the installed triggers are the template, and they count by the rule.

Random sequences of writes (new, changed, deleted, withdrawn and removed records, renditions
and set memberships gained, lost and moved), each through the triggers or through the
writer's ListSizeKeeper, always leave list_sizes equal to a count from scratch. Files made
by older versions get the current triggers and counts when the writer opens them.
"""
from __future__ import annotations

import ast
import hashlib
import sqlite3
import typing as t
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oaiserver.storage import db, list_sizes
from tests.helpers.list_sizes import records_read_back

FIXTURES = Path(__file__).parent / "fixtures"
# The schema as the code at 7daa00f made it: eleven triggers assembled in Python.
OLD_SCHEMA = (FIXTURES / "schema-7daa00f.sql").read_text(encoding="utf-8")
DATES = [f"2026-01-0{day}T00:00:00Z" for day in (1, 2, 3)]
PREFIXES = ["oai_dc", "jats"]
SPECS = ["journal", "journal:x", "subject:y"]
# The counting rule (list_sizes.ITEMS) and the list_sizes statement it goes with.
RULE_DIGEST, TABLE_DIGEST = "79635372676696dc", "d6c1f67623d1b785"


def installed(conn: sqlite3.Connection) -> dict[str, str]:
    """The cache's objects in the file, by name."""
    return dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE name LIKE 'list\\_size%' ESCAPE '\\'"))


def rendered() -> dict[str, str]:
    """The cache's objects as this code renders them, by name."""
    return {list_sizes._name(statement): statement for statement in list_sizes.statements()}


def by_rule(conn: sqlite3.Connection) -> dict[tuple[str, str, str], int]:
    """Every list's size per datestamp, worked out in Python from the rows (an independent oracle)."""
    memberships: dict[int, list[tuple[str, str]]] = {}
    for spec, datestamp, record_id in conn.execute("SELECT set_spec, datestamp, record_id FROM record_sets"):
        memberships.setdefault(record_id, []).append((spec, datestamp))
    formats: dict[int, list[str]] = {}
    for record_id, prefix in conn.execute("SELECT record_id, prefix FROM renditions"):
        formats.setdefault(record_id, []).append(prefix)
    sizes: Counter[tuple[str, str, str]] = Counter()
    for record_id, datestamp, deleted in conn.execute("SELECT id, datestamp, deleted FROM records"):
        for spec, stamp in [("", datestamp), *memberships.get(record_id, [])]:
            for prefix in [""] if deleted else formats.get(record_id, []):
                sizes[(spec, prefix, stamp)] += 1
    return dict(sizes)


def assert_exact(conn: sqlite3.Connection) -> None:
    """list_sizes holds what the rule counts, and the rule counts what the oracle does."""
    assert list_sizes.kept(conn) == list_sizes.counted(conn) == by_rule(conn)
    assert conn.execute("SELECT COUNT(*) FROM list_size_hold").fetchone()[0] == 0


def insert_record(conn: sqlite3.Connection, identifier: str, datestamp: str, deleted: bool = False,
                  record_id: int | None = None) -> int:
    """A record row with placeholder content (only its list columns matter here)."""
    cursor = conn.execute(
        "INSERT INTO records (id, identifier, datestamp, deleted, journal_key, article_key, "
        "source_hash, content_hash, article, header) VALUES (?, ?, ?, ?, 'j', ?, '', '', '{}', '')",
        (record_id, identifier, datestamp, int(deleted), identifier))
    return t.cast(int, cursor.lastrowid)


def fill(conn: sqlite3.Connection) -> None:
    """A few records of every kind, written through whatever triggers the file has."""
    for number in range(1, 7):
        record_id = insert_record(conn, f"oai:x:{number}", DATES[number % 3], deleted=number == 6)
        for prefix in PREFIXES[: 1 + number % 2]:
            conn.execute("INSERT INTO renditions (record_id, prefix, xml) VALUES (?, ?, '<x/>')",
                         (record_id, prefix))
        for spec in SPECS[: number % 4]:
            conn.execute("INSERT INTO record_sets (set_spec, datestamp, identifier, record_id) VALUES (?, ?, ?, ?)",
                         (spec, DATES[number % 3], f"oai:x:{number}", record_id))


def new_database(foreign_keys: bool = True) -> sqlite3.Connection:
    """An in-memory database with the current schema and cache."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    conn.executescript(db.schema())
    list_sizes.install(conn)
    return conn


def old_database(path: Path, script: str = OLD_SCHEMA) -> None:
    """A file made by the old code, with records written through its triggers."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(script)
    fill(conn)
    conn.close()


# -- the installed triggers are the template ------------------------------------------------

def test_a_new_file_holds_exactly_the_rendered_cache(tmp_path: Path) -> None:
    """What sqlite_master stores is what list_sizes.sql renders, statement for statement."""
    conn = db.connect_writer(tmp_path / "oai.sqlite3").conn
    assert installed(conn) == rendered()
    assert sum(name.startswith("list_sizes_") for name in rendered()) == 16
    assert not list_sizes.install(conn)  # nothing to change the second time


def test_every_counting_statement_comes_from_the_one_rule() -> None:
    """Each trigger that counts runs count_items over the rule; none writes list_sizes otherwise."""
    for statement in list_sizes.statements():
        if "INSERT INTO list_sizes" in statement:
            assert statement.count("INSERT INTO list_sizes") == 1
            assert "WHERE scope.deleted = 1 OR x.prefix IS NOT NULL" in statement


def test_the_keeper_finds_its_records_by_index() -> None:
    """The writer's statement seeks the records it is given: its cost follows the change, not the file."""
    conn = new_database()
    statement = list_sizes._keeper_statement(1)
    select = statement[statement.index("SELECT"):statement.index("ON CONFLICT")]
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {select}", {"ids": "[1, 2]"})]
    assert not [step for step in plan if step.startswith("SCAN") and step.split()[1] in (
        "r", "s", "x", "records", "renditions", "record_sets")], plan


def test_storage_imports_nothing_from_ingest_protocol_or_web() -> None:
    """The storage layer stands on its own."""
    folder = Path(list_sizes.__file__).parent
    for module in folder.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith(("oaiserver.ingest", "oaiserver.protocol", "oaiserver.web")), (
                    module.name, name)


# -- random writes, through the triggers and through the keeper ------------------------------

pick = st.integers(0, 7)
date = st.sampled_from(DATES)
prefix = st.sampled_from(PREFIXES)
spec = st.sampled_from(SPECS)
operation = st.one_of(
    st.tuples(st.just("insert"), date, st.booleans()),
    st.tuples(st.just("restamp"), pick, date),
    st.tuples(st.just("delete_or_restore"), pick, st.booleans()),
    st.tuples(st.just("withdraw"), pick, date),
    st.tuples(st.just("remove"), pick),
    st.tuples(st.just("render"), pick, prefix),
    st.tuples(st.just("unrender"), pick, prefix),
    st.tuples(st.just("move_rendition"), pick, prefix, pick, prefix),
    st.tuples(st.just("join"), pick, spec),
    st.tuples(st.just("leave"), pick, spec),
    st.tuples(st.just("move_membership"), pick, spec, pick, spec, date),
)
# Each step: one operation through the triggers, or a few in one keeper transaction.
step = st.tuples(st.sampled_from(["triggers", "keeper"]), st.lists(operation, min_size=1, max_size=3))

Statement = tuple[str, tuple[t.Any, ...]]


def plan(conn: sqlite3.Connection, op: tuple[t.Any, ...]) -> tuple[list[Statement], list[int], list[int]]:
    """The statements of one operation, the existing records they change, and the new ones."""
    ids = [r[0] for r in conn.execute("SELECT id FROM records ORDER BY id")]
    name, *args = op
    if name == "insert":
        new = max(ids, default=0) + 1
        sql = ("INSERT INTO records (id, identifier, datestamp, deleted, journal_key, article_key, "
               "source_hash, content_hash, article, header) VALUES (?, ?, ?, ?, 'j', 'a', '', '', '{}', '')")
        return [(sql, (new, f"oai:x:{new}", args[0], int(args[1])))], [], [new]
    if not ids:
        return [], [], []
    record = ids[args[0] % len(ids)]
    if name.startswith("move_"):
        other = ids[args[2] % len(ids)]
        if name == "move_rendition":
            sql = "UPDATE renditions SET record_id = ?, prefix = ? WHERE record_id = ? AND prefix = ?"
            return [(sql, (other, args[3], record, args[1]))], [record, other], []
        sql = ("UPDATE record_sets SET record_id = ?, set_spec = ?, datestamp = ? "
               "WHERE record_id = ? AND set_spec = ?")
        return [(sql, (other, args[3], args[4], record, args[1]))], [record, other], []
    if name == "withdraw":  # as the writer does: the record and its memberships move together
        return [("UPDATE records SET deleted = 1, withdrawn = 1, datestamp = ? WHERE id = ?", (args[1], record)),
                ("UPDATE record_sets SET datestamp = ? WHERE record_id = ?", (args[1], record))], [record], []
    if name == "join":
        datestamp = conn.execute("SELECT datestamp FROM records WHERE id = ?", (record,)).fetchone()[0]
        return [("INSERT INTO record_sets (set_spec, datestamp, identifier, record_id) VALUES (?, ?, ?, ?)",
                 (args[1], datestamp, f"oai:x:{record}", record))], [record], []
    sql, params = {
        "restamp": ("UPDATE records SET datestamp = ? WHERE id = ?", (args[-1], record)),
        "delete_or_restore": ("UPDATE records SET deleted = ? WHERE id = ?", (args[-1], record)),  # a bool: 0 or 1
        "remove": ("DELETE FROM records WHERE id = ?", (record,)),
        "render": ("INSERT INTO renditions (record_id, prefix, xml) VALUES (?, ?, '<x/>')", (record, args[-1])),
        "unrender": ("DELETE FROM renditions WHERE record_id = ? AND prefix = ?", (record, args[-1])),
        "leave": ("DELETE FROM record_sets WHERE record_id = ? AND set_spec = ?", (record, args[-1])),
    }[name]
    return [(sql, params)], [record], []


def through_triggers(conn: sqlite3.Connection, op: tuple[t.Any, ...]) -> None:
    """Run one operation statement by statement; a statement that fails is undone, counts and all."""
    for sql, params in plan(conn, op)[0]:
        try:
            conn.execute(sql, params)
        except sqlite3.IntegrityError:
            pass


def through_keeper(conn: sqlite3.Connection, ops: list[tuple[t.Any, ...]]) -> None:
    """Run operations in one transaction with the triggers held, as the ingest writer does."""
    keeper = list_sizes.ListSizeKeeper(conn)
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            statements, changed, new = plan(conn, op)
            keeper.before_change(changed)
            keeper.added(new)
            for sql, params in statements:
                conn.execute(sql, params)
        keeper.settle()
    except sqlite3.IntegrityError:
        conn.execute("ROLLBACK")
        return
    conn.execute("COMMIT")


def test_records_said_written_are_counted_by_the_rule_without_reading_them_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """ListSizeKeeper.written + settle(datestamp): the rule's counts, from what the writer said (lists_of).

    Live records with no, one or two formats and none to all sets, deleted ones; and one said
    written, then changed again unsaid, which is read back instead.
    """
    conn = new_database()
    fill(conn)  # records counted by the triggers before
    keeper = list_sizes.ListSizeKeeper(conn)
    read_back = records_read_back(monkeypatch)
    datestamp = DATES[2]
    conn.execute("BEGIN IMMEDIATE")
    for number in range(10, 22):
        deleted = number % 5 == 0
        prefixes, specs = PREFIXES[: number % 3], SPECS[: number % 4]
        keeper.added([number])
        insert_record(conn, f"oai:x:{number}", datestamp, deleted=deleted, record_id=number)
        for prefix in prefixes:
            conn.execute("INSERT INTO renditions (record_id, prefix, xml) VALUES (?, ?, '<x/>')", (number, prefix))
        for spec in specs:
            conn.execute("INSERT INTO record_sets (set_spec, datestamp, identifier, record_id) VALUES (?, ?, ?, ?)", (spec, datestamp, f"oai:x:{number}", number))
        keeper.written(number, list_sizes.lists_of(deleted, specs, prefixes))
    keeper.before_change([12])  # changed again after it was said (a format more): no longer known
    conn.execute("INSERT INTO renditions (record_id, prefix, xml) VALUES (12, 'jats', '<x/>')")
    keeper.settle(datestamp)
    conn.execute("COMMIT")
    assert_exact(conn)
    assert read_back == [12]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, max_size=12), foreign_keys=st.booleans())
def test_any_sequence_of_writes_keeps_the_counts_exact(steps: list[tuple[str, list[tuple[t.Any, ...]]]],
                                                       foreign_keys: bool) -> None:
    """Through the triggers (any connection, foreign keys on or off) or the keeper: always the rule."""
    conn = new_database(foreign_keys)
    fill(conn)
    assert_exact(conn)
    for mode, ops in steps:
        if mode == "keeper":
            through_keeper(conn, ops)
        else:
            for op in ops:
                through_triggers(conn, op)
        assert_exact(conn)


def test_a_failed_statement_takes_its_counts_back() -> None:
    """A conflicting insert is undone with everything its triggers wrote."""
    conn = new_database()
    fill(conn)
    before = list_sizes.kept(conn)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO renditions (record_id, prefix, xml) VALUES (1, 'jats', ''), (1, 'oai_dc', '')")
    assert list_sizes.kept(conn) == before
    assert_exact(conn)


# -- files made by older versions -------------------------------------------------------------

def test_a_file_made_by_the_old_code_gets_the_current_triggers(tmp_path: Path) -> None:
    """The old eleven triggers are replaced on the writer's next open; counts stay exact after."""
    path = tmp_path / "oai.sqlite3"
    old_database(path)
    old_names = set(installed(sqlite3.connect(path)))
    assert "list_sizes_record_in" in old_names
    conn = db.connect_writer(path).conn
    assert installed(conn) == rendered()
    assert_exact(conn)
    conn.execute("DELETE FROM records WHERE identifier = 'oai:x:2'")
    conn.execute("UPDATE records SET deleted = 1 WHERE identifier = 'oai:x:3'")
    assert_exact(conn)


def test_the_old_counts_are_kept_without_a_recount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The old triggers counted by the same rule into the same table: no pass over the repository."""
    path = tmp_path / "oai.sqlite3"
    old_database(path)
    monkeypatch.setattr(list_sizes, "recount", lambda conn: pytest.fail("recounted"))
    conn = db.connect_writer(path).conn
    assert installed(conn) == rendered()
    assert_exact(conn)


def test_a_file_counted_by_another_rule_is_recounted(tmp_path: Path) -> None:
    """Another list_sizes statement means another rule: the counts are made again from the rows."""
    path = tmp_path / "oai.sqlite3"
    other_rule = OLD_SCHEMA.replace("    n INTEGER NOT NULL,\n", "    n INTEGER NOT NULL, -- rule 0\n")
    assert other_rule != OLD_SCHEMA
    old_database(path, other_rule)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE list_sizes SET n = n + 5 WHERE set_spec = ''")  # what another rule might count
    conn.close()
    assert_exact(db.connect_writer(path).conn)


def test_counts_kept_without_triggers_are_not_trusted(tmp_path: Path) -> None:
    """The table alone (its triggers dropped by hand, rows written since) is counted again."""
    path = tmp_path / "oai.sqlite3"
    conn = db.connect_writer(path).conn
    for name in [n for n in installed(conn) if n.startswith("list_sizes_")]:
        conn.execute(f"DROP TRIGGER {name}")
    fill(conn)
    assert list_sizes.kept(conn) == {}
    conn.close()
    assert_exact(db.connect_writer(path).conn)


def test_the_rule_and_the_table_statement_change_together() -> None:
    """A tripwire: files keep their counts while the list_sizes statement stays the same.

    If this fails because ITEMS changed, change the CREATE TABLE list_sizes statement in
    list_sizes.sql too (a comment inside it will do), so that every file is counted again
    by the new rule; then pin both digests anew here.
    """
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    assert (digest(list_sizes.ITEMS), digest(rendered()["list_sizes"])) == (RULE_DIGEST, TABLE_DIGEST)


def test_a_file_from_before_the_hold_is_upgraded(tmp_path: Path) -> None:
    """Older still: triggers that could not be held, and no hold table."""
    script = OLD_SCHEMA.replace(" AND NOT EXISTS (SELECT 1 FROM list_size_hold)", "").replace(
        " WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)", "").replace(
        "CREATE TABLE IF NOT EXISTS list_size_hold (holder TEXT NOT NULL);", "")
    assert "list_size_hold" not in script
    path = tmp_path / "oai.sqlite3"
    old_database(path, script)
    conn = db.connect_writer(path).conn
    assert installed(conn) == rendered()
    assert_exact(conn)


def test_a_file_from_before_list_sizes_is_counted(tmp_path: Path) -> None:
    """No cache at all: the writer creates it, counted from the rows."""
    script = OLD_SCHEMA[: OLD_SCHEMA.index("CREATE TABLE list_sizes")]
    assert "CREATE TRIGGER" not in script
    path = tmp_path / "oai.sqlite3"
    old_database(path, script)
    conn = db.connect_writer(path).conn
    assert installed(conn) == rendered()
    assert_exact(conn)


def test_an_upgrade_that_fails_leaves_the_old_cache_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop and create are one transaction: a failure halfway leaves the old triggers in place."""
    path = tmp_path / "oai.sqlite3"
    old_database(path)
    before = installed(sqlite3.connect(path))
    broken = (*list_sizes.statements(),
              "CREATE TRIGGER list_sizes_broken AFTER INSERT ON nowhere BEGIN SELECT 1; END")
    monkeypatch.setattr(list_sizes, "statements", lambda: broken)
    conn = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.OperationalError):
        list_sizes.install(conn)
    assert installed(conn) == before
    assert not conn.in_transaction


def test_a_record_deleted_without_foreign_keys_takes_its_rows_along() -> None:
    """The sqlite3 shell leaves foreign keys off: a trigger removes the renditions and memberships."""
    conn = new_database(foreign_keys=False)
    fill(conn)
    conn.execute("DELETE FROM records WHERE identifier = 'oai:x:3'")
    assert conn.execute("SELECT COUNT(*) FROM renditions WHERE record_id = 3").fetchone()[0] == 0
    assert conn.execute("SELECT COUNT(*) FROM record_sets WHERE record_id = 3").fetchone()[0] == 0
    assert_exact(conn)
