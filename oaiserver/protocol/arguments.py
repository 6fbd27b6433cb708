"""Check the arguments of an OAI-PMH request (OAI-PMH specification §3.1 and §4) before any work."""
from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from oaiserver.protocol import datestamps, uris

from oaiserver import xmltext
from oaiserver.protocol.errors import BadArgument, BadVerb, OAIError, OAIErrors

REQUIRED = "required"
OPTIONAL = "optional"
EXCLUSIVE = "exclusive"

_LIST_ARGS = {
    "metadataPrefix": REQUIRED,
    "from": OPTIONAL,
    "until": OPTIONAL,
    "set": OPTIONAL,
    "resumptionToken": EXCLUSIVE,
}

#: The arguments each verb takes (OAI-PMH 2.0 §4).
VERBS: dict[str, dict[str, str]] = {
    "Identify": {},
    "ListMetadataFormats": {"identifier": OPTIONAL},
    "ListSets": {"resumptionToken": EXCLUSIVE},
    "GetRecord": {"identifier": REQUIRED, "metadataPrefix": REQUIRED},
    "ListIdentifiers": _LIST_ARGS,
    "ListRecords": _LIST_ARGS,
}

# Value syntaxes from OAI-PMH.xsd, so that whatever we echo in <request> stays schema-valid.
_PREFIX_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_SET_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_IDENTIFIER_RE = re.compile(r"[^\s<>\"{}|\\^`]+")
MAX_VALUE_LENGTH = 2048


@dataclass(frozen=True)
class OAIRequest:
    """A request whose verb and arguments passed the syntax checks."""

    verb: str
    args: dict[str, str]

    def get(self, name: str) -> str | None:
        """Return the value of an argument, or None."""
        return self.args.get(name)


def parse(params: t.Mapping[str, t.Sequence[str]]) -> OAIRequest:
    """Validate verb and arguments; raise badVerb, or every badArgument found at once."""
    verbs = params.get("verb") or []
    if len(verbs) != 1:
        raise BadVerb("the verb argument is missing" if not verbs else "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise BadVerb(f"illegal verb {_shown(verb)}; the verbs are {', '.join(VERBS)}")
    spec = VERBS[verb]
    errors: list[OAIError] = []
    args: dict[str, str] = {}
    for name, values in params.items():
        if name == "verb":
            continue
        if name not in spec:
            errors.append(BadArgument(f"{_shown(name)} is not an argument of {verb}"))
        elif len(values) != 1:
            errors.append(BadArgument(f"the argument {name} is repeated"))
        else:
            args[name] = values[0]
    if not errors:
        errors.extend(_check_combination(verb, spec, args))
    if not errors:
        errors.extend(_check_values(args))
    if errors:
        raise OAIErrors(errors)
    return OAIRequest(verb, args)


def _check_combination(verb: str, spec: dict[str, str], args: dict[str, str]) -> list[OAIError]:
    if "resumptionToken" in args:
        others = sorted(set(args) - {"resumptionToken"})
        if others:
            return [BadArgument(f"resumptionToken is exclusive; remove {', '.join(others)}")]
        return []
    return [
        BadArgument(f"{verb} requires the argument {name}")
        for name, kind in spec.items()
        if kind == REQUIRED and name not in args
    ]


def _check_values(args: dict[str, str]) -> list[OAIError]:
    errors: list[OAIError] = []
    for name, value in args.items():
        if not value:
            errors.append(BadArgument(f"the argument {name} is empty"))
        elif len(value) > MAX_VALUE_LENGTH or xmltext.has_illegal(value):
            errors.append(BadArgument(f"the value of {name} is not a legal value"))
    if errors:
        return errors
    checks: tuple[tuple[str, t.Callable[[str], object], str], ...] = (
        ("metadataPrefix", _PREFIX_RE.fullmatch, "a metadataPrefix"),
        ("set", _SET_RE.fullmatch, "a setSpec"),
        ("identifier", _is_identifier, "an identifier (a URI)"),
    )
    for name, legal, what in checks:
        if name in args and not legal(args[name]):
            errors.append(BadArgument(f"{_shown(args[name])} is not {what} in legal syntax"))
    return errors + _check_dates(args)


def _is_identifier(value: str) -> bool:
    # A URI (xs:anyURI, echoed in <request>); no spaces or characters URIs never hold.
    return _IDENTIFIER_RE.fullmatch(value) is not None and uris.is_uri_reference(value)


def _check_dates(args: dict[str, str]) -> list[OAIError]:
    granularities = {}
    errors: list[OAIError] = []
    for name in ("from", "until"):
        if name in args:
            try:
                granularities[name], _ = datestamps.parse_datestamp(args[name], name)
            except BadArgument as error:
                errors.append(error)
    if errors or len(granularities) < 2:
        return errors
    if granularities["from"] != granularities["until"]:
        return [BadArgument("from and until must have the same granularity")]
    if datestamps.lower_bound(args["from"]) > datestamps.upper_bound(args["until"]):
        return [BadArgument("from is later than until")]
    return []


def _shown(value: str) -> str:
    # Error messages quote what the client sent, made safe and short.
    return repr(xmltext.strip_illegal(value)[:80])
