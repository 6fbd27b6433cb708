"""Tokens between hosts whose clocks differ: the signing host's clock may run ahead or behind.

Each codec has its own fake clock, as two web nodes behind one load balancer would; both share
the secret key. A token signed by one is read by the other (decisions.md P5).
"""
from __future__ import annotations

import pytest

from oaiserver.protocol.errors import BadResumptionToken
from oaiserver.protocol.tokens import MAX_CLOCK_SKEW, ListState, TokenCodec

NOW = 1_800_000_000.0
TTL = 3600
STATE = ListState("ListRecords", "oai_dc", None, "", "2027-01-15T08:00:00Z", ("2027-01-01T00:00:00Z", "oai:x:1"), 100, 250)


def codec(offset: float) -> TokenCodec:
    """A node whose clock reads NOW + offset seconds."""
    return TokenCodec("shared-key", TTL, clock=lambda: NOW + offset)


@pytest.mark.parametrize("skew", [-5.0, -1.0, -0.02, 0.0, 0.02, 0.2, 1.0, 5.0, 60.0])
def test_a_token_works_on_a_node_whose_clock_differs(skew):
    """Signed on a node ``skew`` seconds ahead of (or behind) the reader: read as if signed now."""
    token, expires = codec(skew).encode(STATE)
    assert codec(0).decode(token, "ListRecords") == STATE
    assert abs(expires.timestamp() - (NOW + skew + TTL)) < 1


def test_a_token_from_further_in_the_future_than_any_clock_is_refused():
    """A signing time beyond the tolerated skew means a broken clock: say so, do not guess."""
    token, _ = codec(MAX_CLOCK_SKEW + 10).encode(STATE)
    with pytest.raises(BadResumptionToken, match="future"):
        codec(0).decode(token, "ListRecords")


def test_expiry_is_measured_on_the_reading_node():
    """A token is refused once its lifetime has passed on the node that reads it, not before."""
    token, _ = codec(0).encode(STATE)
    assert codec(TTL - 1).decode(token, "ListRecords") == STATE
    with pytest.raises(BadResumptionToken, match="expired"):
        codec(TTL + 2).decode(token, "ListRecords")


def test_another_key_is_refused_whatever_the_clocks():
    """Tolerating skew does not loosen the signature check."""
    token, _ = TokenCodec("other-key", TTL, clock=lambda: NOW).encode(STATE)
    with pytest.raises(BadResumptionToken, match="not one this repository issued"):
        codec(0).decode(token, "ListRecords")
