"""OAI-PMH 2.0 protocol cases for every verb and error (each response schema-validated)."""
from __future__ import annotations

import gzip
import zlib

import pytest
from lxml import etree

from conftest import (BASE_URL, GOOD_SAMPLES, NS, REPOSITORY_IDENTIFIER, error_codes, harvest,
                      identifiers, token_of)
from issues import A, write_issue

JOURNAL = "1234-5679"


@pytest.fixture
def loaded(app, ingest, tmp_path, clock):
    """The shared samples plus a generated issue of 7 articles, ingested one second apart."""
    for sample in GOOD_SAMPLES:
        ingest(sample)
        clock.advance(1)
    ingest(write_issue(tmp_path / "gen.xml", [A(f"G-{i}") for i in range(7)], volume="9", number="3"))
    clock.advance(60)
    return app


def total_records(app) -> int:
    from oaiserver.db import connect_reader

    return connect_reader(app.config["DATABASE"]).execute("SELECT COUNT(*) FROM records").fetchone()[0]


# --- badVerb -------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["", "verb=Foo", "verb=Identify&verb=Identify", "verb=identify",
                                   "verb=", "verb=ListRecords&verb=Identify"])
def test_bad_verb(client, oai_schema, query):
    """§3.6: a missing, unknown or repeated verb is badVerb, with no request attributes."""
    from conftest import check_response

    tree = check_response(client.get(f"/oai?{query}"), oai_schema)
    assert error_codes(tree) == ["badVerb"]
    request = tree.find("o:request", NS)
    assert request.attrib == {} and request.text == BASE_URL


# --- badArgument ---------------------------------------------------------------------

