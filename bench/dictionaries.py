"""Make the preset dictionaries that packed renditions are packed against (oaiserver/storage/packing.py).

    python -m bench.dictionaries --out DIR [--seed 7] [--size 32768]

Generates articles (bench.corpus, a seed other than the benchmarks' 1, every journal open
access), renders them in every format that packing.DICTIONARIES names, and writes per format
the last ``--size`` bytes of their renditions one after the other: the markup every record of
the format repeats, and the phrases that recur in such metadata. For ``article`` (the stored
article JSON, packing.ARTICLE) the same is done with the articles' JSON as ingest stores it.
Prints each file's SHA-256 for packing.DICTIONARIES. A shipped dictionary is never regenerated in place: a new one gets a
new number and file name (see packing.py).
"""
from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path

import metadata_formats
from bench.corpus import generate
from bench.format_sizes import read_articles, settings_for
from oaiserver.ingest.prepare import article_json
from oaiserver.storage import packing

#: Articles rendered for each dictionary: more than a dictionary holds.
ARTICLES = 40


def build(prefix: str, seed: int, size: int) -> bytes:
    """The dictionary for one format: the tail of ``size`` bytes of sample renditions."""
    with tempfile.TemporaryDirectory() as folder:
        generate(ARTICLES, Path(folder), seed)
        articles = read_articles(Path(folder))
    if prefix == packing.ARTICLE:
        joined = b"".join(article_json(a).encode() for a in articles)
    else:
        settings = settings_for(articles, open_access=True)
        fmt = metadata_formats.FORMATS[prefix]
        joined = b"".join(xml.encode() for xml in (fmt.render(a, settings) for a in articles) if xml)
    if len(joined) < size:
        raise SystemExit(f"{prefix}: only {len(joined)} bytes of renditions for a {size}-byte dictionary")
    return joined[-size:]


def main(argv: list[str] | None = None) -> None:
    """Command line: write one dictionary per named format and print its SHA-256."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--size", type=int, default=32768)
    parser.add_argument("prefixes", nargs="*", default=["jats", "oai_openaire", "datacite", "mods", "marcxml", "article"])
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for prefix in args.prefixes:
        data = build(prefix, args.seed, args.size)
        path = args.out / f"{prefix}-1.bin"
        path.write_bytes(data)
        print(f"{path.name} {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
