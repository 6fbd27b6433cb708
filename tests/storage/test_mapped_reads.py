"""Serving connections read the database through a memory map of OAI_MMAP_SIZE bytes (0: read calls),
and a mapped reader sees what a writer adds after it opened, however much the file grows."""
from __future__ import annotations

import pytest

from tests.helpers.issues import A, write_issue


def _served_mmap_size(app, client) -> int:
    # The request opens this thread's serving connection; the same call hands it back.
    from oaiserver.storage import db

    assert client.get("/oai?verb=Identify").status_code == 200
    conn = db.cached_reader(app.config["DATABASE"], mmap_size=app.config["OAI_MMAP_SIZE"])
    return conn.execute("PRAGMA mmap_size").fetchone()[0]


@pytest.mark.parametrize("size", [0, 64 * 1024 * 1024])
def test_serving_connections_map_the_configured_size(config, size, request):
    config["OAI_MMAP_SIZE"] = size
    app, client = request.getfixturevalue("app"), request.getfixturevalue("client")
    assert _served_mmap_size(app, client) == size


def test_the_default_maps_a_gibibyte(app, client):
    assert app.config["OAI_MMAP_SIZE"] == 1024 ** 3
    assert _served_mmap_size(app, client) == 1024 ** 3


def test_a_mapped_reader_sees_what_is_written_after_it_opened(config, request, tmp_path):
    """The file grows past what was mapped when the connection first read it: SQLite maps again."""
    config["OAI_PAGE_SIZE"] = 500
    ingest, oai = request.getfixturevalue("ingest"), request.getfixturevalue("oai")
    ingest(write_issue(tmp_path / "one.xml", [A(f"M-{k}") for k in range(3)]))
    first = oai(verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert len(first.findall(".//{*}header")) == 3
    big = "<p>" + "A long abstract. " * 400 + "</p>"
    ingest(write_issue(tmp_path / "two.xml", [A(f"N-{k}", abstract=big) for k in range(200)], number="2"))
    listed = oai(verb="ListRecords", metadataPrefix="oai_dc")
    assert len(listed.findall(".//{*}record")) == 203
    assert listed.find(".//{*}resumptionToken") is None or not listed.find(".//{*}resumptionToken").text
