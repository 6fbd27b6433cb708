"""What compressing a list page costs: zlib against ISA-L, per format, in process.

    python -m bench.compression_cost --db DB [--repeat 20] [--out R.json]

Builds the first ListRecords page (100 records) of every format ``DB`` holds through the app's
WSGI callable, then compresses it as gzip with zlib (level 5, what oaiserver used before; level
1) and with ISA-L (levels 1-3; oaiserver.web.compression uses 2): the best of ``--repeat`` CPU
times in ms, and the compressed size in bytes.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import time
import typing as t
from pathlib import Path

from isal import igzip

from bench.format_cost import _prefixes

#: (name, compress): the codings compared.
CODERS: tuple[tuple[str, t.Callable[[bytes], bytes]], ...] = (
    ("zlib 5", lambda page: gzip.compress(page, compresslevel=5, mtime=0)),
    ("zlib 1", lambda page: gzip.compress(page, compresslevel=1, mtime=0)),
    *((f"isal {level}", lambda page, level=level: igzip.compress(page, compresslevel=level, mtime=0))
      for level in (1, 2, 3)),
)


def first_page(app: t.Any, prefix: str) -> bytes:
    """The first ListRecords page in ``prefix``, uncompressed, as the app answers it."""
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/oai", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
               "QUERY_STRING": f"verb=ListRecords&metadataPrefix={prefix}", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO(), "SERVER_PROTOCOL": "HTTP/1.1"}
    return b"".join(app(environ, lambda status, headers, exc_info=None: None))


def run(db: Path, repeat: int) -> dict:
    """Every format's first page, compressed by every coder: best CPU ms and bytes."""
    os.environ["OAISERVER_OAI_LOAD_DEMO"] = "false"
    from oaiserver import create_app

    app = create_app({"DATABASE": str(db), "SECRET_KEY": "benchmark-secret", "TESTING": False})
    result: dict[str, dict] = {}
    for prefix in _prefixes(db):
        page = first_page(app, prefix)
        entry: dict[str, t.Any] = {"page_bytes": len(page)}
        for name, compress in CODERS:
            best = float("inf")
            for _ in range(repeat):
                started = time.process_time()
                packed = compress(page)
                best = min(best, time.process_time() - started)
            entry[name] = {"ms": round(best * 1000, 2), "bytes": len(packed)}
        result[prefix] = entry
    return result


def main(argv: list[str] | None = None) -> None:
    """Command line: see the module's docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    result = run(args.db, args.repeat)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
