"""Bounded load test: N concurrent full harvests for T seconds against a gunicorn it starts.

    python -m bench.load --harvesters 32 --seconds 60 --articles 5000 [--workers 5] [--json]

Ingests the shared samples and a generated corpus (bench.corpus) into a fresh database, starts
gunicorn on 127.0.0.1 with gunicorn.conf.py (bench.serve), then runs N harvester threads. Each
repeats full ListRecords harvests until T seconds have passed and then finishes the harvest it
is in (at most --drain seconds more), so every harvest started can be judged complete or not.
A harvest is complete when it reaches the empty resumptionToken with exactly completeListSize
records, none twice. Prints throughput, latency percentiles, errors and harvests as a Markdown
section for BENCHMARKS.md (or JSON).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.corpus import generate
from bench.harvest import next_query
from bench.serve import REPO, Gunicorn, get, percentile

SAMPLES = REPO.parent / "shared" / "samples"
SIZE = re.compile(rb'completeListSize="(\d+)"')
IDENTIFIER = re.compile(rb"<header(?: [^>]*)?><identifier>([^<]+)</identifier>")
ERROR = re.compile(rb'<error code="([^"]+)"')


@dataclass
class Tally:
    """What all harvesters saw; one lock guards it."""

    latencies: list[float] = field(default_factory=list)  # seconds per request
    records: int = 0
    megabytes: float = 0.0
    started: int = 0
    complete: int = 0
    errors: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, kind: str) -> None:
        """Count one error of ``kind``."""
        with self.lock:
            self.errors[kind] += 1


def harvest(port: int, prefix: str, tally: Tally) -> None:
    """One full ListRecords harvest; count it complete only if nothing went wrong."""
    query: str | None = f"verb=ListRecords&metadataPrefix={prefix}"
    expected, seen, first = None, set(), True
    with tally.lock:
        tally.started += 1
    while query is not None:
        try:
            response = get(port, f"/oai?{query}")
        except OSError as error:
            tally.error(f"connection: {type(error).__name__}")
            return
        with tally.lock:
            tally.latencies.append(response.total)
            tally.megabytes += len(response.body) / 1e6
        if response.status != 200:
            tally.error(f"HTTP {response.status}")
            return
        code = ERROR.search(response.body, 0, 4096)
        if code:
            tally.error(f"OAI {code.group(1).decode()}")
            return
        ids = IDENTIFIER.findall(response.body)
        if first:
            size = SIZE.search(response.body, max(0, len(response.body) - 4096))
            expected, first = (int(size.group(1)) if size else len(ids)), False
        if seen.intersection(ids):
            tally.error("record twice in one harvest")
            return
        seen.update(ids)
        with tally.lock:
            tally.records += len(ids)
        query = next_query("ListRecords", response.body)
    if len(seen) != expected:
        tally.error("harvest ended short of completeListSize")
        return
    with tally.lock:
        tally.complete += 1


def harvester(port: int, prefix: str, tally: Tally, until: float) -> None:
    """Start full harvests one after another until the load phase ends."""
    while time.monotonic() < until:
        harvest(port, prefix, tally)


def prepare(root: Path, articles: int, env: dict[str, str]) -> tuple[int, float]:
    """Generate the corpus and ingest it with the samples; return (records, ingest seconds)."""
    files = generate(articles, root / "corpus") if articles else []
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "oaiserver.cli", "ingest", "--quiet", *map(str, sorted(SAMPLES.glob("*.xml"))),
                    *map(str, files)], env=env, cwd=REPO, check=True, capture_output=True, timeout=3600)
    seconds = time.monotonic() - started
    conn = sqlite3.connect(env["OAISERVER_DATABASE"])
    try:
        return conn.execute("SELECT COUNT(*) FROM records WHERE deleted = 0").fetchone()[0], seconds
    finally:
        conn.close()


def default_workers() -> int:
    """gunicorn.conf.py's rule: 2 x CPUs + 1, at most 8."""
    return min(2 * len(os.sched_getaffinity(0)) + 1, 8)


