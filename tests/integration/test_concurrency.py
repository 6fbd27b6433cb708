"""Concurrency: ingest while harvesters page through the lists.

The harvest test runs a real gunicorn (2 workers) on 127.0.0.1, an ingest loop of CLI
subprocesses, and harvester threads; no harvester may see an error, a 500, a skipped record, a
duplicate, or more records than completeListSize said: the server runs with its default
visibility delay, so nothing committed in the pinned second joins a list (decisions.md P5, P14).
"""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers.oai import GOOD_SAMPLES, NS, REPO, REPOSITORY_IDENTIFIER, identifiers
from tests.helpers.issues import A, issue, write_issue
from tests.helpers.servers import gunicorn, oaiserver_env

BASE = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/"
HARVESTERS = 4
MIN_INGESTS = 6  # ingests that must finish while the harvesters run
MIN_HARVESTS = 2  # complete harvests per harvester
DEADLINE = 120  # seconds; the test fails rather than hang
HTTP_TIMEOUT = 30
VISIBILITY_DELAY = 2  # this server runs with the default OAI_VISIBILITY_DELAY


@dataclass
class Harvest:
    """One harvest as a harvester saw it."""

    pinned: str = ""  # the first responseDate: the server pins until to it
    total: int | None = None  # completeListSize of the first page (None: a one-page list)
    headers: list[tuple[str, str]] = field(default_factory=list)  # (identifier, datestamp)
    ended_by_no_records: bool = False  # the rest of the list moved past the pinned until


@dataclass
class Observed:
    """Everything the harvester threads and the ingest loop saw."""

    harvests: list[Harvest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ingests: int = 0
    pages: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, text: str) -> None:
        """Record something that must not happen."""
        with self.lock:
            self.problems.append(text[:500])


def fetch(base: str, params: dict[str, str], schema: etree.XMLSchema, observed: Observed) -> etree._Element | None:
    """GET one page; record any HTTP error, invalid XML or invalid response."""
    url = f"{base}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        observed.problem(f"HTTP {error.code} for {url}: {error.read()[:300]!r}")
        return None
    except OSError as error:
        observed.problem(f"{type(error).__name__} for {url}: {error}")
        return None
    tree = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    with observed.lock:  # one validator, shared by the threads
        valid = schema.validate(tree)
        observed.pages += 1
    if not valid:
        observed.problem(f"schema-invalid page {url}: {body[:300]!r}")
    return tree


def harvest_once(base: str, schema: etree.XMLSchema, observed: Observed) -> Harvest | None:
    """Follow one ListRecords harvest to its end; None if it failed (the problem is recorded)."""
    result = Harvest()
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    first = True
    while True:
        tree = fetch(base, params, schema, observed)
        if tree is None:
            return None
        if first:
            result.pinned, first = tree.findtext("o:responseDate", namespaces=NS), False
        codes = [e.get("code") for e in tree.findall("o:error", NS)]
        if codes == ["noRecordsMatch"] and "resumptionToken" in params:
            result.ended_by_no_records = True
            return result
        if codes:
            observed.problem(f"OAI error {codes} for {params}")
            return None
        for header in tree.iterfind(".//o:header", NS):
            result.headers.append((header.findtext("o:identifier", namespaces=NS),
                                   header.findtext("o:datestamp", namespaces=NS)))
        token_element = tree.find(".//o:resumptionToken", NS)
        if token_element is not None and result.total is None:
            result.total = int(token_element.get("completeListSize"))
        token = None if token_element is None else token_element.text
        if not token:
            return result
        params = {"verb": "ListRecords", "resumptionToken": token}


def harvester(base: str, schema: etree.XMLSchema, observed: Observed, stop: threading.Event) -> None:
    """Harvest again and again until told to stop."""
    while not stop.is_set():
        done = harvest_once(base, schema, observed)
        if done is None:
            return
        with observed.lock:
            observed.harvests.append(done)


