"""UTC datestamps in the two granularities OAI-PMH allows (day and seconds)."""
from __future__ import annotations

import datetime as dt
import re

from oaiserver.protocol.errors import BadArgument

SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAY = "YYYY-MM-DD"

_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SECONDS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def format_datestamp(moment: dt.datetime) -> str:
    """Format an aware or naive-UTC datetime as ``YYYY-MM-DDThh:mm:ssZ``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> dt.datetime:
    """Return the current UTC time truncated to whole seconds (our granularity)."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def parse_datestamp(value: str, name: str) -> tuple[str, str]:
    """Parse a from/until argument; return (granularity, value) or raise badArgument."""
    if _SECONDS_RE.fullmatch(value):
        try:
            dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise BadArgument(f"'{name}' is not a valid date: {value!r}") from None
        return SECONDS, value
    if _DAY_RE.fullmatch(value):
        try:
            dt.date.fromisoformat(value)
        except ValueError:
            raise BadArgument(f"'{name}' is not a valid date: {value!r}") from None
        return DAY, value
    raise BadArgument(
        f"'{name}' must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC), got {value!r}"
    )


def lower_bound(value: str) -> str:
    """Return the first second a from argument includes, in seconds granularity."""
    return value if "T" in value else value + "T00:00:00Z"


def upper_bound(value: str) -> str:
    """Return the last second an until argument includes, in seconds granularity."""
    return value if "T" in value else value + "T23:59:59Z"
