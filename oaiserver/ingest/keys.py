"""Stable keys: journal key, article key and set-spec slugs (decisions.md P2, P3).

Every key matches ``[A-Za-z0-9][A-Za-z0-9._-]*``: safe in an OAI identifier's local part, in a
URL path segment and in a setSpec, with no escaping anywhere.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from urllib.parse import parse_qs, urlsplit

from oaiserver.ingest.normalise import clean_text, match_key

SAFE_KEY_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")  # use with fullmatch
_YEKTAWEB_PATH_RE = re.compile(
    r"/article-(\d{1,9})-(\d{1,12})(?:-[a-z]{2,8})?\.html?\Z", re.IGNORECASE | re.ASCII
)
_HASH_PREFIX = "h-"  # hash keys can never look like an a_code ("A-…") or a Yektaweb key


def _query(web_url: str | None) -> dict[str, list[str]]:
    """Parse the query string of a URL, tolerating garbage."""
    if not web_url:
        return {}
    try:
        return parse_qs(urlsplit(web_url).query, keep_blank_values=False)
    except ValueError:
        return {}


def a_code(web_url: str | None) -> str | None:
    """Return the platform's ``a_code`` query parameter (``A-10-25-972``) if it is a safe key."""
    values = _query(web_url).get("a_code") or []
    code = clean_text(values[0]) if values else None
    # A code that needs escaping is not used (rather than altered, which could make two codes
    # collide): the next rule of the chain applies instead.
    return code if code and SAFE_KEY_RE.fullmatch(code) else None


def yektaweb_key(web_url: str | None) -> str | None:
    """Return ``article-{site}-{id}`` for Yektaweb article URLs, else ``None``."""
    # Both URL forms of the platform give the same key: ".../article-1-2201-en.html" and
    # ".../browse.php?a_id=2201&sid=1". The language suffix is dropped (it names the page, not
    # the article); the site id is kept so the key still points at the platform's record.
    if not web_url:
        return None
    try:
        path = urlsplit(web_url).path
    except ValueError:
        return None
    match = _YEKTAWEB_PATH_RE.search(path)
    if match:
        return f"article-{int(match.group(1))}-{int(match.group(2))}"
    query = _query(web_url)
    article_id = (query.get("a_id") or [""])[0].strip()
    site = (query.get("sid") or [""])[0].strip()
    if article_id.isascii() and article_id.isdigit() and site.isascii() and site.isdigit():
        return f"article-{int(site)}-{int(article_id)}"
    return None


def _host(web_url: str | None) -> str | None:
    """Return the lower-cased host of a URL (no port, IDNA-encoded), if any."""
    if not web_url:
        return None
    try:
        host = urlsplit(web_url if "//" in web_url else "//" + web_url).hostname
        host = host.encode("idna").decode("ascii") if host else None
    except (ValueError, UnicodeError):
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host if SAFE_KEY_RE.fullmatch(host) else None


def journal_key(issn_print: str | None, issn_electronic: str | None, web_url: str | None) -> str:
    """Return the journal key: print ISSN, else electronic ISSN, else host of ``web_url``."""
    # Arguments are normalised already (identifiers.issn, identifiers.web_url); ValueError if none works.
    for candidate in (issn_print, issn_electronic, _host(web_url)):
        if candidate and SAFE_KEY_RE.fullmatch(candidate):
            return candidate
    raise ValueError("no journal key: the journal has no ISSN and no usable web_url")


def title_hash(
    journal: str, volume: str | None, number: str | None, first_page: str | None, title: str | None
) -> str:
    """Return ``h-`` + 12 hex of a SHA-256 over the issue coordinates and the folded title."""
    parts = [journal, match_key(volume), match_key(number), match_key(first_page), match_key(title)]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return _HASH_PREFIX + digest[:12]


def article_key(
    web_url: str | None,
    journal_key: str,
    volume: str | None,
    number: str | None,
    first_page: str | None,
    title: str | None,
) -> str:
    """Return the article key: ``a_code``, else Yektaweb ``article-{site}-{id}``, else a hash."""
    return key_for(publisher_id(web_url), journal_key, volume, number, first_page, title)


def key_for(
    platform_id: str | None,
    journal_key: str,
    volume: str | None,
    number: str | None,
    first_page: str | None,
    title: str | None,
) -> str:
    """:func:`article_key` from the platform's id already found (:func:`publisher_id`, or None)."""
    return platform_id or title_hash(journal_key, volume, number, first_page, title)


def publisher_id(web_url: str | None) -> str | None:
    """Return the platform's id of an article: its ``a_code``, else its Yektaweb key, else None."""
    return a_code(web_url) or yektaweb_key(web_url)


_SLUG_MAX = 64


@functools.lru_cache(maxsize=4096)  # a few types and subjects, met again in every article
def slug(text_en: str | None, text_fa: str | None) -> str:
    """Return a setSpec-safe slug: from the English text, else ``h-`` + 8 hex of the Persian."""
    # "Review Article" -> "review-article"; accents fold to ASCII. Persian is not transliterated
    # (no reliable scheme), so it gets a stable hash of its folded form (match_key, so Arabic
    # Yeh/Kaf and ZWNJ variants share a set). ValueError when both values are empty.
    english = clean_text(text_en)
    if english:
        ascii_text = unicodedata.normalize("NFKD", english).encode("ascii", "ignore").decode()
        text = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
        if len(text) > _SLUG_MAX:
            # Cut, but keep long names distinct with a hash of the whole text.
            digest = hashlib.sha256(text.encode()).hexdigest()[:8]
            text = text[: _SLUG_MAX - 9].rstrip("-") + "-" + digest
        if text:
            return text
    for source in (text_fa, english):
        key = match_key(clean_text(source))
        if key:
            return _HASH_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    raise ValueError("cannot make a slug from two empty values")
