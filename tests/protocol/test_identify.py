"""OAI-PMH §4.2 Identify: the repository's description."""
from __future__ import annotations

import pytest

from tests.helpers.oai import BASE_URL, NS, REPOSITORY_IDENTIFIER, check_response, error_codes, harvest, identifiers
from tests.helpers.protocol import datestamps, get, other_app_client, request_attrs, withdraw


def identify(oai, **params):
    """Return the <Identify> element of a successful Identify response."""
    tree = oai(verb="Identify", **params)
    assert error_codes(tree) == []
    return tree.find("o:Identify", NS)


def test_identify(loaded, oai):
    """§4.2: every required element, the true earliestDatestamp, an oai-identifier that resolves."""
    tree = oai(verb="Identify")
    ident = tree.find("o:Identify", NS)
    assert ident.findtext("o:baseURL", namespaces=NS) == BASE_URL
    assert ident.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DDThh:mm:ssZ"
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == "2026-01-01T00:00:00Z"
    assert [c.text for c in ident.findall("o:compression", NS)] == ["gzip", "deflate"]
    assert ident.findtext(".//id:repositoryIdentifier", namespaces=NS) == REPOSITORY_IDENTIFIER
    sample = ident.findtext(".//id:sampleIdentifier", namespaces=NS)
    assert sample.startswith(f"oai:{REPOSITORY_IDENTIFIER}:")
    record = oai(verb="GetRecord", identifier=sample, metadataPrefix="oai_dc")
    assert identifiers(record) == [sample]
    assert request_attrs(tree) == {"verb": "Identify"}


def test_identify_on_empty_repository(oai):
    """§4.2: an empty repository still answers Identify with a legal earliestDatestamp."""
    ident = identify(oai)
    assert ident.findtext("o:earliestDatestamp", namespaces=NS).endswith("Z")
    assert ident.findtext(".//id:sampleIdentifier", namespaces=NS).startswith(f"oai:{REPOSITORY_IDENTIFIER}:")


def test_earliest_datestamp_is_a_lower_bound(loaded, oai, runner, clock):
    """§4.2: earliestDatestamp is the lowest datestamp of any record, deleted ones included."""
    first = identifiers(oai(verb="ListIdentifiers", metadataPrefix="oai_dc"))[0]
    clock.advance(5)
    withdraw(runner, first)
    earliest = identify(oai).findtext("o:earliestDatestamp", namespaces=NS)
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    assert earliest == min(datestamps(pages))
    assert earliest == "2026-01-01T00:00:01Z"


def test_every_identifier_has_the_declared_syntax(loaded, oai):
    """§4.2 / §2.4: the oai-identifier description matches every identifier served."""
    ident = identify(oai)
    scheme = ident.findtext(".//id:scheme", namespaces=NS)
    delimiter = ident.findtext(".//id:delimiter", namespaces=NS)
    repository = ident.findtext(".//id:repositoryIdentifier", namespaces=NS)
    ids, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")
    prefix = f"{scheme}{delimiter}{repository}{delimiter}"
    assert ids and all(i.startswith(prefix) and len(i) > len(prefix) for i in ids)


def test_several_admin_emails(config, oai_schema):
    """§4.2: adminEmail is repeatable; every configured address is listed in order."""
    emails = ["oai@journals.example.org", "help@journals.example.org"]
    tree = get(other_app_client(config, OAI_ADMIN_EMAILS=emails), oai_schema, verb="Identify")
    assert [e.text for e in tree.iterfind(".//o:adminEmail", NS)] == emails


def test_base_url_defaults_to_the_request_url(config, oai_schema):
    """§4.2: without a configured base URL, baseURL and <request> are the URL that was asked."""
    other = other_app_client(config, OAI_BASE_URL="")
    tree = check_response(other.get("/oai?verb=Identify", base_url="https://repo.example.net"), oai_schema)
    assert tree.findtext(".//o:baseURL", namespaces=NS) == "https://repo.example.net/oai"
    assert tree.findtext("o:request", namespaces=NS) == "https://repo.example.net/oai"


def test_base_url_follows_each_request(config, oai_schema):
    """Without a configured base URL, each request gets its own URL, also when one server is asked by several names in turn."""
    other = other_app_client(config, OAI_BASE_URL="")
    for base in ["https://repo.example.net", "http://mirror.example.org:8080", "https://repo.example.net/journal"] * 2:
        tree = check_response(other.get("/oai?verb=Identify", base_url=base), oai_schema)
        assert tree.findtext(".//o:baseURL", namespaces=NS) == f"{base}/oai"


def test_no_compression_offered(config, oai_schema):
    """§4.2 / §3.1.3: with compression switched off, Identify lists none and none is used."""
    other = other_app_client(config, OAI_COMPRESSION=[])
    response = other.get("/oai?verb=Identify", headers={"Accept-Encoding": "gzip, deflate"})
    assert "Content-Encoding" not in response.headers
    assert check_response(response, oai_schema).find(".//o:compression", NS) is None


@pytest.mark.parametrize("params", [
    {"set": "x"},
    {"metadataPrefix": "oai_dc"},
    {"identifier": f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/G-1"},
    {"resumptionToken": "x"},
    {"from": "2020-01-01"},
], ids=lambda p: next(iter(p)))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_identify_takes_no_arguments(oai, params, method):
    """§4.2: Identify has no arguments; any argument is badArgument, <request> bare."""
    tree = oai(method, verb="Identify", **params)
    assert error_codes(tree) == ["badArgument"]
    assert request_attrs(tree) == {}