def ingest_loop(env: dict[str, str], versions: list[list[str]], observed: Observed, stop: threading.Event) -> None:
    """Ingest the churn files again and again, alternating their versions, in CLI subprocesses."""
    round_ = 0
    while not stop.is_set():
        files = versions[round_ % len(versions)]
        result = subprocess.run([sys.executable, "-m", "oaiserver.cli", "ingest", "--quiet", *files],
                                env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            observed.problem(f"ingest failed: {result.stdout[-300:]} {result.stderr[-500:]}")
            return
        with observed.lock:
            observed.ingests += 1
        round_ += 1


def churn_versions(root: Path) -> list[list[str]]:
    """Two versions of two issues: titles change, articles come and go (updates, deletes, adds)."""
    versions = []
    for v, (title, extra) in enumerate((("first", ["C-10"]), ("second", ["C-11", "C-12"]))):
        files = []
        for number in ("1", "2"):
            codes = [f"C-{number}-{i}" for i in range(6)] + [f"{code}-{number}" for code in extra]
            path = root / f"churn-{number}-v{v}.xml"
            files.append(write_issue(path, [A(code, title=f"{code} {title}") for code in codes],
                                     volume="7", number=number))
        versions.append(files)
    return versions


def check_harvest(done: Harvest, stable: set[str]) -> list[str]:
    """What is wrong with one harvest: a duplicate, a datestamp past the pin, a missing stable record."""
    problems, seen = [], {}
    for identifier, datestamp in done.headers:
        if datestamp > done.pinned:
            problems.append(f"{identifier} at {datestamp}, after the pinned {done.pinned}")
        if identifier in seen:
            problems.append(f"{identifier} twice ({seen[identifier]}, {datestamp}; pinned {done.pinned})")
        seen[identifier] = datestamp
    if done.total is not None and len(done.headers) > done.total:
        # A record that changes during a harvest leaves the list (its new datestamp is past the
        # pinned until), so fewer is possible; more would mean records counted by no one.
        problems.append(f"{len(done.headers)} records, more than the completeListSize {done.total}")
    missing = stable - set(seen)
    if missing:
        problems.append(f"stable records skipped: {sorted(missing)[:5]} (of {len(missing)})")
    return problems


@pytest.fixture(scope="module")
def busy_harvests(tmp_path_factory, oai_schema) -> tuple[Observed, set[str]]:
    """Four harvesters page ListRecords on gunicorn while a CLI ingest loop rewrites two issues."""
    root = tmp_path_factory.mktemp("busy")
    config = {"DATABASE": str(root / "oai.sqlite3"), "SECRET_KEY": "concurrency-secret",
              "OAI_PAGE_SIZE": 4, "OAI_IDENTIFIERS_PAGE_SIZE": 4, "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_IDENTIFIER,
              "OAI_VISIBILITY_DELAY": VISIBILITY_DELAY}
    # No access log: nobody reads it, and thousands of lines would only cost CPU.
    env = {**oaiserver_env(config, root / "instance"), "GUNICORN_ACCESSLOG": "off"}
    static = [write_issue(root / f"static-{n}.xml", [A(f"S-{n}-{i}") for i in range(12)], volume="1",
                          number=str(n)) for n in range(3)]
    versions = churn_versions(root)
    subprocess.run([sys.executable, "-m", "oaiserver.cli", "ingest", "--quiet", *map(str, GOOD_SAMPLES), *static,
                    *versions[0]], env=env, cwd=REPO, check=True, capture_output=True, timeout=120)
    stable = {f"{BASE}S-{n}-{i}" for n in range(3) for i in range(12)}
    time.sleep(VISIBILITY_DELAY + 1)  # the first ingest is listed from its datestamp on
    observed, stop_harvest, stop_ingest = Observed(), threading.Event(), threading.Event()
    with gunicorn(env, workers=2) as base:
        threads = [threading.Thread(target=harvester, args=(base, oai_schema, observed, stop_harvest))
                   for _ in range(HARVESTERS)]
        ingester = threading.Thread(target=ingest_loop, args=(env, versions, observed, stop_ingest))
        for thread in [ingester, *threads]:
            thread.start()
        deadline = time.monotonic() + DEADLINE
        try:
            while time.monotonic() < deadline and not observed.problems:
                with observed.lock:
                    enough = observed.ingests >= MIN_INGESTS and len(observed.harvests) >= HARVESTERS * MIN_HARVESTS
                if enough:
                    break
                time.sleep(0.2)
        finally:
            stop_ingest.set()
            ingester.join(timeout=150)
            stop_harvest.set()
            for thread in threads:
                thread.join(timeout=60)
    return observed, stable


@pytest.mark.integration
def test_harvesters_see_no_error_while_ingest_runs(busy_harvests):
    """Every page is HTTP 200 and schema-valid, no OAI error (no 'database is locked'), every ingest succeeds."""
    observed, _ = busy_harvests
    assert not observed.problems, observed.problems
    assert observed.ingests >= MIN_INGESTS and len(observed.harvests) >= HARVESTERS * MIN_HARVESTS, (
        f"too slow: {observed.ingests} ingests, {len(observed.harvests)} harvests in {DEADLINE} s")
    print(f"{observed.ingests} ingests, {len(observed.harvests)} harvests, {observed.pages} pages")


@pytest.mark.integration
def test_no_stable_record_skipped_and_nothing_past_the_pin(busy_harvests):
    """Records the ingest does not touch are in every harvest; no datestamp is after the pinned until."""
    observed, stable = busy_harvests
    wrong = [p for done in observed.harvests for p in check_harvest(done, stable)
             if " twice " not in p and "completeListSize" not in p]
    assert not wrong, wrong


@pytest.mark.integration
def test_no_duplicate_and_never_more_than_complete_list_size(busy_harvests):
    """No record comes twice in one harvest, and no harvest gets more records than its completeListSize."""
    observed, stable = busy_harvests
    wrong = [p for done in observed.harvests for p in check_harvest(done, stable)
             if " twice " in p or "completeListSize" in p]
    assert not wrong, wrong


def test_a_change_committed_after_a_harvest_began_is_not_lost(app, ingest, oai, clock, tmp_path, monkeypatch):
    """An incremental harvest from the last responseDate must get a change committed after it."""
    from oaiserver import cli
    from oaiserver.ingest.parsing import parse_issue
    from oaiserver.ingest.writes import RecordWrites

    ingest(write_issue(tmp_path / "v1.xml", [A("T-1"), A("T-2")]))
    clock.advance(10)
    entered, release, real = threading.Event(), threading.Event(), RecordWrites.write

    def slow_write(self, conn, lists):
        entered.set()
        assert release.wait(30)
        return real(self, conn, lists)

    monkeypatch.setattr(RecordWrites, "write", slow_write)
    with app.app_context():
        store = cli.open_store()
    changed = parse_issue(issue([A("T-1", title="A corrected title"), A("T-2")]))
    writer = threading.Thread(target=store.save_issue, args=(changed,))
    writer.start()
    try:
        assert entered.wait(30)  # the ingest holds its transaction, its datestamp already taken
        clock.advance(5)
        harvested_at = oai(verb="ListIdentifiers", metadataPrefix="oai_dc").findtext("o:responseDate", namespaces=NS)
    finally:
        release.set()
        writer.join(timeout=30)
    # The harvester comes back for what changed since its last harvest.
    later = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", from_=harvested_at)
    assert BASE + "T-1" in identifiers(later)
