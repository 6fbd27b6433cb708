"""A damaged database file: the server answers 503 (logged), never a malformed document; every
admin command says "the database is corrupt" with the next step, in one line; verify finds it."""
from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers.oai import GOOD_SAMPLES, REPOSITORY_IDENTIFIER, SAMPLES

CORRUPT = "is corrupt ("
NEXT_STEP = "stop ingesting, run `oaiserver verify` to see the damage, then restore the last good backup"
DAMAGED_ID = f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972"


def flip(database: str, needle: bytes, offset: int) -> int:
    """Change the case (bit 0x20) of the byte ``offset`` into every copy of ``needle``; return how many."""
    data = bytearray(Path(database).read_bytes())
    found, start = 0, data.find(needle)
    while start >= 0:
        data[start + offset] ^= 0x20
        found += 1
        start = data.find(needle, start + 1)
    Path(database).write_bytes(data)
    return found


def break_every_page(database: str) -> None:
    """Give every page after the first an invalid b-tree page type, as a bad disk block might."""
    data = bytearray(Path(database).read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    for start in range(page_size, len(data), page_size):
        data[start] = 0
    Path(database).write_bytes(data)


@pytest.fixture
def config(config):
    """Pages that hold every sample record, so the first page meets the damaged one."""
    return {**config, "OAI_PAGE_SIZE": 100, "OAI_IDENTIFIERS_PAGE_SIZE": 100}


@pytest.fixture
def filled(app, ingest):
    """The sample issues ingested (by admin commands, which leave no -wal file); the database path."""
    ingest(*GOOD_SAMPLES)
    database = app.config["DATABASE"]
    assert not Path(f"{database}-wal").exists() or Path(f"{database}-wal").stat().st_size == 0
    return database


def assert_well_formed_or_503(response) -> None:
    """What the server may send: a well-formed document, or the 503 for a damaged database."""
    if response.status_code == 503:
        assert b"database is damaged" in response.data and response.headers["Retry-After"]
        return
    assert response.status_code == 200
    etree.fromstring(response.data)


def test_a_flipped_byte_in_a_rendition_is_a_503_not_a_malformed_page(client, filled, caplog):
    """SQLite returns a damaged text value as it is; its checksum stops it being served."""
    assert flip(filled, b"<dc:title", 1) >= 1  # "<Dc:title": the end tag no longer matches
    with caplog.at_level(logging.ERROR):
        listed = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc")
        got = client.get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={DAMAGED_ID}")
        head = client.head("/oai?verb=ListRecords&metadataPrefix=oai_dc")  # the Flask view
    for response in (listed, got, head):
        assert response.status_code == 503, response.data[:300]
        assert response.headers["Retry-After"] == "3600"
    assert "is corrupt (database disk image is malformed: a rendition of" in caplog.text
    # What no damaged value reaches is still served.
    assert client.get("/oai?verb=Identify").status_code == 200
    assert_well_formed_or_503(client.get("/oai?verb=ListRecords&metadataPrefix=jats"))


def test_a_flipped_byte_in_a_header_is_a_503(client, filled):
    """Headers (in the table and in the listing index) must keep the shape the writer gives them."""
    assert flip(filled, b"<header><identifier>" + DAMAGED_ID.encode(), 2) >= 1  # "<hEader>"
    for verb in ("ListIdentifiers", "ListRecords"):
        assert client.get(f"/oai?verb={verb}&metadataPrefix=oai_dc").status_code == 503
    assert client.get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={DAMAGED_ID}").status_code == 503


def test_show_and_verify_name_a_damaged_record(runner, filled):
    """show and verify say the database is corrupt, in one line with the next step."""
    flip(filled, b"<dc:title", 1)
    shown = runner.invoke(args=["show", DAMAGED_ID])
    assert shown.exit_code == 1
    assert shown.stderr.splitlines()[-1].startswith("error: the server answered 503")
    verified = runner.invoke(args=["verify"])
    assert verified.exit_code == 1
    lines = verified.stderr.splitlines()
    assert any(line.startswith("problem: oai:") and "oai_dc rendition is damaged (checksum)" in line
               for line in lines), lines
    assert CORRUPT in lines[-1] and "restore the last good backup" in lines[-1]


def test_a_damaged_stored_article_stops_reindex_and_restore_in_one_line(runner, filled):
    """A packed article that cannot be unpacked: reindex and restore say the database is corrupt; verify names it."""
    with sqlite3.connect(filled) as conn:
        (stored,) = conn.execute("SELECT article FROM records WHERE identifier = ?", (DAMAGED_ID,)).fetchone()
        assert isinstance(stored, bytes)  # packed (storage/packing.py)
        conn.execute("UPDATE records SET article = ? WHERE identifier = ?", (stored[:-9], DAMAGED_ID))
    conn.close()
    results = [runner.invoke(args=["reindex"])]
    assert runner.invoke(args=["withdraw", DAMAGED_ID]).exit_code == 0  # withdrawing reads no article
    results.append(runner.invoke(args=["restore", DAMAGED_ID]))
    for result in results:
        assert result.exit_code == 1, result.output
        last = result.stderr.splitlines()[-1]
        assert CORRUPT in last and f"the article of {DAMAGED_ID} is damaged" in last and NEXT_STEP in last, last
    verified = runner.invoke(args=["verify"])
    assert verified.exit_code == 1
    assert f"problem: {DAMAGED_ID}: its stored article is damaged" in verified.stderr


def test_verify_on_a_sound_database(runner, filled):
    """verify reads everything and says ok, exit 0."""
    with sqlite3.connect(filled) as conn:
        renditions = conn.execute("SELECT COUNT(*) FROM renditions").fetchone()[0]
    conn.close()
    assert renditions >= 10  # at least oai_dc and JATS for each of the 5 records
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"ok: 5 records, {renditions} renditions;")


def test_a_structurally_damaged_file_is_refused_by_every_command(runner, client, filled):
    """Pages SQLite cannot read: the server answers 503, every admin command one line, no traceback."""
    break_every_page(filled)
    assert client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc").status_code == 503
    for args in (["ingest", str(SAMPLES / "multi-article.xml")], ["init-db"], ["reindex"], ["stats"],
                 ["withdraw", DAMAGED_ID], ["show", DAMAGED_ID], ["verify"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
        last = result.stderr.splitlines()[-1]
        assert CORRUPT in last or last.startswith("error: the server answered 503"), (args, result.stderr)
        if args[0] not in ("show", "verify"):
            assert NEXT_STEP in last, (args, last)


def test_init_db_and_reindex_refuse_a_file_that_fails_quick_check(runner, filled):
    """A damaged page that the command itself would not read still stops init-db and reindex."""
    import sqlite3

    conn = sqlite3.connect(filled)
    # The page of an index the admin commands never read: a broken b-tree only quick_check sees.
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'renditions_by_record'").fetchone()[0]
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    data = bytearray(Path(filled).read_bytes())
    data[(root - 1) * page_size] = 0
    Path(filled).write_bytes(data)
    for args in (["init-db"], ["reindex"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "is corrupt (quick_check: " in result.stderr and NEXT_STEP in result.stderr
