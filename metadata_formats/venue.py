"""What every format reads from an article's venue: its journal's titles, ISSNs and publisher, its issue's dates.

One reading for all six formats, so they agree; each format lays the values out its own way.
Every text returned is cleaned (XML-safe, trimmed, never empty). Apart from ``common`` it
needs only ``rights`` (the configured publisher), so ``oai_dc`` and ``bibliographic`` (which
imports ``oai_dc``) can both import it.
"""
from __future__ import annotations

import typing as t

from metadata_formats import common as c
from metadata_formats import rights
from oaiserver import identifiers

if t.TYPE_CHECKING:
    from metadata_formats import CrosswalkSettings
    from oaiserver.model import IssueInfo, Journal, PubDate


def issue_issued(issue: IssueInfo) -> PubDate | None:
    """The Gregorian publication date of ``issue`` (given, or converted from the Jalali one), or None."""
    date = issue.pub_date
    return date if date is not None and date.calendar == "gregorian" else None


def issue_persian_date(issue: IssueInfo) -> PubDate | None:
    """The Jalali publication date of ``issue`` as given, or None."""
    date = issue.pub_date_persian
    return date if date is not None and date.calendar == "persian" else None


def title_of_journal(journal: Journal, slots: tuple[str, str]) -> tuple[str, str] | None:
    """The journal's first (slot, title) in the order ``slots`` (``common.journal_slot_order``)."""
    found = c.titles(journal, slots)
    return found[0] if found else None


def publisher_of_journal(journal: Journal, settings: CrosswalkSettings,
                         slots: tuple[str, str]) -> tuple[str, str | None] | None:
    """(name, xml:lang): the configured publisher, else the journal title (first in the order ``slots``) with its language."""
    configured = rights.journal_publisher(journal.key, settings)
    if configured:
        return configured, None
    found = title_of_journal(journal, slots)
    if found is None:
        return None
    slot, title = found
    return title, slot


def issns_of_journal(journal: Journal) -> list[tuple[str, str]]:
    """The journal's valid ISSNs as ("print" | "electronic", ISSN), print first."""
    pairs = (("print", journal.issn_print), ("electronic", journal.issn_electronic))
    return [(kind, issn) for kind, issn in ((k, identifiers.valid_issn(v)) for k, v in pairs) if issn]
