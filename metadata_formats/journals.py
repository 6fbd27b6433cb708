"""Per-journal settings (``OAI_JOURNALS``): access right, embargo, licence and publisher.

The issue files say nothing about rights, so these come from the administrator, journal by
journal, keyed by journal key (print ISSN, else electronic ISSN, else the journal's host).
:func:`parse_journals` checks the configured mapping and refuses anything it cannot use, so
a typing mistake stops ingest with a message instead of silently changing what is served.
"""
from __future__ import annotations

import datetime as dt
import re
import typing as t
from dataclasses import dataclass

from metadata_formats import common as c
from oaiserver import identifiers

#: The access rights a journal can be given (the four COAR access rights).
ACCESS_RIGHTS = ("open", "embargoed", "restricted", "metadata-only")
#: The keys one journal's entry may hold.
KEYS = ("access_right", "embargo_end", "license_url", "license_label", "publisher")

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# A journal key as ingest makes it: an ISSN, or a host name.
_JOURNAL_KEY = re.compile(r"\d{4}-\d{3}[\dX]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")


@dataclass(frozen=True)
class JournalSettings:
    """What the administrator states about one journal; None where nothing is stated."""

    access_right: str | None = None  # one of ACCESS_RIGHTS
    embargo_end: str | None = None  # "YYYY-MM-DD", only with access_right "embargoed"
    license_url: str | None = None  # an http(s) URL, as a valid xs:anyURI
    license_label: str | None = None  # e.g. "CC BY-NC 4.0"; only with license_url
    publisher: str | None = None


def parse_journals(raw: object) -> dict[str, JournalSettings]:
    """Check ``OAI_JOURNALS`` and return it as settings per journal key; raise ValueError if unusable."""
    if not isinstance(raw, t.Mapping):
        raise ValueError(f"OAI_JOURNALS must be a mapping of journal key to settings, not {raw!r}")
    parsed = {}
    # Sorted: the settings' repr is part of the ingest fingerprint, and the order of the
    # configuration file must not force a re-render.
    for key in sorted(raw, key=str):
        if not isinstance(key, str) or not _JOURNAL_KEY.fullmatch(key):
            raise ValueError(f"OAI_JOURNALS: {key!r} is not a journal key (an ISSN such as 2008-8701, or a host name)")
        parsed[key] = journal_settings(key, raw[key])
    return parsed


def journal_settings(key: str, entry: object) -> JournalSettings:
    """Check one journal's entry of ``OAI_JOURNALS``."""
    where = f"OAI_JOURNALS[{key!r}]"
    if not isinstance(entry, t.Mapping):
        raise ValueError(f"{where} must be a mapping such as {{'access_right': 'open'}}, not {entry!r}")
    unknown = sorted(set(map(str, entry)) - set(KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(KEYS)}")
    values: dict[str, str | None] = {}
    for name in KEYS:
        value = entry.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{where}.{name} must be a string, not {value!r}")
        values[name] = c.clean(value)
    return JournalSettings(
        access_right=_access_right(where, values["access_right"]),
        embargo_end=_embargo_end(where, values["access_right"], values["embargo_end"]),
        license_url=_license_url(where, values["license_url"]),
        license_label=_license_label(where, values["license_url"], values["license_label"]),
        publisher=values["publisher"],
    )


def _access_right(where: str, value: str | None) -> str | None:
    if value is not None and value not in ACCESS_RIGHTS:
        raise ValueError(f"{where}.access_right must be one of {', '.join(ACCESS_RIGHTS)}, not {value!r}")
    return value


def _embargo_end(where: str, access_right: str | None, value: str | None) -> str | None:
    if access_right == "embargoed" and value is None:
        raise ValueError(f"{where}: access_right 'embargoed' needs embargo_end (YYYY-MM-DD)")
    if value is None:
        return None
    if access_right != "embargoed":
        raise ValueError(f"{where}.embargo_end is only meaningful with access_right 'embargoed'")
    try:
        if not _DATE.fullmatch(value):
            raise ValueError
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{where}.embargo_end must be a date YYYY-MM-DD, not {value!r}") from None
    return value


def _license_url(where: str, value: str | None) -> str | None:
    if value is None:
        return None
    uri = identifiers.web_uri(value)
    if uri is None:
        raise ValueError(f"{where}.license_url must be an http(s) URL, not {value!r}")
    return uri


def _license_label(where: str, url: str | None, value: str | None) -> str | None:
    if value is not None and url is None:
        raise ValueError(f"{where}.license_label needs license_url (the label names that licence)")
    return value