BAD_ARGUMENTS = [
    {"verb": "Identify", "set": "x"},
    {"verb": "ListMetadataFormats", "metadataPrefix": "oai_dc"},
    {"verb": "ListSets", "from": "2020-01-01"},
    {"verb": "GetRecord", "identifier": "oai:x:y"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
    {"verb": "ListRecords"},
    {"verb": "ListIdentifiers", "from": "2020-01-01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-13-01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2021-02-30"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01T00:00:00"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01T00:00Z"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01", "until": "2020-01-02T00:00:00Z"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2021-01-01", "until": "2020-01-01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "abc"},
    {"verb": "ListIdentifiers", "resumptionToken": "abc", "set": "journal"},
    {"verb": "ListRecords", "metadataPrefix": ""},
    {"verb": "ListRecords", "metadataPrefix": "oai dc"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "bad set!"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "journal:"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "has space"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "bogus": "1"},
]


@pytest.mark.parametrize("params", BAD_ARGUMENTS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_argument(oai, params, method):
    """§3.6: illegal, missing or malformed arguments are badArgument; request has no attributes."""
    tree = oai(method, **params)
    assert set(error_codes(tree)) == {"badArgument"}
    assert tree.find("o:request", NS).attrib == {}


def test_repeated_argument(client, oai_schema):
    """§3.6: a repeated argument is badArgument."""
    from conftest import check_response

    tree = check_response(
        client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&metadataPrefix=oai_dc"), oai_schema
    )
    assert error_codes(tree) == ["badArgument"]


def test_several_bad_arguments_reported_together(client, oai_schema):
    """§3.6: several errors in one request are all reported."""
    from conftest import check_response

    tree = check_response(client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc&a=1&b=2"), oai_schema)
    assert error_codes(tree) == ["badArgument", "badArgument"]


# --- Identify ------------------------------------------------------------------------

def test_identify(loaded, oai):
    """§4.2: every required element, true earliestDatestamp, oai-identifier consistent with records."""
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
    assert tree.find("o:request", NS).attrib == {"verb": "Identify"}


def test_identify_on_empty_repository(oai):
    """§4.2: an empty repository still answers Identify validly."""
    assert oai(verb="Identify").find("o:Identify", NS) is not None


def test_get_and_post_answer_alike(loaded, client):
    """§3.1.1: GET and POST give the same answer."""
    for params in ({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, {"verb": "ListSets"},
                   {"verb": "GetRecord", "metadataPrefix": "jats", "identifier": "nope"}):
        got = client.get("/oai", query_string=params).data
        posted = client.post("/oai", data=params).data
        assert got == posted


# --- ListMetadataFormats -------------------------------------------------------------

def test_list_metadata_formats(loaded, oai):
    """§4.4: both formats with their schemas and namespaces."""
    tree = oai(verb="ListMetadataFormats")
    formats = {f.findtext("o:metadataPrefix", namespaces=NS): f for f in tree.iterfind(".//o:metadataFormat", NS)}
    assert set(formats) == {"oai_dc", "jats"}
    assert formats["jats"].findtext("o:metadataNamespace", namespaces=NS) == NS["j"]
    assert formats["jats"].findtext("o:schema", namespaces=NS) == (
        "https://jats.nlm.nih.gov/publishing/1.3/xsd/JATS-journalpublishing1-3-mathml3.xsd")


def test_list_metadata_formats_for_item(loaded, oai):
    """§4.4: with an identifier, the formats of that item; unknown items are idDoesNotExist."""
    identifier = identifiers(oai(verb="ListIdentifiers", metadataPrefix="oai_dc"))[0]
    tree = oai(verb="ListMetadataFormats", identifier=identifier)
    assert {e.text for e in tree.iterfind(".//o:metadataPrefix", NS)} == {"oai_dc", "jats"}
    assert tree.find("o:request", NS).get("identifier") == identifier
    missing = oai(verb="ListMetadataFormats", identifier="oai:arXiv.org:cs/0112017")
    assert error_codes(missing) == ["idDoesNotExist"]
    assert missing.find("o:request", NS).get("identifier") == "oai:arXiv.org:cs/0112017"


# --- GetRecord -----------------------------------------------------------------------

def test_get_record_both_formats(loaded, oai):
    """§4.1: a record in oai_dc and in JATS, header with sets."""
    identifier = f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972"
    dc = oai(verb="GetRecord", identifier=identifier, metadataPrefix="oai_dc")
    assert dc.find(".//oai_dc:dc", NS) is not None
    specs = [s.text for s in dc.iterfind(".//o:header/o:setSpec", NS)]
    assert {"journal", "journal:2008-8701", "journal:2008-8701:v18n2", "type:review-article",
            "subject:basic-sciences"} <= set(specs)
    jats = oai(verb="GetRecord", identifier=identifier, metadataPrefix="jats")
    assert jats.find(".//j:article", NS) is not None


@pytest.mark.parametrize("identifier,prefix,codes", [
    ("oai:other.org:1", "oai_dc", ["idDoesNotExist"]),
    (f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972", "marc21", ["cannotDisseminateFormat"]),
    ("oai:other.org:1", "marc21", ["cannotDisseminateFormat", "idDoesNotExist"]),
    ("urn:nbn:de:1111-2004033116", "oai_dc", ["idDoesNotExist"]),
    ("oai:journals.example.org:ü/ß", "oai_dc", ["idDoesNotExist"]),
])
def test_get_record_errors(loaded, oai, identifier, prefix, codes):
    """§4.1: unknown identifiers and formats, reported together, arguments echoed."""
    tree = oai(verb="GetRecord", identifier=identifier, metadataPrefix=prefix)
    assert sorted(error_codes(tree)) == codes
    assert tree.find("o:request", NS).attrib == {
        "verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix}


# --- ListRecords / ListIdentifiers ---------------------------------------------------

@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
@pytest.mark.parametrize("prefix", ["oai_dc", "jats"])
def test_full_harvest_with_tokens(loaded, oai, verb, prefix):
    """§3.5: following tokens yields every record once, in datestamp order, with a right cursor."""
    ids, pages = harvest(oai, verb, metadataPrefix=prefix)
    assert len(ids) == len(set(ids)) == total_records(loaded)
    size = 2 if verb == "ListRecords" else 3
    assert len(pages) == -(-len(ids) // size)
    for n, page in enumerate(pages):
        token = token_of(page)
        assert int(token.get("cursor")) == n * size
        assert int(token.get("completeListSize")) == len(ids)
        if n < len(pages) - 1:
            assert token.text and token.get("expirationDate")
        else:
            assert not token.text and token.get("expirationDate") is None


def test_list_records_carry_metadata(loaded, oai):
    """§4.5: each live record has metadata in the asked format."""
    tree = oai(verb="ListRecords", metadataPrefix="jats")
    for record in tree.iterfind(".//o:record", NS):
        assert record.find("o:metadata/j:article", NS) is not None


def test_exact_multiple_of_page_size_has_no_empty_page(app, ingest, tmp_path, oai):
    """§3.5: a total that is a multiple of the page size ends on a full page with an empty token."""
    ingest(write_issue(tmp_path / "four.xml", [A(f"F-{i}") for i in range(4)]))
    ids, pages = harvest(oai, metadataPrefix="oai_dc")
    assert len(ids) == 4 and len(pages) == 2
    assert token_of(pages[1]).text is None


def test_single_page_list_has_no_token(app, ingest, tmp_path, oai):
    """§3.5: a complete list in one response carries no resumptionToken."""
    ingest(write_issue(tmp_path / "one.xml", [A("ONE")]))
    assert token_of(oai(verb="ListRecords", metadataPrefix="oai_dc")) is None


def test_no_records_match(loaded, oai):
    """§3.6: an empty selection is noRecordsMatch, arguments echoed."""
    tree = oai(verb="ListRecords", metadataPrefix="oai_dc", from_="2030-01-01")
    assert error_codes(tree) == ["noRecordsMatch"]
    assert tree.find("o:request", NS).get("from") == "2030-01-01"
    assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="journal:0000-0000")) == ["noRecordsMatch"]
    assert error_codes(oai(verb="ListRecords", metadataPrefix="oai_dc", until="2025-12-31T23:59:59Z")) == ["noRecordsMatch"]


def test_unknown_format_in_list(loaded, oai):
    """§3.6: an unknown metadataPrefix is cannotDisseminateFormat."""
    assert error_codes(oai(verb="ListRecords", metadataPrefix="mods")) == ["cannotDisseminateFormat"]


@pytest.mark.parametrize("bounds,expected", [
    ({"from_": "2026-01-01T00:00:01Z", "until": "2026-01-01T00:00:01Z"}, 1),  # the second sample exactly
    ({"from_": "2026-01-01T00:00:00Z", "until": "2026-01-01T00:00:01Z"}, 2),
    ({"from_": "2026-01-01T00:00:02Z"}, 3 + 7),  # multi-article and the generated issue
    ({"until": "2026-01-01T00:00:00Z"}, 1),
    ({"from_": "2026-01-01", "until": "2026-01-01"}, None),  # day granularity: the whole day
    ({"from_": "2026-01-02"}, "none"),
])
def test_from_until_inclusive(loaded, oai, bounds, expected):
    """§3.3.1: from and until are inclusive, in both granularities."""
    ids, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", **bounds) if expected != "none" else ([], [])
    if expected == "none":
        assert error_codes(oai(verb="ListIdentifiers", metadataPrefix="oai_dc", **bounds)) == ["noRecordsMatch"]
    elif expected is None:
        assert len(ids) == total_records(loaded)
    else:
        datestamps = [d.text for p in harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", **bounds)[1]
                      for d in p.iterfind(".//o:datestamp", NS)]
        lo = bounds.get("from_", "0000")
        hi = bounds.get("until", "9999")
        assert all(lo <= d <= hi for d in datestamps)
        assert len(ids) == expected


def test_sets_are_hierarchical(loaded, oai):
    """§3.4 / design §3: a journal's set holds its issues' records; roots hold everything."""
    journal, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}")
    issue_a, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}:v9n3")
    issue_b, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set=f"journal:{JOURNAL}:v27n4")
    assert len(issue_a) == 7 and len(issue_b) == 3
    assert set(issue_a) | set(issue_b) <= set(journal)
    everything, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="journal")
    assert len(everything) == total_records(loaded)
    reviews, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="type:review-article")
    assert reviews == [f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972"]


def test_every_listed_set_is_harvestable(loaded, oai):
    """§4.6: ListSets with tokens; every set's harvest holds only records that carry its setSpec."""
    _, pages = harvest(oai, "ListSets")
    specs = [s.text for p in pages for s in p.iterfind(".//o:set/o:setSpec", NS)]
    assert len(specs) == len(set(specs)) > 10
    assert {"journal", "type", "subject"} <= set(specs)
    for spec in specs:
        if spec.count(":") == 0:
            continue
        parent = spec.rsplit(":", 1)[0]
        assert parent in specs, f"{spec} has no parent set"
        tree = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set=spec)
        for header in tree.iterfind(".//o:header", NS):
            assert spec in [s.text for s in header.iterfind("o:setSpec", NS)]


# --- resumption tokens ---------------------------------------------------------------

def test_token_reuse_and_earlier_token(loaded, oai):
    """§3.5: a token can be used again, and an earlier one still works after a later one."""
    first = oai(verb="ListRecords", metadataPrefix="oai_dc")
    t1 = token_of(first).text
    second = oai(verb="ListRecords", resumptionToken=t1)
    t2 = token_of(second).text
    oai(verb="ListRecords", resumptionToken=t2)
    again = oai(verb="ListRecords", resumptionToken=t1)
    assert identifiers(again) == identifiers(second)
    assert token_of(again).text == t2 or identifiers(oai(verb="ListRecords", resumptionToken=token_of(again).text))
    assert again.find("o:request", NS).attrib == {"verb": "ListRecords", "resumptionToken": t1}


@pytest.mark.parametrize("mangle", [
    lambda t: "garbage",
    lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"),
    lambda t: t[: len(t) // 2],
    lambda t: t + "x",
    lambda t: "." + t,
])
def test_tampered_tokens(loaded, oai, mangle):
    """§3.6: tampered or garbage tokens are badResumptionToken."""
    token = token_of(oai(verb="ListRecords", metadataPrefix="oai_dc")).text
    tree = oai(verb="ListRecords", resumptionToken=mangle(token))
    assert error_codes(tree) == ["badResumptionToken"]


def test_token_of_another_verb_or_key(loaded, oai, app):
    """§3.6: a ListIdentifiers token is no ListRecords token; another key's token is refused."""
    from oaiserver.tokens import ListState, TokenCodec

    token = token_of(oai(verb="ListIdentifiers", metadataPrefix="oai_dc")).text
    assert error_codes(oai(verb="ListRecords", resumptionToken=token)) == ["badResumptionToken"]
    forged, _ = TokenCodec("another-key", 3600).encode(ListState("ListRecords", "oai_dc", None, "", "9999"))
    assert error_codes(oai(verb="ListRecords", resumptionToken=forged)) == ["badResumptionToken"]


def test_expired_token(loaded, oai, app, monkeypatch):
    """§3.5: an expired token is badResumptionToken; expirationDate is in the future."""
    import time

    page = oai(verb="ListRecords", metadataPrefix="oai_dc")
    token = token_of(page)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + app.config["OAI_TOKEN_TTL"] + 5)
    assert error_codes(oai(verb="ListRecords", resumptionToken=token.text)) == ["badResumptionToken"]


def test_token_survives_a_restart(loaded, oai, config, monkeypatch, oai_schema):
    """design §5: a token made by one app instance works in another with the same key."""
    from conftest import check_response
    from oaiserver import create_app

    token = token_of(oai(verb="ListRecords", metadataPrefix="oai_dc")).text
    other = create_app(config).test_client()
    tree = check_response(other.get("/oai", query_string={"verb": "ListRecords", "resumptionToken": token}), oai_schema)
    assert identifiers(tree)


# --- deleted records -----------------------------------------------------------------

def test_withdrawn_record_everywhere(loaded, oai, runner):
    """§2.5: a deleted record is a header with status="deleted" in every verb and format."""
    identifier = f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972"
    result = runner.invoke(args=["withdraw", identifier])
    assert result.exit_code == 0 and "withdrawn" in result.output
    for prefix in ("oai_dc", "jats"):
        tree = oai(verb="GetRecord", identifier=identifier, metadataPrefix=prefix)
        header = tree.find(".//o:header", NS)
        assert header.get("status") == "deleted"
        assert tree.find(".//o:metadata", NS) is None
        ids, pages = harvest(oai, metadataPrefix=prefix)
        assert identifier in ids
        deleted = [h for p in pages for h in p.iterfind(".//o:header[@status='deleted']", NS)]
        assert [h.findtext("o:identifier", namespaces=NS) for h in deleted] == [identifier]
    in_set, _ = harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="journal:2008-8701:v18n2")
    assert identifier in in_set


