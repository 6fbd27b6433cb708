"""Property-based fuzzing of /oai: query strings, POST bodies and resumption tokens.

Whatever arrives, the answer is a schema-valid OAI-PMH response (HTTP 200) or a 4xx for
transport-level garbage; never a 500, never a stack trace or a server path in the body, and
the database is never written.
"""
from __future__ import annotations

import base64
import json
import sqlite3
import typing as t
import urllib.parse

import itsdangerous
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from werkzeug.datastructures import MultiDict

from tests.helpers.oai import GOOD_SAMPLES, NS, REPO, REPOSITORY_IDENTIFIER, token_of
from tests.helpers.issues import A, write_issue

SECRET = "fuzz-secret-key"
FUZZ = settings(max_examples=250, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VERBS = ["Identify", "ListMetadataFormats", "ListSets", "GetRecord", "ListIdentifiers", "ListRecords"]
ARGUMENTS = ["verb", "metadataPrefix", "from", "until", "set", "identifier", "resumptionToken"]
IDENTIFIER = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/Z-1"


class Served(t.NamedTuple):
    client: t.Any
    schema: etree.XMLSchema
    tokens: list[tuple[str, str]]  # (verb, token) from real harvests
    leaks: list[bytes]  # strings that must never appear in a response
    database: str


@pytest.fixture(scope="module")
def served(tmp_path_factory, oai_schema) -> t.Iterator[Served]:
    """An app on the samples plus a 7-article issue, small pages, and tokens from real harvests."""
    from oaiserver import create_app
    from oaiserver.web import limits

    root = tmp_path_factory.mktemp("fuzz")
    config = {
        "TESTING": True,  # an exception inside a view fails the test loudly
        "SECRET_KEY": SECRET, "DATABASE": str(root / "oai.sqlite3"),
        "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_IDENTIFIER, "OAI_BASE_URL": "http://oai.test/oai",
        "OAI_PAGE_SIZE": 2, "OAI_IDENTIFIERS_PAGE_SIZE": 3,
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OAISERVER_INSTANCE_PATH", str(root / "instance"))
        app = create_app(config)
    limits.init_app(app)
    extra = write_issue(root / "extra.xml", [A(f"Z-{i}") for i in range(7)], volume="3", number="1")
    result = app.test_cli_runner().invoke(args=["ingest", *map(str, GOOD_SAMPLES), extra])
    assert result.exit_code == 0, result.output
    client = app.test_client()
    tokens = []
    for verb, args in (("ListRecords", {"metadataPrefix": "oai_dc"}), ("ListIdentifiers", {"metadataPrefix": "jats"}),
                       ("ListSets", {})):
        tree = etree.fromstring(client.get("/oai", query_string={"verb": verb, **args}).data)
        while (token := token_of(tree)) is not None and token.text:
            tokens.append((verb, token.text))
            tree = etree.fromstring(client.get("/oai", query_string={"verb": verb, "resumptionToken": token.text}).data)
    assert len(tokens) >= 5
    leaks = [b"Traceback", b'File "', str(REPO).encode(), str(root).encode(), SECRET.encode(), b"sqlite3."]
    before = digest(config["DATABASE"])
    yield Served(client, oai_schema, tokens, leaks, config["DATABASE"])
    assert digest(config["DATABASE"]) == before, "a request changed the database"


def digest(database: str) -> bytes:
    """The database content, to prove that requests never write."""
    conn = sqlite3.connect(database)
    try:
        return "\n".join(line for line in conn.iterdump() if not line.startswith("INSERT INTO sqlite_stat")).encode()
    finally:
        conn.close()


def check(served: Served, response) -> etree._Element | None:
    """A schema-valid OAI response (returned as a tree) or a 4xx; never a 5xx or a leak."""
    body = response.get_data()
    assert response.status_code < 500, body[:500]
    for leak in served.leaks:
        assert leak not in body, (leak, body[:500])
    if response.status_code != 200:
        assert 400 <= response.status_code < 500 and response.mimetype == "text/plain", response.status
        return None
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    tree = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    assert served.schema.validate(tree), (str(served.schema.error_log), body[:600])
    return tree


# ---------------------------------------------------------------------------- strategies

def _huge() -> st.SearchStrategy[str]:
    return st.builds(lambda c, n: c * n, st.characters(codec="utf-8"), st.integers(2_000, 70_000))


VALUES = st.one_of(
    st.sampled_from(VERBS + ["oai_dc", "jats", "nope", "2026-01-01", "2026-01-01T00:00:00Z", "2026-13-45",
                             "0000-00-00", "2026-01-01T00:00:00", "9999-12-31T23:59:59Z", IDENTIFIER,
                             IDENTIFIER + "x", "journal", "journal:1234-5679", "a::b", ":", "", " ", "\x00"]),
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
    _huge(),
)
NAMES = st.one_of(st.sampled_from(ARGUMENTS), st.text(max_size=12))
RAW = st.one_of(st.binary(max_size=60), VALUES.map(lambda s: s.encode("utf-8", "surrogatepass")))
JUNK = st.sampled_from(["&", "&&", "=", "==", ";", "%", "%zz", "%0", "%%", "+", "?", "#", "%00", "%ff%fe", "%C0%AF"])


@st.composite
def query_strings(draw) -> str:
    """Percent-encoded query strings from random bytes, with repeated and junk parts."""
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.integers(0, 9))
        if kind == 0:
            parts.append(draw(JUNK))
            continue
        name = draw(NAMES).encode("utf-8", "surrogatepass") if kind < 7 else draw(RAW)
        value = draw(RAW)
        parts.append(urllib.parse.quote_from_bytes(name) + "=" + urllib.parse.quote_from_bytes(value))
    return "&".join(parts)


def forms() -> st.SearchStrategy[list[tuple[str, str]]]:
    """Argument lists for a form body: known and random names, repeats allowed."""
    verb = st.tuples(st.just("verb"), st.one_of(st.sampled_from(VERBS), VALUES))
    pair = st.tuples(NAMES, VALUES)
    return st.builds(lambda v, rest: [v, *rest], verb, st.lists(pair, max_size=6))


# ---------------------------------------------------------------------------- tests

@FUZZ
@given(qs=query_strings())
def test_fuzzed_query_strings(served, qs):
    """GET with arbitrary percent-encoded bytes: an OAI answer or a 4xx, never a 500."""
    check(served, served.client.get("/oai", query_string=qs))


@FUZZ
@given(args=forms())
@example(args=[("verb", "GetRecord"), ("identifier", "oai:journals.example.org:1234-5679/مقاله\u200cها"),
               ("metadataPrefix", "oai_dc")])
@example(args=[("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")])
def test_fuzzed_get_and_post_arguments(served, args):
    """The same argument list by GET and POST gives the same answer (bar responseDate)."""
    get = check(served, served.client.get("/oai", query_string=MultiDict(args)))
    post = check(served, served.client.post("/oai", data=MultiDict(args)))
    if get is not None and post is not None:
        assert _without_date(get) == _without_date(post)


def _without_date(tree: etree._Element) -> bytes:
    tree.find("o:responseDate", NS).text = ""
    for token in tree.iterfind(".//o:resumptionToken", NS):  # a token carries its issue time
        token.attrib.pop("expirationDate", None)
        token.text = ""
    return etree.tostring(tree)


# Arguments that pass a loose syntax check but break a stricter one: URI-significant characters
# (a second "#", a bare "%", brackets), non-ASCII digits in dates, unicode in setSpecs. Whatever
# the server echoes of them in <request> must stay valid against the schema's types.
URI_ALPHABET = st.sampled_from(list(":/?#[]@!$&'()*+,;=%-._~") + list("09afAFxyz") + ["é", "م", "\u200c", "１"])
IDENTIFIERS = st.one_of(
    st.builds(lambda scheme, rest: scheme + rest, st.sampled_from(["oai:x:", "oai:", "http://", "x:", "", "1:", "//"]),
              st.text(URI_ALPHABET, max_size=14)),
    st.text(URI_ALPHABET, min_size=1, max_size=14),
)
DIGITS = st.sampled_from(list("0123456789") * 4 + list("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩０１２３４５６７８９"))


@st.composite
def dates(draw) -> str:
    """Dates in (or near) the two legal forms, with digits from several scripts and odd fields."""
    template = draw(st.sampled_from(["dddd-dd-dd", "dddd-dd-ddTdd:dd:ddZ", "dddd-dd-ddTdd:ddZ", "dddd-dd-ddTdd:dd:dd"]))
    text = "".join(draw(DIGITS) if c == "d" else c for c in template)
    if draw(st.booleans()):  # a real date with one field at an edge (month 13, hour 24, second 60...)
        text = draw(st.sampled_from(["2024-02-29", "2023-02-29", "2026-13-01", "2026-00-10", "0000-01-01"]))
        if draw(st.booleans()):
            text += "T" + draw(st.sampled_from(["23:59:60Z", "24:00:00Z", "00:00:00Z", "12:60:00Z"]))
    return text


SET_SPECS = st.text(st.sampled_from(list("ab09-_.!~*'():") + ["é", "۲", " ", "%", "/"]), min_size=1, max_size=12)


@FUZZ
@given(verb=st.sampled_from(["GetRecord", "ListMetadataFormats"]), identifier=IDENTIFIERS)
@example(verb="GetRecord", identifier="oai:x:%ZZ")
@example(verb="GetRecord", identifier="oai:x:a#b#c")
@example(verb="ListMetadataFormats", identifier="oai:x:[")
def test_uri_breaking_identifiers(served, verb, identifier):
    """Any identifier gives a schema-valid answer: echoed only when it is a URI."""
    args = {"verb": verb, "identifier": identifier}
    if verb == "GetRecord":
        args["metadataPrefix"] = "oai_dc"
    assert check(served, served.client.get("/oai", query_string=args)) is not None


@FUZZ
@given(verb=st.sampled_from(["ListRecords", "ListIdentifiers"]), from_=st.none() | dates(), until=st.none() | dates(),
       set_spec=st.none() | SET_SPECS)
@example(verb="ListRecords", from_=None, until="۲020-01-01T00:00:00Z", set_spec=None)
@example(verb="ListIdentifiers", from_="2020-01-01T23:59:60Z", until=None, set_spec="é")
def test_odd_dates_and_set_specs(served, verb, from_, until, set_spec):
    """Any from, until and set give a schema-valid answer; a list never outlives its until."""
    args = {"verb": verb, "metadataPrefix": "oai_dc", "from": from_, "until": until, "set": set_spec}
    tree = check(served, served.client.get("/oai", query_string={k: v for k, v in args.items() if v is not None}))
    assert tree is not None
    if until is not None and until.isascii():
        bound = until if "T" in until else until + "T23:59:59Z"
        assert all(d.text <= bound for d in tree.iterfind(".//o:header/o:datestamp", NS))


CONTENT_TYPES = st.sampled_from([
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-16",
    "application/x-www-form-urlencoded; charset=klingon", "multipart/form-data; boundary=xyz",
    "multipart/form-data", "text/plain", "application/json", "application/xml", "",
])


@FUZZ
@given(body=st.one_of(st.binary(max_size=3000), query_strings().map(str.encode),
                      st.integers(60_000, 200_000).map(lambda n: b"verb=Identify&x=" + b"a" * n)),
       content_type=CONTENT_TYPES)
def test_fuzzed_post_bodies(served, body, content_type):
    """Raw POST bodies of any content type, size or encoding: an OAI answer or a 4xx."""
    headers = {"Content-Type": content_type} if content_type else {}
    check(served, served.client.post("/oai", data=body, headers=headers))


@st.composite
def mutated_tokens(draw, tokens: list[tuple[str, str]]) -> tuple[str, str]:
    """A real token cut, with a character flipped, inserted or dropped, or used with the wrong verb."""
    verb, token = draw(st.sampled_from(tokens))
    how = draw(st.sampled_from(["cut", "flip", "insert", "drop", "verb", "case"]))
    i = draw(st.integers(0, len(token) - 1))
    if how == "cut":
        token = token[:i]
    elif how == "flip":
        token = token[:i] + draw(st.characters(codec="utf-8").filter(lambda c: c != token[i])) + token[i + 1:]
    elif how == "insert":
        token = token[:i] + draw(st.text(min_size=1, max_size=5)) + token[i:]
    elif how == "drop":
        token = token[:i] + token[i + 1:]
    elif how == "verb":
        verb = draw(st.sampled_from([v for v in VERBS if v != verb]))
    else:
        token = token.swapcase()
    return verb, token


@FUZZ
@given(data=st.data())
def test_mutated_tokens(served, data):
    """A damaged token is badResumptionToken (or a verb error), never a 500."""
    verb, token = data.draw(mutated_tokens(served.tokens))
    tree = check(served, served.client.get("/oai", query_string={"verb": verb, "resumptionToken": token}))
    assert tree is not None


JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.text(max_size=30),
                    lambda inner: st.lists(inner, max_size=9) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
                    max_leaves=20)


