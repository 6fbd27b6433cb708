"""What the formats cost: ingest, bytes on disk per record, and a full ListRecords harvest in every format.

    python -m bench.format_cost ingest --corpus DIR --db NEW.sqlite3 --out R.json
    python -m bench.format_cost harvest --db DB --work DIR --runs 3 [--encoding gzip] --out R.json
    python -m bench.format_cost inprocess --db DB [DB ...] --runs 3 --out R.json
    python -m bench.format_cost compare --server NAME=TREE:DB [--server ...] [--env NAME:KEY=VALUE] [--workers NAME=N] [--prefix P] --rounds 10 [--encoding gzip] --out R.json

``ingest`` runs the CLI ingest (a fresh process, as bench.ingest_bench) with every journal of
the corpus open access under CC BY-NC (``OAISERVER_OAI_JOURNALS``), so that every format has
its records; then it reports the file's bytes per record and, from SQLite's dbstat table,
how they divide between tables and indexes, and the stored bytes of each format.
``harvest`` serves the database with gunicorn (two workers, as bench.harvest_bench) and
harvests ListRecords in each format from the first page to the last, ``--runs`` times, the
order of the formats rotating from run to run, after one harvest of each that is not counted
(so that every run measures a warm server); it reports records/s and the workers' CPU per
100 records, per format, medians over the runs. ``compare`` serves several trees (checkouts
of two versions, say) or databases at once, and in each round harvests every format from
each server in a shuffled order: on a shared machine whose speed drifts, the servers are
measured side by side, so their medians compare. ``inprocess`` does the same harvests through
the app's WSGI callable in this process (no gunicorn, no HTTP), each database in turn, format
by format: our code's own CPU, comparable between databases on a busy machine (``cpu_ms_per_100``
with the client's finding of each next token, ``app_ms_per_100`` the WSGI calls alone).
``--encoding gzip`` harvests as python-requests (and so Sickle) does, accepting gzip: the
server then compresses every page, which is most of its work on a page.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import random
import sqlite3
import time
import typing as t
from pathlib import Path

from bench.format_sizes import LICENCE
from bench.harvest import FullHarvest, full_harvest, next_query
from bench.ingest_bench import _remove, run_ingest
from bench.serve import REPO, Gunicorn, median
from oaiserver.ingest.parsing import parse_issue


def journal_keys(corpus: Path) -> list[str]:
    """The key of each journal of a bench.corpus folder (one subfolder per journal), from its first file."""
    keys = set()
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        first = min(folder.glob("*.xml"), default=None)
        if first is not None:
            keys.add(parse_issue(first.read_bytes()).journal.key)
    return sorted(keys)


def open_access(keys: list[str]) -> str:
    """OAI_JOURNALS, as JSON, making every journal open access under CC BY-NC."""
    return json.dumps({key: {"access_right": "open", "license_url": LICENCE} for key in keys})


def disk_usage(db: Path) -> dict:
    """Bytes on disk per record, and per table or index (dbstat), and stored bytes per format."""
    conn = sqlite3.connect(db)
    try:
        records = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
        objects = dict(conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall())
        formats = {prefix: {"rows": rows, "stored_bytes_per_row": round(stored / rows, 1)}
                   for prefix, rows, stored in conn.execute(
                       "SELECT prefix, COUNT(*), SUM(length(CAST(xml AS BLOB))) FROM renditions GROUP BY prefix")}
        article = conn.execute("SELECT AVG(length(CAST(article AS BLOB))) FROM records").fetchone()[0]
    finally:
        conn.close()
    size = os.path.getsize(db)
    return {"records": records, "file_bytes": size, "bytes_per_record": round(size / records),
            "objects_bytes_per_record": {name: round(b / records) for name, b in objects.items()},
            "article_json_bytes_per_record": round(article or 0), "formats": formats}


def ingest(args: argparse.Namespace) -> dict:
    """First ingest of the corpus into a new database (every journal open access)."""
    os.environ["OAISERVER_OAI_JOURNALS"] = open_access(journal_keys(args.corpus))
    _remove(args.db)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    first = run_ingest(args.corpus, args.db)
    return {"ingest": first, "cpu_ms_per_article": round(first["cpu_seconds"] * 1000 / first["articles"], 3),
            "disk": disk_usage(args.db), "load_average": os.getloadavg()}


def _prefixes(db: Path) -> list[str]:
    """The formats the database holds renditions in."""
    conn = sqlite3.connect(db)
    try:
        return [row[0] for row in conn.execute("SELECT DISTINCT prefix FROM renditions ORDER BY prefix")]
    finally:
        conn.close()


def _harvest(server: Gunicorn, prefix: str, encoding: str = "identity") -> FullHarvest:
    """One full ListRecords harvest in ``prefix``, asking for the content coding ``encoding``."""
    return full_harvest(server, "ListRecords", f"verb=ListRecords&metadataPrefix={prefix}", encoding=encoding)


def _warm_up(server: Gunicorn, prefixes: list[str], encoding: str = "identity") -> None:
    # One harvest of each format, not counted: a worker's first pages read the file anew.
    for prefix in prefixes:
        _harvest(server, prefix, encoding)


def harvest(args: argparse.Namespace) -> dict:
    """Full ListRecords harvests in every format the database holds, ``runs`` times each."""
    prefixes = _prefixes(args.db)
    args.work.mkdir(parents=True, exist_ok=True)
    server = _server("ours", REPO, Path(args.db), args.work)
    server.start(args.work)
    runs: dict[str, list[dict]] = {p: [] for p in prefixes}
    try:
        _warm_up(server, prefixes, args.encoding)
        for run in range(args.runs):
            order = prefixes[run % len(prefixes):] + prefixes[:run % len(prefixes)]
            for prefix in order:
                done = _harvest(server, prefix, args.encoding)
                runs[prefix].append({"records": done.items, "mb": round(done.megabytes, 2),
                                     "records_per_second": round(done.items_per_second),
                                     "cpu_ms_per_100": round(done.cpu_ms_per_100, 3)})
    finally:
        server.stop()
    return {"encoding": args.encoding, "formats": {p: {"records": r[0]["records"], "mb": r[0]["mb"],
                            "records_per_second": median([x["records_per_second"] for x in r]),
                            "cpu_ms_per_100": median([x["cpu_ms_per_100"] for x in r]), "runs": r}
                        for p, r in runs.items()},
            "load_average": os.getloadavg(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _server(name: str, root: Path, db: Path, work: Path, env: dict[str, str] | None = None,
            app: str = "wsgi:app", workers: int = 2) -> Gunicorn:
    return Gunicorn(name, app, {
        "OAISERVER_DATABASE": str(db.resolve()),
        "OAISERVER_INSTANCE_PATH": str(work / f"instance-{name}"),
        "OAISERVER_SECRET_KEY": "benchmark-secret",
        "OAISERVER_OAI_LOAD_DEMO": "false",
        **(env or {}),
    }, workers=workers, root=root.resolve())


def compare(args: argparse.Namespace) -> dict:
    """Harvest every format from several servers side by side, round after round; CPU per 100 records."""
    specs = {}
    for spec in args.server:
        name, _, rest = spec.partition("=")
        tree, _, db = rest.partition(":")
        specs[name] = (Path(tree), Path(db))
    prefixes = args.prefix or _prefixes(next(iter(specs.values()))[1])
    workers = {name: int(count) for name, _, count in (spec.partition("=") for spec in args.workers)}
    args.work.mkdir(parents=True, exist_ok=True)
    env: dict[str, dict[str, str]] = {}
    for setting in args.env:
        name, _, assignment = setting.partition(":")
        key, _, value = assignment.partition("=")
        env.setdefault(name, {})[key] = value
    servers = {name: _server(name, tree, db, args.work, env.get(name), workers=workers.get(name, 2))
               for name, (tree, db) in specs.items()}
    cpu: dict[str, dict[str, list[float]]] = {name: {p: [] for p in prefixes} for name in servers}
    shuffle = random.Random(args.seed).shuffle
    try:
        for server in servers.values():
            server.start(args.work)
            _warm_up(server, prefixes, args.encoding)
        for _ in range(args.rounds):
            for prefix in prefixes:
                order = list(servers)
                shuffle(order)
                for name in order:
                    done = _harvest(servers[name], prefix, args.encoding)
                    cpu[name][prefix].append(round(done.cpu_ms_per_100, 3))
    finally:
        for server in servers.values():
            server.stop()
    return {"servers": {name: f"{tree}:{db}" for name, (tree, db) in specs.items()}, "env": env,
            "workers": {name: server.workers for name, server in servers.items()},
            "encoding": args.encoding,
            "cpu_ms_per_100": {name: {p: median(v) for p, v in by.items()} for name, by in cpu.items()},
            "runs": cpu, "rounds": args.rounds, "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def wsgi_get(app: t.Any, query: str) -> bytes:
    """GET /oai?``query`` through the app's WSGI callable, in this process; the body."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/oai", "QUERY_STRING": query,
               "SERVER_NAME": "localhost", "SERVER_PORT": "80", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1"}
    return b"".join(app(environ, lambda status, headers, exc_info=None: None))


