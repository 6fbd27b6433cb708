"""Client side of the harvest benchmark: full harvests, page latencies, GetRecord samples.

The client is deliberately lean (http.client, a regex on the tail of each page) so that it
costs the shared CPU as little as possible; it is the same code for all three servers.
"""
from __future__ import annotations

import html
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from bench.ceiling_app import PageWriter
from bench.serve import Gunicorn, get, median, percentile

TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]+)</resumptionToken>")
ERROR = re.compile(rb'<error code="([^"]+)"')
MARKERS = {"ListRecords": b"<record>", "ListIdentifiers": b"<header"}
TAIL = 4096  # the token is at the end of a page
SLOW_SECONDS = 0.050  # the bound on the first byte of any list response


class HarvestError(RuntimeError):
    """A server answered something a harvester cannot go on with."""


def next_query(verb: str, body: bytes) -> str | None:
    """Return the query of the page after ``body``, or None at the end of the list."""
    match = TOKEN.search(body, max(0, len(body) - TAIL))
    if match is None:
        return None
    token = html.unescape(match.group(1).decode().strip())
    return f"verb={verb}&resumptionToken={urllib.parse.quote(token, safe='')}"


def fetch(server: Gunicorn, query: str, capture: PageWriter | None = None,
          encoding: str = "identity") -> tuple[bytes, float, float]:
    """GET one OAI page (asking for the content coding ``encoding``); return (body, seconds to first byte, seconds in all)."""
    response = get(server.port, f"/oai?{query}", encoding)
    if response.status != 200:
        raise HarvestError(f"{server.name}: HTTP {response.status} for {query[:120]}")
    error = ERROR.search(response.body, 0, 2048)
    if error:
        raise HarvestError(f"{server.name}: OAI error {error.group(1).decode()} for {query[:120]}")
    if capture is not None:
        capture.add(query, response.body)
    return response.body, response.first_byte, response.total


@dataclass
class FullHarvest:
    """One complete list harvest, as the client and the server's CPU counters saw it."""

    items: int
    pages: int
    megabytes: float
    seconds: float
    cpu_seconds: float
    max_first_byte_ms: float
    p99_first_byte_ms: float
    pages_over_50ms: int  # pages whose first byte took longer than 50 ms
    # (page number, seconds since the harvest began, first byte ms) of each of those pages:
    # when they came tells a recycled worker or outside load from a slow query.
    slow_pages: list[tuple[int, float, float]] = field(default_factory=list)

    @property
    def items_per_second(self) -> float:
        """Items (records or headers) per second."""
        return self.items / self.seconds

    @property
    def cpu_ms_per_100(self) -> float:
        """Server CPU milliseconds per 100 items."""
        return self.cpu_seconds * 1000 / (self.items / 100)


def full_harvest(server: Gunicorn, verb: str, first: str, capture: PageWriter | None = None,
                 max_pages: int = 1_000_000, encoding: str = "identity") -> FullHarvest:
    """Follow the resumption tokens from ``first`` to the end of the list (sizes are of the XML, decoded)."""
    marker = MARKERS[verb]
    items = pages = size = 0
    firsts: list[float] = []
    slow: list[tuple[int, float, float]] = []
    cpu_before = server.cpu()
    started = time.perf_counter()
    query: str | None = first
    while query is not None:
        if pages >= max_pages:
            raise HarvestError(f"{server.name}: more than {max_pages} pages")
        body, first_byte, _ = fetch(server, query, capture, encoding)
        items += body.count(marker)
        size += len(body)
        pages += 1
        firsts.append(first_byte * 1000)
        if first_byte > SLOW_SECONDS:
            slow.append((pages, round(time.perf_counter() - started, 2), round(first_byte * 1000, 1)))
        query = next_query(verb, body)
    seconds = time.perf_counter() - started
    return FullHarvest(items, pages, size / 1e6, seconds, server.cpu() - cpu_before, max(firsts),
                       percentile(firsts, 99), len(slow), slow)


@dataclass
class Latency:
    """Repeated requests of one page."""

    median_ms: float
    p99_ms: float
    first_byte_ms: float  # median time to the first byte
    max_first_byte_ms: float


def latency(server: Gunicorn, queries: list[str], repeat: int = 1,
            capture: PageWriter | None = None) -> Latency:
    """Request every query ``repeat`` times; return the distribution of the latencies."""
    totals, firsts = [], []
    for _ in range(repeat):
        for query in queries:
            _, first_byte, total = fetch(server, query, capture)
            totals.append(total * 1000)
            firsts.append(first_byte * 1000)
    return Latency(median(totals), percentile(totals, 99), median(firsts), max(firsts))


def paired_latency(server: Gunicorn, first: str, deep: str, repeat: int) -> tuple[Latency, Latency]:
    """The first page and the deep page, requested alternately so both see the same noise."""
    samples: list[tuple[list[float], list[float]]] = [([], []), ([], [])]
    for _ in range(repeat):
        for query, (totals, firsts) in zip((first, deep), samples):
            _, first_byte, total = fetch(server, query)
            totals.append(total * 1000)
            firsts.append(first_byte * 1000)
    first_page, deep_page = (
        Latency(median(t), percentile(t, 99), median(f), max(f)) for t, f in samples)
    return first_page, deep_page
