"""Set membership of an article (decisions.md P3): journals, their issues, types and subjects."""
from __future__ import annotations

import re

from metadata_formats.oai_dc import Statement, dc_element
from oaiserver.ingest.keys import slug
from oaiserver.model import ROOT_SETS, Article, SetInfo  # SetInfo: re-exported for ingest
from oaiserver.xmltext import strip_illegal

# Characters outside the setSpec alphabet of OAI-PMH.xsd become "-".
_NOT_SPEC = re.compile(r"[^A-Za-z0-9\-_.!~*'()]+")

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


def _dc(elements: list[Statement]) -> str:
    """Write a set description through the oai_dc crosswalk's writer, values made XML-safe."""
    return dc_element([(name, strip_illegal(value), lang) for name, value, lang in elements])


def _journal_description(article: Article) -> str:
    journal = article.journal
    elements: list[Statement] = []
    if journal.title_en:
        elements.append(("title", journal.title_en, "en"))
    if journal.title_fa:
        elements.append(("title", journal.title_fa, "fa"))
    if journal.web_url:
        elements.append(("identifier", journal.web_url, None))
    for issn in (journal.issn_print, journal.issn_electronic):
        if issn:
            elements.append(("identifier", f"urn:ISSN:{issn}", None))
    if journal.subject:
        # The journal's subject area: the article-level subjects are sets of their own, this
        # one describes the journal (its language is not given).
        elements.append(("subject", journal.subject, None))
    if journal.language:
        elements.append(("language", journal.language, None))
    return _dc(elements or [("title", journal.key, None)])


def _issue_description(article: Article) -> str:
    elements: list[Statement] = [("title", issue_label(article), "en")]
    if article.issue.pub_date:
        elements.append(("date", article.issue.pub_date.iso(), None))
    title = article.journal.title_en or article.journal.title_fa
    if title:
        elements.append(("source", title, None))
    return _dc(elements)
