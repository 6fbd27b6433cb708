"""The checker's frame: options, results, and one request path that checks every response."""
from __future__ import annotations

import typing as t
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from oaiserver.checker import responses
from oaiserver.checker.http import Fetcher, Params
from oaiserver.checker.responses import Page, text_of
from oaiserver.checker.schemas import Validator

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"
#: Guideline profiles also report broken recommended (WARN) and optional (INFO) rules.
WARN, INFO = "WARN", "INFO"

#: Checks over every response; reported once each, with the first offending URL.
TALLIES = {
    "responses.http-200": "every response is HTTP 200",
    "responses.no-5xx": "no response is an HTTP 5xx",
    "responses.content-type": "every response is text/xml",
    "responses.well-formed": "every response is well-formed XML",
    "responses.oai-pmh-root": "every response is an OAI-PMH document",
    "responses.envelope": "responseDate is a UTC datestamp and <request> holds the base URL",
    "responses.schema-valid": "every response is valid against the schemas",
}


@dataclass(frozen=True)
class Options:
    """What to check and how hard."""

    base_url: str
    timeout: float = 30.0
    max_pages: int = 1000
    sample: int = 5
    max_sets: int = 5
    formats: tuple[str, ...] = ()
    schemas: Path | None = None
    delay: float = 0.0
    #: What to check: "oai-pmh" (the protocol), "openaire3", "openaire4" (guideline profiles).
    profiles: tuple[str, ...] = ("oai-pmh",)
    #: Without ``schemas``: the cache of official schemas to use (and fill), and a mirror to fetch them from.
    schema_cache: Path | None = None
    schema_mirror: str | None = None


@dataclass
class Result:
    """The outcome of one check."""

    name: str
    status: str
    url: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        """Return the result as a JSON-ready dict."""
        return {"name": self.name, "status": self.status, "url": self.url, "reason": self.reason}


class Problem(Exception):
    """A response that cannot be used at all; ``transport`` when no HTTP answer came."""

    def __init__(self, url: str, reason: str, transport: bool = False) -> None:
        super().__init__(reason)
        self.url, self.reason, self.transport = url, reason, transport


@dataclass
class Tally:
    """How many responses passed one response-wide check, and the first that did not."""

    name: str
    seen: int = 0
    failed: int = 0
    first: tuple[str, str] | None = None

    def record(self, ok: bool, url: str, reason: str = "") -> None:
        """Count one response."""
        self.seen += 1
        if not ok:
            self.failed += 1
            self.first = self.first or (url, reason)

    def result(self) -> Result:
        """Summarise as one check result."""
        if not self.seen:
            return Result(self.name, SKIP, reason="no responses")
        if self.first is None:
            return Result(self.name, PASS)
        url, reason = self.first
        return Result(self.name, FAIL, url, f"{self.failed} of {self.seen} responses; first: {reason}")


@dataclass
class Run:
    """One checker run: options, HTTP, the results so far and what the harvests learned."""

    options: Options
    fetcher: Fetcher
    validator: Validator | None = None
    results: list[Result] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=lambda: {n: Tally(n) for n in TALLIES})
    facts: dict[str, t.Any] = field(default_factory=dict)
    schema_note: str = "no --schemas folder given"  # why there is no validator, when there is none

    def add(self, name: str, status: str, url: str = "", reason: str = "") -> Result:
        """Record a check result."""
        result = Result(name, status, url, reason)
        self.results.append(result)
        return result

    def ok(self, name: str, note: str = "") -> Result:
        """Record a PASS (the note only shows in --json)."""
        return self.add(name, PASS, reason=note)

    def fail(self, name: str, url: str, reason: str) -> Result:
        """Record a FAIL."""
        return self.add(name, FAIL, url, reason)

    def skip(self, name: str, reason: str) -> Result:
        """Record a SKIP."""
        return self.add(name, SKIP, reason=reason)

    def request(self, params: Params, method: str = "GET") -> Page:
        """Send one request and apply the response-wide checks; raise Problem if unusable."""
        fetch = self.fetcher.post if method == "POST" else self.fetcher.get
        response = fetch(params)
        url = response.url
        if response.status:
            self._tally("responses.no-5xx", response.status < 500, url, f"HTTP {response.status}")
        self._tally("responses.http-200", response.status == 200, url,
                    response.problem or f"HTTP {response.status}")
        if response.status == 0:
            raise Problem(url, response.problem, transport=True)
        if response.status != 200:
            raise Problem(url, f"HTTP {response.status}")
        if response.problem:
            raise Problem(url, response.problem)
        media_type = response.content_type.split(";")[0].strip().lower()
        self._tally("responses.content-type", media_type == "text/xml", url,
                    f"Content-Type {response.content_type or '(none)'}, not text/xml")
        try:
            page = responses.parse(url, response.body)
        except etree.XMLSyntaxError as error:
            self._tally("responses.well-formed", False, url, f"not well-formed XML: {error.msg}")
            raise Problem(url, f"not well-formed XML: {error.msg}") from None
        self._tally("responses.well-formed", True, url)
        root_tag = etree.QName(page.root).text  # a str, as lxml types .tag as any settable value
        is_oai = root_tag == responses.q("OAI-PMH")
        self._tally("responses.oai-pmh-root", is_oai, url, f"root element {root_tag}")
        if not is_oai:
            raise Problem(url, f"the root element is {root_tag}, not OAI-PMH")
        self._check_envelope(page)
        if self.validator is not None:
            invalid = self.validator.validate(page.root)
            self._tally("responses.schema-valid", invalid is None, url, f"schema-invalid: {invalid}")
        return page

    def _check_envelope(self, page: Page) -> None:
        date = text_of(page.root, "responseDate") or ""
        asked = text_of(page.root, "request")
        if not responses.datestamp_syntax(date, responses.SECONDS):
            self._tally("responses.envelope", False, page.url, f"responseDate {date!r}")
        elif asked != self.options.base_url:
            self._tally("responses.envelope", False, page.url,
                        f"<request> holds {asked!r}, not the base URL {self.options.base_url!r}")
        else:
            self._tally("responses.envelope", True, page.url)

    def _tally(self, name: str, ok: bool, url: str, reason: str = "") -> None:
        self.tallies[name].record(ok, url, reason)

    def finish(self) -> None:
        """Append the response-wide checks and the schema coverage note."""
        for name, tally in self.tallies.items():
            if name == "responses.schema-valid" and self.validator is None:
                self.skip(name, self.schema_note)
            else:
                self.results.append(tally.result())
        if self.validator is not None:
            if self.validator.unvalidated:
                missing = ", ".join(sorted(self.validator.unvalidated))
                self.skip("schemas.coverage", f"no schema for {missing}: validated loosely")
            else:
                self.ok("schemas.coverage", f"validated with {self.validator.source}")


class Unreachable(Exception):
    """The endpoint gave no HTTP answer to Identify: nothing else can be checked."""
