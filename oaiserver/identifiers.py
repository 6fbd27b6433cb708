"""The identifier rules: ISSN, DOI, ORCID iD, e-mail address and web URL, each written once.

Two kinds of function share each rule. Ingest *reads* a value as a person typed it (``issn``,
``doi``, ``orcid``, ``email``, ``web_url``): resolver prefixes, labels, odd dashes and inner
spaces are forgiven, and the identifier comes back in its canonical form, or None. The
crosswalks *check* a stored value (``valid_issn``, ``valid_doi``, ``orcid_uri``, ``web_uri``)
and accept only the canonical form, since that is all ingest stores: an article read back from
stored JSON gets no identifier that its source file would not have given it. Every function
takes None, padding and characters XML cannot carry.
"""
from __future__ import annotations

import functools
import re
from urllib.parse import quote, urlsplit, urlunsplit

from oaiserver.xmltext import clean

ORCID_RESOLVER = "https://orcid.org/"
DOI_RESOLVER = "https://doi.org/"

_WHITESPACE_RUN = re.compile(r"\s+")  # str pattern: every Unicode space, NBSP included


# ---------------------------------------------------------------------------- ISSN

_ISSN = re.compile(r"\d{4}-\d{3}[\dX]")
_ISSN_LABEL = re.compile(r"^issn[\s:]*", re.IGNORECASE)
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")


def issn(value: str | None) -> str | None:
    """Read an ISSN as ``NNNN-NNNC`` (upper-case X; "ISSN " and odd dashes removed), else None."""
    # The check digit is deliberately not verified: a mistyped ISSN is still the identifier
    # the journal prints, and dropping it would change the journal key of existing records.
    text = clean(value)
    if text is None or _ISSN.fullmatch(text):
        return text
    text = _DASHES.sub("-", _WHITESPACE_RUN.sub("", _ISSN_LABEL.sub("", text))).upper()
    if len(text) == 8 and "-" not in text:
        text = f"{text[:4]}-{text[4:]}"
    return text if _ISSN.fullmatch(text) else None


def valid_issn(value: str | None) -> str | None:
    """Return a stored ISSN if it has the ``NNNN-NNNC`` shape (X in either case), else None."""
    text = clean(value)
    return text.upper() if text and _ISSN.fullmatch(text.upper()) else None


# ---------------------------------------------------------------------------- DOI

_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_PREFIX = re.compile(r"^(?:(?:https?://)?(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def doi(value: str | None) -> str | None:
    """Read a bare DOI ``10.NNNN/…`` (resolver prefixes and ``doi:`` removed), else None."""
    text = clean(value)
    if text is None or _DOI.fullmatch(text):
        return text
    text = _DOI_PREFIX.sub("", text).strip()
    return text if _DOI.fullmatch(text) else None


def valid_doi(value: str | None) -> str | None:
    """Return a stored DOI if it is a bare ``10.NNNN/…``, else None."""
    text = clean(value)
    return text if text and _DOI.fullmatch(text) else None


# ---------------------------------------------------------------------------- ORCID iD

_ORCID = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]")
_ORCID_PREFIX = re.compile(r"^(?:https?://)?(?:www\.)?orcid\.org/", re.IGNORECASE)
_ORCID_RESOLVED = re.compile(r"^https?://orcid\.org/")


def orcid(value: str | None) -> str | None:
    """Read a bare, checksum-valid ORCID iD (``0000-0002-1825-0097``), else None."""
    text = clean(value)
    if text is None:
        return None
    if not _ORCID.fullmatch(text):
        text = _ORCID_PREFIX.sub("", _WHITESPACE_RUN.sub("", text)).upper()
    return text if _is_orcid(text) else None


def _is_orcid(text: str) -> bool:
    """Tell whether ``text`` is a bare ORCID iD with the right check character."""
    return _ORCID.fullmatch(text) is not None and orcid_check_digit(text[:-1].replace("-", "")) == text[-1]


def orcid_check_digit(base_digits: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character of the first 15 digits of an ORCID iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


@functools.lru_cache(maxsize=1024)  # each author's, asked by several formats in a row
def orcid_uri(value: str | None) -> str | None:
    """Return ``https://orcid.org/<id>`` for a stored ORCID iD (bare or as that URL), else None."""
    text = clean(value)
    if text is None:
        return None
    bare = _ORCID_RESOLVED.sub("", text).upper()
    return ORCID_RESOLVER + bare if _is_orcid(bare) else None


# ---------------------------------------------------------------------------- e-mail

_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_EMAIL_SEPARATORS = re.compile(r"[\s,;]+")
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)


def email(value: str | None) -> str | None:
    """Return the first syntactically valid e-mail address in the value, else None."""
    text = clean(value)
    if text is None:
        return None
    # A field sometimes holds "a@x.ir; b@y.com" or a "mailto:" link: keep the first good one.
    for candidate in _EMAIL_SEPARATORS.split(text):
        candidate = _MAILTO.sub("", candidate).strip("<>()[]")
        if len(candidate) <= 254 and _EMAIL.fullmatch(candidate) and ".." not in candidate:
            return candidate
    return None


# ---------------------------------------------------------------------------- web URL

_ESCAPED_AMPERSAND = re.compile(r"\\u0026|%5cu0026|&amp;", re.IGNORECASE)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_BARE_HOST = re.compile(r"^(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+(?:[/?#:]|$)")
_WEB = re.compile(r"^https?://[^/\s]", re.IGNORECASE)
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
# RFC 3986 pchar plus "/" and "?" (and "%", already-escaped); anything else gets percent-encoded.
_URI_SAFE = "/?:@!$&'()*+,;=-._~%"
# [userinfo@]host[:port] with an ASCII host name or a bracketed IPv6 literal.
_NETLOC = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:%-]*@)?(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]+)?")


def web_url(value: str | None) -> str | None:
    """Return a web link as typed, repaired (escaping artefacts, no scheme): http(s) only, else None."""
    text = clean(value)
    if text is None:
        return None
    text = _WHITESPACE_RUN.sub("%20", _ESCAPED_AMPERSAND.sub("&", text))
    if not _SCHEME.match(text) and _BARE_HOST.match(text):
        text = "http://" + text  # "journal.example.ac.ir/…" typed without a scheme
    # Only web links are kept: a "javascript:" or "file:" value must never reach a harvester.
    return text if _WEB.match(text) else None


def web_uri(value: str | None) -> str | None:
    """Return an absolute http(s) URL as a valid xs:anyURI (percent-encoded), else None."""
    text = clean(value)
    if not text:
        return None
    try:
        parts = urlsplit(_BAD_PERCENT.sub("%25", text))
    except ValueError:  # e.g. "http://[::1" (unbalanced bracket)
        return None
    if parts.scheme.lower() not in ("http", "https") or not _NETLOC.fullmatch(parts.netloc):
        return None
    path, query, fragment = (quote(p, safe=_URI_SAFE) for p in (parts.path, parts.query, parts.fragment))
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, query, fragment))
