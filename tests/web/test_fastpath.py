"""The fast /oai route answers exactly as the Flask view does, and leaves the rest to Flask."""
from __future__ import annotations

import pytest
from itsdangerous import TimestampSigner
from werkzeug.test import Client

from oaiserver.web.fastpath import OAIFastPath
from tests.helpers.oai import SAMPLES, check_response
from tests.helpers.issues import A, write_issue

# (method, path, query string, form body or None, extra headers)
REQUESTS = [
    ("GET", "/oai", "verb=Identify", None, {}),
    ("GET", "/oai", "verb=ListMetadataFormats", None, {}),
    ("GET", "/oai", "verb=ListSets", None, {}),
    ("GET", "/oai", "verb=ListRecords&metadataPrefix=oai_dc", None, {}),
    ("GET", "/oai", "verb=ListRecords&metadataPrefix=jats", None, {}),
    ("GET", "/oai", "verb=ListIdentifiers&metadataPrefix=oai_dc&from=2020-01-01", None, {}),
    ("GET", "/oai", "verb=ListRecords&metadataPrefix=oai_dc&set=nope", None, {}),
    ("GET", "/oai", "verb=GetRecord&metadataPrefix=oai_dc&identifier=oai%3Ax%3Ay", None, {}),
    ("GET", "/oai", "verb=Nope", None, {}),
    ("GET", "/oai", "", None, {}),
    ("GET", "/oai", "verb=Identify&verb=Identify", None, {}),
    ("GET", "/oai", "verb=ListRecords&resumptionToken=garbage", None, {}),
    ("GET", "/oai", "verb=GetRecord&metadataPrefix=oai_dc&identifier=%D8%B3%D9%84%D8%A7%D9%85", None, {}),
    ("GET", "/oai", "verb=GetRecord&metadataPrefix=oai_dc&identifier=%FF%FE", None, {}),
    ("GET", "/oai", "verb=Identify&x=a+b&y=&z", None, {}),
    ("GET", "/oai", "verb=Identify", None, {"Accept-Encoding": "gzip"}),
    ("GET", "/oai", "verb=Identify", None, {"Accept-Encoding": "deflate, gzip;q=0"}),
    ("GET", "/oai", "verb=Identify", None, {"Accept-Encoding": "br"}),
    ("GET", "/oai", "verb=Identify", None, {"Host": "mirror.example.org:8080"}),
    ("POST", "/oai", "", "verb=Identify", {}),
    ("POST", "/oai", "", "verb=ListRecords&metadataPrefix=oai_dc", {}),
    ("POST", "/oai", "verb=Identify", "verb=Identify", {}),  # repeated across URL and body
    ("POST", "/oai", "", "verb=ListRecords&metadataPrefix=oai_dc", {"Accept-Encoding": "gzip"}),
    # Flask's own answers: not plain enough for the fast route.
    ("POST", "/oai", "", '{"verb": "Identify"}', {"Content-Type": "application/json"}),
    ("POST", "/oai", "", "verb=Identify&pad=" + "x" * 70_000, {}),
    ("HEAD", "/oai", "verb=Identify", None, {}),
    ("PUT", "/oai", "verb=Identify", "verb=Identify", {}),
    ("GET", "/oai/", "verb=Identify", None, {}),
    ("GET", "/", "", None, {}),
    ("GET", "/healthz", "", None, {}),
]


@pytest.fixture
def served(app, ingest, clock, monkeypatch, tmp_path):
    """An app with two issues ingested, a frozen clock and frozen token signing times."""
    ingest(SAMPLES / "nkums-v18n2.xml")
    write_issue(tmp_path / "small.xml", [A("S-1"), A("S-2"), A("S-3")], volume="3", number="1")
    ingest(tmp_path / "small.xml")
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: 1_767_225_600)
    return app


def _call(wsgi, method, path, query, body, headers):
    headers = {"Content-Type": "application/x-www-form-urlencoded", **headers} if body else headers
    response = Client(wsgi).open(path, method=method, query_string=query, data=body, headers=headers)
    return response.status, list(response.headers.items()), response.get_data()


@pytest.mark.parametrize("request_", REQUESTS, ids=[f"{r[0]} {r[1]}?{r[2][:40]}" for r in REQUESTS])
def test_same_response_as_the_flask_view(served, request_):
    fast = served.wsgi_app
    assert isinstance(fast, OAIFastPath)
    assert _call(served, *request_) == _call(fast.fallback, *request_)


def test_tokens_resume_the_same_way(served, oai_schema):
    first = Client(served).get("/oai", query_string="verb=ListRecords&metadataPrefix=oai_dc")
    tree = check_response(first, oai_schema)
    token = tree.findtext(".//{http://www.openarchives.org/OAI/2.0/}resumptionToken")
    assert token
    query = {"verb": "ListRecords", "resumptionToken": token}
    for method in ("GET", "POST"):
        request_ = (method, "/oai", query if method == "GET" else "", None, {})
        if method == "POST":
            request_ = (method, "/oai", "", f"verb=ListRecords&resumptionToken={token}", {})
        assert _call(served, *request_) == _call(served.wsgi_app.fallback, *request_)


def _counting_fallback(app):
    fast = app.wsgi_app
    calls = []
    inner = fast.fallback

    def fallback(environ, start_response):
        calls.append(environ["REQUEST_METHOD"])
        return inner(environ, start_response)

    fast.fallback = fallback
    return calls


def test_plain_requests_never_reach_flask(served):
    calls = _counting_fallback(served)
    client = Client(served)
    assert client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc").status_code == 200
    assert client.post("/oai", data={"verb": "Identify"}).status_code == 200
    assert calls == []
    assert client.head("/oai?verb=Identify").status_code == 200
    assert calls == ["HEAD"]


def test_unexpected_failure_gets_flasks_generic_page(app, tmp_path):
    (tmp_path / "db-is-a-folder").mkdir()
    app.config["DATABASE"] = str(tmp_path / "db-is-a-folder")
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = Client(app).get("/oai?verb=Identify")
    assert response.status_code == 500
    assert response.get_data() == b"500 Internal Server Error\n"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_busy_process_answers_503(served):
    slots = served.extensions["oaiserver.slots"]
    taken = 0
    while slots.take():
        taken += 1
    try:
        response = Client(served).get("/oai?verb=Identify")
        assert response.status_code == 503
        assert response.headers["Retry-After"] == str(served.config["OAI_RETRY_AFTER"])
    finally:
        for _ in range(taken):
            slots.give_back()
