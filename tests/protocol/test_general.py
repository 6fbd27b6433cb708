"""OAI-PMH §3.1 HTTP embedding, §3.2 the XML response and §3.6 errors, for every verb."""
from __future__ import annotations

import gzip
import re
import zlib

import pytest
from lxml import etree

from tests.helpers.oai import BASE_URL, NS, check_response, error_codes, identifiers
from tests.helpers.protocol import REVIEW, request_attrs

LIST_QUERY = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}


@pytest.mark.parametrize("query", ["", "verb=Foo", "verb=Identify&verb=Identify", "verb=identify",
                                   "verb=", "verb=ListRecords&verb=Identify", "verb=Foo&metadataPrefix=oai_dc",
                                   "metadataPrefix=oai_dc", "verb=%20Identify"])
def test_bad_verb(raw, query):
    """§3.6: a missing, unknown, misspelt or repeated verb is badVerb, <request> without attributes."""
    tree = raw(query)
    assert error_codes(tree) == ["badVerb"]
    assert request_attrs(tree) == {} and tree.findtext("o:request", namespaces=NS) == BASE_URL


def test_repeated_argument(raw):
    """§3.6: a repeated argument is badArgument."""
    assert error_codes(raw("verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc")) == ["badArgument"]


def test_several_bad_arguments_reported_together(raw):
    """§3.6: several errors in one request are all reported."""
    assert error_codes(raw("verb=ListRecords&metadataPrefix=oai_dc&a=1&b=2")) == ["badArgument", "badArgument"]


def test_get_and_post_answer_alike(loaded, client, oai_schema):
    """§3.1.1: GET and POST (application/x-www-form-urlencoded) give the same answer."""
    for params in (LIST_QUERY, {"verb": "ListSets"}, {"verb": "Identify"},
                   {"verb": "GetRecord", "metadataPrefix": "jats", "identifier": "nope"}):
        got, posted = client.get("/oai", query_string=params), client.post("/oai", data=params)
        check_response(got, oai_schema)
        assert got.data == posted.data


def test_post_body_with_charset_and_non_ascii(loaded, client, oai_schema):
    """§3.1.1.2: a form body with an explicit UTF-8 charset and percent-encoded Persian letters."""
    response = client.post("/oai", data="verb=GetRecord&metadataPrefix=oai_dc&identifier=oai%3Ax%3A%D9%85%D9%87",
                           content_type="application/x-www-form-urlencoded; charset=UTF-8")
    tree = check_response(response, oai_schema)
    assert error_codes(tree) == ["idDoesNotExist"]
    assert request_attrs(tree)["identifier"] == "oai:x:مه"


def test_post_without_a_form_body(loaded, client, oai_schema):
    """§3.1.1.2: a POST whose body is not a form carries no verb: badVerb, not a server error."""
    response = client.post("/oai", data='{"verb": "Identify"}', content_type="application/json")
    assert error_codes(check_response(response, oai_schema)) == ["badVerb"]


@pytest.mark.parametrize("coding,decode", [("gzip", gzip.decompress), ("deflate", zlib.decompress)])
def test_compression(loaded, client, oai_schema, coding, decode):
    """§3.1.3: the compression values Identify lists are really served when accepted."""
    response = client.get("/oai", query_string=LIST_QUERY, headers={"Accept-Encoding": coding})
    assert response.headers["Content-Encoding"] == coding and "Accept-Encoding" in response.headers["Vary"]
    oai_schema.assertValid(etree.fromstring(decode(response.data)))


def test_identity_encoding(loaded, client, oai_schema):
    """§3.1.3: without Accept-Encoding (or with identity only) the response is not compressed."""
    for headers in ({}, {"Accept-Encoding": "identity"}, {"Accept-Encoding": "gzip;q=0, deflate;q=0"}):
        response = client.get("/oai?verb=Identify", headers=headers)
        assert "Content-Encoding" not in response.headers, headers
        check_response(response, oai_schema)


def test_http_edges(client):
    """§3.1: root redirects to Identify, /healthz answers, unknown paths are 404, PUT is 405."""
    assert client.get("/").headers["Location"].endswith("/oai?verb=Identify")
    assert client.get("/healthz").data == b"ok\n"
    assert client.get("/nope").status_code == 404
    assert client.put("/oai?verb=Identify").status_code == 405


