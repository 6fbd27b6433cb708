"""Packed renditions: stored smaller, served as the XML they were made from, damage caught, and
renditions stored as XML (databases from before packing) served as they are."""
from __future__ import annotations

import hashlib
import importlib.resources
import sqlite3
import typing as t

import pytest

import metadata_formats
from metadata_formats import CrosswalkSettings
from oaiserver.ingest import Ingester
from oaiserver.storage import db, integrity, packing, queries, verify
from tests.helpers.issues import A, issue
from tests.helpers.oai import REPOSITORY_IDENTIFIER

OPEN = CrosswalkSettings.from_config({"OAI_JOURNALS": {"1234-5679": {"access_right": "open"}}})
IDENTIFIER = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/P-1"


def listing(prefix: str) -> queries.ListFilter:
    """Every record in ``prefix``."""
    return queries.ListFilter(prefix, None, "", "9999-12-31T23:59:59Z")


#: The titles of the articles in ``path``, non-ASCII text included.
TITLES = [f"Packed {k} \u0645\u0642\u0627\u0644\u0647 \u00e9" for k in range(5)]


@pytest.fixture
def path(tmp_path):
    """A database with five open-access articles, rendered in every format."""
    path = tmp_path / "oai.sqlite3"
    store = Ingester(db.connect_writer(path), REPOSITORY_IDENTIFIER, OPEN)
    store.save_file(issue([A(f"P-{k}", title=title) for k, title in enumerate(TITLES)]))
    store.db.close()
    return path


def served(path) -> dict[str, t.Any]:
    """Everything a harvester gets: each format's list page (with and without a byte bound) and a GetRecord."""
    reader = db.connect_reader(path)
    try:
        out: dict[str, t.Any] = {}
        for prefix in metadata_formats.FORMATS:
            out[prefix] = [queries.page(reader, listing(prefix), None, 10, with_xml=True).items,
                           queries.page(reader, listing(prefix), None, 10, with_xml=True, max_bytes=5000).items,
                           queries.get_record(reader, IDENTIFIER, prefix)]
        return out
    finally:
        reader.close()


def test_every_format_but_oai_dc_and_jats_is_stored_packed_and_smaller(path):
    """Packed rows are BLOBs under half their XML's size; oai_dc and jats stay XML text; every CRC is the XML's."""
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT prefix, typeof(xml), CAST(xml AS BLOB), crc FROM renditions").fetchall()
    assert {prefix for prefix, *_ in rows} == set(metadata_formats.FORMATS)
    assert set(packing.CURRENT) == set(metadata_formats.FORMATS) - {"oai_dc", "jats"}
    for prefix, kind, stored, crc in rows:
        xml = packing.unpack("x", stored)
        assert crc == integrity.checksum(xml)
        if prefix in ("oai_dc", "jats"):
            assert (kind, stored[:1]) == ("text", b"<")
        else:
            assert kind == "blob" and packing.is_packed(stored) and len(stored) < len(xml) / 2
            assert xml.startswith(b"<")
    assert verify.verify(db.connect_reader(path)).problems == []  # oaiserver verify reads them too


def test_a_database_of_xml_renditions_is_served_the_same(path):
    """Rows stored as XML (as before packing) and packed rows give byte-identical answers."""
    packed = served(path)
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT record_id, prefix, CAST(xml AS BLOB) FROM renditions").fetchall()
    conn.executemany("UPDATE renditions SET xml = CAST(? AS TEXT) WHERE record_id = ? AND prefix = ?",
                     [(packing.unpack("x", xml), record_id, prefix) for record_id, prefix, xml in rows])
    conn.commit()
    assert conn.execute("SELECT DISTINCT typeof(xml) FROM renditions").fetchall() == [("text",)]
    conn.close()
    assert served(path) == packed
    assert all(page[0] for page, *_ in packed.values())  # something was compared in every format


def damage(path, prefix: str, change: t.Callable[[bytes], bytes]) -> None:
    """Rewrite the packed rendition of IDENTIFIER in ``prefix``."""
    conn = sqlite3.connect(path)
    (record_id,) = conn.execute("SELECT id FROM records WHERE identifier = ?", (IDENTIFIER,)).fetchone()
    (stored,) = conn.execute("SELECT xml FROM renditions WHERE record_id = ? AND prefix = ?",
                             (record_id, prefix)).fetchone()
    conn.execute("UPDATE renditions SET xml = ? WHERE record_id = ? AND prefix = ?",
                 (change(stored), record_id, prefix))
    conn.commit()
    conn.close()


@pytest.mark.parametrize("change", [
    lambda b: b[:40] + bytes([b[40] ^ 0x20]) + b[41:],  # a flipped bit in the block
    lambda b: b[:-5],  # a truncated block
    lambda b: b[:1] + b"\x7f\x7f" + b[3:],  # a dictionary this version does not have
    lambda b: b[:3] + b"\xff\xff\xff\x7f" + b[7:],  # a damaged size
], ids=["flipped", "truncated", "unknown-dictionary", "size"])
def test_a_damaged_packed_rendition_is_never_served(path, change):
    """List pages, GetRecord and verify all refuse it (DamagedRecord: the server answers 503)."""
    damage(path, "mods", change)
    reader = db.connect_reader(path)
    with pytest.raises(integrity.DamagedRecord, match="P-1"):
        queries.page(reader, listing("mods"), None, 10, with_xml=True)
    with pytest.raises(integrity.DamagedRecord, match="P-1"):
        queries.page(reader, listing("mods"), None, 10, with_xml=True, max_bytes=10**6)
    with pytest.raises(integrity.DamagedRecord, match="P-1"):
        queries.get_record(reader, IDENTIFIER, "mods")
    assert queries.get_record(reader, IDENTIFIER, "jats") is not None  # the rest is served
    reader.close()
    report = verify.verify(db.connect_reader(path))
    assert any("P-1: its mods rendition is damaged" in problem for problem in report.problems)


def test_a_shipped_dictionary_never_changes():
    """Each dictionary file has its pinned SHA-256, every file is listed once, each format packs with its newest."""
    folder = importlib.resources.files("oaiserver.storage").joinpath("dictionaries")
    files = sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".bin"))
    assert sorted(d.file for d in packing.DICTIONARIES.values()) == files
    for number, entry in packing.DICTIONARIES.items():
        assert entry.number == number
        assert hashlib.sha256(packing.dictionary(number)).hexdigest() == entry.sha256
        assert entry.prefix in metadata_formats.FORMATS or entry.prefix == packing.ARTICLE
    for prefix, number in packing.CURRENT.items():
        assert number == max(n for n, d in packing.DICTIONARIES.items() if d.prefix == prefix)
    assert packing.ARTICLE_DICTIONARY == max(n for n, d in packing.DICTIONARIES.items() if d.prefix == packing.ARTICLE)
    assert "oai_dc" not in packing.CURRENT and packing.ARTICLE not in packing.CURRENT


def test_pack_round_trips_any_text():
    """What is packed unpacks to the same bytes, empty and non-ASCII text included; unpacked formats are untouched."""
    for text in ("", "<a/>", "<dc>\u0645\u0642\u0627\u0644\u0647 &amp; \U0001F600</dc>" * 500):
        data = text.encode()
        assert packing.unpack("x", packing.pack("mods", data)) == data
        assert packing.pack("oai_dc", data) == data
