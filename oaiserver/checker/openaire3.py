"""The ``openaire3`` profile: OpenAIRE Guidelines for Literature Repositories v3 (DRIVER) on ``oai_dc``.

OpenAIRE v3 harvests ``oai_dc`` from the mandatory set ``openaire`` and reads the
``info:eu-repo`` vocabularies inside the Dublin Core elements. Levels as in v4's profile:
a missing mandatory element or a term outside its vocabulary is a FAIL, a missing recommended
element a WARN; "mandatory if applicable" elements that every journal article has (subject,
description, publisher) are WARNs when missing, the embargo end date is required of every
embargoed record, and project identifiers are checked for their form when present.
"""
from __future__ import annotations

import re

from oaiserver.checker.checks import WARN, Problem, Run
from oaiserver.checker.guidelines import (
    M, MA, R, Profile, Record, each, is_date, listed_sets, present, rule, when,
)

NAMESPACE = "http://www.openarchives.org/OAI/2.0/oai_dc/"
NAMESPACES = {"oai_dc": NAMESPACE, "dc": "http://purl.org/dc/elements/1.1/"}
SET_SPEC = "openaire"
EU_REPO = "info:eu-repo/semantics/"
ACCESS_LEVELS = {EU_REPO + t for t in ("closedAccess", "embargoedAccess", "restrictedAccess", "openAccess")}
PUBLICATION_TYPES = {EU_REPO + t for t in (
    "article", "bachelorThesis", "masterThesis", "doctoralThesis", "book", "bookPart", "review",
    "conferenceObject", "lecture", "workingPaper", "preprint", "report", "annotation",
    "contributionToPeriodical", "patent", "other")}
VERSIONS = {EU_REPO + t for t in ("draft", "submittedVersion", "acceptedVersion", "publishedVersion",
                                  "updatedVersion")}
ALT_IDENTIFIER_SCHEMES = {"ark", "arxiv", "doi", "hdl", "isbn", "pissn", "eissn", "pmid", "purl",
                          "urn", "wos"}
_EMBARGO_END = re.compile(r"info:eu-repo/date/embargoEnd/(\d{4}-\d{2}-\d{2})")
_GRANT = re.compile(r"info:eu-repo/grantAgreement/[^/]+/[^/]*/[^/]+(/.*)?")
_ALT_ID = re.compile(r"info:eu-repo/semantics/altIdentifier/([^/]+)/.+")
_URL = re.compile(r"https?://\S+")
_ISO639 = re.compile(r"[a-z]{2,3}")  # ISO 639-3 is best practice; -1 and -2 are allowed


def _access_level(record: Record) -> str | None:
    terms = [v for v in record.texts("dc:rights") if v.startswith(EU_REPO)]
    levels = [v for v in terms if v in ACCESS_LEVELS]
    if len(levels) != 1:
        return f"{len(levels)} access-level terms (info:eu-repo/semantics/…Access) in dc:rights, not 1"
    return None


def _embargoed(record: Record) -> bool:
    return EU_REPO + "embargoedAccess" in record.texts("dc:rights")


def _embargo_end(record: Record) -> str | None:
    ends = [v for v in record.texts("dc:date") if _EMBARGO_END.fullmatch(v)]
    return None if ends else "embargoedAccess, but no dc:date info:eu-repo/date/embargoEnd/YYYY-MM-DD"


def _publication_date(record: Record) -> str | None:
    dates = [v for v in record.texts("dc:date") if not v.startswith("info:eu-repo/")]
    if not dates:
        return "no publication date in dc:date"
    bad = next((d for d in dates if not is_date(d)), None)
    return None if bad is None else f"dc:date {bad!r} is not YYYY, YYYY-MM or YYYY-MM-DD"


def _publication_type(record: Record) -> str | None:
    types = [v for v in record.texts("dc:type") if v in PUBLICATION_TYPES]
    if len(types) != 1:
        return f"{len(types)} publication types (info:eu-repo/semantics/…) in dc:type, not 1"
    return None


