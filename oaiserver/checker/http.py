"""HTTP for the checker: GET and POST with urllib, bounded in time and size, never raising on a status."""
from __future__ import annotations

import http.client
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field

Params = list[tuple[str, str]]

USER_AGENT = "oaiserver-check/1 (OAI-PMH conformance checker)"
#: Largest response body (after decompression) the checker reads.
MAX_BYTES = 64 * 1024 * 1024
#: A 503 with Retry-After is honoured this many times, waiting at most this long each time.
RETRIES = 3
MAX_RETRY_AFTER = 10.0


@dataclass(frozen=True)
class Response:
    """What one request brought back; ``status`` is 0 when no HTTP answer came at all."""

    url: str
    status: int
    body: bytes = b""
    content_type: str = ""
    problem: str = ""  # transport trouble: refused, timeout, too large, bad content coding
    headers: dict[str, str] = field(default_factory=dict)


class Fetcher:
    """Send OAI-PMH requests to one base URL."""

    def __init__(self, base_url: str, timeout: float = 30.0, delay: float = 0.0,
                 max_bytes: int = MAX_BYTES) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.delay = delay
        self.max_bytes = max_bytes
        self.requests = 0

    def url(self, params: Params) -> str:
        """Return the GET URL for ``params``."""
        query = urllib.parse.urlencode(params)
        if not query:
            return self.base_url
        return f"{self.base_url}{'&' if '?' in self.base_url else '?'}{query}"

    def get(self, params: Params) -> Response:
        """Send a GET request."""
        url = self.url(params)
        return self._send(lambda: urllib.request.Request(url, headers=self._headers()), url)

    def post(self, params: Params) -> Response:
        """Send a form-encoded POST request; the reported URL is the GET equivalent."""
        data = urllib.parse.urlencode(params).encode("ascii")
        headers = {**self._headers(), "Content-Type": "application/x-www-form-urlencoded"}
        return self._send(
            lambda: urllib.request.Request(self.base_url, data=data, headers=headers, method="POST"),
            self.url(params),
        )

    def _headers(self) -> dict[str, str]:
        return {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}

    def _send(self, make_request, url: str) -> Response:
        response = Response(url, 0, problem="not sent")
        for _ in range(RETRIES + 1):
            if self.delay and self.requests:
                time.sleep(self.delay)
            self.requests += 1
            response = self._once(make_request(), url)
            wait = _retry_after(response)
            if wait is None:
                return response
            time.sleep(wait)
        return response

    def _once(self, request: urllib.request.Request, url: str) -> Response:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return self._read(answer, answer.status, url)
        except urllib.error.HTTPError as error:
            with error:
                return self._read(error, error.code, url)
        except (OSError, http.client.HTTPException, ValueError) as error:
            return Response(url, 0, problem=_describe(error))

    def _read(self, answer, status: int, url: str) -> Response:
        headers = {k.lower(): v for k, v in answer.headers.items()}
        try:
            raw = answer.read(self.max_bytes + 1)
            if len(raw) > self.max_bytes:
                raise ValueError(f"response larger than {self.max_bytes} bytes")
            body = _decode(raw, headers.get("content-encoding", ""), self.max_bytes)
        except (OSError, http.client.HTTPException, ValueError, zlib.error) as error:
            return Response(url, status, problem=_describe(error), headers=headers)
        return Response(url, status, body, headers.get("content-type", ""), headers=headers)


def _decode(body: bytes, coding: str, limit: int) -> bytes:
    coding = coding.strip().lower()
    if coding in ("", "identity"):
        return body
    if coding in ("gzip", "x-gzip"):
        wbits = 16 + zlib.MAX_WBITS
    elif coding == "deflate":
        # HTTP deflate is zlib-wrapped; some servers send raw deflate instead.
        wbits = zlib.MAX_WBITS if body[:1] == b"\x78" else -zlib.MAX_WBITS
    else:
        raise ValueError(f"unsupported Content-Encoding {coding!r}")
    inflater = zlib.decompressobj(wbits)
    out = inflater.decompress(body, limit + 1)
    if len(out) > limit:
        raise ValueError(f"response larger than {limit} bytes once decompressed")
    return out


def _retry_after(response: Response) -> float | None:
    # OAI-PMH flow control (OAI-PMH §3.1.2.2 refers to HTTP 503 + Retry-After).
    if response.status != 503:
        return None
    value = response.headers.get("retry-after", "").strip()
    if not value.isdigit() or float(value) > MAX_RETRY_AFTER:
        return None
    return float(value)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.URLError) and not isinstance(error, urllib.error.HTTPError):
        return f"cannot connect: {error.reason}"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"