def in_process(args: argparse.Namespace) -> dict:
    """Full ListRecords harvests through the app's WSGI callable, no server: CPU per 100 records.

    Without gunicorn, HTTP and a client sharing the cores, what is left is our code's own
    cost, steadier on a busy machine; databases compared run back to back, format by format.
    """
    from oaiserver import create_app

    results: dict[str, dict[str, list[float]]] = {}
    in_app: dict[str, dict[str, list[float]]] = {}  # the WSGI calls alone, without finding the next token
    apps = {}
    for db in args.db:
        os.environ["OAISERVER_OAI_LOAD_DEMO"] = "false"
        apps[str(db)] = create_app({"DATABASE": str(Path(db).resolve()), "SECRET_KEY": "benchmark-secret",
                                    "TESTING": False})
    prefixes = _prefixes(args.db[0])

    for run in range(args.runs):
        for prefix in prefixes:
            for db, app in apps.items():
                query: str | None = f"verb=ListRecords&metadataPrefix={prefix}"
                records, app_cpu = 0, 0.0
                started = time.process_time()
                while query is not None:
                    called = time.process_time()
                    body = wsgi_get(app, query)
                    app_cpu += time.process_time() - called
                    records += body.count(b"<record>")
                    query = next_query("ListRecords", body)
                cpu = time.process_time() - started
                results.setdefault(prefix, {}).setdefault(db, []).append(cpu * 1000 / (records / 100))
                in_app.setdefault(prefix, {}).setdefault(db, []).append(app_cpu * 1000 / (records / 100))

    def medians(found: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
        return {p: {db: round(median(v), 3) for db, v in by_db.items()} for p, by_db in found.items()}

    return {"cpu_ms_per_100": medians(results), "app_ms_per_100": medians(in_app),
            "runs": results, "app_runs": in_app, "load_average": os.getloadavg()}


#: The Accept-Encoding a harvest sends: none, or gzip as python-requests (and so Sickle) asks.
ENCODINGS = ("identity", "gzip")
ENCODING_HELP = "the Accept-Encoding the harvester sends (gzip: the server compresses every page)"


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("ingest")
    one.add_argument("--corpus", type=Path, required=True)
    one.add_argument("--db", type=Path, required=True)
    one.add_argument("--out", type=Path)
    two = sub.add_parser("harvest")
    two.add_argument("--db", type=Path, required=True)
    two.add_argument("--work", type=Path, required=True)
    two.add_argument("--runs", type=int, default=3)
    two.add_argument("--encoding", default="identity", choices=ENCODINGS, help=ENCODING_HELP)
    two.add_argument("--out", type=Path)
    three = sub.add_parser("inprocess")
    three.add_argument("--db", type=Path, nargs="+", required=True)
    three.add_argument("--runs", type=int, default=3)
    three.add_argument("--out", type=Path)
    four = sub.add_parser("compare")
    four.add_argument("--server", action="append", required=True, metavar="NAME=TREE:DB")
    four.add_argument("--env", action="append", default=[], metavar="NAME:KEY=VALUE",
                      help="an environment variable for one server (a setting, say)")
    four.add_argument("--workers", action="append", default=[], metavar="NAME=N",
                      help="gunicorn workers of one server (2 unless given)")
    four.add_argument("--prefix", action="append", default=[], metavar="PREFIX",
                      help="harvest only this format (repeatable; every format the database holds by default)")
    four.add_argument("--work", type=Path, required=True)
    four.add_argument("--rounds", type=int, default=10)
    four.add_argument("--seed", type=int, default=1)
    four.add_argument("--encoding", default="identity", choices=ENCODINGS, help=ENCODING_HELP)
    four.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.command in ("compare", "inprocess"):
        result = compare(args) if args.command == "compare" else in_process(args)
        if args.out:
            args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result["cpu_ms_per_100"], indent=1), result["load_average"])
        return
    result = ingest(args) if args.command == "ingest" else harvest(args)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text if args.command == "ingest" else json.dumps(
        {p: {k: v for k, v in f.items() if k != "runs"} for p, f in result["formats"].items()}, indent=1))


if __name__ == "__main__":
    main()
