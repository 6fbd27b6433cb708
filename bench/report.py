"""Summaries of benchmark runs: medians, pair-by-pair ratios, the machine, a markdown table."""
from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import typing as t
from pathlib import Path

from bench.serve import REPO, median

# (label, metric path, unit, digits) of the table, in order.
ROWS = [
    ("ListRecords oai_dc, full harvest", "ListRecords.items_per_second", "records/s", 0),
    ("  transferred", "ListRecords.megabytes", "MB", 0),
    ("  server CPU", "ListRecords.cpu_ms_per_100", "ms / 100 records", 2),
    ("  first byte of a page, p99", "ListRecords.p99_first_byte_ms", "ms", 1),
    ("  slowest first byte of a page", "ListRecords.max_first_byte_ms", "ms", 1),
    ("  pages with first byte > 50 ms", "ListRecords.pages_over_50ms", "pages", 0),
    ("ListIdentifiers, full harvest", "ListIdentifiers.items_per_second", "headers/s", 0),
    ("  server CPU", "ListIdentifiers.cpu_ms_per_100", "ms / 100 headers", 2),
    ("ListRecords first page", "first:ListRecords.median_ms", "ms", 1),
    ("  first byte", "first:ListRecords.first_byte_ms", "ms", 1),
    ("ListRecords page at 90% depth", "deep:ListRecords.median_ms", "ms", 1),
    ("ListIdentifiers first page", "first:ListIdentifiers.median_ms", "ms", 1),
    ("ListIdentifiers page at 90% depth", "deep:ListIdentifiers.median_ms", "ms", 1),
    ("GetRecord p50", "GetRecord.median_ms", "ms", 2),
    ("GetRecord p99", "GetRecord.p99_ms", "ms", 2),
    ("Peak worker RSS", "peak_rss_mib", "MiB", 1),
    ("Slowest first byte, any list response", "any_list.max_first_byte_ms", "ms", 1),
]
# Ratios computed inside each run, then the median over runs: (label, numerator, denominator).
RATIOS = [
    ("ours / ceiling, ListRecords records/s", ("ours", "ListRecords.items_per_second"),
     ("ceiling", "ListRecords.items_per_second")),
    ("ours / peer, ListRecords records/s", ("ours", "ListRecords.items_per_second"),
     ("peer", "ListRecords.items_per_second")),
    ("ours / peer, ListIdentifiers headers/s", ("ours", "ListIdentifiers.items_per_second"),
     ("peer", "ListIdentifiers.items_per_second")),
    ("ours: 90% page / first page", ("ours", "deep:ListRecords.median_ms"),
     ("ours", "first:ListRecords.median_ms")),
    ("peer: 90% page / first page", ("peer", "deep:ListRecords.median_ms"),
     ("peer", "first:ListRecords.median_ms")),
    ("ceiling: 90% page / first page", ("ceiling", "deep:ListRecords.median_ms"),
     ("ceiling", "first:ListRecords.median_ms")),
]
SERVERS = ("ours", "peer", "ceiling")


def lookup(run: dict, server: str, path: str) -> float | None:
    """Return one metric of one server in one run, or None if it was not measured."""
    value: t.Any = run.get(server)
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value)


def summarise(runs: list[dict]) -> dict:
    """Medians over the runs of every metric, and of every ratio taken run by run."""
    medians: dict[str, dict[str, float]] = {}
    for server in SERVERS:
        for _, path, _, _ in ROWS:
            values = [v for run in runs if (v := lookup(run, server, path)) is not None]
            if values:
                # Peak RSS only grows: the last run holds the peak of the whole benchmark.
                medians.setdefault(server, {})[path] = values[-1] if path == "peak_rss_mib" else median(values)
    # The slowest first byte of any list response our server sent, over all runs.
    slowest = [
        m["max_first_byte_ms"] for run in runs for key, m in run.get("ours", {}).items()
        if "List" in key and isinstance(m, dict) and "max_first_byte_ms" in m
    ]
    if slowest:
        medians.setdefault("ours", {})["any_list.max_first_byte_ms"] = max(slowest)
    variants = {key for run in runs for key in run.get("ours", {}) if key.startswith("variant:")}
    for key in sorted(variants):
        values = [run["ours"][key]["median_ms"] for run in runs if key in run.get("ours", {})]
        medians["ours"][f"{key}.median_ms"] = median(values)
    ratios = {}
    for label, (s1, p1), (s2, p2) in RATIOS:
        pairs = [(lookup(run, s1, p1), lookup(run, s2, p2)) for run in runs]
        values = [a / b for a, b in pairs if a is not None and b]
        if values:
            ratios[label] = {"median": median(values), "runs": values}
    return {"medians": medians, "ratios": ratios}


