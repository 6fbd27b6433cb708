"""Identify, ListMetadataFormats, ListSets and the full harvest of every format."""
from __future__ import annotations

from oaiserver.checker import responses
from oaiserver.checker.checks import Problem, Run, Unreachable
from oaiserver.checker.harvest import Harvest, check_list, harvest
from oaiserver.checker.responses import DAY, SECONDS, SET_SPEC_RE, q, text_of

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
IDENTIFY_REQUIRED = ("repositoryName", "baseURL", "protocolVersion", "adminEmail",
                     "earliestDatestamp", "deletedRecord", "granularity")
IDENTIFY_CHECKS = ("identify.required", "identify.base-url", "identify.granularity", "identify.post")
DELETED_RECORD = ("no", "transient", "persistent")


def check_identify(run: Run) -> None:
    """Identify: required elements, baseURL, granularity; also once by POST."""
    try:
        page = run.request([("verb", "Identify")])
    except Problem as problem:
        if problem.transport:
            raise Unreachable(f"{problem.url}: {problem.reason}") from None
        run.fail("identify.response", problem.url, problem.reason)
        return _skip_all(run, IDENTIFY_CHECKS, "Identify failed")
    body = page.body("Identify")
    if page.errors or body is None:
        run.fail("identify.response", page.url, page.describe_errors() or "no <Identify> element")
        return _skip_all(run, IDENTIFY_CHECKS, "Identify failed")
    run.ok("identify.response")
    missing = [name for name in IDENTIFY_REQUIRED if body.find(q(name)) is None]
    version = text_of(body, "protocolVersion")
    if missing:
        run.fail("identify.required", page.url, f"missing {', '.join(missing)}")
    elif version != "2.0":
        run.fail("identify.required", page.url, f"protocolVersion {version!r}, not 2.0")
    else:
        run.ok("identify.required")
    base = text_of(body, "baseURL")
    if base == run.options.base_url:
        run.ok("identify.base-url")
    else:
        run.fail("identify.base-url", page.url,
                 f"baseURL {base!r} is not the URL asked, {run.options.base_url!r}")
    _check_granularity(run, page.url, text_of(body, "granularity"), text_of(body, "earliestDatestamp"))
    run.facts["deletedRecord"] = text_of(body, "deletedRecord")
    _check_post(run)


def _check_granularity(run: Run, url: str, granularity: str | None, earliest: str | None) -> None:
    if granularity not in (SECONDS, DAY):
        run.fail("identify.granularity", url, f"granularity {granularity!r} is neither {DAY} nor {SECONDS}")
    elif earliest is None or not responses.datestamp_syntax(earliest, granularity):
        run.fail("identify.granularity", url, f"earliestDatestamp {earliest!r} is not in {granularity}")
    else:
        run.ok("identify.granularity")
        run.facts["granularity"] = granularity
        run.facts["earliest"] = earliest


def _check_post(run: Run) -> None:
    try:
        page = run.request([("verb", "Identify")], method="POST")
    except Problem as problem:
        run.fail("identify.post", problem.url, f"POST: {problem.reason}")
        return
    if page.errors or page.body("Identify") is None:
        run.fail("identify.post", page.url, f"POST: {page.describe_errors() or 'no <Identify> element'}")
    else:
        run.ok("identify.post")


def check_identify_late(run: Run, headers: list[responses.Header]) -> None:
    """After the harvests: deletedRecord and earliestDatestamp against what was harvested."""
    policy = run.facts.get("deletedRecord")
    deleted = next((h for h in headers if h.deleted), None)
    if policy is None:
        run.skip("identify.deleted-record", "no deletedRecord in Identify")
    elif policy not in DELETED_RECORD:
        run.fail("identify.deleted-record", run.fetcher.url([("verb", "Identify")]),
                 f"deletedRecord {policy!r} is not one of {', '.join(DELETED_RECORD)}")
    elif policy == "no" and deleted is not None:
        run.fail("identify.deleted-record", run.fetcher.url([("verb", "Identify")]),
                 f"deletedRecord is 'no', but {deleted.identifier} is deleted")
    else:
        run.ok("identify.deleted-record")
    earliest = responses.parse_moment(run.facts.get("earliest") or "")
    moments = [(m, h) for h in headers if (m := responses.parse_moment(h.datestamp)) is not None]
    if earliest is None or not moments:
        run.skip("identify.earliest-datestamp", "no earliestDatestamp or no datestamps to compare")
        return
    first, header = min(moments, key=lambda pair: pair[0])
    if first < earliest:
        run.fail("identify.earliest-datestamp", run.fetcher.url([("verb", "Identify")]),
                 f"earliestDatestamp {run.facts['earliest']} is after {header.identifier}'s "
                 f"datestamp {header.datestamp}")
    else:
        run.ok("identify.earliest-datestamp")


