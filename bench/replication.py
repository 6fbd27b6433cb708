"""Replication on Litestream, measured on loopback with S3 on moto_server (decisions.md P14).

    python -m bench.replication --articles 10000 [--results DIR] [--data DIR] [--commits 30]
    python -m bench.replication --articles 100000 --no-lag --no-harvest   # the big-file figures only

One cluster per run, every piece a real process started the way an operator starts it: moto_server
(S3 on 127.0.0.1), the corpus ingested by the CLI, ``oaiserver replica primary`` replicating it,
``oaiserver replica follow`` plus gunicorn on each of two web nodes. It measures:

* **lag**: from a commit on the primary (``withdraw``/``restore`` of one record through the CLI)
  until each follower's file shows its ``timeline.version``; both files are polled read-only every
  ``POLL`` seconds, so the commit moment is known to that resolution. Beside it, the lag as a
  follower sees it: the age of the primary's heartbeat in the follower's file, sampled as often.
* **new node**: from starting ``replica follow`` (and gunicorn) on an empty node to ``/healthz``
  200, then to the first ListRecords page answered. The first node also waits for the primary's
  first upload; the second is the one a running cluster gains.
* **restore**: ``oaiserver replica restore`` into a new path; seconds and file size.
* **harvest**: concurrent full ListRecords oai_dc harvests, every request to one node, or
  alternating between the two; records/s and each gunicorn's CPU (from /proc).
* **disk**: bytes per record of the file, by table and index (SQLite's dbstat), renditions per
  format, the parts of a record row, and what the replica in S3 holds (the objects' sizes, by
  Litestream level).
* **idle**: for ``--idle`` seconds only the heartbeat commits: what the replica gains meanwhile
  and the S3 requests moto_server logs, by kind.

Large files go under --data (default /tmp/bench-data); results to --results (bench/results) as
``replication-<size>.json`` and ``.md``. The machine's load average is recorded beside each figure.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import typing as t
from pathlib import Path

from bench import corpus
from bench.harvest import next_query
from bench.ingest_bench import run_ingest
from bench.run import DEFAULT_DATA, DEFAULT_RESULTS, label
from bench.serve import REPO, Gunicorn, free_port, get, median, percentile

BUCKET = "oai-replica"
#: The delay the primary stamps changes with and the lag a follower may have (OAI_MAX_LAG + 5).
DELAY = 10
MAX_LAG = 5
SECRET = "replication-benchmark-secret"
#: Dummy credentials: moto accepts any, Litestream insists on some.
S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
#: Seconds between two looks at the files (the resolution of the lag figures).
POLL = 0.02
#: How long a node may take to serve, or a commit to arrive, before the run fails.
NODE_TIMEOUT = 3600
COMMIT_TIMEOUT = 120
#: One request in moto_server's log: ``… [05/Dec/2026 19:21:06] "GET /bucket/key?… HTTP/1.1" 200 -``.
MOTO_LINE = re.compile(r'\[(?P<when>[^\]]+)\] "(?P<method>[A-Z]+) (?P<path>\S+) HTTP')


def load() -> list[float]:
    """The machine's load averages (1, 5, 15 minutes), rounded."""
    return [round(x, 2) for x in os.getloadavg()]


def summary(values: t.Sequence[float], digits: int = 3) -> dict:
    """p50, p95, max and count of non-empty ``values``."""
    return {"n": len(values), "p50": round(median(values), digits), "p95": round(percentile(values, 95), digits),
            "max": round(max(values), digits), "min": round(min(values), digits)}


# ------------------------------------------------------------------ processes

