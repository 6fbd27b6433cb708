"""Stored articles packed (decisions.md P11): stored smaller, read back the same by reindex, restore
and verify; articles stored as TEXT (databases from before) read as they are; jats stored as XML,
and jats rows packed by an earlier version still served the same."""
from __future__ import annotations

import json
import sqlite3

import pytest

from oaiserver.ingest import Counts, Ingester
from oaiserver.storage import db, integrity, packing, verify
from tests.helpers.oai import REPOSITORY_IDENTIFIER
from tests.storage.test_packing import IDENTIFIER, OPEN, TITLES, path, served  # noqa: F401 (path: a fixture)


def records(path, columns: str) -> list[tuple]:
    """``columns`` of every record, in id order."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"SELECT {columns} FROM records ORDER BY id").fetchall()
    conn.close()
    return rows


def articles(path) -> list[tuple[str, str, object]]:
    """(identifier, SQLite type, stored value) of every record's article."""
    return records(path, "identifier, typeof(article), article")


def datestamps(path) -> list[tuple[str, str]]:
    """Every record's identifier and datestamp."""
    return records(path, "identifier, datestamp")


def test_articles_are_stored_packed_and_read_back_the_same(path):
    """A packed BLOB well under half the JSON; unpacked, the JSON ingest made, non-ASCII text included."""
    rows = articles(path)
    assert len(rows) == 5
    for (identifier, kind, stored), title in zip(rows, TITLES):
        assert kind == "blob" and packing.is_packed(stored)
        text = packing.unpack_article(identifier, stored)
        assert len(stored) < len(text.encode()) / 2
        assert json.loads(text)["title_en"] == title
    assert verify.verify(db.connect_reader(path)).problems == []


def test_text_articles_of_an_older_database_reindex_and_restore_the_same(path):
    """Articles stored as TEXT JSON (as before packing) are read as they are: nothing changes on reindex."""
    with sqlite3.connect(path) as conn:
        conn.executemany("UPDATE records SET article = ? WHERE identifier = ?",
                         [(packing.unpack_article(i, stored), i) for i, _, stored in articles(path)])
    conn.close()
    assert {kind for _, kind, _ in articles(path)} == {"text"}
    before, pages = datestamps(path), served(path)
    store = Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, OPEN)
    assert store.reindex() == Counts(unchanged=5)
    assert datestamps(path) == before and served(path) == pages
    assert store.withdraw(IDENTIFIER) == "withdrawn"
    assert store.restore(IDENTIFIER) == "restored"
    store.db.close()
    # Restored from its TEXT article: a new datestamp, the same metadata in every format.
    assert [d for i, d in datestamps(path) if i != IDENTIFIER] == [d for i, d in before if i != IDENTIFIER]
    again = served(path)
    assert {prefix: got[2][2] for prefix, got in again.items()} == {prefix: got[2][2] for prefix, got in pages.items()}
    assert verify.verify(db.connect_reader(path)).problems == []


def test_a_damaged_packed_article_is_refused_and_named(path):
    """Reindex and restore stop (DamagedRecord, the admin commands' 'corrupt' line); verify names the record."""
    with sqlite3.connect(path) as conn:
        (stored,) = conn.execute("SELECT article FROM records WHERE identifier = ?", (IDENTIFIER,)).fetchone()
        conn.execute("UPDATE records SET article = ? WHERE identifier = ?", (stored[:-9], IDENTIFIER))
    conn.close()
    store = Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, OPEN)
    with pytest.raises(integrity.DamagedRecord, match=f"the article of {IDENTIFIER} is damaged"):
        store.reindex()
    store.db.close()
    problems = verify.verify(db.connect_reader(path)).problems
    assert problems == [f"{IDENTIFIER}: its stored article is damaged (cannot be unpacked; reindex and restore need it)"]


def test_jats_is_stored_as_xml_and_rows_packed_before_are_served_the_same(path):
    """jats rows are XML TEXT now; packed with its dictionary (number 1) as earlier versions did, the same answers."""
    pages = served(path)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT record_id, typeof(xml), CAST(xml AS BLOB) FROM renditions WHERE prefix = 'jats'").fetchall()
    assert rows and {kind for _, kind, _ in rows} == {"text"}
    conn.executemany("UPDATE renditions SET xml = ? WHERE record_id = ? AND prefix = 'jats'",
                     [(packing._pack(1, xml), record_id) for record_id, _, xml in rows])
    conn.commit()
    assert conn.execute("SELECT DISTINCT typeof(xml) FROM renditions WHERE prefix = 'jats'").fetchall() == [("blob",)]
    conn.close()
    assert served(path) == pages
    assert verify.verify(db.connect_reader(path)).problems == []
