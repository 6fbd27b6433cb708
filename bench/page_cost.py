"""Where a ListRecords page's CPU goes, stage by stage, in this process (no gunicorn, no HTTP).

    python -m bench.page_cost --db DB [--prefix P ...] [--repeat 5] [--pause MS ...] --out R.json

For each format, every page of a full ListRecords harvest is made again and again, each time
going one stage further along the path a request takes:

- ``sql``: the page's query, its rows fetched (headers and stored renditions, as SQLite holds them);
- ``unpack``: the same, with each packed rendition unpacked (storage/packing.py);
- ``page``: ``queries.page``, which also checks every checksum and counts what follows the page;
- ``protocol``: ``verbs.handle`` on the page's own request (the token decoded and signed anew,
  the envelope and the one join of the page's parts);
- ``wsgi``: the app's WSGI callable (werkzeug's request, the fast route, the HTTP headers).

Each figure is the best of ``--repeat`` passes over all the pages, the stages taking turns
within each pass, in ms of CPU per page (``process_time``), and so per 100 records at the
default page size. What a stage adds is its figure less the one before it (noise can make
it negative). The page queries are the requests of one real harvest, made first through
the WSGI callable.

``--pause MS`` also times the WSGI calls with the process asleep for MS milliseconds before
each (``wsgi_after_pause``), as a server waits while its harvester reads the page before:
what the same call costs once the CPU's caches have gone cold (on a shared virtual machine,
another guest may run on the core meanwhile).
"""
from __future__ import annotations

import argparse
import json
import os
import time
import typing as t
from pathlib import Path
from urllib.parse import parse_qs

from bench.format_cost import _prefixes, wsgi_get
from bench.harvest import next_query
from oaiserver.storage import queries

STAGES = ("sql", "unpack", "page", "protocol", "wsgi")


def _best(runs: t.Mapping[str, t.Callable[[], None]], repeat: int, pages: int) -> dict[str, float]:
    """Each run's fastest of ``repeat`` passes, in ms of CPU per page.

    The runs take turns within each pass, so that a machine whose speed drifts slows them alike.
    """
    best = {name: float("inf") for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            started = time.process_time()
            run()
            best[name] = min(best[name], time.process_time() - started)
    return {name: round(seconds * 1000 / pages, 3) for name, seconds in best.items()}


def stages(app: t.Any, prefix: str, repeat: int, pauses: t.Sequence[float] = ()) -> dict[str, t.Any]:
    """The cumulative CPU per page of each stage, for every page of a full harvest in ``prefix``."""
    from oaiserver.protocol import datestamps, verbs
    from oaiserver.web import answer

    config = app.config
    conn = answer.reader(config["DATABASE"])
    size, max_bytes = config["OAI_PAGE_SIZE"], config["OAI_PAGE_MAX_BYTES"]
    # One real harvest gives each page's request and where each page starts.
    requests, records = [], 0
    query: str | None = f"verb=ListRecords&metadataPrefix={prefix}"
    while query is not None:
        requests.append(query)
        body = wsgi_get(app, query)
        records += body.count(b"<record>")
        query = next_query("ListRecords", body)
    selection = queries.ListFilter(prefix, None, "", datestamps.format_datestamp(datestamps.now()))
    starts: list[tuple[str, ...] | None] = [None]
    while True:
        found = queries.page(conn, selection, starts[-1], size, False)
        if not found.more:
            break
        starts.append((found.items[-1].datestamp, found.items[-1].identifier))
    low = [tuple(start or queries.START) for start in starts]

    def sql(unpack: bool) -> t.Callable[[], None]:
        def run() -> None:
            for position in low:
                # The page's own query (queries._page_sql: the SQL queries.page runs).
                rows = conn.execute(*queries._page_sql(selection, True, position, size)).fetchall()
                if unpack:
                    [queries._served(row) for row in rows]
        return run

    def page() -> None:
        for start in starts:
            queries.page(conn, selection, start, size, True, max_bytes)

    params = [parse_qs(q) for q in requests]

    def protocol() -> None:
        for p in params:
            context = verbs.Context(answer._repository(config, app.extensions["oaiserver.codec"],
                                                       "http://localhost/oai", ""), conn, datestamps.now())
            verbs.handle(p, context)

    def wsgi() -> None:
        for q in requests:
            wsgi_get(app, q)

    def wsgi_after(pause: float) -> float:
        # The CPU of the calls alone: the sleeps are outside the clock.
        best = float("inf")
        for _ in range(repeat):
            spent = 0.0
            for q in requests:
                time.sleep(pause / 1000)
                started = time.process_time()
                wsgi_get(app, q)
                spent += time.process_time() - started
            best = min(best, spent)
        return round(best * 1000 / len(requests), 3)

    runs = {"sql": sql(False), "unpack": sql(True), "page": page, "protocol": protocol, "wsgi": wsgi}
    # Pages walked by position and requests made from tokens must be the same pages.
    if len(starts) != len(requests):
        raise RuntimeError(f"{prefix}: {len(starts)} pages by position, {len(requests)} by token")
    figures = _best(runs, repeat, len(requests))
    added = {stage: round(figures[stage] - (figures[STAGES[i - 1]] if i else 0.0), 3)
             for i, stage in enumerate(STAGES)}
    return {"pages": len(requests), "records": records, "ms_per_page": figures, "added_ms_per_page": added,
            "wsgi_after_pause": {f"{pause:g}": wsgi_after(pause) for pause in pauses}}


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--prefix", action="append", default=[], help="a format (every format in DB unless given)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pause", type=float, action="append", default=[], metavar="MS",
                        help="also time the WSGI calls after sleeping MS milliseconds before each")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    os.environ["OAISERVER_OAI_LOAD_DEMO"] = "false"
    from oaiserver import create_app

    app = create_app({"DATABASE": str(args.db.resolve()), "SECRET_KEY": "benchmark-secret", "TESTING": False})
    prefixes = args.prefix or _prefixes(args.db)
    result = {"db": str(args.db), "formats": {p: stages(app, p, args.repeat, args.pause) for p in prefixes},
              "load_average": os.getloadavg(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    for prefix, found in result["formats"].items():
        print(prefix, " ".join(f"{stage} +{ms:.3f}" for stage, ms in found["added_ms_per_page"].items()),
              f"= {found['ms_per_page']['wsgi']:.3f} ms a page",
              " ".join(f"| after {pause} ms asleep {ms:.3f}" for pause, ms in found["wsgi_after_pause"].items()))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