def check_formats(run: Run) -> dict[str, str | None]:
    """ListMetadataFormats: well formed entries and oai_dc; return {prefix: namespace}."""
    names = ("list-metadata-formats.response", "list-metadata-formats.oai_dc")
    try:
        page = run.request([("verb", "ListMetadataFormats")])
    except Problem as problem:
        run.fail(names[0], problem.url, problem.reason)
        _skip_all(run, names[1:], "ListMetadataFormats failed")
        return {}
    body = page.body("ListMetadataFormats")
    entries = [] if body is None else body.findall(q("metadataFormat"))
    formats = {text_of(e, "metadataPrefix") or "": text_of(e, "metadataNamespace") for e in entries}
    incomplete = [e for e in entries if None in (text_of(e, "metadataPrefix"), text_of(e, "schema"),
                                                 text_of(e, "metadataNamespace"))]
    if page.errors or not entries:
        run.fail(names[0], page.url, page.describe_errors() or "no metadataFormat")
    elif incomplete:
        run.fail(names[0], page.url, "a metadataFormat lacks metadataPrefix, schema or metadataNamespace")
    else:
        run.ok(names[0], ", ".join(formats))
    if "oai_dc" not in formats:
        run.fail(names[1], page.url, "oai_dc is not listed")
    elif formats["oai_dc"] != OAI_DC_NS:
        run.fail(names[1], page.url, f"oai_dc has the namespace {formats['oai_dc']!r}, not {OAI_DC_NS}")
    else:
        run.ok(names[1])
    return formats


def check_sets(run: Run) -> Harvest:
    """ListSets: the list checks, setSpec syntax; noSetHierarchy is an accepted answer."""
    sets = harvest(run, "ListSets", [], "list-sets", reuse=True, empty_codes=("noSetHierarchy",))
    check_list(run, sets)
    name = "list-sets.set-spec-syntax"
    bad = next((s for s in sets.set_entries if not SET_SPEC_RE.fullmatch(s.identifier) or not s.name), None)
    if sets.empty:
        run.skip(name, "the repository has no sets (noSetHierarchy)")
    elif not sets.items:
        run.skip(name, "no sets could be read")
    elif bad is not None:
        what = "has no setName" if SET_SPEC_RE.fullmatch(bad.identifier) else "is not a legal setSpec"
        run.fail(name, sets.url_of(bad), f"{bad.identifier!r} {what}")
    else:
        run.ok(name, f"{len(sets.items)} sets")
    return sets


def check_format(run: Run, prefix: str, namespace: str | None) -> tuple[Harvest, Harvest]:
    """Full ListIdentifiers and ListRecords harvests of one format, and their checks."""
    params = [("metadataPrefix", prefix)]
    identifiers = harvest(run, "ListIdentifiers", params, f"list-identifiers.{prefix}", reuse=True)
    check_list(run, identifiers)
    _check_datestamps(run, identifiers)
    records = harvest(run, "ListRecords", params, f"list-records.{prefix}", reuse=True)
    check_list(run, records)
    _check_datestamps(run, records)
    _check_metadata(run, records, namespace)
    _check_same_items(run, identifiers, records)
    for h in (identifiers, records):
        if h.first_token and "token" not in run.facts:
            run.facts["token"] = (h.verb, h.first_token)
    return identifiers, records


def _check_datestamps(run: Run, h: Harvest) -> None:
    name = f"{h.label}.datestamps"
    granularity = run.facts.get("granularity")
    if not h.headers:
        run.skip(name, "no headers harvested")
        return
    for header in h.headers:
        if not header.identifier:
            run.fail(name, h.url_of(header), "a header has no identifier")
            return
        if not responses.datestamp_syntax(header.datestamp, granularity):
            wanted = granularity or f"{DAY} or {SECONDS}"
            run.fail(name, h.url_of(header),
                     f"{header.identifier}: datestamp {header.datestamp!r} is not in {wanted}")
            return
    run.ok(name)


def _check_metadata(run: Run, h: Harvest, namespace: str | None) -> None:
    name = f"{h.label}.metadata"
    if not h.headers:
        run.skip(name, "no records harvested")
        return
    for record in h.headers:
        if record.deleted and record.metadata != -1:
            problem = "is deleted but has <metadata>"
        elif not record.deleted and record.metadata != 1:
            problem = "has no metadata" if record.metadata < 1 else "has several metadata elements"
        elif not record.deleted and namespace and record.namespace != namespace:
            problem = f"has metadata in {record.namespace!r}, not the format's namespace {namespace!r}"
        else:
            continue
        run.fail(name, h.url_of(record), f"{record.identifier} {problem}")
        return
    run.ok(name)


def _check_same_items(run: Run, identifiers: Harvest, records: Harvest) -> None:
    name = f"{records.label}.matches-identifiers"
    if not (identifiers.complete and records.complete):
        run.skip(name, "a harvest did not complete")
        return
    ids = {h.identifier: h for h in identifiers.headers}
    recs = {h.identifier: h for h in records.headers}
    only_ids, only_recs = sorted(ids.keys() - recs.keys()), sorted(recs.keys() - ids.keys())
    differ = sorted(i for i in ids.keys() & recs.keys() if not ids[i].same_header(recs[i]))
    if only_ids or only_recs:
        example = (only_ids or only_recs)[0]
        run.fail(name, records.pages[-1].url if records.pages else "",
                 f"{len(only_ids)} items only in ListIdentifiers, {len(only_recs)} only in "
                 f"ListRecords, e.g. {example}")
    elif differ:
        run.fail(name, records.url_of(recs[differ[0]]), f"the headers of {differ[0]} differ")
    else:
        run.ok(name)


def _skip_all(run: Run, names: tuple[str, ...], reason: str) -> None:
    for name in names:
        run.skip(name, reason)
