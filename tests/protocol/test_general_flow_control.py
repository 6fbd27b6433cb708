"""OAI-PMH §3.5 flow control: resumption tokens (stateless, signed, pinned to the first request)."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, error_codes, harvest, identifiers, token_of
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import GENERATED, JOURNAL, get, headers, other_app_client, request_attrs, set_specs, \
    total_records, withdraw


def first_token(oai, verb: str = "ListRecords") -> str:
    """The resumptionToken of the first page of a full oai_dc list."""
    return token_of(oai(verb=verb, metadataPrefix="oai_dc")).text


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_token_used_again_gives_the_same_page(loaded, app, oai, verb):
    """§3.5.1: a token used twice returns the same page and the same next token."""
    from oaiserver.protocol.tokens import TokenCodec

    # Tokens are signed with the time of signing, in whole seconds: the two requests must not
    # fall in two seconds of the host's clock (they did, once, in a busy run of the suite).
    signed_at = time.time()
    app.extensions["oaiserver.codec"] = TokenCodec(app.config["SECRET_KEY"], app.config["OAI_TOKEN_TTL"],
                                                   clock=lambda: signed_at)
    token = first_token(oai, verb)
    first, again = oai(verb=verb, resumptionToken=token), oai(verb=verb, resumptionToken=token)
    assert identifiers(again) == identifiers(first) != []
    assert token_of(again).text == token_of(first).text
    assert request_attrs(again) == {"verb": verb, "resumptionToken": token}


def test_earlier_token_after_a_later_one(loaded, oai):
    """§3.5.1: after page 3 was fetched, the token of page 2 still gives page 2, then page 3."""
    t1 = first_token(oai)
    second = oai(verb="ListRecords", resumptionToken=t1)
    third = oai(verb="ListRecords", resumptionToken=token_of(second).text)
    oai(verb="ListRecords", resumptionToken=token_of(third).text)
    again = oai(verb="ListRecords", resumptionToken=t1)
    assert identifiers(again) == identifiers(second)
    assert identifiers(oai(verb="ListRecords", resumptionToken=token_of(again).text)) == identifiers(third)


def test_token_keeps_the_selection(loaded, oai):
    """§3.5: a token carries set, from and until; later pages keep to them."""
    params = {"set": f"journal:{JOURNAL}", "from_": "2026-01-01T00:00:01Z", "until": "2026-01-01T00:00:04Z"}
    ids, pages = harvest(oai, "ListRecords", metadataPrefix="jats", **params)
    assert len(pages) > 2 and len(ids) == len(set(ids)) == 1 + 3 + GENERATED
    for header in headers(pages).values():
        assert f"journal:{JOURNAL}" in set_specs(header)
        assert "2026-01-01T00:00:01Z" <= header.findtext("o:datestamp", namespaces=NS) <= "2026-01-01T00:00:04Z"


@pytest.mark.parametrize("mangle", [
    lambda t: "garbage",
    lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"),
    lambda t: t[: len(t) // 2],
    lambda t: t + "x",
    lambda t: "." + t,
    lambda t: t.swapcase(),
], ids=["garbage", "signature", "truncated", "appended", "prefixed", "case"])
def test_tampered_tokens(loaded, oai, mangle):
    """§3.6: tampered or garbage tokens are badResumptionToken, echoed in <request>."""
    token = mangle(first_token(oai))
    tree = oai(verb="ListRecords", resumptionToken=token)
    assert error_codes(tree) == ["badResumptionToken"]
    assert request_attrs(tree) == {"verb": "ListRecords", "resumptionToken": token}


def test_token_of_another_verb_or_key(loaded, oai):
    """§3.6: a ListIdentifiers token is no ListRecords token; another key's token is refused."""
    from oaiserver.protocol.tokens import ListState, TokenCodec

    assert error_codes(oai(verb="ListRecords", resumptionToken=first_token(oai, "ListIdentifiers"))) == [
        "badResumptionToken"]
    forged, _ = TokenCodec("another-key", 3600).encode(ListState("ListRecords", "oai_dc", None, "", "9999"))
    assert error_codes(oai(verb="ListRecords", resumptionToken=forged)) == ["badResumptionToken"]


def test_expired_token(loaded, oai, app, monkeypatch):
    """§3.5: expirationDate lies ahead by the token lifetime; after it the token is refused."""
    token = token_of(oai(verb="ListRecords", metadataPrefix="oai_dc"))
    expires = dt.datetime.strptime(token.get("expirationDate"), "%Y-%m-%dT%H:%M:%SZ")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    ttl = dt.timedelta(seconds=app.config["OAI_TOKEN_TTL"])
    assert now < expires <= now + ttl + dt.timedelta(minutes=5)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + app.config["OAI_TOKEN_TTL"] + 5)
    tree = oai(verb="ListRecords", resumptionToken=token.text)
    assert error_codes(tree) == ["badResumptionToken"]
    assert "expired" in tree.findtext("o:error", namespaces=NS)


