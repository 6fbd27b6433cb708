"""Ingest benchmark: articles/s end to end through the real CLI, first ingest and re-ingest.

    python -m bench.ingest_bench --corpus DIR --db NEW.sqlite3 [--runs 1] --out RESULT.json

End to end means `python -m oaiserver.cli ingest DIR` in a fresh process: read, parse,
normalise, render every format, store (files committed in groups, decisions.md P15). The
first ingest starts from no database; the re-ingest runs the same command on the same,
unchanged files. The repository's modules are byte-compiled first, as an installed server's
are (pip compiles them at install, or Python on the first run): without that, where
PYTHONDONTWRITEBYTECODE is set, as on the development machine, the CLI and each of its worker
processes would compile the package from source at every start (~0.25 s of CPU a run).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from bench.serve import REPO, median

INGEST_TIMEOUT = 6 * 3600


def _remove(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def compile_repository() -> None:
    """Byte-compile the repository's packages (written even where PYTHONDONTWRITEBYTECODE is set)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", "oaiserver", "metadata_formats"],
                   cwd=REPO, check=True, capture_output=True)


def run_ingest(corpus: Path, db: Path) -> dict:
    """Run the CLI ingest once (the repository byte-compiled first); return its total, wall time and CPU time."""
    compile_repository()
    env = {
        **os.environ,
        "OAISERVER_DATABASE": str(db),
        "OAISERVER_INSTANCE_PATH": str(db.parent / "instance"),
        "OAISERVER_SECRET_KEY": "benchmark-secret",
        # Harvested straight after: records listed the moment they are committed.
        "OAISERVER_OAI_VISIBILITY_DELAY": "0",
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "oaiserver.cli", "ingest", str(corpus), "--json"],
        env=env, cwd=REPO, capture_output=True, text=True, timeout=INGEST_TIMEOUT, check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"ingest failed ({done.returncode}): {done.stderr[-2000:]}")
    total = json.loads(done.stdout.strip().splitlines()[-1])
    articles = total["added"] + total["updated"] + total["unchanged"]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {**total, "articles": articles, "seconds": seconds, "cpu_seconds": cpu,
            "articles_per_second": articles / seconds}


def bench(corpus: Path, db: Path, runs: int) -> dict:
    """First ingest into a new database, then a re-ingest of the unchanged files, ``runs`` times."""
    first, again = [], []
    for _ in range(runs):
        _remove(db)
        db.parent.mkdir(parents=True, exist_ok=True)
        first.append(run_ingest(corpus, db))
        again.append(run_ingest(corpus, db))
        if again[-1]["unchanged"] != again[-1]["articles"]:
            raise RuntimeError(f"a re-ingest of unchanged files changed something: {again[-1]}")
    return {
        "corpus": str(corpus),
        "files": first[0]["files"],
        "articles": first[0]["articles"],
        "database_mb": round(os.path.getsize(db) / 1e6, 1),
        "first": first,
        "again": again,
        "first_articles_per_second": median([r["articles_per_second"] for r in first]),
        "again_articles_per_second": median([r["articles_per_second"] for r in again]),
        "first_cpu_ms_per_article": median([r["cpu_seconds"] * 1000 / r["articles"] for r in first]),
    }


def markdown(result: dict) -> str:
    """Render an ingest result as a markdown table."""
    return (
        f"| ingest ({result['articles']:,} articles, {result['files']:,} files) | articles/s |\n"
        "|---|---:|\n"
        f"| first ingest, new database | {result['first_articles_per_second']:,.0f} |\n"
        f"| re-ingest, unchanged files | {result['again_articles_per_second']:,.0f} |\n"
        f"\nFirst ingest: {result['first_cpu_ms_per_article']:.2f} ms CPU per article; "
        f"database {result['database_mb']:,.0f} MB.\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--db", type=Path, required=True, help="database to create (deleted first)")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = bench(args.corpus, args.db.resolve(), args.runs)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))
    args.out.with_suffix(".md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
