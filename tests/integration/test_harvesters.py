"""Integration: the real CLI ingests, gunicorn serves, the Python harvester libraries harvest.

Sickle, oaipmh-scythe and oaipmh (the pyoai fork) are in the `test` extra; the harvesters
that run as separate programs are in test_harvester_clients.py.
"""
from __future__ import annotations

import socket
import time
import urllib.parse
import urllib.request

import pytest
from lxml import etree

from metadata_formats import FORMATS
from tests.helpers.formats import root_tag
from tests.helpers.oai import GOOD_SAMPLES, NS
from tests.helpers.harvest_server import Expected, Server, environment, populated_server

pytestmark = pytest.mark.integration

PREFIXES = list(FORMATS)
HTTP_TIMEOUT = 30  # seconds per request: a hung server fails the test instead of the CI job


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Samples, an extra issue, a withdrawn record and an emptied set, served by gunicorn."""
    running = populated_server(tmp_path_factory.mktemp("served"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def expected(server: Server) -> Expected:
    """The database's records, sets and set members."""
    return server.expected()


def test_fixture_covers_the_hard_cases(expected: Expected):
    """The served data has deleted records, nested sets, a set whose one item is a live record that
    left it, and a format (oai_openaire: only the open-access journal) that expresses some live
    records but not all."""
    assert expected.deleted and expected.live
    assert expected.formats["oai_openaire"] and expected.live - expected.formats["oai_openaire"]
    assert any(spec.count(":") == 2 for spec in expected.sets)
    assert any(len(members) == 1 and members == expected.left.get(spec) for spec, members in expected.members.items())


def assert_full_harvest(records: list, expected: Expected, prefix: str) -> None:
    """Sickle and scythe records alike: every record once, deletes flagged, metadata in ``prefix``."""
    ids = [r.header.identifier for r in records]
    assert len(ids) == len(set(ids)) == len(expected.listed(prefix))
    assert set(ids) == expected.listed(prefix)
    assert {r.header.identifier for r in records if r.header.deleted} == expected.deleted
    for record in records:
        if not record.header.deleted:
            assert record.xml.find("o:metadata", NS)[0].tag == root_tag(prefix)


@pytest.mark.parametrize("prefix", PREFIXES)
def test_sickle_full_harvest(server, expected, prefix):
    """Sickle follows tokens through ListRecords; counts, no duplicates, deletes recognised."""
    from sickle import Sickle

    client = Sickle(server.base, timeout=HTTP_TIMEOUT)
    records = list(client.ListRecords(metadataPrefix=prefix, ignore_deleted=False))
    assert_full_harvest(records, expected, prefix)


def test_sickle_identifiers_per_set(server, expected):
    """Sickle: ListSets equals the database; ListIdentifiers of every set equals its members, deletes flagged."""
    from sickle import Sickle
    from sickle.oaiexceptions import NoRecordsMatch

    client = Sickle(server.base, timeout=HTTP_TIMEOUT)
    assert sorted(s.setSpec for s in client.ListSets()) == expected.sets
    for spec in expected.sets:
        try:
            headers = list(client.ListIdentifiers(metadataPrefix="oai_dc", set=spec, ignore_deleted=False))
        except NoRecordsMatch:
            headers = []
        got = [h.identifier for h in headers]
        assert len(got) == len(set(got)) and set(got) == expected.members[spec], spec
        assert {h.identifier for h in headers if h.deleted} == expected.deleted_in(spec), spec


@pytest.mark.parametrize("prefix", PREFIXES)
def test_scythe_full_harvest(server, expected, prefix):
    """oaipmh-scythe: full ListRecords with deletes, metadata in the asked format."""
    from oaipmh_scythe import Scythe

    with Scythe(server.base) as scythe:  # its default timeout: 60 s per request
        records = list(scythe.list_records(metadata_prefix=prefix, ignore_deleted=False))
    assert_full_harvest(records, expected, prefix)


def test_scythe_identifiers_per_set(server, expected):
    """oaipmh-scythe: ListIdentifiers of every set (one whose only item left it: its tombstone)."""
    from oaipmh_scythe import Scythe
    from oaipmh_scythe.exceptions import NoRecordsMatch

    with Scythe(server.base) as scythe:  # its default timeout: 60 s per request
        for spec in expected.sets:
            try:
                got = [h.identifier for h in scythe.list_identifiers(
                    metadata_prefix="jats", set_=spec, ignore_deleted=False)]
            except NoRecordsMatch:
                got = []
            assert len(got) == len(set(got)) and set(got) == expected.members[spec], spec


