"""HTTP content codings of OAI responses: gzip and deflate, made by ISA-L where it is installed.

Most harvesters accept gzip (python-requests, and so Sickle, asks for it by default), so for
them compressing is most of the server's work on a list page: zlib at level 5 took 13 ms
for a page of 100 JATS records (1 MB), six times what building and sending the page costs.
ISA-L (the ``isal`` package, already used for checksums) writes the same formats (gzip, RFC 1952;
zlib-wrapped deflate, RFC 1950, which HTTP calls "deflate") at level 2 in 1.3 ms, for a body
28% larger than zlib's level 5 (189 KB against 148 KB; BENCHMARKS.md "Compressed harvests").
Without ISA-L, zlib's level 1 gives a size close to that.
"""
from __future__ import annotations

import typing as t

try:
    from isal import igzip as _gzip
    from isal import isal_zlib as _zlib

    #: ISA-L's level 2 of 0-3: level 3 doubles the CPU for 6% fewer bytes.
    LEVEL = 2
except ImportError:  # pragma: no cover - a platform without an isal wheel: the standard library
    import gzip as _gzip  # type: ignore[no-redef]
    import zlib as _zlib  # type: ignore[no-redef]

    LEVEL = 1

#: The content codings this module makes, by their HTTP names, in the order they are preferred.
CODINGS: dict[str, t.Callable[[bytes], bytes]] = {
    # mtime=0: the same page compresses to the same bytes (caches and ETags may rely on it).
    "gzip": lambda body: _gzip.compress(body, compresslevel=LEVEL, mtime=0),
    "deflate": lambda body: _zlib.compress(body, LEVEL),
}


def compress(coding: str, body: bytes) -> bytes:
    """``body`` in the content coding ``coding`` ("gzip" or "deflate")."""
    return CODINGS[coding](body)
