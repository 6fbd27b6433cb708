"""The OAI-PMH response envelope, written as text around pre-rendered fragments."""
from __future__ import annotations

import datetime as dt
import typing as t

from oaiserver import xmltext
from oaiserver.datestamps import format_datestamp
from oaiserver.errors import OAIError

NS_OAI = "http://www.openarchives.org/OAI/2.0/"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"


def document(
    base_url: str,
    response_date: dt.datetime,
    request_attrs: t.Mapping[str, str] | None,
    body: str,
    stylesheet: str | None = None,
) -> bytes:
    """Wrap a verb's body (or errors) in the OAI-PMH root element; return UTF-8 bytes."""
    attrs = "".join(
        f' {name}="{xmltext.attr(value)}"' for name, value in (request_attrs or {}).items()
    )
    pi = f'<?xml-stylesheet type="text/xsl" href="{xmltext.attr(stylesheet)}"?>\n' if stylesheet else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{pi}"
        f'<OAI-PMH xmlns="{NS_OAI}" xmlns:xsi="{NS_XSI}" '
        f'xsi:schemaLocation="{NS_OAI} {OAI_SCHEMA}">'
        f"<responseDate>{format_datestamp(response_date)}</responseDate>"
        f"<request{attrs}>{xmltext.text(base_url)}</request>"
        f"{body}</OAI-PMH>\n"
    ).encode("utf-8")


def errors(errs: t.Iterable[OAIError]) -> str:
    """Render one ``<error>`` element per protocol error."""
    return "".join(
        f'<error code="{e.code}">{xmltext.text(e.message)}</error>' for e in errs
    )


def resumption_token(
    token: str, cursor: int, total: int, expires: dt.datetime | None
) -> str:
    """Render a resumptionToken; an empty ``token`` marks the last page of a list."""
    expiry = f' expirationDate="{format_datestamp(expires)}"' if expires and token else ""
    # completeListSize is a positiveInteger in the schema: omit it for an empty list.
    size = f' completeListSize="{total}"' if total > 0 else ""
    return (
        f'<resumptionToken{expiry}{size} cursor="{cursor}">{xmltext.text(token)}</resumptionToken>'
    )