def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited ({process.returncode}) before listening on {port}")
        with contextlib.suppress(OSError):
            get(port, "/")
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing answers on {port} after {timeout} s")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the process group ``process`` leads (it takes its Litestream along), then wait."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def s3_store(log: Path) -> t.Iterator[tuple[str, str]]:
    """moto_server on 127.0.0.1 with the bucket made; yield (endpoint, replica URL)."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT, env={**os.environ, **S3_CREDENTIALS},
                                   start_new_session=True)
    try:
        _wait_for_port(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        s3_client(endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint, f"s3://{BUCKET}/oai?endpoint={endpoint}&region=us-east-1&forcePathStyle=true"
    finally:
        stop(process)


def s3_client(endpoint: str) -> t.Any:
    """A boto3 S3 client of the moto store."""
    import boto3  # type: ignore[import-untyped]

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")


def s3_bytes(endpoint: str) -> dict:
    """How many objects the bucket holds and their total size, also by folder (Litestream's levels)."""
    client = s3_client(endpoint)
    folders: dict[str, list[int]] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            folders.setdefault(item["Key"].rsplit("/", 1)[0], []).append(item["Size"])
    return {"objects": sum(len(v) for v in folders.values()), "bytes": sum(map(sum, folders.values())),
            "folders": {name: {"objects": len(v), "bytes": sum(v), "median_object_bytes": median(v)}
                        for name, v in sorted(folders.items())}}


def node_env(database: Path, role: str, url: str) -> dict[str, str]:
    """The environment of one node: its database, role and replica, the cluster's delay and lag."""
    return {**os.environ, **S3_CREDENTIALS,
            "OAISERVER_DATABASE": str(database), "OAISERVER_INSTANCE_PATH": str(database.parent / "instance"),
            "OAISERVER_SECRET_KEY": SECRET, "OAISERVER_OAI_ROLE": role, "OAISERVER_OAI_REPLICA_URL": url,
            "OAISERVER_OAI_VISIBILITY_DELAY": str(DELAY), "OAISERVER_OAI_MAX_LAG": str(MAX_LAG),
            "GUNICORN_ACCESSLOG": "off"}


def service(env: t.Mapping[str, str], log: Path, *args: str) -> subprocess.Popen:
    """Start a long-running ``oaiserver replica …`` command in a process group of its own."""
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "oaiserver.cli", *args], env=dict(env), cwd=REPO,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def cli(env: t.Mapping[str, str], *args: str) -> str:
    """Run one ``oaiserver`` command to its end; its output."""
    done = subprocess.run([sys.executable, "-m", "oaiserver.cli", *args], env=dict(env), cwd=REPO,
                          capture_output=True, text=True, timeout=NODE_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"oaiserver {' '.join(args)} failed: {done.stdout[-500:]} {done.stderr[-800:]}")
    return done.stdout


class Node:
    """A web node: ``oaiserver replica follow`` keeping its file, gunicorn serving it."""

    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.database = root / "oai.sqlite3"
        self.env = node_env(self.database, "follower", url)
        self.follower: subprocess.Popen | None = None
        self.server = Gunicorn(root.name, "wsgi:app", {k: v for k, v in self.env.items() if k.startswith(
            ("OAISERVER_", "AWS_"))})

    def start(self) -> dict:
        """Start the follower and gunicorn on an empty node; seconds until healthy and until it lists."""
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        before = load()
        started = time.monotonic()
        self.follower = service(self.env, self.root / "follow.log", "replica", "follow")
        self.server.start(self.root)
        up = time.monotonic() - started
        while get(self.server.port, "/healthz").status != 200:
            if self.follower.poll() is not None or time.monotonic() - started > NODE_TIMEOUT:
                raise RuntimeError(f"{self.root.name} never became healthy: see {self.root}/follow.log")
            time.sleep(0.05)
        healthy = time.monotonic() - started
        while get(self.server.port, "/oai?verb=ListRecords&metadataPrefix=oai_dc").status != 200:
            time.sleep(0.05)
        listed = time.monotonic() - started
        return {"gunicorn_up_s": round(up, 2), "healthz_200_s": round(healthy, 2),
                "first_list_page_s": round(listed, 2), "file_bytes": self.database.resolve().stat().st_size,
                "load_before": before, "load_after": load()}

    def stop(self) -> None:
        """Stop gunicorn and the follower."""
        self.server.stop()
        if self.follower is not None:
            stop(self.follower)


