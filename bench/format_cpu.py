"""CPU per record of each step a rendition goes through, per format: render, pack, unpack, checksum.

    python -m bench.format_cpu DIR [--articles 1000] [--rounds 5] [--out R.json]

Over the first ``--articles`` articles of the issue files in DIR (bench.corpus makes them),
every journal open access (as ``bench.format_cost ingest`` configures them): per format the
microseconds of CPU to render one article (``MetadataFormat.render``), to pack its rendition
and to unpack it again (storage/packing.py), and to compute its checksum (storage/integrity.py);
and for the whole pure ingest step, ``prepare_issue`` per article (parse, render every format,
hash, pack). Each figure is the best of ``--rounds`` timing loops: the cost of the code, not
of the machine's other load. Unpack and checksum are what serving a packed record costs above
an XML one; a page of 100 records costs 100 times that.
"""
from __future__ import annotations

import argparse
import json
import time
import typing as t
from pathlib import Path

import metadata_formats
from bench.format_sizes import read_articles, settings_for
from oaiserver.ingest.parsing import parse_issue
from oaiserver.ingest.prepare import PrepareConfig, prepare_issue
from oaiserver.model import Article
from oaiserver.storage import integrity, packing


def best_us(step: t.Callable[[t.Any], object], items: t.Sequence[t.Any], rounds: int) -> float:
    """CPU microseconds of ``step`` per item, the best of ``rounds`` loops over ``items``."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for item in items:
            step(item)
        best = min(best, time.process_time() - started)
    return round(best / max(len(items), 1) * 1e6, 2)


def per_format(folder: Path, articles: int, rounds: int) -> dict[str, t.Any]:
    """The figures for the first ``articles`` articles of ``folder``."""
    found = read_articles(folder)[:articles]
    settings = settings_for(found, open_access=True)
    result: dict[str, t.Any] = {"articles": len(found), "formats": {}}
    for prefix, fmt in metadata_formats.FORMATS.items():
        xml = [x.encode() for x in (fmt.render(a, settings) for a in found) if x is not None]
        stored = [packing.pack(prefix, x) for x in xml]
        result["formats"][prefix] = {
            "records": len(xml),
            "xml_bytes": round(sum(map(len, xml)) / max(len(xml), 1)),
            "stored_bytes": round(sum(map(len, stored)) / max(len(stored), 1)),
            "render_us": best_us(lambda a: fmt.render(a, settings), found, rounds),
            "pack_us": best_us(lambda x: packing.pack(prefix, x), xml, rounds),
            "unpack_us": best_us(lambda s: packing.unpack("x", s), stored, rounds),
            "checksum_us": best_us(integrity.checksum, xml, rounds),
        }
    return result


def prepare_us(folder: Path, articles: int, rounds: int) -> float:
    """CPU microseconds of ``prepare_issue`` per article, over the first whole issue files holding ``articles``."""
    files: list[bytes] = []
    found: list[Article] = []
    for path in sorted(folder.rglob("*.xml")):
        if len(found) >= articles:
            break
        files.append(path.read_bytes())
        found += parse_issue(files[-1]).articles
    config = PrepareConfig.of("bench.example.org", settings_for(found, open_access=True))
    total = best_us(lambda data: prepare_issue(data, config), files, rounds) * len(files)
    return round(total / max(len(found), 1), 1)


def main(argv: list[str] | None = None) -> None:
    """Command line: print (and write) the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = per_format(args.folder, args.articles, args.rounds)
    result["prepare_us_per_article"] = prepare_us(args.folder, args.articles, args.rounds)
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
