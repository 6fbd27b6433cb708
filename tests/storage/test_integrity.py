"""The serving checks: every header the writer renders passes, any damage fails, and databases
from before rendition or header checksums are served and then upgraded."""
from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
import zlib

import pytest

from metadata_formats import CrosswalkSettings
from oaiserver.ingest.headers import render_header
from oaiserver.ingest import Ingester
from oaiserver.storage import db, integrity, packing, queries, verify
from tests.helpers.issues import A, issue
from tests.helpers.oai import REPOSITORY_IDENTIFIER

ALL = queries.ListFilter("oai_dc", None, "", "9999-12-31T23:59:59Z")


@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize("specs", [[], ["journal:1234-5679", "journal:1234-5679:v1n1", "type:article"],
                                   ["x-_.!~*'()"]])
def test_every_header_the_writer_renders_passes(deleted, specs):
    """The header shape accepts what render_header makes, escaped identifiers included."""
    for identifier in (f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/A-1", "oai:x.org:a&b>c"):
        integrity.check_header(identifier, render_header(identifier, "2026-01-01T00:00:00Z", specs, deleted))


@pytest.mark.parametrize("damage", [(1, b"H"), (9, b"I"), (-3, b"E"), (30, b"<"), (30, b"\xff")])
def test_a_changed_byte_in_a_header_is_caught(damage):
    """Any flip that breaks the markup, or that is not ASCII, is caught."""
    header = bytearray(render_header("oai:x.org:j/a", "2026-01-01T00:00:00Z", ["type:article"], False).encode())
    position, byte = damage
    header[position:position + 1 or None] = byte
    with pytest.raises(integrity.DamagedRecord, match="the header of oai:x.org:j/a is damaged"):
        integrity.check_header("oai:x.org:j/a", bytes(header))


def test_a_rendition_must_match_its_checksum():
    """The stored CRC-32 decides; a rendition without one is not checked."""
    integrity.check_rendition("id", "<dc>é</dc>", integrity.checksum("<dc>é</dc>".encode()))
    integrity.check_rendition("id", b"<dc>broken", None)
    with pytest.raises(integrity.DamagedRecord, match="a rendition of id is damaged"):
        integrity.check_rendition("id", "<dc>e</dc>", integrity.checksum("<dc>é</dc>"))


def test_a_database_from_before_checksums_is_served_then_upgraded(tmp_path, monkeypatch):
    """Readers serve renditions without a checksum; the next writer adds every checksum."""
    path = tmp_path / "oai.sqlite3"
    store = Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, CrosswalkSettings())
    store.save_file(issue([A(f"U-{k}") for k in range(5)]))
    store.conn.execute("ALTER TABLE renditions DROP COLUMN crc")  # as an older version made it
    store.db.close()
    reader = db.connect_reader(path)
    assert len(queries.page(reader, ALL, None, 10, with_xml=True).items) == 5
    assert queries.get_record(reader, f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/U-1", "oai_dc") is not None
    reader.close()
    monkeypatch.setattr(db, "CHECKSUM_BATCH", 3)  # several batches
    db.connect_writer(path).close()
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT CAST(xml AS BLOB), crc FROM renditions").fetchall()
    # The checksum of the XML as served, also for packed renditions (packing.py).
    assert len(rows) >= 10 and all(crc == integrity.checksum(packing.unpack("x", xml)) for xml, crc in rows)


@pytest.mark.parametrize("data", [b"", b"<a/>", "<dc>\u0645\u0642\u0627\u0644\u0647 &amp;</dc>".encode() * 999,
                                  bytes(range(256)) * 41], ids=["empty", "tiny", "persian", "every-byte"])
def test_the_checksum_is_zlibs_crc32(data):
    """Whichever library computes it (ISA-L where installed), a checksum is zlib's CRC-32 of the UTF-8 bytes,
    so databases written with either are checked alike."""
    assert integrity.checksum(data) == zlib.crc32(data)
    assert integrity.checksum(data.decode("latin-1")) == zlib.crc32(data.decode("latin-1").encode())
    header = render_header("oai:x.org:a", "2026-01-01T00:00:00Z", [], False).encode()
    rows = [("2026-01-01T00:00:00Z", "oai:x.org:a", header, zlib.crc32(header), data, zlib.crc32(data))]
    integrity.check_rows(rows)  # the page check computes it the same way
    with pytest.raises(integrity.DamagedRecord):
        integrity.check_rows([(*rows[0][:5], zlib.crc32(data) ^ 1)])
    with pytest.raises(integrity.DamagedRecord):
        integrity.check_rows([(*rows[0][:3], zlib.crc32(header) ^ 1, *rows[0][4:])])


def test_a_header_with_a_checksum_must_match_it():
    """A stored header checksum decides, and catches a changed letter the shape check lets through."""
    header = render_header("oai:x.org:j/a", "2026-01-01T00:00:00Z", ["type:article"], False)
    changed = header.replace("j/a", "j/b")
    integrity.check_header("oai:x.org:j/a", header, integrity.checksum(header))
    integrity.check_header("oai:x.org:j/a", changed)  # well-shaped: without a checksum it passes
    with pytest.raises(integrity.DamagedRecord, match="the header of oai:x.org:j/a is damaged"):
        integrity.check_header("oai:x.org:j/a", changed, integrity.checksum(header))
    rows = [("2026-01-01T00:00:00Z", "oai:x.org:j/a", changed.encode(), integrity.checksum(header), None, None)]
    with pytest.raises(integrity.DamagedRecord, match="the header of oai:x.org:j/a is damaged"):
        integrity.check_rows(rows)


def _headers(path) -> list[tuple[bytes, int | None]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT CAST(header AS BLOB), header_crc FROM records ORDER BY id").fetchall()
    finally:
        conn.close()


def test_every_header_the_writer_writes_has_its_checksum(tmp_path):
    """New, changed, deleted, withdrawn and restamped records: header_crc is the header's CRC-32."""
    path = tmp_path / "oai.sqlite3"
    seconds = itertools.count()
    # Each call a second later: records written in a transaction get the (later) commit time.
    clock = lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=next(seconds))  # noqa: E731
    store = Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, CrosswalkSettings(), clock=clock)
    store.save_file(issue([A(f"U-{k}") for k in range(4)]))
    store.save_file(issue([A("U-0", title="Changed"), A("U-1"), A("U-4")]))  # U-2, U-3 deleted
    assert store.withdraw(f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/U-1") == "withdrawn"
    store.db.close()
    headers = _headers(path)
    assert len(headers) == 5 and sum(b'status="deleted"' in h for h, _ in headers) == 3
    assert all(crc == integrity.checksum(header) for header, crc in headers)


def test_a_header_changed_by_hand_is_checked_by_its_shape(tmp_path):
    """Changed without its checksum (the sqlite3 shell), a header loses it and is served if well-shaped."""
    path = tmp_path / "oai.sqlite3"
    store = Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, CrosswalkSettings())
    store.save_file(issue([A("U-1")]))
    store.db.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE records SET header = replace(header, '<setSpec>type</setSpec>', '')")
    conn.commit()
    assert conn.execute("SELECT header_crc FROM records").fetchone()[0] is None
    conn.close()
    reader = db.connect_reader(path)
    assert len(queries.page(reader, ALL, None, 10, with_xml=True).items) == 1
    conn = sqlite3.connect(path)
    conn.execute("UPDATE records SET header = replace(header, '</identifier>', '</Identifier>')")
    conn.commit()
    conn.close()
    with pytest.raises(integrity.DamagedRecord):
        queries.page(reader, ALL, None, 10, with_xml=True)
    reader.close()


