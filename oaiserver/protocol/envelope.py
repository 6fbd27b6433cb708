"""The OAI-PMH response envelope, written as text around pre-rendered fragments."""
from __future__ import annotations

import datetime as dt
import typing as t

from oaiserver import xmltext
from oaiserver.protocol.datestamps import format_datestamp
from oaiserver.protocol.errors import OAIError
from oaiserver.xmltext import NS_OAI, NS_XSI, OAI_SCHEMA


def document(
    base_url: str,
    response_date: dt.datetime,
    request_attrs: t.Mapping[str, str] | None,
    body: str | list[bytes],
    stylesheet: str | None = None,
) -> bytes:
    """Wrap a verb's body (or errors) in the OAI-PMH root element; return UTF-8 bytes.

    A body of UTF-8 parts (as list pages are) is joined once, without a round trip.
    """
    attrs = "".join(
        f' {name}="{xmltext.escape_attr(value)}"' for name, value in (request_attrs or {}).items()
    )
    pi = f'<?xml-stylesheet type="text/xsl" href="{xmltext.escape_attr(stylesheet)}"?>\n' if stylesheet else ""
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{pi}"
        f'<OAI-PMH xmlns="{NS_OAI}" xmlns:xsi="{NS_XSI}" '
        f'xsi:schemaLocation="{NS_OAI} {OAI_SCHEMA}">'
        f"<responseDate>{format_datestamp(response_date)}</responseDate>"
        f"<request{attrs}>{xmltext.escape_text(base_url)}</request>"
    )
    if isinstance(body, list):
        return b"".join((head.encode("utf-8"), *body, b"</OAI-PMH>\n"))
    return f"{head}{body}</OAI-PMH>\n".encode("utf-8")


# glibc's malloc gives each buffer over 128 KiB its own fresh mmap and unmaps it on free, so
# every list page (hundreds of KiB) paid ~350 page faults, more CPU than building the page.
# Serving processes keep such buffers in the heap instead (mallopt; Linux/glibc only).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
PAGE_BUFFERS_IN_HEAP = 16 * 1024 * 1024  # pages up to this size reuse heap memory
HEAP_KEPT_FREE = 64 * 1024 * 1024  # freed heap kept for the next pages before trimming


def keep_page_buffers() -> bool:
    """Ask glibc to reuse heap memory for page-sized buffers; return whether it could."""
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc: nothing to tune
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, PAGE_BUFFERS_IN_HEAP)) and bool(
        mallopt(_M_TRIM_THRESHOLD, HEAP_KEPT_FREE)
    )


def errors(errs: t.Iterable[OAIError]) -> str:
    """Render one ``<error>`` element per protocol error."""
    return "".join(
        f'<error code="{e.code}">{xmltext.escape_text(e.message)}</error>' for e in errs
    )


def resumption_token(
    token: str, cursor: int, total: int, expires: dt.datetime | None
) -> str:
    """Render a resumptionToken; an empty ``token`` marks the last page of a list."""
    expiry = f' expirationDate="{format_datestamp(expires)}"' if expires and token else ""
    # completeListSize is a positiveInteger in the schema: omit it for an empty list.
    size = f' completeListSize="{total}"' if total > 0 else ""
    return (
        f'<resumptionToken{expiry}{size} cursor="{cursor}">{xmltext.escape_text(token)}</resumptionToken>'
    )