# ------------------------------------------------------------------ lag

class Watch:
    """Poll files read-only: when each data version first appears in each, and the heartbeat's age."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.first_seen: dict[str, dict[int, float]] = {name: {} for name in files}
        self.heartbeat_age: dict[str, list[float]] = {name: [] for name in files}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "Watch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        conns = {name: sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
                 for name, path in self.files.items()}
        try:
            while not self._stop.wait(POLL):
                for name, conn in conns.items():
                    try:
                        version, beat = conn.execute("SELECT version, heartbeat FROM timeline").fetchone()
                    except sqlite3.Error:
                        continue  # a follower applying a change: look again next time
                    now = time.time()
                    self.first_seen[name].setdefault(version, now)
                    if beat is not None and name != "primary":
                        self.heartbeat_age[name].append(now - beat)
        finally:
            for conn in conns.values():
                conn.close()

    def wait_for(self, name: str, version: int) -> float:
        """The moment ``version`` (or a later one) was first seen in ``name``'s file."""
        deadline = time.monotonic() + COMMIT_TIMEOUT
        while time.monotonic() < deadline:
            seen = [at for v, at in list(self.first_seen[name].items()) if v >= version]
            if seen:
                return min(seen)
            time.sleep(POLL)
        raise RuntimeError(f"version {version} never reached {name}")


def measure_lag(primary_env: dict[str, str], primary: Path, nodes: list[Node], identifier: str,
                commits: int) -> dict:
    """Withdraw and restore ``identifier`` ``commits`` times; lag of each commit to each follower."""
    files = {"primary": primary, **{node.root.name: node.database for node in nodes}}
    lags: dict[str, list[float]] = {node.root.name: [] for node in nodes}
    before = load()
    with Watch(files) as watch:
        time.sleep(1)
        for n in range(commits):
            cli(primary_env, "withdraw" if n % 2 == 0 else "restore", identifier)
            with sqlite3.connect(f"file:{primary}?mode=ro", uri=True) as conn:
                version = conn.execute("SELECT version FROM timeline").fetchone()[0]
            committed = watch.wait_for("primary", version)
            for node in nodes:
                lags[node.root.name].append(watch.wait_for(node.root.name, version) - committed)
            # Commits fall anywhere in Litestream's cycles, not in step with them.
            time.sleep(0.3 + (n * 0.37) % 1.0)
    return {"commits": commits, "poll_s": POLL, "load_before": before, "load_after": load(),
            "commit_to_follower_s": {name: summary(v) for name, v in lags.items()},
            "commit_to_follower_all_s": summary([x for v in lags.values() for x in v]),
            "heartbeat_age_s": {name: summary(v) for name, v in watch.heartbeat_age.items() if v}}


def measure_idle(endpoint: str, seconds: float, moto_log: Path) -> dict:
    """What the replica in S3 gains, and the requests it gets, while only the heartbeat commits for ``seconds``."""
    before, load_before = s3_bytes(endpoint), load()
    started = time.time()
    time.sleep(seconds)
    ended = time.time()
    after = s3_bytes(endpoint)
    requests = s3_requests(moto_log, started, ended)
    return {"seconds": seconds, "before": before, "after": after, "load_before": load_before, "load_after": load(),
            "growth_bytes_per_minute": round((after["bytes"] - before["bytes"]) * 60 / seconds),
            "s3_requests_per_minute": {kind: round(n * 60 / (ended - started), 1) for kind, n in requests.items()}}


