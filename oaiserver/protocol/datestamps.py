"""UTC datestamps in the two granularities OAI-PMH allows (day and seconds)."""
from __future__ import annotations

import datetime as dt
import re

from oaiserver.protocol.errors import BadArgument

SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAY = "YYYY-MM-DD"

# The two lexical forms of the specification, in ASCII digits only: `\d` (and strptime) would
# also take Persian, Arabic-Indic or fullwidth digits, which the schema's date types refuse
# and which sort after every real datestamp.
_DATE_RE = re.compile(
    r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})Z)?"
)


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
    match = _DATE_RE.fullmatch(value)
    if match is None:
        raise BadArgument(
            f"'{name}' must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC), got {value!r}"
        )
    year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
    try:
        # datetime refuses second 60 (a leap second), as the schema's types do.
        dt.datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise BadArgument(f"'{name}' is not a valid date: {value!r}") from None
    return (SECONDS if match["hour"] is not None else DAY), value


def lower_bound(value: str) -> str:
    """Return the first second a from argument includes, in seconds granularity."""
    return value if "T" in value else value + "T00:00:00Z"


def upper_bound(value: str) -> str:
    """Return the last second an until argument includes, in seconds granularity."""
    return value if "T" in value else value + "T23:59:59Z"
