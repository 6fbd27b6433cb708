"""Fixtures of the protocol suite: a loaded repository on a frozen clock, raw queries."""
from __future__ import annotations

import pytest
from lxml import etree

from tests.helpers.oai import GOOD_SAMPLES, check_response
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import GENERATED


@pytest.fixture
def loaded(app, ingest, tmp_path, clock):
    """The shared samples one second apart from 2026-01-01T00:00:00Z, then 7 generated articles.

    With the current samples the datestamps are: 00:00:00 one record (re-ingested unchanged
    at 00:00:03), 00:00:01 one, 00:00:02 three, 00:00:04 the generated issue (journal
    1234-5679, set v9n3); 12 records. The clock then stands at 00:01:04.
    """
    for sample in GOOD_SAMPLES:
        ingest(sample)
        clock.advance(1)
    ingest(write_issue(tmp_path / "gen.xml", [A(f"G-{i}") for i in range(GENERATED)], volume="9", number="3"))
    clock.advance(60)
    return app


@pytest.fixture
def raw(client, oai_schema):
    """GET /oai with a query string sent as written (no encoding by the test client)."""

    def call(query: str) -> etree._Element:
        return check_response(client.get(f"/oai?{query}"), oai_schema)

    return call
