"""Exact lists across replicas (decisions.md P14): visibility delay, data version, epoch, heartbeat.

Nodes are apps over their own copy of the database with one shared key: a copy made before a
change is a node that has not caught up. Clocks are fake (the `clock` fixture), so every
moment is exact.
"""
from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
import typing as t
from pathlib import Path

import pytest

from oaiserver.protocol.tokens import TokenCodec
from oaiserver.storage import timeline
from tests.helpers.issues import A, write_issue
from tests.helpers.oai import NS
from tests.helpers.protocol import get, other_app_client


def _identifiers(tree) -> list[str]:
    return [h.findtext("o:identifier", namespaces=NS) for h in tree.iterfind(".//o:header", NS)]


def _token(tree) -> tuple[str, int]:
    """The resumption token of a page ("" at the end) and the list size (that of the page if it is the whole list)."""
    element = tree.find(".//o:resumptionToken", NS)
    if element is None:
        return "", len(_identifiers(tree))
    return element.text or "", int(element.get("completeListSize"))


def _rest(client, oai_schema, token: str) -> list[str]:
    """The identifiers of a list from ``token`` to its end."""
    seen: list[str] = []
    while token:
        tree = get(client, oai_schema, verb="ListIdentifiers", resumptionToken=token)
        token = _token(tree)[0]
        seen += _identifiers(tree)
    return seen


def _harvest(client, oai_schema, **params: str) -> tuple[list[str], int]:
    """Every identifier of a list, token by token, and the completeListSize of its first page."""
    tree = get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc", **params)
    token, total = _token(tree)
    return _identifiers(tree) + _rest(client, oai_schema, token), total


def _copy(source: str | Path, path: Path) -> None:
    """Put a copy of ``source`` at ``path`` in rollback mode, as a new file (what a replica's follower does)."""
    temporary = path.with_suffix(".new")
    shutil.copyfile(source, temporary)
    _rollback_mode(temporary)
    temporary.replace(path)


def _node(config: dict[str, t.Any], source: str, path: Path, **overrides: t.Any):
    """Another node: an app over a copy of ``source`` made now (it stays as it is until copied again)."""
    _copy(source, path)
    return other_app_client(config, DATABASE=str(path), **overrides)


def _ingest_more(tmp_path: Path, ingest, names: list[str], number: str) -> None:
    ingest(write_issue(tmp_path / f"more-{number}.xml", [A(n) for n in names], volume="9", number=number))


# ------------------------------------------------------------------ the visibility delay

