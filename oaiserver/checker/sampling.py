"""Checks on samples of the harvest: GetRecord, per-item formats, set harvests, datestamp windows."""
from __future__ import annotations

import typing as t

from oaiserver.checker import responses
from oaiserver.checker.checks import Problem, Run
from oaiserver.checker.harvest import Harvest, harvest
from oaiserver.checker.responses import SECONDS, Header

#: Pages a window or set harvest may take; they check membership, not paging.
SAMPLE_PAGES = 20


def spread(items: t.Sequence[t.Any], n: int) -> list[t.Any]:
    """Pick up to ``n`` items evenly spaced over ``items`` (first and last included)."""
    if n <= 0 or not items:
        return []
    if n >= len(items):
        return list(items)
    if n == 1:
        return [items[0]]
    return [items[round(i * (len(items) - 1) / (n - 1))] for i in range(n)]


def check_get_record(run: Run, prefix: str, identifiers: Harvest, records: Harvest) -> None:
    """GetRecord on sampled identifiers gives the harvested header (and ListRecords' metadata)."""
    name = f"get-record.{prefix}"
    source = records if records.headers else identifiers
    chosen = spread(source.headers, run.options.sample)
    deleted = next((h for h in source.headers if h.deleted), None)
    if deleted is not None and deleted not in chosen and chosen:
        chosen[-1] = deleted  # a deleted record is the case servers get wrong most often
    if not chosen:
        run.skip(name, "--sample is 0" if not run.options.sample else "no records harvested")
        return
    for expected in chosen:
        outcome = _get_record(run, prefix, expected, from_records=source is records)
        if outcome is not None:
            run.fail(name, *outcome)
            return
    run.ok(name, f"{len(chosen)} records")


def _get_record(run: Run, prefix: str, expected: Header, from_records: bool) -> tuple[str, str] | None:
    params = [("verb", "GetRecord"), ("identifier", expected.identifier), ("metadataPrefix", prefix)]
    try:
        page = run.request(params)
    except Problem as problem:
        return problem.url, problem.reason
    if page.errors:
        return page.url, f"{expected.identifier}: error {page.describe_errors()}"
    got = responses.headers(page, "GetRecord")
    if len(got) != 1:
        return page.url, f"{expected.identifier}: {len(got)} records in the response"
    record = got[0]
    if not record.same_header(expected):
        return page.url, (f"header differs from the harvest: {_brief(record)} here, "
                          f"{_brief(expected)} harvested")
    if record.deleted and record.metadata != -1:
        return page.url, f"{expected.identifier} is deleted but has <metadata>"
    if not record.deleted and record.metadata != 1:
        return page.url, f"{expected.identifier} has {max(record.metadata, 0)} metadata elements"
    if from_records and record.digest != expected.digest:
        return page.url, f"{expected.identifier}: the metadata differs from ListRecords'"
    return None


def _brief(header: Header) -> str:
    status = " deleted" if header.deleted else ""
    return f"({header.identifier} {header.datestamp}{status} sets {sorted(header.sets)})"


def check_item_formats(run: Run, live: dict[str, set[str]], formats: dict[str, str | None]) -> None:
    """ListMetadataFormats for one item lists every format the item was harvested in."""
    name = "list-metadata-formats.identifier"
    items = sorted(set().union(*live.values())) if live else []
    if not items:
        run.skip(name, "no live item harvested")
        return
    identifier = spread(items, 1)[0]
    try:
        page = run.request([("verb", "ListMetadataFormats"), ("identifier", identifier)])
    except Problem as problem:
        run.fail(name, problem.url, problem.reason)
        return
    body = page.body("ListMetadataFormats")
    listed = set() if body is None else {
        responses.text_of(e, "metadataPrefix") or "" for e in body.findall(responses.q("metadataFormat"))}
    expected = {prefix for prefix, ids in live.items() if identifier in ids}
    if page.errors:
        run.fail(name, page.url, f"{identifier}: error {page.describe_errors()}")
    elif not expected <= listed:
        run.fail(name, page.url, f"{identifier} was harvested as {', '.join(sorted(expected - listed))}, "
                                 "which this response does not list")
    elif formats and not listed <= set(formats):
        run.fail(name, page.url, f"lists {', '.join(sorted(listed - set(formats)))}, which the "
                                 "repository-wide ListMetadataFormats does not")
    else:
        run.ok(name)


def in_set(header: Header, spec: str) -> bool:
    """Is the record in ``spec``: does it list ``spec`` or a set below it (``spec:...``)?"""
    return any(s == spec or s.startswith(spec + ":") for s in header.sets)


