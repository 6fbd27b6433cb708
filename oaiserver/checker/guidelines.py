"""Guideline profiles: metadata rules with requirement levels, checked on every harvested record.

A profile (OpenAIRE v4 on ``oai_openaire``, OpenAIRE v3 on ``oai_dc`` in the ``openaire``
set) is a list of rules. Each rule belongs to one guideline property, carries that property's
requirement level (mandatory, mandatory if applicable, recommended, optional) and reports at
the status the level calls for: a broken mandatory rule is a FAIL, a recommended one a WARN,
an optional one an INFO. The records are harvested with ListRecords (up to ``--max-pages``),
every rule is tried on every live record, and each rule gives one result: PASS, or its status
with how many records broke it and the first one (its GetRecord URL and the reason).
"""
from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

from lxml import etree

from oaiserver.checker.checks import FAIL, INFO, WARN, Problem, Run
from oaiserver.checker.responses import q, text_of

M, MA, R, O = "M", "MA", "R", "O"
LEVELS = {M: "mandatory", MA: "mandatory if applicable", R: "recommended", O: "optional"}

#: A rule's test: None when the record keeps the rule (or it does not apply), else the reason.
Test = t.Callable[["Record"], t.Optional[str]]

# ISO 8601 dates as the guidelines allow them: YYYY, YYYY-MM or YYYY-MM-DD.
_DATE = re.compile(r"\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?")
# ISO 639-1/2/3 codes, or a BCP 47 tag built on one (syntax only: no registry is consulted).
_LANGUAGE = re.compile(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*")
# An IANA media type: type/subtype, parameters allowed.
_MIME = re.compile(r"[a-z]+/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*(\s*;.*)?")


@dataclass(frozen=True)
class Rule:
    """One check of one guideline property."""

    key: str  # the result is named "<profile>.<key>"
    guideline: str  # the property's name in the guidelines
    level: str  # M, MA, R or O
    status: str  # what a broken rule reports: FAIL, WARN or INFO
    test: Test


@dataclass
class Record:
    """One harvested record's metadata root, with the profile's namespace prefixes."""

    identifier: str
    root: etree._Element
    namespaces: dict[str, str]

    def find(self, path: str) -> list[t.Any]:
        """Evaluate an XPath relative to the metadata root."""
        return self.root.xpath(path, namespaces=self.namespaces)

    def texts(self, path: str) -> list[str]:
        """The stripped, non-empty texts of the elements at ``path``."""
        found = (e.text if isinstance(e, etree._Element) else str(e) for e in self.find(path))
        return [s.strip() for s in found if s and s.strip()]


@dataclass(frozen=True)
class Profile:
    """A guideline profile: what to harvest and the rules to apply."""

    name: str
    title: str
    prefix: str
    namespace: str
    namespaces: dict[str, str]
    rules: tuple[Rule, ...]
    set_spec: str | None = None
    preflight: t.Callable[[Run, Profile], bool] | None = None


def rule(key: str, guideline: str, level: str, test: Test, status: str | None = None) -> Rule:
    """A rule whose status follows its level (M/MA: FAIL, R: WARN, O: INFO) unless given."""
    return Rule(key, guideline, level, status or {M: FAIL, MA: FAIL, R: WARN, O: INFO}[level], test)


# --- building blocks for rule tests ---------------------------------------------------------

def present(path: str, what: str) -> Test:
    """The record has a non-empty value at ``path``."""
    return lambda record: None if record.texts(path) else f"no {what}"


def each(path: str, ok: t.Callable[[t.Any], bool], describe: t.Callable[[t.Any], str]) -> Test:
    """Every node at ``path`` passes ``ok`` (no node: nothing to check)."""
    def test(record: Record) -> str | None:
        for node in record.find(path):
            if not ok(node):
                return describe(node)
        return None
    return test


def in_vocabulary(path: str, vocabulary: t.Collection[str], what: str) -> Test:
    """Every value at ``path`` (an attribute or element text) is in ``vocabulary``."""
    def test(record: Record) -> str | None:
        for node in record.find(path):
            value = (node.text or "") if isinstance(node, etree._Element) else str(node)
            if value.strip() not in vocabulary:
                return f"{what} {value.strip()!r} is not in the vocabulary"
        return None
    return test


def when(condition: t.Callable[[Record], bool], test: Test) -> Test:
    """Apply ``test`` only to records for which ``condition`` holds."""
    return lambda record: test(record) if condition(record) else None


def is_date(value: str) -> bool:
    """Is ``value`` an ISO 8601 date: YYYY, YYYY-MM or YYYY-MM-DD?"""
    return bool(_DATE.fullmatch(value.strip()))


def is_language(value: str) -> bool:
    """Is ``value`` shaped like an ISO 639 code or a BCP 47 tag?"""
    return bool(_LANGUAGE.fullmatch(value.strip()))


def is_mime_type(value: str) -> bool:
    """Is ``value`` shaped like an IANA media type?"""
    return bool(_MIME.fullmatch(value.strip()))


# --- running a profile ------------------------------------------------------------------------

@dataclass
class RuleTally:
    """How many records one rule was tried on, how many broke it, and the first that did."""

    tried: int = 0
    broken: int = 0
    first: tuple[str, str] | None = None  # (identifier, reason)


def apply(rules: t.Sequence[Rule], record: Record) -> dict[str, str]:
    """Return {rule key: reason} for every rule ``record`` breaks."""
    broken = {}
    for item in rules:
        reason = item.test(record)
        if reason is not None:
            broken[item.key] = reason
    return broken


def check_profile(run: Run, profile: Profile) -> None:
    """Harvest the profile's records and report every rule once."""
    name = f"{profile.name}.records"
    if profile.preflight is not None and not profile.preflight(run, profile):
        for item in profile.rules:
            run.skip(f"{profile.name}.{item.key}", "no records to check (see above)")
        return
    tallies = {item.key: RuleTally() for item in profile.rules}
    params = [("metadataPrefix", profile.prefix)]
    params += [("set", profile.set_spec)] if profile.set_spec else []
    checked, problem = 0, None
    try:
        for identifier, root in _records(run, params):
            if root is None or etree.QName(root).namespace != profile.namespace:
                continue  # deleted, or not in the format at all (the protocol checks say so)
            checked += 1
            broken = apply(profile.rules, Record(identifier, root, profile.namespaces))
            for key, tally in tallies.items():
                tally.tried += 1
                if key in broken:
                    tally.broken += 1
                    tally.first = tally.first or (identifier, broken[key])
    except Problem as error:
        problem = (error.url, error.reason)
    asked = run.fetcher.url([("verb", "ListRecords"), *params])
    if problem is not None:
        run.fail(name, *problem)
    elif not checked:
        run.fail(name, asked, "no live record to check")
    else:
        run.ok(name, f"{profile.title}: {checked} records")
    for item in profile.rules:
        _report(run, profile, item, tallies[item.key], checked)


def _report(run: Run, profile: Profile, item: Rule, tally: RuleTally, checked: int) -> None:
    name = f"{profile.name}.{item.key}"
    if not checked:
        run.skip(name, "no records checked")
    elif tally.first is None:
        run.ok(name, f"{item.guideline} ({LEVELS[item.level]})")
    else:
        identifier, reason = tally.first
        url = run.fetcher.url([("verb", "GetRecord"), ("identifier", identifier),
                               ("metadataPrefix", profile.prefix)])
        run.add(name, item.status, url,
                f"{item.guideline} ({LEVELS[item.level]}): {tally.broken} of {checked} records; "
                f"first: {identifier}: {reason}")


def _records(run: Run, params: list[tuple[str, str]]) -> t.Iterator[tuple[str, etree._Element | None]]:
    # ListRecords to the end or to --max-pages; yields (identifier, metadata root or None).
    page = run.request([("verb", "ListRecords"), *params])
    pages = 1
    while True:
        if page.errors:
            if page.error_codes == ["noRecordsMatch"]:
                return
            raise Problem(page.url, f"error {page.describe_errors()}")
        body = page.body("ListRecords")
        if body is None:
            raise Problem(page.url, "no <ListRecords> element")
        for element in body.iterfind(q("record")):
            header = element.find(q("header"))
            identifier = text_of(header, "identifier") or ""
            metadata = element.find(q("metadata"))
            deleted = header is not None and header.get("status") == "deleted"
            children = [] if metadata is None else [c for c in metadata if isinstance(c.tag, str)]
            yield identifier, (None if deleted or not children else children[0])
        token = page.token("ListRecords")
        if token is None or not token.value or pages >= run.options.max_pages:
            return
        page = run.request([("verb", "ListRecords"), ("resumptionToken", token.value)])
        pages += 1


def listed_formats(run: Run) -> tuple[str, dict[str, tuple[str | None, str | None]]]:
    """ListMetadataFormats: (url, {prefix: (namespace, schema)}); raise Problem if unusable."""
    page = run.request([("verb", "ListMetadataFormats")])
    body = page.body("ListMetadataFormats")
    entries = [] if body is None else body.findall(q("metadataFormat"))
    return page.url, {text_of(e, "metadataPrefix") or "": (text_of(e, "metadataNamespace"), text_of(e, "schema"))
                      for e in entries}


def listed_sets(run: Run, limit: int) -> tuple[str, set[str]]:
    """ListSets to the end (or ``limit`` pages): (url of the first page, the setSpecs)."""
    page = run.request([("verb", "ListSets")])
    url, pages = page.url, 1
    specs: set[str] = set()
    while not page.errors:
        body = page.body("ListSets")
        if body is None:
            break
        specs.update(text_of(s, "setSpec") or "" for s in body.findall(q("set")))
        token = page.token("ListSets")
        if token is None or not token.value or pages >= limit:
            break
        page = run.request([("verb", "ListSets"), ("resumptionToken", token.value)])
        pages += 1
    return url, specs
