"""Harvest benchmark: ours, the pyoai peer and the ceiling, each under `gunicorn -w 2`.

    python -m bench.harvest_bench --db DB --work DIR [--runs 5] [--no-full] --out RESULT.json

Measures, per run and per server, in one interleaved run: a full ListRecords oai_dc harvest
(records/s, MB, server CPU ms per 100 records), a full ListIdentifiers harvest, the first
page, a page at 90% depth, GetRecord p50/p99, and the peak RSS of the workers. Ratios are
computed pair by pair within a run (the machine is shared and noisy), then the median.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sqlite3
import sys
import time
import tracemalloc
import urllib.parse
from pathlib import Path

from bench import harvest, peer_app, report
from bench.ceiling_app import PageWriter
from bench.serve import Gunicorn

SECRET = "benchmark-secret"
TOKEN_TTL = 7 * 24 * 3600  # the default OAI_TOKEN_TTL
PAGE = {"ListRecords": 100, "ListIdentifiers": 500}
VERBS = ("ListRecords", "ListIdentifiers")
DEPTH = 0.9


def first_query(verb: str) -> str:
    """The query of a list's first page."""
    return f"verb={verb}&metadataPrefix=oai_dc"


def deep_queries(db: str) -> dict[str, dict[str, str]]:
    """Build, per server kind and verb, the query of the page at 90% depth of the list."""
    from oaiserver.storage import queries as store
    from oaiserver.protocol.datestamps import format_datestamp, now
    from oaiserver.storage.db import connect_reader
    from oaiserver.protocol.tokens import ListState, TokenCodec

    codec = TokenCodec(SECRET, TOKEN_TTL)
    conn = connect_reader(db)
    until = format_datestamp(now())
    total = store.count(conn, store.ListFilter("oai_dc", None, "", until))
    out: dict[str, dict[str, str]] = {"ours": {}, "peer": {}}
    for verb in VERBS:
        cursor = int(total * DEPTH) // PAGE[verb] * PAGE[verb]
        if cursor == 0:  # a list of one page: its 90% page is the first one
            out["ours"][verb] = out["peer"][verb] = first_query(verb)
            continue
        last = conn.execute(
            "SELECT datestamp, identifier FROM records ORDER BY datestamp, identifier LIMIT 1 OFFSET ?",
            (cursor - 1,),
        ).fetchone()
        # Exactly the token our server would have sent with page cursor/PAGE (decisions.md P5).
        token, _ = codec.encode(ListState(verb, "oai_dc", None, "", until, tuple(last), cursor, total))
        out["ours"][verb] = f"verb={verb}&resumptionToken={urllib.parse.quote(token, safe='')}"
        # pyoai's own token for that page: its BatchingResumption puts these keys in it.
        peer = peer_app.server.encodeResumptionToken(
            {"metadataPrefix": "oai_dc", "cursor": 0, "batch_size": PAGE[verb] + 1}, cursor)
        out["peer"][verb] = f"verb={verb}&resumptionToken={urllib.parse.quote(peer, safe='')}"
    conn.close()
    return out


def variant_queries(db: str) -> dict[str, str]:
    """Selective first pages (a set, a from, an until): completeListSize and seek still cheap."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    journal = conn.execute("SELECT spec FROM sets WHERE spec LIKE 'journal:%' AND spec NOT LIKE "
                           "'journal:%:%' ORDER BY spec LIMIT 1").fetchone()
    kind = conn.execute("SELECT spec FROM sets WHERE spec LIKE 'type:%' ORDER BY spec LIMIT 1").fetchone()
    total = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    middle = conn.execute("SELECT datestamp FROM records ORDER BY datestamp, identifier LIMIT 1 OFFSET ?",
                          (total // 2,)).fetchone()
    conn.close()
    out = {}
    if journal:
        out["ListRecords set=journal"] = f"verb=ListRecords&metadataPrefix=oai_dc&set={journal[0]}"
    if kind:
        out["ListIdentifiers set=type"] = f"verb=ListIdentifiers&metadataPrefix=oai_dc&set={kind[0]}"
    if middle:
        stamp = urllib.parse.quote(middle[0], safe="")
        out["ListRecords from=median"] = f"verb=ListRecords&metadataPrefix=oai_dc&from={stamp}"
        out["ListRecords until=median"] = f"verb=ListRecords&metadataPrefix=oai_dc&until={stamp}"
    return out


def sample_identifiers(db: str, n: int, seed: int = 7) -> list[str]:
    """Pick ``n`` identifiers at random (the same ones for every server)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    top = conn.execute("SELECT MAX(id) FROM records").fetchone()[0] or 0
    rng = random.Random(seed)
    found: list[str] = []
    while len(found) < n and top:
        row = conn.execute("SELECT identifier FROM records WHERE id = ?", (rng.randint(1, top),)).fetchone()
        if row:
            found.append(row[0])
    conn.close()
    return found


def page_memory_kib(db: str, deep: dict[str, str]) -> dict[str, float]:
    """Peak Python memory of answering one ListRecords page, in process (tracemalloc)."""
    from oaiserver.protocol import verbs
    from oaiserver.protocol.datestamps import now
    from oaiserver.storage.db import connect_reader
    from oaiserver.protocol.tokens import TokenCodec

    repo = verbs.Repository("bench", "http://127.0.0.1/oai", ("a@b.c",), "oaiserver.localhost",
                            PAGE["ListRecords"], PAGE["ListIdentifiers"], TokenCodec(SECRET, TOKEN_TTL))
    conn = connect_reader(db)
    out = {}
    for name, query in (("first", first_query("ListRecords")), ("deep", deep["ListRecords"])):
        params = urllib.parse.parse_qs(query)
        verbs.handle(params, verbs.Context(repo, conn, now()))  # warm the caches first
        tracemalloc.start()
        verbs.handle(params, verbs.Context(repo, conn, now()))
        out[name] = tracemalloc.get_traced_memory()[1] / 1024
        tracemalloc.stop()
    conn.close()
    return out