def check_set_harvests(run: Run, prefix: str, full: Harvest, sets: Harvest) -> None:
    """Harvest a few sets: each returns exactly the records whose headers place them in it."""
    specs = [s.identifier for s in sets.items]
    used = {s for h in full.headers for s in h.sets}
    name = "sets.header-specs-listed"
    unlisted = sorted(used - set(specs))
    if not sets.complete:
        run.skip(name, "ListSets did not complete")
    elif unlisted:
        run.fail(name, full.pages[-1].url if full.pages else "",
                 f"{len(unlisted)} setSpecs in headers are not in ListSets, e.g. {unlisted[0]!r}")
    else:
        run.ok(name)
    populated = [s for s in specs if any(in_set(h, s) for h in full.headers)]
    chosen = spread(sorted(populated, key=lambda s: (s.count(":"), s)), run.options.max_sets)
    if not chosen:
        reason = ("--max-sets is 0" if not run.options.max_sets
                  else "no set has harvested records" if specs else "no sets")
        run.skip("sets.membership", reason)
    for spec in chosen:
        _check_one_set(run, prefix, spec, full)


def _check_one_set(run: Run, prefix: str, spec: str, full: Harvest) -> None:
    name = f"sets.{spec}"
    h = harvest(run, "ListIdentifiers", [("metadataPrefix", prefix), ("set", spec)], name,
                max_pages=SAMPLE_PAGES)
    if h.problem:
        run.fail(name, *h.problem)
        return
    # A deleted header need not name the set: a record that left the set is listed there as
    # deleted, its header naming the sets it is in now (decisions.md P16; OAI-PMH asks only
    # that a deleted record be reported where it was).
    outsider = next((x for x in h.headers if not x.deleted and not in_set(x, spec)), None)
    if outsider is not None:
        run.fail(name, h.url_of(outsider), f"{outsider.identifier} lists neither {spec} nor a set below it")
        return
    if h.complete and full.complete:
        got = {x.identifier for x in h.headers}
        missing = sorted(x.identifier for x in full.headers if in_set(x, spec) and x.identifier not in got)
        if missing:
            url = h.pages[-1].url if h.pages else run.fetcher.url(
                [("verb", "ListIdentifiers"), ("metadataPrefix", prefix), ("set", spec)])
            run.fail(name, url, f"{len(missing)} records in the set are missing, e.g. {missing[0]}")
            return
    run.ok(name, f"{len(h.headers)} records")


def check_windows(run: Run, prefix: str, full: Harvest) -> None:
    """from/until on harvested datestamps: inclusive bounds, nothing outside the window."""
    dated = [(m, h) for h in full.headers if (m := responses.parse_moment(h.datestamp)) is not None]
    names = ("windows.exact", "windows.from", "windows.until", "windows.day")
    if not dated:
        for name in names:
            run.skip(name, "no datestamps harvested")
        return
    moments = {h.datestamp: m for m, h in dated}
    stamps = sorted(moments, key=moments.__getitem__)
    low, middle, high = stamps[0], stamps[len(stamps) // 2], stamps[-1]
    _window(run, names[0], prefix, full, middle, middle)
    _window(run, names[1], prefix, full, high, None)
    _window(run, names[2], prefix, full, None, low)
    if "T" in middle and run.facts.get("granularity") == SECONDS:
        _window(run, names[3], prefix, full, middle[:10], middle[:10])
    else:
        run.skip(names[3], "the repository's granularity is days")


def _window(run: Run, name: str, prefix: str, full: Harvest, from_: str | None, until: str | None) -> None:
    params = [("metadataPrefix", prefix)]
    params += [("from", from_)] if from_ else []
    params += [("until", until)] if until else []
    from_bounds = responses.day_bounds(from_) if from_ else None
    until_bounds = responses.day_bounds(until) if until else None
    low = from_bounds[0] if from_bounds else None
    high = until_bounds[1] if until_bounds else None

    def inside(header: Header) -> bool:
        bounds = responses.day_bounds(header.datestamp)
        return (bounds is not None and (low is None or bounds[1] >= low)
                and (high is None or bounds[0] <= high))

    h = harvest(run, "ListIdentifiers", params, name, max_pages=SAMPLE_PAGES)
    asked = f"from {from_ or '-'} until {until or '-'}"
    if h.problem:
        run.fail(name, *h.problem)
        return
    outsider = next((x for x in h.headers if not inside(x)), None)
    if outsider is not None:
        run.fail(name, h.url_of(outsider),
                 f"{asked}: {outsider.identifier} has the datestamp {outsider.datestamp}")
        return
    if h.complete and full.complete:
        got = {x.identifier for x in h.headers}
        missing = [x for x in full.headers if inside(x) and x.identifier not in got]
        if missing:
            url = h.pages[-1].url if h.pages else run.fetcher.url([("verb", "ListIdentifiers"), *params])
            run.fail(name, url, f"{asked}: {missing[0].identifier} (datestamp {missing[0].datestamp}) "
                                f"is missing{' (noRecordsMatch)' if h.empty else ''}")
            return
    run.ok(name, f"{asked}: {len(h.headers)} records")