def s3_requests(moto_log: Path, start: float, end: float) -> dict[str, int]:
    """The requests moto_server logged between ``start`` and ``end`` (whole seconds), by kind."""
    first, last = (time.strftime("%d/%b/%Y %H:%M:%S", time.localtime(x)) for x in (start + 1, end - 1))
    kinds: dict[str, int] = {}
    for line in moto_log.read_text(errors="replace").splitlines():
        match = MOTO_LINE.search(line)
        if match is None:
            continue
        stamp = time.strptime(match["when"], "%d/%b/%Y %H:%M:%S")
        if not (time.strptime(first, "%d/%b/%Y %H:%M:%S") <= stamp <= time.strptime(last, "%d/%b/%Y %H:%M:%S")):
            continue
        path = match["path"]
        kind = (f"{match['method']} list" if "/" not in path.strip("/").split("?")[0]
                else f"{match['method']} object")
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def level_zero_growth(idle: dict) -> float:
    """Bytes per minute that Litestream's level 0 (one object per commit) gained in an idle window."""
    def level_zero(snapshot: dict) -> int:
        return sum(f["bytes"] for name, f in snapshot["folders"].items() if name.endswith("/0000"))
    return (level_zero(idle["after"]) - level_zero(idle["before"])) * 60 / idle["seconds"]


# ------------------------------------------------------------------ harvest

def harvest_round(nodes: list[Gunicorn], threads: int) -> dict:
    """``threads`` concurrent full ListRecords oai_dc harvests, request k of each to nodes[k % len]."""
    counts = [0] * threads
    errors: list[str] = []

    def harvester(i: int) -> None:
        query: str | None = "verb=ListRecords&metadataPrefix=oai_dc"
        k = i  # harvesters start on different nodes
        while query is not None:
            server = nodes[k % len(nodes)]
            k += 1
            response = get(server.port, f"/oai?{query}")
            if response.status == 503:  # a node behind the token's version: wait as told
                time.sleep(1)
                k -= 1
                continue
            if response.status != 200:
                errors.append(f"HTTP {response.status} from {server.name}")
                return
            counts[i] += response.body.count(b"<record>")
            query = next_query("ListRecords", response.body)

    cpu_before = {s.name: s.cpu() for s in nodes}
    before = load()
    started = time.perf_counter()
    workers = [threading.Thread(target=harvester, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    seconds = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"harvest failed: {errors[:3]}")
    records = sum(counts)
    cpu = {s.name: round(s.cpu() - cpu_before[s.name], 2) for s in nodes}
    return {"records": records, "seconds": round(seconds, 2), "records_per_s": round(records / seconds),
            "server_cpu_s": cpu, "cpu_ms_per_100": round(sum(cpu.values()) * 1000 / (records / 100), 2),
            "load_before": before, "load_after": load()}


def measure_harvest(nodes: list[Node], threads: int, rounds: int) -> dict:
    """One node against two nodes, alternating from round to round; medians of records/s."""
    one: list[dict] = []
    two: list[dict] = []
    for r in range(rounds):
        for mode in (("one", "two") if r % 2 == 0 else ("two", "one")):
            servers = [nodes[0].server] if mode == "one" else [n.server for n in nodes]
            (one if mode == "one" else two).append(harvest_round(servers, threads))
    return {"threads": threads, "rounds": rounds, "one_node": one, "two_nodes": two,
            "one_node_records_per_s": median([r["records_per_s"] for r in one]),
            "two_nodes_records_per_s": median([r["records_per_s"] for r in two]),
            "one_node_cpu_ms_per_100": median([r["cpu_ms_per_100"] for r in one]),
            "two_nodes_cpu_ms_per_100": median([r["cpu_ms_per_100"] for r in two])}


# ------------------------------------------------------------------ restore and disk

def measure_restore(url: str, target: Path) -> dict:
    """``oaiserver replica restore`` into the new path ``target``: seconds and the file's size."""
    shutil.rmtree(target.parent, ignore_errors=True)
    target.parent.mkdir(parents=True)
    before = load()
    started = time.monotonic()
    said = cli(node_env(target, "primary", url), "replica", "restore")
    seconds = time.monotonic() - started
    return {"seconds": round(seconds, 2), "file_bytes": target.stat().st_size, "said": said.strip(),
            "load_before": before, "load_after": load()}


def disk_usage(db: Path) -> dict:
    """Bytes per record of the file: by table and index (dbstat), free pages, renditions per format, row parts."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        records = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        objects = {name: {"bytes": size, "payload": payload, "unused": unused, "pages": n}
                   for name, size, payload, unused, n in conn.execute(
                       "SELECT name, SUM(pgsize), SUM(payload), SUM(unused), COUNT(*) FROM dbstat "
                       "GROUP BY name ORDER BY 2 DESC")}
        formats = {prefix: {"rows": rows, "stored_bytes_per_row": round(stored / rows, 1)}
                   for prefix, rows, stored in conn.execute(
                       "SELECT prefix, COUNT(*), SUM(length(CAST(xml AS BLOB))) FROM renditions GROUP BY prefix")}
        row = conn.execute(
            "SELECT AVG(length(CAST(article AS BLOB))), AVG(length(CAST(header AS BLOB))), "
            "AVG(length(identifier) + length(datestamp) + length(journal_key) + length(article_key) "
            "+ length(source_hash) + length(content_hash)) FROM records").fetchone()
    finally:
        conn.close()
    size = db.stat().st_size
    return {"records": records, "file_bytes": size, "bytes_per_record": round(size / records),
            "page_size": page_size, "pages": pages, "free_pages": free,
            "objects": objects,
            "objects_bytes_per_record": {name: round(o["bytes"] / records) for name, o in objects.items()},
            "formats": formats,
            "records_row_bytes": {"article_json": round(row[0]), "header": round(row[1]), "other_columns": round(row[2])}}


# ------------------------------------------------------------------ the run

def prepare(n: int, data: Path, seed: int) -> tuple[Path, dict | None]:
    """The corpus and the ingested database of ``n`` articles under ``data`` (reused when there)."""
    name = label(n)
    corpus_dir = data / f"corpus-{name}"
    if not corpus_dir.exists():
        corpus.generate(n, corpus_dir, seed)
    db = data / f"replication-{name}" / "primary" / "oai.sqlite3"
    done = db.with_name("ingest.json")
    if db.exists() and done.exists():
        return db, json.loads(done.read_text())
    shutil.rmtree(db.parent, ignore_errors=True)
    db.parent.mkdir(parents=True)
    # The datestamps carry the primary's delay (run_ingest passes this process's environment on).
    saved = os.environ.get("OAISERVER_OAI_VISIBILITY_DELAY")
    os.environ["OAISERVER_OAI_VISIBILITY_DELAY"] = str(DELAY)
    try:
        result = run_ingest(corpus_dir, db)
    finally:
        if saved is None:
            del os.environ["OAISERVER_OAI_VISIBILITY_DELAY"]
        else:
            os.environ["OAISERVER_OAI_VISIBILITY_DELAY"] = saved
    done.write_text(json.dumps(result))
    return db, result


def first_identifier(db: Path) -> str:
    """An identifier the database serves."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT identifier FROM records WHERE deleted = 0 ORDER BY id LIMIT 1").fetchone()[0]