def start_servers(args: argparse.Namespace, work: Path) -> dict[str, Gunicorn]:
    """Start our server, and the peer if its database is there."""
    servers = {"ours": Gunicorn("ours", "wsgi:app", {
        "OAISERVER_DATABASE": str(Path(args.db).resolve()),
        "OAISERVER_INSTANCE_PATH": str(work / "instance"),
        "OAISERVER_SECRET_KEY": SECRET,
    })}
    if args.peer_db:
        servers["peer"] = Gunicorn("peer", "bench.peer_app:app", {"BENCH_PEER_DB": args.peer_db})
    for server in servers.values():
        server.env["GUNICORN_CMD_ARGS"] = args.gunicorn_args
        server.start(work)
    return servers


def capture_ceiling(ours: Gunicorn, work: Path, queries: dict, full: bool) -> Gunicorn:
    """Record our server's pages once (untimed), then serve them with the ceiling app."""
    writer = PageWriter(work / "ceiling")
    if full:
        for verb in VERBS:
            harvest.full_harvest(ours, verb, first_query(verb), capture=writer)
    harvest.latency(ours, [*queries["first"].values(), *queries["ours"].values(), *queries["get"]],
                    capture=writer)
    writer.close()
    ceiling = Gunicorn("ceiling", "bench.ceiling_app:app", {"BENCH_CEILING_DIR": str(work / "ceiling"),
                                                            "GUNICORN_CMD_ARGS": ours.env["GUNICORN_CMD_ARGS"]})
    ceiling.start(work)
    return ceiling


def measure_run(servers: dict[str, Gunicorn], queries: dict, run: int, args: argparse.Namespace) -> dict:
    """One run: every measurement for every server, the servers in a rotating order."""
    names = list(servers)
    order = names[run % len(names):] + names[:run % len(names)]
    result: dict[str, dict] = {name: {} for name in names}
    blocks = ["ListRecords", "ListIdentifiers"] if args.full else []
    for query_name, query in queries["variants"].items():  # ours only: the others lack them
        result["ours"][f"variant:{query_name}"] = vars(harvest.latency(servers["ours"], [query],
                                                                         repeat=args.repeat))
    for block in [*blocks, "pages", "get"]:
        for name in order:
            server, own = servers[name], ("ours" if name == "ceiling" else name)
            if block in VERBS:
                if name == "peer" and not args.full_peer:
                    continue
                full = harvest.full_harvest(server, block, first_query(block))
                result[name][block] = {**vars(full), "items_per_second": full.items_per_second,
                                       "cpu_ms_per_100": full.cpu_ms_per_100}
            elif block == "get":
                result[name]["GetRecord"] = vars(harvest.latency(server, queries["get"]))
            else:
                for verb in VERBS:
                    first, deep = harvest.paired_latency(
                        server, queries["first"][verb], queries[own][verb], args.repeat)
                    result[name][f"first:{verb}"], result[name][f"deep:{verb}"] = vars(first), vars(deep)
    for name in names:
        result[name]["peak_rss_mib"] = servers[name].peak_rss_mib()
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: run the harvest benchmark on one database."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="our SQLite database")
    parser.add_argument("--peer-db", help="the peer's database (python -m bench.peer_app build)")
    parser.add_argument("--work", type=Path, required=True, help="scratch folder (ceiling pages, logs)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20, help="requests per latency sample")
    parser.add_argument("--getrecord", type=int, default=300, help="GetRecord requests per run")
    parser.add_argument("--no-full", dest="full", action="store_false", help="skip full harvests")
    parser.add_argument("--no-full-peer", dest="full_peer", action="store_false",
                        help="skip the peer's full harvests (its OFFSET paging is quadratic at 1M)")
    parser.add_argument("--out", type=Path, required=True, help="results JSON (a .md is written beside)")
    parser.add_argument("--label", default="", help="a name for this corpus, e.g. 100k")
    parser.add_argument("--gunicorn-args", default="",
                        help="extra gunicorn options for all three servers (GUNICORN_CMD_ARGS)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)

    queries = deep_queries(args.db)
    queries["first"] = {verb: first_query(verb) for verb in VERBS}
    queries["variants"] = variant_queries(args.db)
    queries["get"] = [
        "verb=GetRecord&metadataPrefix=oai_dc&identifier=" + urllib.parse.quote(i, safe="")
        for i in sample_identifiers(args.db, args.getrecord)
    ]
    servers = start_servers(args, args.work)
    try:
        servers["ceiling"] = capture_ceiling(servers["ours"], args.work, queries, args.full)
        runs = []
        for run in range(args.runs):
            started = time.perf_counter()
            runs.append(measure_run(servers, queries, run, args))
            print(f"run {run + 1}/{args.runs}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    finally:
        for server in servers.values():
            server.stop()
    results = {
        "label": args.label,
        "gunicorn_args": args.gunicorn_args,
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": report.machine(),
        "database": {"path": args.db, **report.database_facts(args.db)},
        "page_memory_kib": page_memory_kib(args.db, queries["ours"]),
        "runs": runs,
    }
    results["summary"] = report.summarise(runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1))
    args.out.with_suffix(".md").write_text(report.markdown(results))
    print(args.out.with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