@st.composite
def signed_payloads(draw) -> tuple[str, list]:
    """Payloads signed with the real key: a perturbed real state or arbitrary JSON."""
    verb = draw(st.sampled_from(["ListRecords", "ListIdentifiers", "ListSets"]))
    state = [verb, "oai_dc", None, "", "2026-06-01T00:00:00Z", ["2026-01-01T00:00:00Z", IDENTIFIER], 2, 9]
    if draw(st.booleans()):
        index = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 5, 5, 6, 7]))  # the keyset position most often
        state[index] = draw(JSON | st.sampled_from(["", "nope", "journal", "x" * 3000, "\x00", [], ["a"],
                                                   ["a", "b", "c"], -1, 2**64]))
        return verb, state
    return verb, draw(JSON)


def _state(last: list) -> list:
    return ["ListRecords", "oai_dc", None, "", "2030-01-01T00:00:00Z", last, 2, 9]


@FUZZ
@given(case=signed_payloads())
@example(case=("ListRecords", _state(["a"])))  # a keyset position of the wrong length
@example(case=("ListRecords", _state(["a", "b", "c"])))
@example(case=("ListSets", ["ListSets", None, None, None, None, ["a", "b"], 0, 1]))
def test_tokens_signed_with_the_right_key_but_nonsense_inside(served, case):
    """Even a correctly signed token is checked, not trusted: nonsense inside is never a 500."""
    verb, payload = case
    token = itsdangerous.URLSafeTimedSerializer(SECRET, salt="oaiserver.resumption-token.v1").dumps(payload)
    check(served, served.client.get("/oai", query_string={"verb": verb, "resumptionToken": token}))


