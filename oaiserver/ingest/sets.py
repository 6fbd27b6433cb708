"""Set membership of an article (design.md §3): journals, their issues, types and subjects."""
from __future__ import annotations

import re
from dataclasses import dataclass

from oaiserver import xmltext
from oaiserver.ingest.keys import slug
from oaiserver.model import Article

# Characters outside the setSpec alphabet of OAI-PMH.xsd become "-".
_NOT_SPEC = re.compile(r"[^A-Za-z0-9\-_.!~*'()]+")

NS_OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"


@dataclass(frozen=True)
class SetInfo:
    """A set as ListSets shows it; ``description`` is an oai_dc fragment or None."""

    spec: str
    name: str
    description: str | None = None


ROOT_SETS = (
    SetInfo("journal", "Journals"),
    SetInfo("type", "Article types"),
    SetInfo("subject", "Subjects"),
)
#: The set OpenAIRE v3 (DRIVER) harvests oai_dc from: the open-access records.
OPENAIRE_SET = SetInfo("openaire", "OpenAIRE")


def spec_part(value: str) -> str:
    """Make ``value`` usable as one segment of a setSpec."""
    return _NOT_SPEC.sub("-", value).strip("-") or "-"


def issue_label(article: Article) -> str:
    """Return "Vol. 18 No. 2 (2026)" with whatever parts the issue has."""
    info = article.issue
    parts = []
    if info.volume:
        parts.append(f"Vol. {info.volume}")
    if info.number:
        parts.append(f"No. {info.number}")
    if info.pub_date:
        parts.append(f"({info.pub_date.year})")
    return " ".join(parts) or "Issue"


def article_sets(article: Article, access_right: str | None = None) -> list[SetInfo]:
    """Return every set the article belongs to, ancestors included, roots first.

    ``access_right`` is the configured one of the article's journal ("open", ...; None when
    unknown): open-access articles are in the ``openaire`` set.
    """
    journal = article.journal
    journal_spec = f"journal:{spec_part(journal.key)}"
    title = journal.title_en or journal.title_fa or journal.key
    issue_spec = (
        f"{journal_spec}:v{spec_part(article.issue.volume or '')}"
        f"n{spec_part(article.issue.number or '')}"
    )
    journal_description, issue_description = _descriptions(article)
    result = [
        ROOT_SETS[0],
        SetInfo(journal_spec, title, journal_description),
        SetInfo(issue_spec, f"{title}, {issue_label(article)}", issue_description),
    ]
    if article.type_en or article.type_fa:
        result.append(ROOT_SETS[1])
        result.append(
            SetInfo(f"type:{slug(article.type_en, article.type_fa)}",
                    article.type_en or article.type_fa or "")
        )
    if article.subject_en or article.subject_fa:
        result.append(ROOT_SETS[2])
        result.append(
            SetInfo(f"subject:{slug(article.subject_en, article.subject_fa)}",
                    article.subject_en or article.subject_fa or "")
        )
    if access_right == "open":
        result.append(OPENAIRE_SET)
    return result


# The descriptions of the last (journal, issue) pair, by identity: every article of an issue
# shares these two objects, so the two descriptions are built once per issue file.
_last: tuple[object, object, tuple[str, str]] | None = None


def _descriptions(article: Article) -> tuple[str, str]:
    """The journal set's and the issue set's descriptions (oai_dc fragments)."""
    global _last
    last = _last  # one read: another thread may replace it meanwhile
    if last is not None and last[0] is article.journal and last[1] is article.issue:
        return last[2]
    found = (_journal_description(article), _issue_description(article))
    _last = (article.journal, article.issue, found)  # holds them: an id is never reused meanwhile
    return found


def _dc(elements: list[tuple[str, str, str | None]]) -> str:
    body = "".join(
        f'<dc:{name}{f" xml:lang={chr(34)}{lang}{chr(34)}" if lang else ""}>'
        f"{xmltext.text(value)}</dc:{name}>"
        for name, value, lang in elements
    )
    return (
        f'<oai_dc:dc xmlns:oai_dc="{NS_OAI_DC}" xmlns:dc="{NS_DC}" xmlns:xsi="{NS_XSI}" '
        f'xsi:schemaLocation="{NS_OAI_DC} {OAI_DC_SCHEMA}">{body}</oai_dc:dc>'
    )


def _journal_description(article: Article) -> str:
    journal = article.journal
    elements: list[tuple[str, str, str | None]] = []
    if journal.title_en:
        elements.append(("title", journal.title_en, "en"))
    if journal.title_fa:
        elements.append(("title", journal.title_fa, "fa"))
    if journal.web_url:
        elements.append(("identifier", journal.web_url, None))
    for issn in (journal.issn_print, journal.issn_electronic):
        if issn:
            elements.append(("identifier", f"urn:ISSN:{issn}", None))
    if journal.language:
        elements.append(("language", journal.language, None))
    return _dc(elements or [("title", journal.key, None)])


def _issue_description(article: Article) -> str:
    elements: list[tuple[str, str, str | None]] = [("title", issue_label(article), "en")]
    if article.issue.pub_date:
        elements.append(("date", article.issue.pub_date.iso(), None))
    title = article.journal.title_en or article.journal.title_fa
    if title:
        elements.append(("source", title, None))
    return _dc(elements)