def test_token_on_another_worker_or_after_a_restart(loaded, oai, config, oai_schema):
    """§3.5.1 / decisions.md P5: a second app with the same key (another worker, a restart) continues the list."""
    token = first_token(oai)
    here = oai(verb="ListRecords", resumptionToken=token)
    other = other_app_client(config)
    there = get(other, oai_schema, verb="ListRecords", resumptionToken=token)
    assert identifiers(there) == identifiers(here) != []
    ids = identifiers(oai(verb="ListRecords", metadataPrefix="oai_dc")) + identifiers(there)
    while (token := token_of(there).text):
        there = get(other, oai_schema, verb="ListRecords", resumptionToken=token)
        ids += identifiers(there)
    assert len(ids) == len(set(ids)) == total_records(loaded)


def test_token_refused_by_a_host_with_another_key(loaded, oai, config, oai_schema):
    """§3.6: a host configured with another SECRET_KEY refuses the token: badResumptionToken."""
    other = other_app_client(config, SECRET_KEY="a-different-key")
    assert error_codes(get(other, oai_schema, verb="ListRecords", resumptionToken=first_token(oai))) == [
        "badResumptionToken"]


def test_percent_encoded_token(loaded, oai, raw):
    """§3.1.1.1 / §3.5: a token whose every character is percent-encoded still works."""
    token = first_token(oai)
    encoded = "".join(f"%{b:02X}" for b in token.encode("ascii"))
    assert identifiers(raw(f"verb=ListRecords&resumptionToken={encoded}")) == identifiers(
        oai(verb="ListRecords", resumptionToken=token))


def test_pinned_list_survives_an_ingest(loaded, oai, ingest, runner, tmp_path, clock):
    """§3.5 / §2.7.1: changes after the first page skip nothing and duplicate nothing.

    Records changed after the list was pinned and not yet sent leave this harvest; the
    next incremental harvest (from = the first responseDate) brings them, deletions too.
    """
    first = oai(verb="ListRecords", metadataPrefix="oai_dc")
    pinned = first.findtext("o:responseDate", namespaces=NS)
    sent = identifiers(first)
    clock.advance(10)
    articles = [A(f"G-{i}", title="Changed title" if i == 5 else "") for i in range(GENERATED + 1)]
    ingest(write_issue(tmp_path / "gen.xml", articles, volume="9", number="3"))  # G-5 changed, G-7 new
    withdraw(runner, sent[0])  # already sent
    withdraw(runner, f"oai:{REPOSITORY_IDENTIFIER}:{JOURNAL}/G-2")  # not sent yet
    ids = sent + harvest(oai, "ListRecords", resumptionToken=token_of(first).text)[0]
    later, later_pages = harvest(oai, "ListRecords", metadataPrefix="oai_dc", from_=pinned)
    assert len(ids) == len(set(ids)) and len(later) == len(set(later))
    changed = {i.rsplit("/", 1)[1] for i in later}
    assert {"G-2", "G-5", "G-7"} <= changed
    assert not changed & {i.rsplit("/", 1)[1] for i in ids[len(sent):]}
    assert set(ids) | set(later) == set(harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")[0])
    deleted = {i for i, h in headers(later_pages).items() if h.get("status") == "deleted"}
    assert {i.rsplit("/", 1)[1] for i in deleted} == {"G-2", sent[0].rsplit("/", 1)[1]}


def test_every_remaining_record_changed(app, ingest, tmp_path, oai, clock):
    """§3.5: if all records after a token changed since the pin, the rest is noRecordsMatch."""
    # Four records: two on the first page, two left (a single one would join the first page).
    ingest(write_issue(tmp_path / "four.xml", [A("T-0"), A("T-1"), A("T-2"), A("T-3")]))
    clock.advance(10)
    first = oai(verb="ListRecords", metadataPrefix="oai_dc")
    clock.advance(10)
    ingest(write_issue(tmp_path / "four.xml", [A("T-0"), A("T-1"), A("T-2", title="Changed"),
                                               A("T-3", title="Changed")]))
    assert error_codes(oai(verb="ListRecords", resumptionToken=token_of(first).text)) == ["noRecordsMatch"]


@pytest.mark.parametrize("position", range(4), ids=["cursor", "total", "epoch", "version"])
def test_signed_token_with_a_boolean_count(loaded, oai, config, position):
    """§3.6: a token signed with this key (another release, another app) whose count is a JSON boolean
    is badResumptionToken, not a page whose resumptionToken says cursor="True" (schema-invalid)."""
    from oaiserver.protocol.tokens import TokenCodec

    counts: list[object] = [2, 12, 0, 0]
    counts[position] = True
    payload = ["ListRecords", "oai_dc", None, "", "9999-12-31T23:59:59Z", [], *counts]
    token = TokenCodec(config["SECRET_KEY"], 3600).serializer.dumps(payload)
    assert error_codes(oai(verb="ListRecords", resumptionToken=token)) == ["badResumptionToken"]