def markdown(results: dict) -> str:
    """Render one benchmark result as a markdown table."""
    medians = results["summary"]["medians"]
    present = [s for s in SERVERS if s in medians]
    db = results["database"]
    lines = [
        f"### {results.get('label') or 'harvest'}: {db.get('records', '?'):,} records "
        f"({db.get('size_mb', 0):,.0f} MB database), {len(results['runs'])} runs, medians",
        "",
        "| measurement | unit | " + " | ".join(present) + " |",
        "|---|---|" + "---:|" * len(present),
    ]
    for label, path, unit, digits in ROWS:
        cells = []
        for server in present:
            value = medians[server].get(path)
            cells.append("n/a" if value is None else f"{value:,.{digits}f}")
        if any(c != "n/a" for c in cells):
            lines.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
    variants = sorted(k for k in medians.get("ours", {}) if k.startswith("variant:"))
    if variants:
        lines += ["", "| ours only: selective first pages | median ms |", "|---|---:|"]
        lines += [f"| {k[len('variant:'):-len('.median_ms')]} | {medians['ours'][k]:,.1f} |"
                  for k in variants]
    lines += ["", "| ratio (per run, then median) | value | runs |", "|---|---:|---|"]
    for label, ratio in results["summary"]["ratios"].items():
        runs = ", ".join(f"{v:.2f}" for v in ratio["runs"])
        lines.append(f"| {label} | {ratio['median']:.2f} | {runs} |")
    lines += _slow_pages(results["runs"])
    memory = results.get("page_memory_kib")
    if memory:
        lines += ["", "Python memory of answering one ListRecords page (tracemalloc peak): "
                  + ", ".join(f"{k} page {v:,.0f} KiB" for k, v in memory.items()) + "."]
    return "\n".join(lines) + "\n"


def _slow_pages(runs: list[dict]) -> list[str]:
    """Say, run by run, which pages of our full harvests took over 50 ms to the first byte."""
    found = []
    for number, run in enumerate(runs, 1):
        for verb in ("ListRecords", "ListIdentifiers"):
            harvest = run.get("ours", {}).get(verb)
            if isinstance(harvest, dict) and "pages" in harvest:
                slow = harvest.get("slow_pages", [])
                where = "; ".join(f"page {p} at {t:.1f} s: {ms:.0f} ms" for p, t, ms in slow)
                found.append(f"run {number} {verb}: {len(slow)} of {harvest['pages']:,}"
                             + (f" ({where})" if slow else ""))
    if not found:
        return []
    return ["", "Our pages with a first byte over 50 ms, per full harvest: " + "; ".join(found) + "."]


def machine() -> dict:
    """Describe the machine the benchmark ran on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = Path("/proc/meminfo").read_text().split()[1]
    except OSError:
        memory = "0"
    return {
        "cpu": model, "cores": os.cpu_count(), "memory_gib": round(int(memory) / 2**20, 1),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
        "kernel": platform.release(), "commit": _commit(), "load_average": os.getloadavg(),
    }


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, timeout=10, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "oaiserver"], cwd=REPO,
                               capture_output=True, text=True, timeout=10, check=False)
        return out.stdout.strip() + ("+changes" if dirty.stdout.strip() else "")
    except OSError:
        return ""


def database_facts(path: str) -> dict:
    """Records, size and the list query plan of a database."""
    from oaiserver.storage import queries as store
    from oaiserver.storage.db import connect_reader

    conn = connect_reader(path)
    facts = {
        "records": conn.execute("SELECT COUNT(*) FROM records").fetchone()[0],
        "size_mb": round(os.path.getsize(path) / 1e6, 1),
        "list_plan": store.page_plan(conn, store.ListFilter("oai_dc", None, "", "9999")),
    }
    conn.close()
    return facts


def growth(results: list[dict]) -> str:
    """One table across corpus sizes: ours, peer and ceiling side by side for each N."""
    head = "| measurement | unit | " + " | ".join(
        f"{r['label']} {s}" for r in results for s in SERVERS) + " |"
    lines = [head, "|---|---|" + "---:|" * (len(results) * len(SERVERS))]
    for label, path, unit, digits in ROWS:
        cells = []
        for r in results:
            for server in SERVERS:
                value = r["summary"]["medians"].get(server, {}).get(path)
                cells.append("n/a" if value is None else f"{value:,.{digits}f}")
        lines.append(f"| {label} | {unit} | " + " | ".join(cells) + " |")
    labels = sorted({k for r in results for k in r["summary"]["ratios"]}, key=[x[0] for x in RATIOS].index)
    lines += ["", "| ratio (per run, then median) | " + " | ".join(r["label"] for r in results) + " |",
              "|---|" + "---:|" * len(results)]
    for label in labels:
        cells = [f"{r['summary']['ratios'][label]['median']:.2f}" if label in r["summary"]["ratios"]
                 else "n/a" for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import json
    import sys

    print(growth([json.loads(Path(p).read_text()) for p in sys.argv[1:]]))
