"""Stateless, signed resumption tokens holding a keyset position (decisions.md P5).

A token carries the original list arguments (pinned ``until`` included), the position of
the last item sent, the cursor and the complete list size; it is signed with the app's
SECRET_KEY so it works after a restart, on any worker and on any host with the same key.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import typing as t
from dataclasses import dataclass, replace

import itsdangerous

from oaiserver.protocol.errors import BadResumptionToken

SALT = "oaiserver.resumption-token.v1"
#: How far in the future a token's signing time may lie: another node, whose clock runs ahead of
#: this one, signed it (decisions.md P5). Within this, a token is as good as one signed now.
MAX_CLOCK_SKEW = 300


class _Signer(itsdangerous.TimestampSigner):
    """itsdangerous's TimestampSigner, its keys derived once: the same signatures, at less CPU a page."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes | None, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        """The key a secret signs with (itsdangerous derives it anew for every signature)."""
        name = secret_key.encode("utf-8") if isinstance(secret_key, str) else secret_key
        key = self._derived.get(name)
        if key is None:
            key = self._derived[name] = super().derive_key(secret_key)
        return key


def _signer_on(clock: t.Callable[[], float]) -> type[itsdangerous.TimestampSigner]:
    """A TimestampSigner whose signing time comes from ``clock`` (seconds since the epoch)."""

    class ClockSigner(_Signer):
        def get_timestamp(self) -> int:
            return int(clock())

    return ClockSigner


class _CompactJSON:
    """itsdangerous's compact JSON (the same text), its encoder made once instead of for every token."""

    _encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def loads(payload: str | bytes) -> t.Any:
        """Parse a token's JSON."""
        return json.loads(payload)

    @staticmethod
    def dumps(obj: t.Any) -> str:
        """A token's JSON, as ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))``."""
        return _CompactJSON._encoder.encode(obj)


@dataclass(frozen=True)
class ListState:
    """Where a list request stands: its arguments and its position."""

    verb: str
    prefix: str | None = None
    set_spec: str | None = None
    from_: str | None = None  # inclusive lower bound, seconds granularity
    until: str | None = None  # inclusive upper bound, seconds granularity (pinned)
    last: tuple[str, ...] | None = None  # (datestamp, identifier), or (setSpec,) for ListSets
    cursor: int = 0  # items sent before the page this state asks for
    total: int = 0  # completeListSize, counted on the first page
    epoch: int = 0  # the database's epoch when the list began (0: any)
    version: int = 0  # the newest data version a page of this list was read at (decisions.md P14)

    def advance(self, last: tuple[str, ...], sent: int) -> ListState:
        """Return the state of the next page."""
        return replace(self, last=last, cursor=self.cursor + sent)


class TokenCodec:
    """Encode and decode resumption tokens with one secret and lifetime."""

    def __init__(self, secret: str | bytes, ttl: int, clock: t.Callable[[], float] | None = None) -> None:
        """``clock`` (seconds since the epoch) stands in for this host's clock, in tests."""
        self.ttl = ttl
        signer = _Signer if clock is None else _signer_on(clock)
        # SHA-1 itself rather than itsdangerous's default, a Python function that calls it: the
        # same HMAC, which the hmac module then computes in C instead of in Python.
        self.serializer = itsdangerous.URLSafeTimedSerializer(
            secret, salt=SALT, serializer=_CompactJSON, signer=signer, signer_kwargs={"digest_method": hashlib.sha1})
        # Made once and used for every token (the serializer makes a signer for each): its clock
        # is also "now" when a token's age is checked. (A URLSafeTimedSerializer's signer is
        # always a TimestampSigner; its type says Signer.)
        self._signer = t.cast(itsdangerous.TimestampSigner, self.serializer.make_signer())

    def encode(self, state: ListState) -> tuple[str, dt.datetime]:
        """Return the token for ``state`` and the moment it expires."""
        # What serializer.dumps makes, with the signer made once.
        token = self._signer.sign(self.serializer.dump_payload(
            [state.verb, state.prefix, state.set_spec, state.from_, state.until,
             list(state.last or ()), state.cursor, state.total, state.epoch, state.version]
        )).decode("utf-8")
        # The signing time is the middle part of "payload.time.signature": read it back
        # directly rather than verifying the signature we have just made.
        stamp = itsdangerous.encoding.bytes_to_int(
            itsdangerous.encoding.base64_decode(token.rsplit(".", 2)[1]))
        issued = dt.datetime.fromtimestamp(stamp, dt.timezone.utc)
        return token, issued + dt.timedelta(seconds=self.ttl)

    def decode(self, token: str, verb: str) -> ListState:
        """Check signature, age and shape of ``token``; raise badResumptionToken if wrong."""
        try:
            # The age is checked here, not by itsdangerous, which refuses any token signed even
            # a second in the future: the signing node's clock may run ahead of this one's.
            # What serializer.loads does, with the signer made once.
            value, signed = self._signer.unsign(token, return_timestamp=True)
            payload = self.serializer.load_payload(value)
        except itsdangerous.BadData:
            raise BadResumptionToken("the resumptionToken is not one this repository issued") from None
        # "Now" as the signer sees it: the clock that signs this host's tokens.
        age = self._signer.get_timestamp() - signed.timestamp()
        if age > self.ttl:
            raise BadResumptionToken("the resumptionToken has expired; start the list again")
        if age < -MAX_CLOCK_SKEW:
            raise BadResumptionToken("the resumptionToken was signed in the future (a clock is wrong); "
                                     "start the list again")
        state = _state_from_payload(payload)
        if state is None:
            raise BadResumptionToken("the resumptionToken is malformed")
        if state.verb != verb:
            raise BadResumptionToken(f"the resumptionToken belongs to {state.verb}, not {verb}")
        return state


def _state_from_payload(payload: t.Any) -> ListState | None:
    # A signed token was made by us, but an older release (or another app sharing the key)
    # could have made a different shape: check it instead of trusting it.
    # Eight items: a token of a release before epochs and versions (it matches any).
    if not isinstance(payload, list) or len(payload) not in (8, 10):
        return None
    verb, prefix, set_spec, from_, until, last, cursor, total, epoch, version = (payload + [0, 0])[:10]
    strings = (prefix, set_spec, from_, until)
    if not isinstance(verb, str) or not all(s is None or isinstance(s, str) for s in strings):
        return None
    if not isinstance(last, list) or not all(isinstance(p, str) for p in last):
        return None
    if last and len(last) != (1 if verb == "ListSets" else 2):  # (setSpec,) or (datestamp, identifier)
        return None
    # JSON true and false decode to bool, an int subclass: a cursor of True would be rendered
    # cursor="True", which the schema refuses (a nonNegativeInteger).
    if not all(type(n) is int and n >= 0 for n in (cursor, total, epoch, version)):
        return None
    return ListState(verb, prefix, set_spec, from_, until, tuple(last) or None, cursor, total,
                     epoch, version)
