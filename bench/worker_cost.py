"""What gunicorn's worker classes cost a request: worker CPU per answer, shipped gthread against sync.

    python -m bench.worker_cost --db DB --work DIR --rounds 12 --requests 300 [--tree NAME=TREE] --out R.json

Serves three answers, each under the shipped ``gunicorn.conf.py`` twice (its threaded worker, and
``GUNICORN_WORKER_CLASS=sync``), one worker per server: a WSGI app that answers 5 bytes (what
gunicorn and a loopback connection cost by themselves), one that answers a fixed 1 MB body (what
sending a list page of 100 JATS records costs), and oaiserver's Identify on ``DB``. In each round
every server gets ``--requests`` requests, one after another on new connections (as harvesters
send them), the servers in a shuffled order; the result is each server's median over the rounds
of the worker's CPU per request, in microseconds. ``--tree NAME=TREE`` also measures the shipped
worker of another checkout (an older version, say) as ``<answer>-NAME``.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import time
import typing as t
from pathlib import Path

from bench.format_cost import _server
from bench.serve import REPO, Gunicorn, get, median

#: The fixed body of the page-sized answer: about a page of 100 JATS records.
PAGE_BYTES = 1_050_000


def tiny(environ: dict, start_response: t.Callable) -> list[bytes]:
    """A WSGI app answering 5 bytes: gunicorn and the connection, nothing else."""
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", "5")])
    return [b"<ok/>"]


_PAGE = b"<p>" + b"x" * (PAGE_BYTES - 8) + b"</p>\n"


def page(environ: dict, start_response: t.Callable) -> list[bytes]:
    """A WSGI app answering the same 1 MB body each time: what sending a page costs, not building it."""
    start_response("200 OK", [("Content-Type", "text/xml"), ("Content-Length", str(len(_PAGE)))])
    return [_PAGE]


#: (name, WSGI app, path requested)
ANSWERS = (("tiny", "bench.worker_cost:tiny", "/"), ("1mb", "bench.worker_cost:page", "/"),
           ("identify", "wsgi:app", "/oai?verb=Identify"))
WORKERS = {"gthread": {}, "sync": {"GUNICORN_WORKER_CLASS": "sync"}}


def run(args: argparse.Namespace) -> dict:
    """Measure every answer under both worker classes; worker CPU µs per request."""
    args.work.mkdir(parents=True, exist_ok=True)
    servers: dict[str, tuple[Gunicorn, str]] = {}
    trees = [(worker, REPO, env) for worker, env in WORKERS.items()]
    trees += [(name, Path(tree), {}) for name, tree in (spec.split("=", 1) for spec in args.tree)]
    for answer, app, path in ANSWERS:
        for worker, root, env in trees:
            server = _server(f"{answer}-{worker}", root, args.db, args.work, env, app=app, workers=1)
            servers[server.name] = (server, path)
    runs: dict[str, list[float]] = {name: [] for name in servers}
    shuffle = random.Random(args.seed).shuffle
    try:
        for server, path in servers.values():
            server.start(args.work)
            for _ in range(args.requests // 2):  # warm up, not counted
                get(server.port, path)
        for _ in range(args.rounds):
            order = list(servers)
            shuffle(order)
            for name in order:
                server, path = servers[name]
                before = server.cpu()
                for _ in range(args.requests):
                    get(server.port, path)
                runs[name].append(round((server.cpu() - before) / args.requests * 1e6, 1))
    finally:
        for server, _ in servers.values():
            server.stop()
    return {"cpu_us_per_request": {name: median(values) for name, values in runs.items()}, "runs": runs,
            "rounds": args.rounds, "requests": args.requests, "load_average": os.getloadavg(),
            "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=TREE",
                        help="also the shipped worker of another checkout")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = run(args)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result["cpu_us_per_request"], indent=1))


if __name__ == "__main__":
    main()
