"""Rendered size per record per format, and render time per article, over the issue files of a folder.

    python -m bench.format_sizes DIR [--open] [--json]

``--open`` gives every journal of the files the access right "open" and a CC BY-NC licence
(as ``OAI_JOURNALS`` would), so that oai_openaire records exist and the rights fields are
counted; without it nothing is configured. Sizes are UTF-8 bytes of the stored renditions.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import metadata_formats
from metadata_formats import CrosswalkSettings
from oaiserver.ingest.parsing import IngestError, parse_issue
from oaiserver.ingest.prepare import render_article
from oaiserver.model import Article

LICENCE = "https://creativecommons.org/licenses/by-nc/4.0/"


def read_articles(folder: Path) -> list[Article]:
    """Every article of the issue files in ``folder`` and its subfolders; files ingest refuses are skipped."""
    found = []
    for path in sorted(folder.rglob("*.xml")):
        try:
            found += parse_issue(path.read_bytes()).articles
        except IngestError:
            continue  # e.g. the deliberately broken samples
    return found


def settings_for(articles: list[Article], open_access: bool) -> CrosswalkSettings:
    """No settings, or every journal open access under CC BY-NC."""
    if not open_access:
        return CrosswalkSettings()
    journals = {a.journal.key: {"access_right": "open", "license_url": LICENCE} for a in articles}
    return CrosswalkSettings.from_config({"OAI_JOURNALS": journals})


def sizes(articles: list[Article], settings: CrosswalkSettings) -> dict[str, dict[str, float]]:
    """Per format: records rendered, and their average, smallest and largest size in bytes."""
    result = {}
    for prefix, fmt in metadata_formats.FORMATS.items():
        found = [len(xml.encode()) for xml in (fmt.render(a, settings) for a in articles) if xml is not None]
        result[prefix] = {"records": len(found), "average": statistics.mean(found) if found else 0,
                          "min": min(found, default=0), "max": max(found, default=0)}
    return result


def render_cpu_us(articles: list[Article], settings: CrosswalkSettings, rounds: int = 5) -> float:
    """CPU microseconds to render every format and the sets of one article (best of ``rounds``)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for article in articles:
            render_article(article, settings)
        best = min(best, time.process_time() - started)
    return best / max(len(articles), 1) * 1e6


def main(argv: list[str] | None = None) -> None:
    """Print the sizes (and render time) for the files of a folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--open", action="store_true", help="every journal open access with a licence")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    articles = read_articles(args.folder)
    settings = settings_for(articles, args.open)
    report = {"articles": len(articles), "formats": sizes(articles, settings),
              "render_cpu_us_per_article": render_cpu_us(articles, settings)}
    if args.json:
        print(json.dumps(report, indent=1))
        return
    print(f"{report['articles']} articles; render {report['render_cpu_us_per_article']:.0f} us CPU per article")
    for prefix, found in report["formats"].items():
        print(f"  {prefix:13s} {found['records']:5d} records, average {found['average']:7.0f} B "
              f"(min {found['min']}, max {found['max']})")


if __name__ == "__main__":
    main()
