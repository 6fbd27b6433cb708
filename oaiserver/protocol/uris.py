"""Is a string a URI reference (RFC 3986), the lexical space of the schema's ``xs:anyURI``?

The OAI-PMH schema types the echoed ``identifier`` argument as ``xs:anyURI``, and validators
(libxml2 among them) check that it parses as an RFC 3986 URI reference. An identifier that
does not is answered badArgument, so it is never echoed into a schema-invalid response.
Characters outside ASCII count as unreserved (an IRI, as validators treat them); the port
is held to nine digits, since libxml2 refuses ports beyond a C int.
"""
from __future__ import annotations

import functools
import ipaddress
import re

_ASCII_UNRESERVED = r"A-Za-z0-9\-._~"
_UNRESERVED = _ASCII_UNRESERVED + "\u0080-\U0010ffff"
_SUB_DELIMS = r"!$&'()*+,;="
_PCT = r"%[0-9A-Fa-f]{2}"
_PCHAR = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:@]|{_PCT})"
_SEGMENT = rf"{_PCHAR}*"
_SEGMENT_NZ = rf"{_PCHAR}+"
_SEGMENT_NZ_NC = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}@]|{_PCT})+"  # no ":" before the first "/"
_QUERY = rf"(?:{_PCHAR}|[/?])*"
_USERINFO = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}:]|{_PCT})*"
_REG_NAME = rf"(?:[{_UNRESERVED}{_SUB_DELIMS}]|{_PCT})*"
# An IPv6 address (checked below) or an IPvFuture literal; brackets are legal nowhere else.
_IP_LITERAL = rf"\[(?:[0-9A-Fa-f:.]+|v[0-9A-Fa-f]+\.[{_ASCII_UNRESERVED}{_SUB_DELIMS}:]+)\]"
_IPV6_LITERAL = re.compile(r"\[([0-9A-Fa-f:.]+)\]")
_AUTHORITY = rf"(?:{_USERINFO}@)?(?:{_IP_LITERAL}|{_REG_NAME})(?::[0-9]{{1,9}})?"
_PATH_ABEMPTY = rf"(?:/{_SEGMENT})*"
_PATH_ABSOLUTE = rf"/(?:{_SEGMENT_NZ}(?:/{_SEGMENT})*)?"

@functools.cache
def _uri_reference() -> re.Pattern[str]:
    """The URI-reference pattern, compiled at its first use.

    Compiling it takes ~50 ms (its classes reach U+10FFFF, and it repeats them): at import, every
    process importing the protocol paid that, the admin commands included, which never check one.
    """
    return re.compile(
        r"(?:"
        rf"[A-Za-z][A-Za-z0-9+\-.]*:"  # scheme: an absolute URI
        rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_SEGMENT_NZ}(?:/{_SEGMENT})*|)"
        r"|"  # or a relative reference
        rf"(?://{_AUTHORITY}{_PATH_ABEMPTY}|{_PATH_ABSOLUTE}|{_SEGMENT_NZ_NC}(?:/{_SEGMENT})*|)"
        r")"
        rf"(?:\?{_QUERY})?(?:#{_QUERY})?"
    )


def is_uri_reference(value: str) -> bool:
    """Tell whether ``value`` is an RFC 3986 URI reference (non-ASCII letters allowed)."""
    if _uri_reference().fullmatch(value) is None:
        return False
    literal = _IPV6_LITERAL.search(value)
    if literal is None:
        return True
    try:
        ipaddress.IPv6Address(literal[1])
    except ValueError:
        return False
    return True