def run(args: argparse.Namespace) -> dict:
    """Build the cluster for ``args.articles`` and take every measurement asked for."""
    name = label(args.articles)
    primary_db, ingest = prepare(args.articles, args.data, args.seed)
    root = primary_db.parent.parent
    result: dict[str, t.Any] = {"articles": args.articles, "ingest": ingest, "load_start": load(),
                                "litestream": subprocess.run(["litestream", "version"], capture_output=True,
                                                             text=True).stdout.strip()}
    print(f"[{name}] database ready: {primary_db.stat().st_size / 1e6:.0f} MB", file=sys.stderr)
    # The database rests here between runs: take its size before the primary's heartbeat grows the WAL.
    result["disk"] = disk_usage(primary_db)
    # A new, empty bucket each run: Litestream's local state of an earlier run would upload its history too.
    shutil.rmtree(primary_db.with_name(f".{primary_db.name}-litestream"), ignore_errors=True)
    with s3_store(root / "moto.log") as (endpoint, url):
        primary_env = node_env(primary_db, "primary", url)
        primary = service(primary_env, root / "primary.log", "replica", "primary")
        nodes = [Node(root / "node1", url), Node(root / "node2", url)]
        try:
            result["first_node"] = nodes[0].start()  # also waits for the primary's first upload
            print(f"[{name}] first node: {result['first_node']}", file=sys.stderr)
            result["s3_after_first_upload"] = s3_bytes(endpoint)
            result["new_node"] = nodes[1].start()
            print(f"[{name}] new node: {result['new_node']}", file=sys.stderr)
            if args.idle:
                result["idle"] = measure_idle(endpoint, args.idle, root / "moto.log")
                print(f"[{name}] idle: {result['idle']['growth_bytes_per_minute']} B/min", file=sys.stderr)
            if args.lag:
                result["lag"] = measure_lag(primary_env, primary_db, nodes, first_identifier(primary_db),
                                            args.commits)
                print(f"[{name}] lag: {result['lag']['commit_to_follower_all_s']}", file=sys.stderr)
            if args.harvest:
                time.sleep(DELAY + 1)  # the last commit's datestamp is in the past: every list is final
                result["harvest"] = measure_harvest(nodes, args.threads, args.rounds)
                print(f"[{name}] harvest: one {result['harvest']['one_node_records_per_s']}/s, "
                      f"two {result['harvest']['two_nodes_records_per_s']}/s", file=sys.stderr)
            result["restore"] = measure_restore(url, root / "restored" / "oai.sqlite3")
            print(f"[{name}] restore: {result['restore']}", file=sys.stderr)
            result["s3_end"] = s3_bytes(endpoint)
        finally:
            for node in nodes:
                node.stop()
            stop(primary)
    if not args.keep:
        for folder in ("node1", "node2", "restored"):
            shutil.rmtree(root / folder, ignore_errors=True)
    result["load_end"] = load()
    return result


