"""The ceiling: a minimal WSGI app that returns pre-built bytes of exactly our own pages.

    BENCH_CEILING_DIR=DIR gunicorn bench.ceiling_app:app -w 2

DIR holds ``pages.bin`` (the responses of our server, captured once, back to back) and
``index.json`` ({query string: [offset, length]}). A request is one dictionary lookup and
one pread: no database, no XML, no framework. What the ceiling cannot beat is gunicorn, HTTP
on loopback and moving the bytes; the gap between it and us is what our code costs.
"""
from __future__ import annotations

import json
import os
import typing as t
from pathlib import Path

HEADERS = [("Content-Type", "text/xml; charset=utf-8")]


class Pages:
    """Captured responses, read with pread (no mmap: that would count in the worker's RSS)."""

    def __init__(self, folder: Path) -> None:
        self.index: dict[str, list[int]] = json.loads((folder / "index.json").read_text())
        self.fd = os.open(folder / "pages.bin", os.O_RDONLY)

    def get(self, query: str) -> bytes | None:
        """Return the captured response for ``query``, or None."""
        where = self.index.get(query)
        return None if where is None else os.pread(self.fd, where[1], where[0])


class PageWriter:
    """Collect responses into a ceiling folder."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.index: dict[str, list[int]] = {}
        self.out = open(folder / "pages.bin", "wb")  # noqa: SIM115 - closed in close()
        self.offset = 0

    def add(self, query: str, body: bytes) -> None:
        """Store one response under the query string that asked for it."""
        if query in self.index:
            return
        self.out.write(body)
        self.index[query] = [self.offset, len(body)]
        self.offset += len(body)

    def close(self) -> None:
        """Write the index."""
        self.out.close()
        (self.folder / "index.json").write_text(json.dumps(self.index))


def _lazy_app() -> t.Callable:
    cache: dict[str, Pages] = {}

    def application(environ: dict, start_response: t.Callable) -> list[bytes]:
        if "pages" not in cache:
            cache["pages"] = Pages(Path(os.environ["BENCH_CEILING_DIR"]))
        body = cache["pages"].get(environ.get("QUERY_STRING", ""))
        if body is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not captured\n"]
        start_response("200 OK", [*HEADERS, ("Content-Length", str(len(body)))])
        return [body]

    return application


app = _lazy_app()
