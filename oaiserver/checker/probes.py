"""Error probes: requests a repository must answer with a specific OAI-PMH error (OAI-PMH §3.6)."""
from __future__ import annotations

import datetime as dt

from oaiserver.checker import responses
from oaiserver.checker.checks import Problem, Run
from oaiserver.checker.http import Params
from oaiserver.checker.responses import q

UNKNOWN_IDENTIFIER = "oai:checker.invalid:no-such-item"
UNKNOWN_PREFIX = "checker-no-such-format"
GARBAGE_TOKEN = "checker-garbage-token-0000"


def check_errors(run: Run, prefix: str, identifier: str | None) -> None:
    """Send each probe and expect its error code, HTTP 200 and (for some) a bare <request>."""
    listing = [("verb", "ListIdentifiers"), ("metadataPrefix", prefix)]
    probes: list[tuple[str, Params, str]] = [
        ("errors.no-verb", [], "badVerb"),
        ("errors.bad-verb", [("verb", "NoSuchVerb")], "badVerb"),
        ("errors.repeated-verb", [("verb", "Identify"), ("verb", "Identify")], "badVerb"),
        ("errors.illegal-argument", [("verb", "Identify"), ("checker", "1")], "badArgument"),
        ("errors.repeated-argument", [*listing, ("metadataPrefix", prefix)], "badArgument"),
        ("errors.missing-prefix", [("verb", "ListRecords")], "badArgument"),
        ("errors.missing-identifier", [("verb", "GetRecord"), ("metadataPrefix", prefix)], "badArgument"),
        ("errors.bad-date", [*listing, ("from", "2001-13-45")], "badArgument"),
        ("errors.mixed-granularity", [*listing, ("from", "2001-01-01"), ("until", "2002-01-01T00:00:00Z")],
         "badArgument"),
        ("errors.unknown-prefix", [("verb", "ListRecords"), ("metadataPrefix", UNKNOWN_PREFIX)],
         "cannotDisseminateFormat"),
        ("errors.unknown-identifier",
         [("verb", "GetRecord"), ("identifier", UNKNOWN_IDENTIFIER), ("metadataPrefix", prefix)],
         "idDoesNotExist"),
        ("errors.unknown-identifier.list-metadata-formats",
         [("verb", "ListMetadataFormats"), ("identifier", UNKNOWN_IDENTIFIER)], "idDoesNotExist"),
        ("errors.garbage-token", [("verb", "ListIdentifiers"), ("resumptionToken", GARBAGE_TOKEN)],
         "badResumptionToken"),
    ]
    for name, params, code in probes:
        probe(run, name, params, code)
    if identifier:
        probe(run, "errors.unknown-prefix.get-record",
              [("verb", "GetRecord"), ("identifier", identifier), ("metadataPrefix", UNKNOWN_PREFIX)],
              "cannotDisseminateFormat")
    else:
        run.skip("errors.unknown-prefix.get-record", "no harvested identifier")
    _token_probes(run, prefix)
    _no_records_probe(run, listing)


def _token_probes(run: Run, prefix: str) -> None:
    names = ("errors.tampered-token", "errors.token-with-argument")
    if "token" not in run.facts:
        for name in names:
            run.skip(name, "no list was long enough to get a resumption token")
        return
    verb, token = run.facts["token"]
    probe(run, names[0], [("verb", verb), ("resumptionToken", tamper(token))], "badResumptionToken",
          accepted="the tampered token was accepted")
    probe(run, names[1], [("verb", verb), ("resumptionToken", token), ("metadataPrefix", prefix)],
          "badArgument")


def _no_records_probe(run: Run, listing: Params) -> None:
    name = "errors.no-records-match"
    earliest = responses.parse_moment(run.facts.get("earliest") or "")
    if earliest is None or earliest.year < 2:
        run.skip(name, "no usable earliestDatestamp")
        return
    before = (earliest - dt.timedelta(days=1)).strftime("%Y-%m-%d")
    probe(run, name, [*listing, ("until", before)], "noRecordsMatch")


def probe(run: Run, name: str, params: Params, code: str, accepted: str = "") -> None:
    """Expect the error ``code``; badVerb and badArgument answers must not echo arguments."""
    try:
        page = run.request(params)
    except Problem as problem:
        run.fail(name, problem.url, f"expected {code}: {problem.reason}")
        return
    codes = page.error_codes
    if code not in codes:
        got = ", ".join(codes) if codes else (accepted or "no error")
        run.fail(name, page.url, f"expected {code}, got {got}")
        return
    request = page.root.find(q("request"))
    if code in ("badVerb", "badArgument") and request is not None and len(request.attrib):
        run.fail(name, page.url, f"the <request> of a {code} answer has attributes "
                                 f"({', '.join(request.attrib)}); the spec says it must have none")
        return
    run.ok(name)


def tamper(token: str) -> str:
    """Change two characters of a token (a third and half way), keeping its alphabet."""
    if len(token) < 3:
        return token + "x"
    chars = list(token)
    for index in {len(chars) // 3, len(chars) // 2}:
        chars[index] = _flip(chars[index])
    return "".join(chars)


def _flip(char: str) -> str:
    if char.isdigit():
        return str((int(char) + 5) % 10)
    if "a" <= char <= "z":
        return chr((ord(char) - 97 + 13) % 26 + 97)
    if "A" <= char <= "Z":
        return chr((ord(char) - 65 + 13) % 26 + 65)
    return "A" if char != "A" else "B"

