"""Run every check against one endpoint, in an order where each step feeds the next."""
from __future__ import annotations

from oaiserver.checker import (
    guidelines, openaire3, openaire4, probes, protocol, sampling, schema_cache, schemas,
)
from oaiserver.checker.checks import Options, Run
from oaiserver.checker.harvest import Harvest
from oaiserver.checker.http import Fetcher
from oaiserver.checker.report import Report

#: The protocol profile, then the guideline profiles by name.
PROTOCOL = "oai-pmh"
GUIDELINES = {profile.name: profile for profile in (openaire4.PROFILE, openaire3.PROFILE)}
PROFILES = (PROTOCOL, *GUIDELINES)


def run_checks(options: Options) -> Report:
    """Check the endpoint; raise checks.Unreachable or schemas.SchemaError when it cannot start."""
    unknown = set(options.profiles) - set(PROFILES)
    if unknown:
        raise ValueError(f"unknown profile(s) {', '.join(sorted(unknown))}; known: {', '.join(PROFILES)}")
    validator, note = _validator(options)
    run = Run(options, Fetcher(options.base_url, options.timeout, options.delay), validator,
              schema_note=note)
    protocol.check_identify(run)  # every profile starts here: it tells an unreachable endpoint
    if PROTOCOL in options.profiles:
        _protocol(run)
    for name in options.profiles:
        if name in GUIDELINES:
            guidelines.check_profile(run, GUIDELINES[name])
    run.finish()
    return Report(options.base_url, run.results, run.fetcher.requests)


def _validator(options: Options) -> tuple[schemas.Validator | None, str]:
    # The folder given, else the cache of official schemas (filled now if empty), else none.
    if options.schemas:
        return schemas.load(options.schemas), ""
    if options.schema_cache:
        outcome = schema_cache.load_or_fill(options.schema_cache, options.timeout, options.schema_mirror)
        return outcome.validator, outcome.reason
    return None, "no --schemas folder given"


def _protocol(run: Run) -> None:
    options = run.options
    formats = protocol.check_formats(run)
    sets = protocol.check_sets(run)
    prefixes = list(options.formats or formats)
    harvests: dict[str, tuple[Harvest, Harvest]] = {
        prefix: protocol.check_format(run, prefix, formats.get(prefix)) for prefix in prefixes
    }
    headers = [h for pair in harvests.values() for harvest in pair for h in harvest.headers]
    protocol.check_identify_late(run, headers)
    for prefix, (identifiers, records) in harvests.items():
        sampling.check_get_record(run, prefix, identifiers, records)
    live = {prefix: {h.identifier for h in ids.headers if not h.deleted}
            for prefix, (ids, _) in harvests.items()}
    sampling.check_item_formats(run, live, formats)
    main = "oai_dc" if "oai_dc" in harvests else next(iter(harvests), "oai_dc")
    full = harvests[main][0] if main in harvests else Harvest("list-identifiers", "ListIdentifiers")
    sampling.check_set_harvests(run, main, full, sets)
    sampling.check_windows(run, main, full)
    sample = next((h.identifier for h in full.headers if not h.deleted), None)
    probes.check_errors(run, main, sample)
