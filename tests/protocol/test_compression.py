"""gzip and deflate responses (oaiserver.web.compression): the identity bytes, made by ISA-L."""
from __future__ import annotations

import gzip
import re
import zlib

import pytest

from oaiserver.web import compression

# What two answers to one request may differ in: the second they were made, which a token holds.
MOMENT = re.compile(rb"<responseDate>[^<]*</responseDate>|<resumptionToken[^>]*>[^<]*</resumptionToken>")


@pytest.mark.parametrize("coding,decode", [("gzip", gzip.decompress), ("deflate", zlib.decompress)])
@pytest.mark.parametrize("prefix", ["oai_dc", "jats"])
def test_compressed_page_is_the_identity_page(loaded, client, coding, decode, prefix):
    """A compressed list page decodes, with the standard library, to the page sent uncompressed."""
    query = {"verb": "ListRecords", "metadataPrefix": prefix}
    plain = client.get("/oai", query_string=query, headers={"Accept-Encoding": "identity"})
    packed = client.get("/oai", query_string=query, headers={"Accept-Encoding": coding})
    assert packed.headers["Content-Encoding"] == coding
    assert int(packed.headers["Content-Length"]) == len(packed.data) < len(plain.data) / 2
    assert MOMENT.sub(b"", decode(packed.data)) == MOMENT.sub(b"", plain.data)


def test_isal_makes_the_codings():
    """Where ISA-L is installed (a dependency), it compresses: zlib's level 5 cost ten times the CPU."""
    pytest.importorskip("isal")
    assert compression._gzip.__name__ == "isal.igzip" and compression._zlib.__name__ == "isal.isal_zlib"
    body = b"<record>" * 1000
    assert gzip.decompress(compression.compress("gzip", body)) == body
    assert zlib.decompress(compression.compress("deflate", body)) == body
    # mtime=0: the same body gives the same bytes.
    assert compression.compress("gzip", body) == compression.compress("gzip", body)
