"""A live record that leaves a format or a set stays listed there as deleted (decisions.md P16).

deletedRecord is persistent, per record: an item with a record in a format, or in a set's list,
that then loses it must say so to the harvesters that have it. Here a journal loses its access
right (it leaves oai_openaire and the ``openaire`` set) and gets it back, and articles change
type (they leave a ``type:`` set). Every response is checked against its format's bundle (the
``oai`` fixture), and every list's completeListSize against a recount.
"""
from __future__ import annotations

import sqlite3

import pytest

from metadata_formats import FORMATS
from tests.helpers.issues import A, write_issue
from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, error_codes, harvest
from tests.helpers.protocol import headers, set_specs, withdraw

OPEN, CLOSED = "1234-5679", "0378-5955"
OPEN_IDS = [f"oai:{REPOSITORY_IDENTIFIER}:{OPEN}/O-{i}" for i in range(4)]
CLOSED_IDS = [f"oai:{REPOSITORY_IDENTIFIER}:{CLOSED}/C-{i}" for i in range(3)]
VERBS = ["ListIdentifiers", "ListRecords"]


@pytest.fixture
def config(config):
    """Both journals open access; pages of three."""
    return {**config, "OAI_JOURNALS": {OPEN: {"access_right": "open"}, CLOSED: {"access_right": "open"}},
            "OAI_PAGE_SIZE": 3, "OAI_IDENTIFIERS_PAGE_SIZE": 3}


@pytest.fixture
def loaded(app, ingest, tmp_path, clock):
    """Four articles of OPEN and three of CLOSED, ingested at 00:00:00 and 00:00:01."""
    ingest(write_issue(tmp_path / "open.xml", [A(f"O-{i}") for i in range(4)], issn=OPEN))
    clock.advance(1)
    ingest(write_issue(tmp_path / "closed.xml", [A(f"C-{i}") for i in range(3)], issn=CLOSED,
                       host="closed.example.ac.ir"))
    clock.advance(60)
    return app


def reindex_with(app, runner, clock, journals: dict) -> str:
    """Set OAI_JOURNALS, reindex with the real command; return the datestamp the changes carry."""
    app.config["OAI_JOURNALS"] = journals
    stamp = clock.advance(10).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    clock.advance(10)
    return stamp


def status_by_identifier(pages) -> dict[str, str | None]:
    """Each listed identifier's header status (None when live)."""
    return {identifier: header.get("status") for identifier, header in headers(pages).items()}


def assert_counts_exact(app) -> None:
    """list_sizes holds what a recount by the rule gives (completeListSize is exact)."""
    from oaiserver.storage import list_sizes

    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        assert list_sizes.kept(conn) == list_sizes.counted(conn)
    finally:
        conn.close()


@pytest.fixture
def closed_down(loaded, app, runner, clock):
    """CLOSED loses its access right (OAI_JOURNALS without it) and the records are reindexed."""
    return reindex_with(app, runner, clock, {OPEN: {"access_right": "open"}})


@pytest.mark.parametrize("verb", VERBS)
def test_records_that_leave_oai_openaire_are_deleted_there(closed_down, oai, verb):
    """§2.5.1: the journal's records are listed in oai_openaire as deleted, header only, from the reindex on."""
    ids, pages = harvest(oai, verb, metadataPrefix="oai_openaire")
    assert sorted(ids) == sorted(OPEN_IDS + CLOSED_IDS)
    assert status_by_identifier(pages) == {**dict.fromkeys(OPEN_IDS), **dict.fromkeys(CLOSED_IDS, "deleted")}
    if verb == "ListRecords":
        for record in (r for p in pages for r in p.iterfind(".//o:record", NS)):
            deleted = record.find("o:header", NS).get("status") == "deleted"
            assert (record.find("o:metadata", NS) is None) == deleted
    # An incremental harvest from the reindex holds exactly the deletions.
    ids, pages = harvest(oai, verb, metadataPrefix="oai_openaire", from_=closed_down)
    assert status_by_identifier(pages) == dict.fromkeys(CLOSED_IDS, "deleted")