@pytest.fixture
def delayed(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """Changes stamped ten seconds ahead."""
    config["OAI_VISIBILITY_DELAY"] = 10
    return config


def test_a_change_is_listed_from_its_datestamp_on_not_before(delayed, app, ingest, client, clock, tmp_path,
                                                             oai_schema):
    """Committed at T, stamped T+10: lists show it at T+10, GetRecord serves it at once."""
    committed = clock()
    _ingest_more(tmp_path, ingest, ["D-1", "D-2"], "1")
    tree = get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert tree.find("o:error", NS).get("code") == "noRecordsMatch"
    # A harvester asking for a future until is capped at now: nothing stamped ahead leaks.
    tree = get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc", until="2030-01-01")
    assert tree.find("o:error", NS).get("code") == "noRecordsMatch"
    identifier = "oai:journals.example.org:1234-5679/D-1"
    record = get(client, oai_schema, verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    stamp = record.findtext(".//o:header/o:datestamp", namespaces=NS)
    assert stamp == (committed + dt.timedelta(seconds=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(9)
    assert get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc").find("o:error", NS) is not None
    clock.advance(1)
    assert sorted(_harvest(client, oai_schema)[0]) == [identifier, identifier.replace("D-1", "D-2")]


def test_records_committed_in_the_pinned_second_do_not_swell_the_list(delayed, app, ingest, client, clock,
                                                                      tmp_path, oai_schema, config):
    """A list pinned to second T counts what it sends, even when records are committed during T."""
    _ingest_more(tmp_path, ingest, [f"P-{i}" for i in range(5)], "1")
    clock.advance(10)
    first = get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token, total = _token(first)
    sent = _identifiers(first)
    # Still second T: more records committed before the next pages are asked for.
    _ingest_more(tmp_path, ingest, [f"Q-{i}" for i in range(4)], "2")
    sent += _rest(client, oai_schema, token)
    assert len(sent) == total == 5 and len(set(sent)) == 5


def test_without_a_delay_the_pinned_second_swells_the_list(app, ingest, client, clock, tmp_path, oai_schema):
    """The failure the delay prevents (test config: delay 0): records committed in the list's second join it."""
    _ingest_more(tmp_path, ingest, [f"P-{i}" for i in range(5)], "1")
    first = get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token, total = _token(first)
    sent = _identifiers(first)
    _ingest_more(tmp_path, ingest, [f"Q-{i}" for i in range(4)], "2")
    sent += _rest(client, oai_schema, token)
    assert len(sent) > total


def test_an_incremental_harvest_from_a_lagging_nodes_response_date_misses_nothing(
        delayed, app, ingest, client, clock, tmp_path, oai_schema, config):
    """Node B lags 5 s (less than the 10 s delay); from = B's responseDate still gets every change."""
    _ingest_more(tmp_path, ingest, ["E-1"], "1")  # stamped T+10
    clock.advance(11)
    lagging = _node(config, config["DATABASE"], tmp_path / "b.sqlite3")  # B has E-1
    _ingest_more(tmp_path, ingest, ["E-2"], "2")  # committed at T+11 on the primary, not on B
    clock.advance(5)
    harvested = get(lagging, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    response_date = harvested.findtext("o:responseDate", namespaces=NS)
    # B showed E-1 only; E-2, committed before that responseDate, is stamped after it.
    assert [i.rsplit("/", 1)[1] for i in _identifiers(harvested)] == ["E-1"]
    clock.advance(10)
    fresh = _harvest(client, oai_schema, **{"from": response_date})[0]
    assert [i.rsplit("/", 1)[1] for i in fresh] == ["E-2"]


# ------------------------------------------------------------------ data version and epoch

@pytest.fixture
def small_pages(config: dict[str, t.Any]) -> dict[str, t.Any]:
    config["OAI_IDENTIFIERS_PAGE_SIZE"] = 2
    return config


def test_a_follower_behind_the_page_before_answers_503_then_goes_on(small_pages, app, ingest, client, clock,
                                                                    tmp_path, oai_schema, config):
    """Page 1 read at version v on the primary; a follower still below v answers 503 until it catches up."""
    _ingest_more(tmp_path, ingest, [f"V-{i}" for i in range(6)], "1")
    behind_path = tmp_path / "b.sqlite3"
    behind = _node(config, config["DATABASE"], behind_path, OAI_ROLE="follower")
    _beat(str(behind_path), clock().timestamp())
    clock.advance(1)
    _ingest_more(tmp_path, ingest, ["V-0", "V-1-changed"], "1")  # a change B has not seen
    clock.advance(1)
    first = get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token, total = _token(first)
    response = behind.get("/oai", query_string={"verb": "ListIdentifiers", "resumptionToken": token})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    _copy(config["DATABASE"], behind_path)  # B catches up
    _beat(str(behind_path), clock().timestamp())
    sent = _identifiers(first)
    sent += _rest(behind, oai_schema, token)
    assert len(sent) == total == len(set(sent))


def test_a_node_ahead_goes_on_and_the_list_stays_exact(small_pages, delayed, app, ingest, client, clock, tmp_path,
                                                       oai_schema, config):
    """Page 1 from a lagging node, the rest from the primary (newer): no 503, every record once."""
    _ingest_more(tmp_path, ingest, [f"W-{i}" for i in range(7)], "1")
    clock.advance(11)
    lagging = _node(config, config["DATABASE"], tmp_path / "b.sqlite3")
    first = get(lagging, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    _ingest_more(tmp_path, ingest, ["X-1"], "2")  # the primary moves on
    token, total = _token(first)
    sent = _identifiers(first)
    sent += _rest(client, oai_schema, token)
    assert len(sent) == total == len(set(sent)) == 7


def test_a_token_from_after_a_backup_put_back_is_refused(small_pages, app, ingest, client, clock, tmp_path,
                                                         oai_schema, config):
    """A standalone server whose data went back (an older backup restored): badResumptionToken, not 503."""
    _ingest_more(tmp_path, ingest, [f"B-{i}" for i in range(5)], "1")
    backup = tmp_path / "backup.sqlite3"
    _copy(config["DATABASE"], backup)
    clock.advance(1)
    _ingest_more(tmp_path, ingest, ["B-9"], "2")
    clock.advance(1)
    token, _ = _token(get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc"))
    restored = _node(config, backup, tmp_path / "restored.sqlite3")
    error = get(restored, oai_schema, verb="ListIdentifiers", resumptionToken=token).find("o:error", NS)
    assert error.get("code") == "badResumptionToken" and "backup" in error.text


def test_a_token_from_before_a_restore_is_refused(small_pages, app, ingest, client, clock, tmp_path,
                                                  oai_schema, config):
    """A new epoch (a primary restored from its replica): the old list's tokens are badResumptionToken."""
    _ingest_more(tmp_path, ingest, [f"R-{i}" for i in range(5)], "1")
    clock.advance(1)
    token, _ = _token(get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc"))
    conn = sqlite3.connect(config["DATABASE"], isolation_level=None)
    try:
        timeline.new_epoch(conn)
    finally:
        conn.close()
    tree = get(client, oai_schema, verb="ListIdentifiers", resumptionToken=token)
    error = tree.find("o:error", NS)
    assert error.get("code") == "badResumptionToken" and "restored" in error.text


def test_a_token_of_the_release_before_versions_still_works(small_pages, app, ingest, client, clock, tmp_path,
                                                             oai_schema, config):
    """Tokens made before epochs and versions (eight items) go on where they left off."""
    _ingest_more(tmp_path, ingest, [f"L-{i}" for i in range(5)], "1")
    clock.advance(1)
    first = get(client, oai_schema, verb="ListIdentifiers", metadataPrefix="oai_dc")
    codec = TokenCodec(config["SECRET_KEY"], 3600)
    state = codec.decode(_token(first)[0], "ListIdentifiers")
    old = codec.serializer.dumps([state.verb, state.prefix, state.set_spec, state.from_, state.until,
                                  list(state.last or ()), state.cursor, state.total])
    page = get(client, oai_schema, verb="ListIdentifiers", resumptionToken=old)
    assert len(_identifiers(first) + _identifiers(page)) <= 5 and page.find("o:error", NS) is None


# ------------------------------------------------------------------ followers

def _beat(path: str, now: float, delay: int = 10) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        timeline.beat(conn, now, delay)
    finally:
        conn.close()


def _rollback_mode(path: Path) -> None:
    """Make ``path`` a file a follower may serve (what `oaiserver replica follow` does to a restored file)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()


@pytest.fixture
def follower(loaded, config, tmp_path, clock):
    """A follower over a copy of the loaded repository, switched to rollback mode, last heartbeat now."""
    path = tmp_path / "replica.sqlite3"
    _copy(config["DATABASE"], path)
    _beat(str(path), clock().timestamp())
    return path, other_app_client(config, DATABASE=str(path), OAI_ROLE="follower", OAI_MAX_LAG=5)


def test_a_follower_serves_while_its_heartbeat_is_fresh(follower, clock, oai_schema):
    """Within OAI_MAX_LAG of the last heartbeat: answers and /healthz 200; beyond it: 503 both."""
    path, node = follower
    clock.advance(5)
    assert get(node, oai_schema, verb="Identify").find("o:Identify", NS) is not None
    assert node.get("/healthz").status_code == 200
    clock.advance(2)
    stale = node.get("/oai?verb=ListIdentifiers&metadataPrefix=oai_dc")
    assert stale.status_code == 503 and "behind the primary" in stale.get_data(as_text=True)
    assert int(stale.headers["Retry-After"]) >= 1
    health = node.get("/healthz")
    assert health.status_code == 503 and b"behind the primary" in health.data
    _beat(str(path), clock().timestamp())
    assert node.get("/oai?verb=Identify").status_code == 200


def test_a_follower_without_a_heartbeat_or_with_too_short_a_delay_does_not_serve(follower, clock):
    """No heartbeat yet, or a primary whose delay leaves no room for the allowed lag: 503."""
    path, node = follower
    _beat(str(path), clock().timestamp(), delay=2)
    response = node.get("/oai?verb=Identify")
    assert response.status_code == 503 and "OAI_VISIBILITY_DELAY" in response.get_data(as_text=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE timeline SET heartbeat = NULL")
    conn.close()
    assert b"no heartbeat" in node.get("/oai?verb=Identify").data


def test_a_follower_never_creates_the_database(config, tmp_path, clock):
    """A missing replica file: 503, and no file appears (the standalone server would create one)."""
    path = tmp_path / "absent.sqlite3"
    node = other_app_client(config, DATABASE=str(path), OAI_ROLE="follower")
    response = node.get("/oai?verb=Identify")
    assert response.status_code == 503 and b"no replica file" in response.data
    assert node.get("/healthz").status_code == 503
    assert not path.exists()


def test_a_follower_refuses_a_file_in_wal_mode_without_touching_it(loaded, config, tmp_path, clock):
    """A file whose header says WAL is not opened: no -wal or -shm appears beside it (they would stall Litestream)."""
    path = tmp_path / "wal.sqlite3"
    shutil.copyfile(config["DATABASE"], path)
    assert path.read_bytes()[18:20] == b"\x02\x02"
    node = other_app_client(config, DATABASE=str(path), OAI_ROLE="follower")
    response = node.get("/oai?verb=Identify")
    assert response.status_code == 503 and b"WAL mode" in response.data
    assert node.get("/healthz").status_code == 503
    assert sorted(p.name for p in tmp_path.glob("wal.sqlite3*")) == ["wal.sqlite3"]


def test_healthz_fails_on_a_partial_replica_file(follower, clock):
    """A replica cut short (a bad copy or swap): /healthz 503, even though its first pages read fine."""
    path, node = follower
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big") or 65536
    path.write_bytes(data[: len(data) - page_size])
    response = node.get("/healthz")
    assert response.status_code == 503


def test_admin_commands_refuse_to_write_on_a_follower(config, tmp_path):
    """`oaiserver ingest` on a follower says where to run it instead, and writes nothing."""
    from oaiserver import create_app
    from tests.helpers.oai import GOOD_SAMPLES

    app = create_app({**config, "OAI_ROLE": "follower"})
    result = app.test_cli_runner().invoke(args=["ingest", str(GOOD_SAMPLES[0])])
    assert result.exit_code != 0 and "follower" in result.output and "primary" in result.output
    assert not Path(config["DATABASE"]).exists()