@pytest.fixture
def socket_timeout():
    """The oaipmh client calls urlopen without a timeout: bound it through the socket default."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(HTTP_TIMEOUT)
    yield
    socket.setdefaulttimeout(previous)


def _oaipmh_client(base: str):
    from oaipmh.client import Client
    from oaipmh.metadata import MetadataRegistry, oai_dc_reader

    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    for prefix in FORMATS:
        if prefix != "oai_dc":
            registry.registerReader(prefix, lambda element: element)  # keep the tree as it is
    return Client(base, registry)


def test_oaipmh_client_identify(socket_timeout, server):
    """oaipmh (pyoai fork, which sends POST): Identify as the client reads it."""
    identify = _oaipmh_client(server.base).identify()
    assert identify.baseURL() == server.base and identify.deletedRecord() == "persistent"
    assert identify.granularity() == "YYYY-MM-DDThh:mm:ssZ"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_oaipmh_client_full_harvest(socket_timeout, server, expected, prefix):
    """oaipmh (pyoai fork): full ListRecords, deletes recognised, metadata read."""
    records = list(_oaipmh_client(server.base).listRecords(metadataPrefix=prefix))
    ids = [header.identifier() for header, _, _ in records]
    assert len(ids) == len(set(ids)) == len(expected.listed(prefix))
    assert set(ids) == expected.listed(prefix)
    assert {h.identifier() for h, _, _ in records if h.isDeleted()} == expected.deleted
    live = [m for h, m, _ in records if not h.isDeleted()]
    if prefix == "oai_dc":
        assert all(m.getField("title") for m in live)
    else:
        assert all(m[0].tag == root_tag(prefix) for m in live)


def test_oaipmh_client_identifiers_per_set(socket_timeout, server, expected):
    """oaipmh (pyoai fork): ListSets and ListIdentifiers of every set."""
    from oaipmh.error import NoRecordsMatchError

    client = _oaipmh_client(server.base)
    assert sorted(s[0] for s in client.listSets()) == expected.sets
    for spec in expected.sets:
        try:
            got = [h.identifier() for h in client.listIdentifiers(metadataPrefix="oai_dc", set=spec)]
        except NoRecordsMatchError:
            got = []
        assert len(got) == len(set(got)) and set(got) == expected.members[spec], spec


def _fetch(base: str, oai_schema: etree.XMLSchema, **params: str) -> etree._Element:
    with urllib.request.urlopen(f"{base}?{urllib.parse.urlencode(params)}", timeout=HTTP_TIMEOUT) as response:
        tree = etree.fromstring(response.read())
    oai_schema.assertValid(tree)
    return tree


def _page(tree: etree._Element) -> tuple[list[str], str | None]:
    ids = [e.text for e in tree.iterfind(".//o:header/o:identifier", NS)]
    token = tree.find(".//o:resumptionToken", NS)
    return ids, (token.text if token is not None else None)


def test_token_continues_on_another_gunicorn(server, expected, oai_schema):
    """OAI-PMH §3.5.1 / decisions.md P5: a token from one gunicorn continues on a restarted or other one."""
    first_ids, token = _page(_fetch(server.base, oai_schema, verb="ListRecords", metadataPrefix="jats"))
    expected_next, _ = _page(_fetch(server.base, oai_schema, verb="ListRecords", resumptionToken=token))
    other = Server(server.root, server.env, workers=1)
    other.start()
    try:
        ids, next_token = _page(_fetch(other.base, oai_schema, verb="ListRecords", resumptionToken=token))
        assert ids == expected_next
        rest = []
        for _ in range(len(expected.records)):  # bounded: one page per record at most
            if not next_token:
                break
            page, next_token = _page(_fetch(other.base, oai_schema, verb="ListRecords",
                                            resumptionToken=next_token))
            rest += page
    finally:
        other.stop()
    harvested = first_ids + ids + rest
    assert len(harvested) == len(set(harvested)) and set(harvested) == set(expected.records)


def test_token_survives_a_restart(server, oai_schema):
    """OAI-PMH §3.5.1: the same gunicorn, stopped and started again, accepts the tokens it gave out."""
    _, token = _page(_fetch(server.base, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc"))
    before, _ = _page(_fetch(server.base, oai_schema, verb="ListIdentifiers", resumptionToken=token))
    server.restart()
    after, _ = _page(_fetch(server.base, oai_schema, verb="ListIdentifiers", resumptionToken=token))
    assert after == before and after


def test_sickle_learns_that_records_left_oai_openaire(tmp_path):
    """decisions.md P16 end to end: the open journal loses its access right, the admin reindexes,
    and Sickle's incremental harvests (oai_openaire; oai_dc of set openaire) get the records as deleted."""
    from sickle import Sickle

    server = Server(tmp_path, environment(tmp_path))
    server.cli("ingest", *map(str, GOOD_SAMPLES))
    server.start()
    try:
        client = Sickle(server.base, timeout=HTTP_TIMEOUT)
        before = {h.identifier: h.deleted for h in client.ListIdentifiers(metadataPrefix="oai_openaire")}
        assert before and not any(before.values())
        since = etree.fromstring(urllib.request.urlopen(f"{server.base}?verb=Identify", timeout=HTTP_TIMEOUT).read())
        since = since.findtext("o:responseDate", namespaces=NS)
        server.env["OAISERVER_OAI_JOURNALS"] = "{}"
        server.cli("reindex")
        time.sleep(3)  # the visibility delay (2 s by default) has passed
        for prefix, selection in (("oai_openaire", {}), ("oai_dc", {"set": "openaire"})):
            headers = list(client.ListIdentifiers(metadataPrefix=prefix, ignore_deleted=False, **{"from": since},
                                                  **selection))
            assert {h.identifier: h.deleted for h in headers} == dict.fromkeys(before, True), prefix
        assert not any(h.deleted for h in client.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False))
    finally:
        server.stop()