def test_a_database_from_before_header_checksums_is_served_then_upgraded(tmp_path, monkeypatch):
    """Readers check old headers by their shape; the next writer gives every sound header its checksum
    and rebuilds the listing index with it (a damaged header keeps none, and stays caught)."""
    path = tmp_path / "oai.sqlite3"
    store = Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, CrosswalkSettings())
    store.save_file(issue([A(f"U-{k}") for k in range(7)]))
    conn = store.conn
    # As an older version made it: the index without the column, the column gone.
    conn.execute("DROP TRIGGER records_header_unchecked")
    conn.execute("DROP INDEX records_listing")
    conn.execute("CREATE INDEX records_listing ON records (datestamp, identifier, deleted, id, header)")
    conn.execute("ALTER TABLE records DROP COLUMN header_crc")
    conn.execute("UPDATE records SET header = replace(header, '<header>', '<Header>') "
                 "WHERE identifier LIKE '%/U-6'")  # damaged in the old file
    store.db.close()
    reader = db.connect_reader(path)
    damaged = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/U-6"
    assert queries.get_record(reader, f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/U-1", "oai_dc") is not None
    with pytest.raises(integrity.DamagedRecord):
        queries.get_record(reader, damaged, "oai_dc")
    # verify reads the old file too, and finds the damaged header by its shape.
    assert [p for p in verify.verify(reader, quick=True).problems if "header" in p] == [
        f"{damaged}: its header is damaged"]
    reader.close()
    monkeypatch.setattr(db, "CHECKSUM_BATCH", 3)  # several batches
    db.connect_writer(path).close()
    conn = sqlite3.connect(path)
    columns = [row[2] for row in conn.execute("PRAGMA index_info(records_listing)")]
    rows = conn.execute("SELECT identifier, CAST(header AS BLOB), header_crc FROM records").fetchall()
    conn.close()
    assert columns == ["datestamp", "identifier", "deleted", "id", "header", "header_crc"]
    assert all(crc == integrity.checksum(header) for identifier, header, crc in rows if identifier != damaged)
    assert [crc for identifier, _, crc in rows if identifier == damaged] == [None]
    reader = db.connect_reader(path)
    plan = " ".join(queries.page_plan(reader, ALL))
    assert "COVERING INDEX records_listing" in plan, plan
    with pytest.raises(integrity.DamagedRecord):
        queries.get_record(reader, damaged, "oai_dc")
    reader.close()