def row(*cells: object) -> str:
    """One markdown table row."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


def spread(s: dict) -> tuple[str, str, str]:
    """p50, p95 and max of a summary, in seconds to the hundredth."""
    return f"{s['p50']:.2f}", f"{s['p95']:.2f}", f"{s['max']:.2f}"


def markdown(r: dict) -> str:
    """The result as markdown tables."""
    n = r["articles"]
    out = [f"### {n:,} articles (Litestream {r['litestream']}, S3 on moto_server, loopback)\n"]

    def node_row(what: str, x: dict) -> str:
        return (f"| {what} | {x['healthz_200_s']:.1f} | {x['first_list_page_s']:.1f} | "
                f"{x['file_bytes'] / 1e6:,.0f} | {x['load_before'][0]} → {x['load_after'][0]} |")

    out += ["| node | seconds to /healthz 200 | seconds to first ListRecords page | file MB | load (1 min) |",
            "|---|---:|---:|---:|---|",
            node_row("first node (includes the primary's first upload)", r["first_node"]),
            node_row("new node joining the running cluster", r["new_node"])]
    x = r["restore"]
    out += ["", "| restore (`oaiserver replica restore`, new path) | seconds | file MB | load (1 min) |",
            "|---|---:|---:|---|",
            f"| latest state | {x['seconds']:.1f} | {x['file_bytes'] / 1e6:,.0f} | "
            f"{x['load_before'][0]} → {x['load_after'][0]} |"]
    if "lag" in r:
        lag = r["lag"]
        out += ["", f"| lag, {lag['commits']} commits (withdraw/restore by the CLI), seconds | p50 | p95 | max |",
                "|---|---:|---:|---:|"]
        for name, s in lag["commit_to_follower_s"].items():
            out.append(row(f"commit on the primary → {name}'s file shows it", *spread(s)))
        for name, s in lag["heartbeat_age_s"].items():
            out.append(row(f"heartbeat age seen on {name} ({s['n']:,} samples)", *spread(s)))
        out.append(f"\nLoad (1 min) {lag['load_before'][0]} → {lag['load_after'][0]}; "
                   f"files polled every {lag['poll_s'] * 1000:.0f} ms.")
    if "harvest" in r:
        h = r["harvest"]
        out += ["", row(f"full ListRecords oai_dc, {h['threads']} concurrent harvesters, median of {h['rounds']} rounds",
                        "records/s", "server CPU ms / 100 records", "load (1 min) per round"), "|---|---:|---:|---|"]
        for what, key in (("every request to one node", "one_node"), ("requests alternating between two nodes", "two_nodes")):
            out.append(row(what, f"{h[key + '_records_per_s']:,.0f}", f"{h[key + '_cpu_ms_per_100']:.2f}",
                           ", ".join(str(x["load_before"][0]) for x in h[key])))
    d = r["disk"]
    out += ["", f"Disk: {d['file_bytes'] / 1e6:,.0f} MB, **{d['bytes_per_record']:,} B per record** "
            f"({d['records']:,} records; {d['free_pages']:,} free pages of {d['page_size']:,} B); "
            f"S3 (moto) holds {r['s3_end']['bytes'] / 1e6:,.0f} MB in {r['s3_end']['objects']:,} objects "
            f"({r['s3_end']['bytes'] / d['records']:,.0f} B per record; after the first upload "
            f"{r['s3_after_first_upload']['bytes'] / 1e6:,.0f} MB).", "",
            "| table or index (dbstat) | B per record | payload share | unused in pages |", "|---|---:|---:|---:|"]
    for name, o in d["objects"].items():
        out.append(f"| {name} | {o['bytes'] / d['records']:,.0f} | {o['payload'] / max(o['bytes'], 1):.0%} | "
                   f"{max(o['unused'], 0) / max(o['bytes'], 1):.0%} |")
    out += ["", row("replica in S3 at the end, by folder (Litestream's levels: 0 = every commit, 9 = snapshots)",
                    "objects", "MB", "median object B"), "|---|---:|---:|---:|"]
    for folder, f in r["s3_end"]["folders"].items():
        out.append(f"| {folder} | {f['objects']:,} | {f['bytes'] / 1e6:,.1f} | {f['median_object_bytes']:,.0f} |")
    if "idle" in r:
        i = r["idle"]
        out.append(f"\nWith only the heartbeat committing for {i['seconds']:g} s, level 0 grew by "
                   f"{level_zero_growth(i) / 1e3:,.0f} kB per minute (one object per beat); the whole replica by "
                   f"{i['growth_bytes_per_minute'] / 1e6:,.1f} MB per minute, Litestream compacting what it had "
                   f"(load {i['load_before'][0]} → {i['load_after'][0]}).")
        if i.get("s3_requests_per_minute"):
            out.append("S3 requests per minute meanwhile (the primary and two followers): " + ", ".join(
                f"{n:,.0f} {kind}" for kind, n in sorted(i["s3_requests_per_minute"].items())) + ".")
    out += ["", "| rendition | rows | stored B per row |", "|---|---:|---:|"]
    for prefix, f in d["formats"].items():
        out.append(f"| {prefix} | {f['rows']:,} | {f['stored_bytes_per_row']:,.0f} |")
    rb = d["records_row_bytes"]
    out.append(f"\nA records row: article JSON {rb['article_json']:,} B, header {rb['header']:,} B, "
               f"other columns {rb['other_columns']:,} B.")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--commits", type=int, default=30, help="commits timed for the lag")
    parser.add_argument("--threads", type=int, default=4, help="concurrent harvesters")
    parser.add_argument("--rounds", type=int, default=2, help="harvest rounds of each kind")
    parser.add_argument("--idle", type=float, default=60,
                        help="seconds of heartbeats only, to see what the replica gains (0: skip)")
    parser.add_argument("--no-lag", dest="lag", action="store_false")
    parser.add_argument("--no-harvest", dest="harvest", action="store_false")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' and the restored files")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    parser.add_argument("--tag", default="", help="appended to the result file names")
    args = parser.parse_args(argv)
    result = run(args)
    out = args.results / f"replication-{label(args.articles)}{args.tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
