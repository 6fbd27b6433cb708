"""Run the whole benchmark for one size: corpus, ingest, peer, harvest; results as JSON + markdown.

    python -m bench.run --articles 10000                 # corpus -> CLI ingest -> harvest
    python -m bench.run --articles 1000000 --clone 2000  # 1M: a 2,000-article seed, cloned in SQL

Large files go under --data (default /tmp/bench-data), never into the repository; the small
result files go to --results (default bench/results).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench import bigdb, corpus, harvest_bench, ingest_bench, peer_app

DEFAULT_DATA = Path("/tmp/bench-data")
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"


def label(n: int) -> str:
    """10000 -> "10k", 1000000 -> "1M"."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--clone", type=int, default=0,
                        help="build the database by cloning a seed corpus of this many articles")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--ingest-runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-full", dest="full", action="store_false",
                        help="skip the full harvests (latencies, GetRecord and memory only)")
    parser.add_argument("--no-peer", dest="peer", action="store_false")
    parser.add_argument("--no-full-peer", dest="full_peer", action="store_false",
                        help="skip only the peer's full harvests")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--results", type=Path, default=DEFAULT_RESULTS)
    args = parser.parse_args(argv)
    name = label(args.articles)
    db = args.data / f"db-{name}" / "oai.sqlite3"
    if args.clone:
        seed_dir = args.data / f"corpus-{label(args.clone)}"
        if not seed_dir.exists():
            corpus.generate(args.clone, seed_dir, args.seed)
        db.parent.mkdir(parents=True, exist_ok=True)
        print(bigdb.build(seed_dir, args.articles, db), file=sys.stderr)
    else:
        corpus_dir = args.data / f"corpus-{name}"
        if not corpus_dir.exists():
            corpus.generate(args.articles, corpus_dir, args.seed)
        result = ingest_bench.bench(corpus_dir, db, args.ingest_runs)
        out = args.results / f"ingest-{name}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1))
        out.with_suffix(".md").write_text(ingest_bench.markdown(result))
        print(ingest_bench.markdown(result))
    harvest_args = ["--db", str(db), "--work", str(args.data / f"work-{name}"), "--runs", str(args.runs),
                    "--out", str(args.results / f"harvest-{name}.json"), "--label", name]
    if args.peer:
        peer_db = args.data / f"peer-{name}.sqlite3"
        print(f"peer: {peer_app.build(str(db), str(peer_db))} records", file=sys.stderr)
        harvest_args += ["--peer-db", str(peer_db)]
    if not args.full:
        harvest_args.append("--no-full")
    if not args.full_peer:
        harvest_args.append("--no-full-peer")
    harvest_bench.main(harvest_args)


if __name__ == "__main__":
    main()