@pytest.mark.parametrize("prefix", list(FORMATS))
def test_records_that_leave_the_openaire_set_are_deleted_there(closed_down, oai, prefix):
    """§2.5.1 / OpenAIRE v3: set=openaire lists the journal's records as deleted in every format they had."""
    ids, pages = harvest(oai, "ListIdentifiers", metadataPrefix=prefix, set="openaire")
    assert status_by_identifier(pages) == {**dict.fromkeys(OPEN_IDS), **dict.fromkeys(CLOSED_IDS, "deleted")}
    for identifier in CLOSED_IDS:
        # Its header names the sets it is in now, the journal's but no longer openaire.
        specs = set_specs(headers(pages)[identifier])
        assert f"journal:{CLOSED}" in specs and "openaire" not in specs


def test_the_rest_of_the_record_stays_live(closed_down, oai):
    """The item is live in the formats it keeps, on the datestamp its deletion in oai_openaire has."""
    identifier = CLOSED_IDS[0]
    dc = oai(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    gone = oai(verb="GetRecord", identifier=identifier, metadataPrefix="oai_openaire")
    assert dc.find(".//o:header", NS).get("status") is None and dc.find(".//o:metadata", NS) is not None
    assert gone.find(".//o:header", NS).get("status") == "deleted" and gone.find(".//o:metadata", NS) is None
    assert gone.findtext(".//o:datestamp", namespaces=NS) == dc.findtext(".//o:datestamp", namespaces=NS) == closed_down
    assert set_specs(gone.find(".//o:header", NS)) == set_specs(dc.find(".//o:header", NS))
    # ListMetadataFormats names exactly the formats GetRecord answers in (§4.4).
    listed = {p.text for p in oai(verb="ListMetadataFormats", identifier=identifier).iterfind(".//o:metadataPrefix", NS)}
    assert listed == set(FORMATS)
    ids, pages = harvest(oai, "ListRecords", metadataPrefix="oai_dc")
    assert sorted(ids) == sorted(OPEN_IDS + CLOSED_IDS)
    assert set(status_by_identifier(pages).values()) == {None}


def test_list_sizes_count_the_tombstones(closed_down, app, oai):
    """completeListSize counts the records listed as deleted; the cache agrees with a recount."""
    assert_counts_exact(app)
    for selection in ({}, {"set": "openaire"}):
        ids, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_openaire", **selection)
        assert len(ids) == 7
        assert {p.find(".//o:resumptionToken", NS).get("completeListSize") for p in pages} == {"7"}


def test_a_record_that_comes_back_is_live_again(closed_down, app, runner, clock, oai):
    """The access right given back: the records are live in oai_openaire and openaire again, once each."""
    back = reindex_with(app, runner, clock, {OPEN: {"access_right": "open"}, CLOSED: {"access_right": "open"}})
    for prefix, selection in (("oai_openaire", {}), ("oai_dc", {"set": "openaire"})):
        ids, pages = harvest(oai, "ListRecords", metadataPrefix=prefix, **selection)
        assert sorted(ids) == sorted(OPEN_IDS + CLOSED_IDS)
        assert set(status_by_identifier(pages).values()) == {None}
        _, pages = harvest(oai, "ListIdentifiers", metadataPrefix=prefix, from_=back, **selection)
        assert status_by_identifier(pages) == dict.fromkeys(CLOSED_IDS)
    assert_counts_exact(app)


def test_stats_and_verify_know_the_tombstones(closed_down, runner):
    """`oaiserver stats` counts no oai_openaire rendition for the journal; `verify` finds nothing wrong."""
    result = runner.invoke(args=["stats", "--json"])
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.output)["formats"]["oai_openaire"] == len(OPEN_IDS)
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 0, result.output
    # The journal's records' oai_openaire rows are tombstones, told apart from renditions.
    live = len(OPEN_IDS) * len(FORMATS) + len(CLOSED_IDS) * (len(FORMATS) - 1)
    assert f"{live} renditions, {len(CLOSED_IDS)} tombstones;" in result.output


def test_a_damaged_tombstone_is_found(closed_down, app, runner):
    """A tombstone whose checksum is not that of no bytes is reported by `verify`."""
    conn = sqlite3.connect(app.config["DATABASE"])
    with conn:
        conn.execute("UPDATE renditions SET crc = 7 WHERE xml = '' AND prefix = 'oai_openaire'")
    conn.close()
    result = runner.invoke(args=["verify"])
    assert result.exit_code == 1
    assert "its oai_openaire tombstone is damaged (checksum)" in result.output