def test_non_ascii_and_encoded_arguments(loaded, raw):
    """§3.1.1.1: arguments are URL-decoded as UTF-8; non-ASCII identifiers are simply unknown."""
    tree = raw("verb=GetRecord&metadataPrefix=oai%5Fdc&identifier=oai%3Ax%3A%D9%85")
    assert error_codes(tree) == ["idDoesNotExist"]
    assert request_attrs(tree)["identifier"] == "oai:x:م"
    assert error_codes(raw("verb=GetRecord&metadataPrefix=oai_dc&identifier=%FF%FE")) in (
        ["idDoesNotExist"], ["badArgument"])


@pytest.mark.parametrize("query,count", [
    ("verb=List%52ecords&metadataPrefix=oai_dc&set=journal%3A2008-8701", 1),
    ("verb=ListIdentifiers&metadataPrefix=oai_dc&from=2026-01-01T00%3A00%3A02Z&until=2026-01-01T00%3A00%3A02Z", 3),
    ("verb=ListIdentifiers&metadataPrefix=%6F%61%69%5F%64%63&set=type%3Areview-article", 1),
])
def test_percent_encoded_arguments(loaded, raw, query, count):
    """§3.1.1.1: reserved characters (":") and plain letters may arrive percent-encoded."""
    assert len(identifiers(raw(query))) == count


@pytest.mark.parametrize("identifier", [
    "oai%3Ax%3A%25ZZ", "oai%3Ax%3Aa%23b%23c", "oai%3Ax%3A%5B", "oai%3Ax%3Aa%5D", "oai%3Ax%3A%25",
    "1abc%3Ax", "http%3A%2F%2Fa%3A99999999999%2F", "http%3A%2F%2F%5B1.2.3.4%5D%2F",
])
@pytest.mark.parametrize("verb", ["GetRecord&metadataPrefix=oai_dc", "ListMetadataFormats"])
def test_identifiers_that_are_not_uris_are_bad_arguments(loaded, raw, verb, identifier):
    """§3.6: an identifier is a URI (xs:anyURI in the schema): anything else is badArgument, not echoed."""
    tree = raw(f"verb={verb}&identifier={identifier}")  # `raw` checks the response against the schema
    assert error_codes(tree) == ["badArgument"]
    assert request_attrs(tree) == {}


@pytest.mark.parametrize("identifier", ["oai%3Ax%3A%25E2%2582%25AC", "oai%3Ax%3Aa%3Fb%3Fc%23d", "journal",
                                        "oai%3Ax%3A%D9%85%E2%80%8C", "http%3A%2F%2F%5B%3A%3A1%5D%2Fx"])
def test_unusual_uris_are_unknown_identifiers(loaded, raw, identifier):
    """Percent-escapes, queries, fragments, relative references, IRIs and IPv6 hosts are URIs."""
    tree = raw(f"verb=GetRecord&metadataPrefix=oai_dc&identifier={identifier}")
    assert error_codes(tree) == ["idDoesNotExist"]
    assert "identifier" in request_attrs(tree)


@pytest.mark.parametrize("query", [
    "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:x:a+b",
    "verb=GetRecord&metadataPrefix=oai_dc&identifier=%01",
    "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + "x" * 5000,
    "verb=ListRecords&metadataPrefix=oai_dc&%3Cx%3E=1",
    "verb=ListRecords&metadataPrefix=oai_dc&set=a%00b",
])
def test_illegal_values_are_bad_arguments(loaded, raw, query):
    """§3.6: spaces ("+"), control characters, huge values and odd names: badArgument, valid XML."""
    tree = raw(query)
    assert set(error_codes(tree)) == {"badArgument"}
    assert request_attrs(tree) == {}


def test_response_envelope(loaded, client, clock, oai_schema):
    """§3.2: UTF-8 XML, responseDate is the time of the response in UTC, <request> is the base URL."""
    response = client.get("/oai", query_string={"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": REVIEW})
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    tree = check_response(response, oai_schema)
    assert tree.findtext("o:responseDate", namespaces=NS) == clock().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert tree.findtext("o:request", namespaces=NS) == BASE_URL
    location = tree.get("{http://www.w3.org/2001/XMLSchema-instance}schemaLocation").split()
    assert location == [NS["o"], "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"]


def test_error_messages_are_readable(loaded, raw):
    """§3.6: every error element carries a human-readable message."""
    for query in ("verb=Nope", "verb=ListRecords", "verb=GetRecord&metadataPrefix=x&identifier=y",
                  "verb=ListRecords&resumptionToken=bad", "verb=ListRecords&metadataPrefix=oai_dc&from=2099-01-01"):
        for error in raw(query).iterfind("o:error", NS):
            assert re.search(r"\w{3}", error.text or ""), query
