"""Integration: the real CLI ingests, a real gunicorn serves, real harvesters harvest."""
from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import GOOD_SAMPLES, REPO
from issues import A, write_issue

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Ingest the samples (and a withdrawn record) with the CLI; serve them with gunicorn."""
    root = tmp_path_factory.mktemp("served")
    env = {
        **os.environ,
        "OAISERVER_INSTANCE_PATH": str(root / "instance"),
        "OAISERVER_DATABASE": str(root / "oai.sqlite3"),
        "OAISERVER_OAI_PAGE_SIZE": "2",
        "OAISERVER_OAI_IDENTIFIERS_PAGE_SIZE": "2",
        "OAISERVER_OAI_REPOSITORY_IDENTIFIER": "journals.example.org",
        "OAISERVER_SECRET_KEY": "integration-secret",
    }
    extra = write_issue(root / "extra.xml", [A(f"X-{i}") for i in range(4)], volume="2", number="5")
    cli = [sys.executable, "-m", "oaiserver.cli"]
    subprocess.run([*cli, "ingest", *map(str, GOOD_SAMPLES), extra], env=env, check=True,
                   capture_output=True, cwd=REPO)
    subprocess.run([*cli, "withdraw", "oai:journals.example.org:1234-5679/X-0"], env=env, check=True,
                   capture_output=True, cwd=REPO)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
        env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/oai"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "?verb=Identify", timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"gunicorn did not start: {proc.stdout.read().decode()[-2000:]}")
            time.sleep(0.2)
    conn = sqlite3.connect(root / "oai.sqlite3")
    expected = {
        "all": {r[0]: bool(r[1]) for r in conn.execute("SELECT identifier, deleted FROM records")},
        "sets": [r[0] for r in conn.execute("SELECT spec FROM sets")],
        "members": {},
    }
    for spec in expected["sets"]:
        expected["members"][spec] = {
            r[0] for r in conn.execute("SELECT identifier FROM record_sets WHERE set_spec = ?", (spec,))
        }
    conn.close()
    yield base, expected
    proc.terminate()
    proc.wait(timeout=10)
    proc.stdout.close()


def live_formats(expected, prefix):
    # Every record is available in both formats here (every sample has an ISSN).
    return expected["all"]


@pytest.mark.parametrize("prefix", ["oai_dc", "jats"])
def test_sickle_full_harvest(server, prefix):
    """Sickle follows tokens through ListRecords; counts, no duplicates, deletes recognised."""
    from sickle import Sickle

    base, expected = server
    records = list(Sickle(base).ListRecords(metadataPrefix=prefix, ignore_deleted=False))
    ids = [r.header.identifier for r in records]
    assert len(ids) == len(set(ids)) == len(expected["all"])
    deleted = {r.header.identifier for r in records if r.header.deleted}
    assert deleted == {i for i, d in expected["all"].items() if d} != set()


def test_sickle_identifiers_per_set(server):
    """Sickle: ListIdentifiers over the whole repository and every set."""
    from sickle import Sickle
    from sickle.oaiexceptions import NoRecordsMatch

    base, expected = server
    client = Sickle(base)
    assert {h.identifier for h in client.ListIdentifiers(metadataPrefix="oai_dc")} == set(expected["all"])
    sets = [s.setSpec for s in client.ListSets()]
    assert sorted(sets) == sorted(expected["sets"])
    for spec in sets:
        try:
            got = [h.identifier for h in client.ListIdentifiers(metadataPrefix="oai_dc", set=spec)]
        except NoRecordsMatch:
            got = []
        assert len(got) == len(set(got)) and set(got) == expected["members"][spec], spec


@pytest.mark.parametrize("prefix", ["oai_dc", "jats"])
def test_scythe_full_harvest(server, prefix):
    """oaipmh-scythe: full ListRecords and ListIdentifiers per set."""
    from oaipmh_scythe import Scythe

    base, expected = server
    with Scythe(base) as scythe:
        records = list(scythe.list_records(metadata_prefix=prefix, ignore_deleted=False))
        ids = [r.header.identifier for r in records]
        assert len(ids) == len(set(ids)) == len(expected["all"])
        assert {r.header.identifier for r in records if r.header.deleted} == {
            i for i, d in expected["all"].items() if d}
        for spec in expected["sets"]:
            if not expected["members"][spec]:
                continue
            got = [h.identifier for h in scythe.list_identifiers(metadata_prefix="oai_dc", set_=spec,
                                                                  ignore_deleted=False)]
            assert sorted(got) == sorted(expected["members"][spec]), spec


def test_oaipmh_client_full_harvest(server):
    """The oaipmh (pyoai fork) client, which sends POST: records, identifiers and sets."""
    from oaipmh.client import Client
    from oaipmh.metadata import MetadataRegistry, oai_dc_reader

    base, expected = server
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    client = Client(base, registry)
    identify = client.identify()
    assert identify.baseURL() == base and identify.deletedRecord() == "persistent"
    records = list(client.listRecords(metadataPrefix="oai_dc"))
    ids = [header.identifier() for header, _, _ in records]
    assert len(ids) == len(set(ids)) == len(expected["all"])
    assert {h.identifier() for h, _, _ in records if h.isDeleted()} == {i for i, d in expected["all"].items() if d}
    live = [m for h, m, _ in records if not h.isDeleted()]
    assert all(m.getField("title") for m in live)
    headers = list(client.listIdentifiers(metadataPrefix="jats", set="journal"))
    assert {h.identifier() for h in headers} == expected["members"]["journal"]
    assert {s[0] for s in client.listSets()} == set(expected["sets"])
