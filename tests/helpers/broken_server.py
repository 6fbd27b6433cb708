"""A tiny OAI-PMH repository (5 records, oai_dc, 3 sets) with switchable faults, for `oaiserver check`.

Without faults it is a conformant repository written independently of oaiserver, so the
checker's own verdicts are tested against a second implementation. Each fault breaks one rule.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import typing as t
from xml.sax.saxutils import escape, quoteattr

from werkzeug.wrappers import Request, Response

FAULTS = ("wrong_cursor", "invalid_xml", "error_500", "extra_empty_page", "token_expires_at_once",
          "schema_invalid_record")
OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
PAGE = 2
SECRET = b"broken-server-key"
SETS = {"a": "Set A", "a:b": "Set A, part B", "c": "Set C"}
# identifier number -> (datestamp, deleted, setSpecs)
RECORDS = {
    1: ("2024-01-01T10:00:00Z", False, ("a:b",)),
    2: ("2024-01-02T10:00:00Z", False, ("a",)),
    3: ("2024-01-02T11:30:00Z", False, ("a:b", "c")),
    4: ("2024-01-04T10:00:00Z", True, ("c",)),
    5: ("2024-01-05T10:00:00Z", False, ()),
}
ARGS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}


class OAIError(Exception):
    """A protocol error: rendered as <error code=...>."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class BrokenServer:
    """The WSGI app; ``BrokenServer("wrong_cursor", ...)`` switches faults on."""

    def __init__(self, *faults: str) -> None:
        unknown = set(faults) - set(FAULTS)
        assert not unknown, f"unknown faults {unknown}"
        self.faults = set(faults)
        self.used: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, environ: dict, start_response: t.Callable) -> t.Iterable[bytes]:
        request = Request(environ)
        params = request.values.to_dict(flat=False)
        attrs: dict[str, str] = {}
        try:
            verb, args = self.check(params)
            attrs = {"verb": verb, **args}
            body = self.Identify(request.base_url) if verb == "Identify" else getattr(self, verb)(args)
        except OAIError as error:
            if error.code in ("badVerb", "badArgument"):
                if "error_500" in self.faults:
                    return Response("Internal Server Error", 500, content_type="text/plain")(
                        environ, start_response)
                attrs = {}
            body = f'<error code="{error.code}">{escape(str(error))}</error>'
        document = envelope(request.base_url, attrs, body)
        if "invalid_xml" in self.faults and attrs.get("verb") == "ListRecords" and "resumptionToken" in attrs:
            document = document[: len(document) // 2]  # a page cut off half way
        return Response(document, content_type="text/xml; charset=utf-8")(environ, start_response)

    def check(self, params: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
        """Check verb and arguments; return them or raise badVerb/badArgument."""
        verbs = params.get("verb", [])
        if len(verbs) != 1 or verbs[0] not in ARGS:
            raise OAIError("badVerb", "missing, repeated or illegal verb")
        verb = verbs[0]
        required, optional = ARGS[verb]
        args = {}
        for name, values in params.items():
            if name == "verb":
                continue
            if name not in required | optional or len(values) != 1:
                raise OAIError("badArgument", f"illegal or repeated argument {name}")
            args[name] = values[0]
        if "resumptionToken" in args:
            if len(args) > 1:
                raise OAIError("badArgument", "resumptionToken is exclusive")
        elif not required <= set(args):
            raise OAIError("badArgument", "a required argument is missing")
        dates = {name: granularity(args[name]) for name in ("from", "until") if name in args}
        if None in dates.values() or len(set(dates.values())) > 1:
            raise OAIError("badArgument", "bad date or mixed granularities")
        return verb, args

    def Identify(self, base: str) -> str:  # noqa: N802 (verb names)
        """Identify."""
        return (f"<Identify><repositoryName>Broken test repository</repositoryName>"
                f"<baseURL>{escape(base)}</baseURL><protocolVersion>2.0</protocolVersion>"
                "<adminEmail>admin@broken.test</adminEmail>"
                f"<earliestDatestamp>{RECORDS[1][0]}</earliestDatestamp>"
                f"<deletedRecord>persistent</deletedRecord><granularity>{SECONDS}</granularity></Identify>")

    def ListMetadataFormats(self, args: dict[str, str]) -> str:  # noqa: N802
        """ListMetadataFormats."""
        if "identifier" in args:
            number(args["identifier"])
        return ("<ListMetadataFormats><metadataFormat><metadataPrefix>oai_dc</metadataPrefix>"
                "<schema>http://www.openarchives.org/OAI/2.0/oai_dc.xsd</schema>"
                "<metadataNamespace>http://www.openarchives.org/OAI/2.0/oai_dc/</metadataNamespace>"
                "</metadataFormat></ListMetadataFormats>")

    def ListSets(self, args: dict[str, str]) -> str:  # noqa: N802
        """ListSets (one page)."""
        if "resumptionToken" in args:
            raise OAIError("badResumptionToken", "ListSets has no tokens here")
        body = "".join(f"<set><setSpec>{s}</setSpec><setName>{n}</setName></set>" for s, n in SETS.items())
        return f"<ListSets>{body}</ListSets>"

    def GetRecord(self, args: dict[str, str]) -> str:  # noqa: N802
        """GetRecord."""
        n = number(args["identifier"])
        if args["metadataPrefix"] != "oai_dc":
            raise OAIError("cannotDisseminateFormat", "only oai_dc")
        return f"<GetRecord>{self.record(n)}</GetRecord>"

    def ListIdentifiers(self, args: dict[str, str]) -> str:  # noqa: N802
        """ListIdentifiers."""
        return self.listing("ListIdentifiers", args)

    def ListRecords(self, args: dict[str, str]) -> str:  # noqa: N802
        """ListRecords."""
        return self.listing("ListRecords", args)

    def listing(self, verb: str, args: dict[str, str]) -> str:
        """One page of a list, from the arguments or from a token."""
        if "resumptionToken" in args:
            state = self.decode(args["resumptionToken"], verb)
        else:
            if args["metadataPrefix"] != "oai_dc":
                raise OAIError("cannotDisseminateFormat", "only oai_dc")
            state = {"set": args.get("set"), "from": args.get("from"), "until": args.get("until"),
                     "offset": 0}
        chosen = [n for n, (stamp, _, sets) in RECORDS.items()
                  if (state["set"] is None or any(s == state["set"] or s.startswith(state["set"] + ":")
                                                  for s in sets))
                  and (state["from"] is None or stamp >= bound(state["from"], "T00:00:00Z"))
                  and (state["until"] is None or stamp <= bound(state["until"], "T23:59:59Z"))]
        offset, total = state["offset"], len(chosen)
        if not chosen:
            raise OAIError("noRecordsMatch", "no records")
        page = chosen[offset:offset + PAGE]
        render = self.record if verb == "ListRecords" else self.header
        body = "".join(render(n) for n in page)
        # The fault: the page that ends the list still carries a token, to an empty page.
        more = offset + PAGE < total or (
            "extra_empty_page" in self.faults and bool(page) and offset + len(page) == total)
        cursor = 0 if "wrong_cursor" in self.faults else offset
        size = f' completeListSize="{total}" cursor="{cursor}"'
        if more:
            token = self.encode(verb, {**state, "offset": offset + PAGE})
            now = dt.datetime.now(dt.timezone.utc)
            expires = now if "token_expires_at_once" in self.faults else now + dt.timedelta(days=1)
            body += f'<resumptionToken expirationDate="{stamp_of(expires)}"{size}>{token}</resumptionToken>'
        elif offset:
            body += f"<resumptionToken{size}/>"
        return f"<{verb}>{body}</{verb}>"

    def header(self, n: int) -> str:
        """The <header> of record n."""
        stamp, deleted, sets = RECORDS[n]
        status = ' status="deleted"' if deleted else ""
        specs = "".join(f"<setSpec>{s}</setSpec>" for s in sets)
        return (f"<header{status}><identifier>oai:broken.test:{n}</identifier>"
                f"<datestamp>{stamp}</datestamp>{specs}</header>")

    def record(self, n: int) -> str:
        """The <record> of record n, with oai_dc metadata unless deleted."""
        if RECORDS[n][1]:
            return f"<record>{self.header(n)}</record>"
        invalid = "schema_invalid_record" in self.faults and n == 3
        extra = "<dc:abstract>not simple DC</dc:abstract>" if invalid else ""
        dc = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
              'xmlns:dc="http://purl.org/dc/elements/1.1/">'
              f"<dc:title>Record {n}</dc:title>{extra}<dc:identifier>https://broken.test/{n}</dc:identifier>"
              "</oai_dc:dc>")
        return f"<record>{self.header(n)}<metadata>{dc}</metadata></record>"

    def encode(self, verb: str, state: dict) -> str:
        """A signed token holding the list's arguments and offset."""
        payload = base64.urlsafe_b64encode(json.dumps([verb, state]).encode()).decode()
        return f"{payload}.{hmac.new(SECRET, payload.encode(), hashlib.sha256).hexdigest()[:16]}"

    def decode(self, token: str, verb: str) -> dict:
        """Check a token's signature (and, with a fault, that it is used once only)."""
        payload, _, signature = token.partition(".")
        good = hmac.new(SECRET, payload.encode(), hashlib.sha256).hexdigest()[:16]
        if not hmac.compare_digest(signature, good):
            raise OAIError("badResumptionToken", "not a token of this repository")
        token_verb, state = json.loads(base64.urlsafe_b64decode(payload))
        if token_verb != verb:
            raise OAIError("badResumptionToken", "token of another verb")
        if "token_expires_at_once" in self.faults:
            with self.lock:
                if token in self.used:
                    raise OAIError("badResumptionToken", "the token has expired")
                self.used.add(token)
        return state


def envelope(base: str, attrs: dict[str, str], body: str) -> str:
    """Wrap a body in the OAI-PMH root element."""
    request = "".join(f" {name}={quoteattr(value)}" for name, value in attrs.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<OAI-PMH xmlns="{OAI}" xmlns:xsi="{XSI}" '
            f'xsi:schemaLocation="{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
            f"<responseDate>{stamp_of(dt.datetime.now(dt.timezone.utc))}</responseDate>"
            f"<request{request}>{escape(base)}</request>{body}</OAI-PMH>\n")


def number(identifier: str) -> int:
    """The record number of an identifier, or idDoesNotExist."""
    match = re.fullmatch(r"oai:broken\.test:(\d+)", identifier)
    if not match or int(match.group(1)) not in RECORDS:
        raise OAIError("idDoesNotExist", "no such item")
    return int(match.group(1))


def granularity(value: str) -> str | None:
    """The granularity of a from/until value, or None if it is not a valid date."""
    for pattern, fmt, name in ((r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d", "day"),
                               (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "%Y-%m-%dT%H:%M:%SZ", "seconds")):
        if re.fullmatch(pattern, value):
            try:
                dt.datetime.strptime(value, fmt)
            except ValueError:
                return None
            return name
    return None


def bound(value: str, time_of_day: str) -> str:
    """A from/until value in seconds granularity (a day becomes its first or last second)."""
    return value if "T" in value else value + time_of_day


def stamp_of(moment: dt.datetime) -> str:
    """Format a UTC datetime as YYYY-MM-DDThh:mm:ssZ."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