def run(args: argparse.Namespace) -> dict:
    """Prepare, serve, load, and return the measurements."""
    root = Path(tempfile.mkdtemp(prefix="oaiserver-load-"))
    if args.keep:
        print(f"working in {root}", file=sys.stderr)
    env = {
        "OAISERVER_INSTANCE_PATH": str(root / "instance"), "OAISERVER_DATABASE": str(root / "oai.sqlite3"),
        "OAISERVER_SECRET_KEY": "load-test-secret", "OAISERVER_OAI_PAGE_SIZE": str(args.page_size),
        "OAISERVER_OAI_REPOSITORY_IDENTIFIER": "journals.example.org",
        "OAISERVER_OAI_VISIBILITY_DELAY": "0",  # harvested straight after the ingest
    }
    records, ingest_seconds = prepare(root, args.articles, {**os.environ, **env})
    server = Gunicorn("oaiserver", "wsgi:app", env, workers=args.workers)
    server.start(root)
    tally = Tally()
    try:
        cpu_before, client_before = server.cpu(), time.process_time()
        started = time.monotonic()
        threads = [threading.Thread(target=harvester, args=(server.port, args.prefix, tally, started + args.seconds),
                                    daemon=True) for _ in range(args.harvesters)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(0.0, started + args.seconds + args.drain - time.monotonic()))
        elapsed = time.monotonic() - started
        unfinished = sum(thread.is_alive() for thread in threads)
        cpu, client_cpu, rss = server.cpu() - cpu_before, time.process_time() - client_before, server.peak_rss_mib()
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if unfinished:
        tally.errors["harvest still running after the drain"] += unfinished
    lat = [s * 1000 for s in tally.latencies] or [0.0]
    return {
        "harvesters": args.harvesters, "seconds": args.seconds, "articles": args.articles, "elapsed_s": round(elapsed, 1),
        "workers": args.workers, "page_size": args.page_size, "prefix": args.prefix, "records_in_db": records,
        "ingest_s": round(ingest_seconds, 1), "requests": len(tally.latencies),
        "requests_per_s": round(len(tally.latencies) / elapsed, 1), "records_per_s": round(tally.records / elapsed),
        "mb_per_s": round(tally.megabytes / elapsed, 1), "p50_ms": round(percentile(lat, 50), 1),
        "p90_ms": round(percentile(lat, 90), 1), "p99_ms": round(percentile(lat, 99), 1),
        "max_ms": round(max(lat), 1), "harvests_started": tally.started, "harvests_complete": tally.complete,
        "errors": sum(tally.errors.values()), "error_kinds": dict(tally.errors),
        "server_cpu_s": round(cpu, 1), "client_cpu_s": round(client_cpu, 1), "peak_worker_rss_mib": round(rss, 1),
        "cpus": len(os.sched_getaffinity(0)), "python": platform.python_version(),
    }


def markdown(r: dict) -> str:
    """The results as a BENCHMARKS.md section."""
    return "\n".join([
        f"### Load: {r['harvesters']} concurrent full harvests for {r['seconds']} s",
        "",
        f"`python -m bench.load --harvesters {r['harvesters']} --seconds {r['seconds']} "
        f"--articles {r['articles']} --workers {r['workers']}`: {r['records_in_db']:,} live records (shared samples + "
        f"bench.corpus), ListRecords {r['prefix']}, {r['page_size']} records per page; gunicorn with "
        f"gunicorn.conf.py, {r['workers']} sync workers on 127.0.0.1; client and server share "
        f"{r['cpus']} CPUs; Python {r['python']}. Each harvester repeats full harvests until the time is "
        f"up, then finishes the one it is in ({r['elapsed_s']} s in all).",
        "",
        "| measure | result |",
        "|---|---|",
        f"| requests | {r['requests']:,} ({r['requests_per_s']} per second) |",
        f"| records served | {r['records_per_s']:,} per second ({r['mb_per_s']} MB/s) |",
        f"| latency per page, p50 / p90 / p99 / max | {r['p50_ms']} / {r['p90_ms']} / {r['p99_ms']} / "
        f"{r['max_ms']} ms |",
        f"| harvests started / complete | {r['harvests_started']} / {r['harvests_complete']} |",
        f"| errors | {r['errors']}{' ' + json.dumps(r['error_kinds']) if r['errors'] else ''} |",
        f"| CPU: server workers / load client | {r['server_cpu_s']} s / {r['client_cpu_s']} s |",
        f"| peak RSS of one worker | {r['peak_worker_rss_mib']} MiB |",
        "",
    ])


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--harvesters", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--drain", type=float, default=300, help="at most this long to finish harvests")
    parser.add_argument("--articles", type=int, default=3000, help="generated articles beside the samples")
    parser.add_argument("--workers", type=int, default=default_workers())
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--prefix", default="oai_dc")
    parser.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the temporary database and logs")
    args = parser.parse_args(argv)
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else markdown(result))
    sys.exit(1 if result["errors"] or result["harvests_complete"] != result["harvests_started"] else 0)


if __name__ == "__main__":
    main()
