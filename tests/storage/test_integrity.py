"""The serving checks: every header the writer renders passes, any damage fails, and databases
from before rendition checksums are served and then upgraded."""
from __future__ import annotations

import sqlite3
import zlib

import pytest

from metadata_formats import CrosswalkSettings
from oaiserver.ingest.headers import render_header
from oaiserver.ingest import Ingester
from oaiserver.storage import db, integrity, packing, queries
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
    rows = [("2026-01-01T00:00:00Z", "oai:x.org:a", header, data, zlib.crc32(data))]
    integrity.check_rows(rows)  # the page check computes it the same way
    with pytest.raises(integrity.DamagedRecord):
        integrity.check_rows([(*rows[0][:4], zlib.crc32(data) ^ 1)])
