"""Golden responses: every verb over the sample issues answers byte for byte as recorded.

Refactoring must not change what a harvester receives. This walks a fixed script of requests
(every verb, every format, sets, date windows, the errors, every token of every list followed
to the end) over the protocol suite's loaded repository with one record withdrawn, on a frozen
clock and a frozen token-signing time, and compares a SHA-256 of each response body with
``golden_responses.json``. A change that is meant to alter responses rewrites the recording:

    OAISERVER_GOLDEN_WRITE=1 python -m pytest tests/protocol/test_golden.py

and the commit says why the bytes moved.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path

import itsdangerous
import pytest

from metadata_formats import FORMATS
from tests.helpers.oai import check_response
from tests.helpers.protocol import withdraw

RECORDING = Path(__file__).with_name("golden_responses.json")
GOLDEN_EPOCH = 20260101
SIGNED_AT = 1_767_225_600  # 2026-01-01T00:00:00Z: tokens signed "now" on the frozen clock

LIST_VERBS = ("ListIdentifiers", "ListRecords")


def _script(identifiers: list[str], prefixes: list[str], specs: list[str]) -> list[dict[str, str]]:
    """The requests whose answers are recorded (list requests are followed to their end)."""
    requests: list[dict[str, str]] = [
        {"verb": "Identify"},
        {"verb": "ListMetadataFormats"},
        {"verb": "ListSets"},
        {"verb": "Nonsense"},
        {"verb": "Identify", "extra": "1"},
        {"verb": "ListRecords"},
        {"verb": "ListRecords", "metadataPrefix": "marc21"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "journal:none"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2030-01-01"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2026-01-02", "until": "2026-01-01"},
        {"verb": "ListIdentifiers", "resumptionToken": "not-a-token"},
        {"verb": "GetRecord", "identifier": "oai:journals.example.org:none/x", "metadataPrefix": "oai_dc"},
        {"verb": "GetRecord", "identifier": identifiers[0], "metadataPrefix": "marc21"},
        {"verb": "ListMetadataFormats", "identifier": "oai:journals.example.org:none/x"},
    ]
    for identifier in identifiers:
        requests.append({"verb": "ListMetadataFormats", "identifier": identifier})
        requests.extend({"verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix}
                        for prefix in prefixes)
    for verb in LIST_VERBS:
        for prefix in prefixes:
            requests.append({"verb": verb, "metadataPrefix": prefix})
            requests.append({"verb": verb, "metadataPrefix": prefix, "from": "2026-01-01T00:00:02Z",
                             "until": "2026-01-01T00:00:04Z"})
            requests.append({"verb": verb, "metadataPrefix": prefix, "until": "2026-01-01"})
            requests.extend({"verb": verb, "metadataPrefix": prefix, "set": spec} for spec in specs)
    return requests


def _body(client, params: dict[str, str], oai_schema) -> bytes:
    response = client.get("/oai", query_string=params)
    check_response(response, oai_schema)
    return response.data


def _walk(client, params: dict[str, str], oai_schema) -> list[tuple[str, bytes]]:
    """One request, and for a list every page after it: (label, body) each."""
    label = "&".join(f"{k}={v}" for k, v in params.items())
    pages = [(label, _body(client, params, oai_schema))]
    for page in range(1, 1000):
        token = re.search(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>", pages[-1][1])
        if token is None:
            return pages
        follow = {"verb": params["verb"], "resumptionToken": token.group(1).decode()}
        pages.append((f"{label} page {page + 1}", _body(client, follow, oai_schema)))
    raise AssertionError(f"{label}: more than 1000 pages")


def test_responses_are_byte_identical_to_the_recording(loaded, client, runner, oai_schema, monkeypatch):
    # Tokens carry their signing time; freeze it so a token's bytes do not depend on the run.
    monkeypatch.setattr(itsdangerous.TimestampSigner, "get_timestamp", lambda self: SIGNED_AT)
    identifiers = _identifiers(client, oai_schema)
    withdraw(runner, identifiers[1])
    # Tokens carry the database's epoch, drawn at random when it is made: fix it.
    with sqlite3.connect(loaded.config["DATABASE"]) as conn:
        conn.execute("UPDATE timeline SET epoch = ?", (GOLDEN_EPOCH,))
    prefixes = list(FORMATS)
    specs = _specs(client, oai_schema)
    seen: dict[str, str] = {}
    for params in _script(identifiers, prefixes, specs):
        for label, body in _walk(client, params, oai_schema):
            seen[label] = hashlib.sha256(body).hexdigest()
    if os.environ.get("OAISERVER_GOLDEN_WRITE"):
        RECORDING.write_text(json.dumps(seen, indent=1, sort_keys=True) + "\n")
        pytest.skip(f"recorded {len(seen)} responses in {RECORDING.name}")
    recorded = json.loads(RECORDING.read_text())
    changed = sorted(label for label in recorded.keys() & seen.keys() if recorded[label] != seen[label])
    assert not changed, f"{len(changed)} responses changed, e.g. {changed[:5]}"
    assert sorted(seen) == sorted(recorded), "the script's pages differ from the recording"


def _identifiers(client, oai_schema) -> list[str]:
    body = b"".join(b for _, b in _walk(client, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"},
                                         oai_schema))
    return sorted(i.decode() for i in re.findall(rb"<identifier>([^<]+)</identifier>", body))


def _specs(client, oai_schema) -> list[str]:
    body = b"".join(b for _, b in _walk(client, {"verb": "ListSets"}, oai_schema))
    return sorted(s.decode() for s in re.findall(rb"<setSpec>([^<]+)</setSpec>", body))