def _version(record: Record) -> str | None:
    return None if any(v in VERSIONS for v in record.texts("dc:type")) else "no version term in dc:type"


def _identifier_url(record: Record) -> str | None:
    found = record.texts("dc:identifier")
    return None if not found or any(_URL.fullmatch(v) for v in found) else "no dc:identifier is a URL"


def _project(record: Record) -> str | None:
    for value in record.texts("dc:relation"):
        if value.startswith("info:eu-repo/grantAgreement/") and not _GRANT.fullmatch(value):
            return f"project identifier {value!r} is not info:eu-repo/grantAgreement/Funder/Program/ID"
    return None


def _alt_identifier(record: Record) -> str | None:
    for value in record.texts("dc:relation"):
        if value.startswith(EU_REPO + "altIdentifier/"):
            match = _ALT_ID.fullmatch(value)
            if match is None or match[1] not in ALT_IDENTIFIER_SCHEMES:
                return f"alternative identifier {value!r} has no known scheme"
    return None


def _licence(record: Record) -> str | None:
    urls = [v for v in record.texts("dc:rights") if _URL.fullmatch(v)]
    return None if urls else "no licence URL in dc:rights"


RULES = (
    rule("title", "Title", M, present("dc:title", "dc:title")),
    rule("creator", "Creator", M, present("dc:creator", "dc:creator")),
    rule("creator.form", "Creator", M, each("dc:creator", lambda e: "," in (e.text or ""),
                                           lambda e: f"dc:creator {e.text!r} is not 'Family, Given'"),
         status=WARN),
    rule("project-identifier", "Project Identifier", MA, _project),
    rule("access-level", "Access Level", M, _access_level),
    rule("license-condition", "License Condition", R, _licence),
    rule("embargo-end-date", "Embargo End Date", MA, when(_embargoed, _embargo_end)),
    rule("alternative-identifier", "Alternative Identifier", R, _alt_identifier),
    rule("subject", "Subject", MA, present("dc:subject", "dc:subject"), status=WARN),
    rule("description", "Description", MA, present("dc:description", "dc:description"), status=WARN),
    rule("publisher", "Publisher", MA, present("dc:publisher", "dc:publisher"), status=WARN),
    rule("publication-date", "Publication Date", M, _publication_date),
    rule("publication-type", "Publication Type", M, _publication_type),
    rule("publication-version", "Publication Version", R, _version),
    rule("format", "Format", R, present("dc:format", "dc:format")),
    rule("resource-identifier", "Resource Identifier", M, present("dc:identifier", "dc:identifier")),
    rule("resource-identifier.url", "Resource Identifier", M, _identifier_url, status=WARN),
    rule("source", "Source", R, present("dc:source", "dc:source")),
    rule("language", "Language", R, present("dc:language", "dc:language")),
    rule("language.code", "Language", R, each("dc:language", lambda e: bool(_ISO639.fullmatch((e.text or "").strip())),
                                              lambda e: f"dc:language {e.text!r} is not an ISO 639 code")),
    rule("coverage", "Coverage", R, present("dc:coverage", "dc:coverage")),
    rule("audience", "Audience", R, present("dc:audience", "dc:audience")),
)


def _preflight(run: Run, profile: Profile) -> bool:
    # The set is mandatory: without it OpenAIRE v3 has nothing to harvest.
    try:
        url, specs = listed_sets(run, run.options.max_pages)
    except Problem as problem:
        run.fail("openaire3.set", problem.url, problem.reason)
        return False
    if SET_SPEC not in specs:
        run.fail("openaire3.set", url, f"ListSets has no set {SET_SPEC!r}")
        return False
    run.ok("openaire3.set")
    return True


PROFILE = Profile(name="openaire3", title="OpenAIRE Guidelines for Literature Repositories v3 (DRIVER)",
                  prefix="oai_dc", namespace=NAMESPACE, namespaces=NAMESPACES, rules=RULES,
                  set_spec=SET_SPEC, preflight=_preflight)