# --- HTTP ----------------------------------------------------------------------------

@pytest.mark.parametrize("coding,decode", [("gzip", gzip.decompress), ("deflate", zlib.decompress)])
def test_compression(loaded, client, oai_schema, coding, decode):
    """Identify's compression values are really served."""
    response = client.get("/oai?verb=Identify", headers={"Accept-Encoding": coding})
    assert response.headers["Content-Encoding"] == coding
    oai_schema.assertValid(etree.fromstring(decode(response.data)))


def test_http_edges(client):
    """Root redirects to Identify, /healthz answers, unknown paths are 404, PUT is 405."""
    assert client.get("/").headers["Location"].endswith("/oai?verb=Identify")
    assert client.get("/healthz").data == b"ok\n"
    assert client.get("/nope").status_code == 404
    assert client.put("/oai?verb=Identify").status_code == 405


def test_non_ascii_and_encoded_arguments(loaded, oai, client, oai_schema):
    """Arguments are URL-decoded as UTF-8; non-ASCII identifiers are simply unknown."""
    from conftest import check_response

    tree = check_response(client.get("/oai?verb=GetRecord&metadataPrefix=oai%5Fdc&identifier=oai%3Ax%3A%D9%85"), oai_schema)
    assert error_codes(tree) == ["idDoesNotExist"]
    assert tree.find("o:request", NS).get("identifier") == "oai:x:م"
    tree = check_response(client.get("/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier=%FF%FE"), oai_schema)
    assert error_codes(tree) in (["idDoesNotExist"], ["badArgument"])