def test_withdrawn_and_restored_with_a_tombstone(closed_down, runner, clock, oai):
    """A record with tombstones withdrawn is deleted everywhere; restored, it is live where rendered and deleted where it left."""
    identifier = CLOSED_IDS[1]
    withdraw(runner, identifier)
    clock.advance(5)
    for prefix, selection in (("oai_openaire", {}), ("oai_dc", {}), ("oai_dc", {"set": "openaire"})):
        _, pages = harvest(oai, "ListIdentifiers", metadataPrefix=prefix, **selection)
        assert status_by_identifier(pages)[identifier] == "deleted"
    result = runner.invoke(args=["restore", identifier])
    assert result.exit_code == 0, result.output
    clock.advance(5)
    for prefix, selection, status in (("oai_openaire", {}, "deleted"), ("oai_dc", {}, None),
                                      ("oai_dc", {"set": "openaire"}, "deleted")):
        _, pages = harvest(oai, "ListIdentifiers", metadataPrefix=prefix, **selection)
        assert status_by_identifier(pages)[identifier] == status, (prefix, selection)


def datestamps_by_identifier(pages) -> dict[str, str]:
    """Each listed identifier's header datestamp."""
    return {identifier: header.findtext("o:datestamp", namespaces=NS)
            for identifier, header in headers(pages).items()}


@pytest.mark.parametrize("change", ["re-ingest", "withdraw", "withdraw and restore"])
def test_a_set_tombstone_keeps_the_datestamp_of_the_record_leaving(closed_down, app, ingest, runner, tmp_path,
                                                                    clock, oai, change):
    """Later changes of a record that left a set do not announce its deletion there again (P2, P16).

    A format tombstone moves with its record (decisions.md P16 says why): oai_openaire's
    incremental harvest lists the changed records as deleted again.
    """
    since = clock.advance(5).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(5)
    if change == "re-ingest":
        ingest(write_issue(tmp_path / "closed.xml", [A(f"C-{i}", title=f"Retitled {i}") for i in range(3)],
                           issn=CLOSED, host="closed.example.ac.ir"))
    else:
        withdraw(runner, CLOSED_IDS[1])
        if change == "withdraw and restore":
            clock.advance(5)
            result = runner.invoke(args=["restore", CLOSED_IDS[1]])
            assert result.exit_code == 0, result.output
    clock.advance(5)
    for verb in VERBS:
        # In the set it left, the record is deleted on the reindex's datestamp, as it was.
        _, pages = harvest(oai, verb, metadataPrefix="oai_dc", set="openaire")
        assert status_by_identifier(pages) == {**dict.fromkeys(OPEN_IDS), **dict.fromkeys(CLOSED_IDS, "deleted")}
        assert {datestamps_by_identifier(pages)[i] for i in CLOSED_IDS} == {closed_down}
        assert error_codes(oai(verb=verb, metadataPrefix="oai_dc", set="openaire", from_=since)) == [
            "noRecordsMatch"]
        # Where the record is, the change is news.
        _, pages = harvest(oai, verb, metadataPrefix="oai_dc", from_=since)
        changed = CLOSED_IDS if change == "re-ingest" else CLOSED_IDS[1:2]
        assert sorted(status_by_identifier(pages)) == sorted(changed)
        _, pages = harvest(oai, verb, metadataPrefix="oai_openaire", from_=since)
        assert status_by_identifier(pages) == dict.fromkeys(changed, "deleted")
    assert_counts_exact(app)


def test_a_set_tombstone_left_in_a_group_of_files(loaded, app, ingest, tmp_path, clock, oai):
    """Two versions of an issue in one ingest (one transaction, P15): the tombstone the first left keeps its datestamp."""
    articles = [A(f"O-{i}") for i in range(4)]
    articles[2] = A("O-2", content_type="Letter")
    left = clock.advance(0).strftime("%Y-%m-%dT%H:%M:%SZ")
    ingest(write_issue(tmp_path / "open.xml", articles, issn=OPEN))
    clock.advance(5)
    since = clock.advance(5).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(5)
    first = write_issue(tmp_path / "v1.xml", [*articles[:2], A("O-2", content_type="Letter", title="One"),
                                              articles[3]], issn=OPEN)
    second = write_issue(tmp_path / "v2.xml", [*articles[:2], A("O-2", content_type="Letter", title="Two"),
                                               articles[3]], issn=OPEN)
    ingest(first, second)
    clock.advance(5)
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="type:original-article")
    assert status_by_identifier(pages)[OPEN_IDS[2]] == "deleted"
    assert datestamps_by_identifier(pages)[OPEN_IDS[2]] == left
    assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="type:original-article",
                           from_=since)) == ["noRecordsMatch"]
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="type:letter", from_=since)
    assert status_by_identifier(pages) == {OPEN_IDS[2]: None}
    assert_counts_exact(app)


