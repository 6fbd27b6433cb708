"""Set descriptions: oai_dc fragments that carry the journal's and the issue's text faithfully."""
from __future__ import annotations

import dataclasses

from lxml import etree

from oaiserver.ingest import sets
from oaiserver.ingest.parsing import parse_issue
from tests.helpers.issues import A, issue

DC = "{http://purl.org/dc/elements/1.1/}"


def test_a_carriage_return_in_a_journal_title_survives_parsing() -> None:
    # A raw CR would come back as LF from any XML parser; written as &#13; it stays a CR.
    article = parse_issue(issue([A("E-1")])).articles[0]
    journal = dataclasses.replace(article.journal, title_en="Line\rbreak & <more>")
    article = dataclasses.replace(article, journal=journal)
    description = sets._journal_description(article)
    titles = etree.fromstring(description).findall(f"{DC}title")
    assert titles[0].text == "Line\rbreak & <more>"
    assert "&#13;" in description
