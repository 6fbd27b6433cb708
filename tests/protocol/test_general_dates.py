"""OAI-PMH §3.3 UTCdatetime and §2.7.1 selective harvesting by datestamp (seconds granularity here)."""
from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.helpers.oai import NS, error_codes, harvest, token_of
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import datestamps, total_records

SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def widen(value: str, time: str) -> str:
    """A day-granularity bound as the seconds-granularity bound it stands for."""
    return value if "T" in value else value + time


# The `loaded` fixture's datestamps: 00:00:00 (1 record), :01 (1), :02 (3), :04 (7).
@pytest.mark.parametrize("bounds,expected", [
    ({"from_": "2026-01-01T00:00:01Z", "until": "2026-01-01T00:00:01Z"}, 1),
    ({"from_": "2026-01-01T00:00:02Z", "until": "2026-01-01T00:00:02Z"}, 3),
    ({"from_": "2026-01-01T00:00:03Z", "until": "2026-01-01T00:00:03Z"}, 0),
    ({"from_": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:01Z"}, 2),
    ({"from_": "2026-01-01T00:00:01Z", "until": "2026-01-01T00:00:03Z"}, 4),
    ({"from_": "2026-01-01T00:00:02Z"}, 3 + 7),
    ({"from_": "2026-01-01T00:00:04Z"}, 7),
    ({"from_": "2026-01-01T00:00:05Z"}, 0),
    ({"until": "2026-01-01T00:00:00Z"}, 1),
    ({"until": "2026-01-01T00:00:03Z"}, 5),
    ({"until": "2025-12-31T23:59:59Z"}, 0),
    ({"from_": "2026-01-01", "until": "2026-01-01"}, 12),
    ({"from_": "2025-12-31"}, 12),
    ({"until": "2025-12-31"}, 0),
    ({"from_": "2026-01-02"}, 0),
])
def test_from_until_inclusive_to_the_second(loaded, oai, bounds, expected):
    """§3.3.1 / §2.7.1: from and until are inclusive, exactly to the second, in both granularities."""
    if expected == 0:
        assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", **bounds)) == ["noRecordsMatch"]
        return
    ids, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", **bounds)
    lo = widen(bounds.get("from_", "0000-01-01"), "T00:00:00Z")
    hi = widen(bounds.get("until", "9999-12-31"), "T23:59:59Z")
    assert all(lo <= d <= hi for d in datestamps(pages))
    assert len(ids) == len(set(ids)) == expected


@pytest.fixture
def around_midnight(app, ingest, tmp_path, clock):
    """One record at 2026-01-01T23:59:59Z and one at 2026-01-02T00:00:00Z."""
    clock.current = dt.datetime(2026, 1, 1, 23, 59, 59, tzinfo=dt.timezone.utc)
    ingest(write_issue(tmp_path / "late.xml", [A("LATE")], volume="1", number="1"))
    clock.advance(1)
    ingest(write_issue(tmp_path / "early.xml", [A("EARLY")], volume="1", number="2"))
    clock.advance(3600)
    return app


@pytest.mark.parametrize("bounds,expected", [
    ({"until": "2026-01-01"}, ["LATE"]),
    ({"from_": "2026-01-02"}, ["EARLY"]),
    ({"from_": "2026-01-01", "until": "2026-01-01"}, ["LATE"]),
    ({"from_": "2026-01-02", "until": "2026-01-02"}, ["EARLY"]),
    ({"from_": "2026-01-01", "until": "2026-01-02"}, ["LATE", "EARLY"]),
    ({"until": "2026-01-01T23:59:59Z"}, ["LATE"]),
    ({"from_": "2026-01-02T00:00:00Z"}, ["EARLY"]),
    ({"from_": "2026-01-01T23:59:59Z", "until": "2026-01-02T00:00:00Z"}, ["LATE", "EARLY"]),
])
def test_day_arguments_against_seconds_datestamps(around_midnight, oai, bounds, expected):
    """§3.3.1 / §2.7.1: a day-granularity from covers the day's first second, until its last."""
    ids, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", **bounds)
    assert [i.rsplit("/", 1)[1] for i in ids] == expected


@pytest.mark.parametrize("bounds", [
    {"from": "2021-01-01", "until": "2020-12-31"},
    {"from": "2026-01-01T00:00:02Z", "until": "2026-01-01T00:00:01Z"},
    {"from": "2026-01-01T00:00:00Z", "until": "2025-12-31T23:59:59Z"},
])
@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_from_after_until(loaded, oai, bounds, verb):
    """§3.3.1 / §3.6: from later than until is badArgument (not noRecordsMatch)."""
    assert error_codes(oai(verb=verb, metadataPrefix="oai_dc", **bounds)) == ["badArgument"]


@pytest.mark.parametrize("bounds", [
    {"from": "2026-01-01", "until": "2026-01-01T23:59:59Z"},
    {"from": "2026-01-01T00:00:00Z", "until": "2026-01-02"},
])
def test_mixed_granularities(loaded, oai, bounds):
    """§3.3.1: from and until must have the same granularity, else badArgument."""
    assert error_codes(oai(verb="ListRecords", metadataPrefix="oai_dc", **bounds)) == ["badArgument"]


@pytest.mark.parametrize("value", [
    "2020-13-01", "2021-02-30", "2021-02-29", "2020-1-1", "20200101", "2020-01-01T00:00:00",
    "2020-01-01T00:00Z", "2020-01-01T24:00:00Z", "2020-01-01T23:60:00Z", "2020-01-01T00:00:00z",
    "2020-01-01T00:00:00+00:00", "2020-01-01T00:00:00.5Z", "2020-01-01 00:00:00Z", "yesterday",
    " 2020-01-01", "2020-01-01\n", "２０２０-01-01", "۲۰۲۰-01-01",
    # Non-ASCII digits (Persian, Arabic-Indic, fullwidth) in the seconds form, and a leap second:
    # Python's strptime takes them all, the schema's xs:dateTime none.
    "۲020-01-01T00:00:00Z", "٢٠٢٠-01-01T00:00:00Z", "２０２０-01-01T00:00:00Z", "2020-01-01T00:00:٠٠Z",
    "2020-0۱-01", "2020-01-01T23:59:60Z", "2016-12-31T23:59:60Z",
])
@pytest.mark.parametrize("name", ["from", "until"])
def test_malformed_dates(loaded, oai, value, name):
    """§3.3.1: only YYYY-MM-DD and YYYY-MM-DDThh:mm:ssZ are legal; anything else is badArgument."""
    tree = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", **{name: value})
    assert error_codes(tree) == ["badArgument"]
    assert tree.find("o:request", NS).attrib == {}  # §3.6: a badArgument echoes no arguments


def test_leap_day_is_a_date(loaded, oai):
    """§3.3.1: 2024-02-29 is a legal date (and selects every record after it)."""
    ids, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", from_="2024-02-29")
    assert len(ids) == total_records(loaded)


def test_response_times_are_utc_seconds(loaded, oai):
    """§3.3.2: responseDate, datestamps and expirationDate are YYYY-MM-DDThh:mm:ssZ."""
    tree = oai(verb="ListRecords", metadataPrefix="jats")
    stamps = [tree.findtext("o:responseDate", namespaces=NS), token_of(tree).get("expirationDate"),
              *datestamps([tree])]
    assert all(SECONDS.fullmatch(s) for s in stamps), stamps


def test_incremental_harvest_from_the_last_response_date(loaded, oai, ingest, tmp_path, clock):
    """§2.7.1: harvesting from the previous responseDate brings exactly what changed since."""
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    since = pages[0].findtext("o:responseDate", namespaces=NS)
    clock.advance(30)
    ingest(write_issue(tmp_path / "new.xml", [A("NEW-1"), A("NEW-2")], volume="10", number="1"))
    ids, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", from_=since)
    assert sorted(i.rsplit("/", 1)[1] for i in ids) == ["NEW-1", "NEW-2"]