def test_a_record_never_in_a_format_is_not_listed_there(app, ingest, tmp_path, clock, oai):
    """A tombstone is left only where the record was: a journal never open is not in oai_openaire at all."""
    app.config["OAI_JOURNALS"] = {OPEN: {"access_right": "open"}}
    ingest(write_issue(tmp_path / "closed.xml", [A(f"C-{i}") for i in range(3)], issn=CLOSED,
                       host="closed.example.ac.ir"))
    ingest(write_issue(tmp_path / "open.xml", [A("O-0")], issn=OPEN))
    clock.advance(5)
    ids, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_openaire")
    assert ids == [OPEN_IDS[0]]
    assert error_codes(oai(verb="GetRecord", identifier=CLOSED_IDS[0], metadataPrefix="oai_openaire")) == [
        "cannotDisseminateFormat"]


def test_an_article_that_changes_type_leaves_its_type_set(loaded, ingest, tmp_path, clock, oai, app):
    """A re-ingest that changes an article's type: the old type's set lists it as deleted, the new one as live."""
    articles = [A(f"O-{i}") for i in range(4)]
    articles[2] = A("O-2", content_type="Letter")
    old_type = {s for h in headers([oai(verb="ListIdentifiers", metadataPrefix="oai_dc")]).values()
                for s in set_specs(h) if s.startswith("type:")}
    ingest(write_issue(tmp_path / "open.xml", articles, issn=OPEN))
    clock.advance(5)
    for spec in old_type:
        _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=spec)
        assert status_by_identifier(pages)[OPEN_IDS[2]] == "deleted"
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="type:letter")
    assert status_by_identifier(pages) == {OPEN_IDS[2]: None}
    assert_counts_exact(app)


def test_a_file_from_before_set_tombstones(loaded, app, ingest, tmp_path, clock, oai):
    """A database without the ``gone`` column or the tombstones' index is served as before, and gets both from the next writer."""
    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute("DROP INDEX renditions_gone")
    conn.execute("DROP INDEX record_sets_gone")
    conn.execute("ALTER TABLE record_sets DROP COLUMN gone")
    earliest = conn.execute("SELECT MIN(datestamp) FROM records").fetchone()[0]
    conn.commit()
    conn.close()
    assert oai(verb="Identify").findtext(".//o:earliestDatestamp", namespaces=NS) == earliest
    for verb in VERBS:
        ids, _ = harvest(oai, verb, metadataPrefix="oai_dc", set="openaire")
        assert sorted(ids) == sorted(OPEN_IDS + CLOSED_IDS)
        ids, _ = harvest(oai, verb, metadataPrefix="oai_openaire")
        assert sorted(ids) == sorted(OPEN_IDS + CLOSED_IDS)
    ingest(write_issue(tmp_path / "open.xml", [A(f"O-{i}") for i in range(3)], issn=OPEN))
    clock.advance(5)
    conn = sqlite3.connect(app.config["DATABASE"])
    try:
        assert any(row[1] == "gone" for row in conn.execute("PRAGMA table_info(record_sets)"))
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'renditions_gone'").fetchone()
        assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'record_sets_gone'").fetchone()
    finally:
        conn.close()
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_openaire", set="openaire")
    assert status_by_identifier(pages)[OPEN_IDS[3]] == "deleted"


def test_an_old_file_gets_the_tombstone_index_once_and_says_so(loaded, app, caplog):
    """The first writer on a file from before tombstones builds their index with a log line; the next writer says nothing."""
    import logging

    from oaiserver.storage import db

    conn = sqlite3.connect(app.config["DATABASE"])
    conn.execute("DROP INDEX renditions_gone")
    conn.commit()
    conn.close()
    for expected in (True, False):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="oaiserver.storage.db"):
            writer = db.connect_writer(app.config["DATABASE"])
            db.create_schema(writer)
            writer.conn.close()
        assert ("indexing the tombstones" in caplog.text) == expected