def test_forged_and_expired_tokens_are_bad_resumption_tokens(served):
    """Signed with another key, or older than the TTL: badResumptionToken."""
    from oaiserver.protocol.tokens import SALT

    verb, token = served.tokens[0]
    payload = itsdangerous.URLSafeTimedSerializer(SECRET, salt=SALT).loads(token)

    class EightDaysAgo(itsdangerous.TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 8 * 24 * 3600  # the default TTL is 7 days

    forged = itsdangerous.URLSafeTimedSerializer("another-key", salt=SALT).dumps(payload)
    expired = itsdangerous.URLSafeTimedSerializer(SECRET, salt=SALT, signer=EightDaysAgo).dumps(payload)
    unsigned = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    for bad in (forged, expired, unsigned, token + token):
        tree = check(served, served.client.get("/oai", query_string={"verb": verb, "resumptionToken": bad}))
        assert [e.get("code") for e in tree.findall("o:error", NS)] == ["badResumptionToken"], bad


def test_replayed_tokens_give_the_same_page(served):
    """A token used twice (a harvester retrying) gives the same page both times."""
    for verb, token in served.tokens:
        pages = [check(served, served.client.get("/oai", query_string={"verb": verb, "resumptionToken": token}))
                 for _ in range(2)]
        assert _without_date(pages[0]) == _without_date(pages[1])
