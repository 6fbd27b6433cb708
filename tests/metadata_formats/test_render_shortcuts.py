"""The shortcuts that make rendering cheaper give exactly what the long way gives.

The fragments remembered per issue (common.per_issue) never leak between settings or issues,
and collapse() equals a split and join.
"""
from __future__ import annotations

from dataclasses import replace

import pytest

import metadata_formats
from metadata_formats import CrosswalkSettings
from metadata_formats import common as c
from tests.helpers.crosswalk_helpers import nkums_article

OPEN = CrosswalkSettings.from_config({"OAI_JOURNALS": {"2008-8701": {
    "access_right": "open", "license_url": "https://creativecommons.org/licenses/by/4.0/",
    "publisher": "Publisher A"}}})
EMBARGOED = CrosswalkSettings.from_config({"OAI_JOURNALS": {"2008-8701": {
    "access_right": "embargoed", "embargo_end": "2030-01-01", "publisher": "Publisher B"}}})


def fresh(article):  # a copy with its own journal and issue objects: nothing remembered for it
    """The article with copies of its journal and issue, as a reindex from stored JSON gives it."""
    return replace(article, journal=replace(article.journal), issue=replace(article.issue))


@pytest.mark.parametrize("prefix", list(metadata_formats.FORMATS))
def test_same_issue_other_settings_renders_as_a_fresh_article(prefix):
    fmt = metadata_formats.FORMATS[prefix]
    article = nkums_article()
    first = fmt.render(article, OPEN)
    # The same journal and issue objects right after, with other settings: the remembered
    # fragments of the first settings must not be served.
    assert fmt.render(article, EMBARGOED) == fmt.render(fresh(article), EMBARGOED)
    assert fmt.render(article, OPEN) == first == fmt.render(fresh(article), OPEN)


@pytest.mark.parametrize("prefix", list(metadata_formats.FORMATS))
def test_articles_of_one_issue_share_issue_fragments_but_not_their_own(prefix):
    fmt = metadata_formats.FORMATS[prefix]
    article = nkums_article()
    other = replace(article, key="A-10-25-973", language="en", first_page="30", last_page="41",
                    doi="10.22034/nkums.2026.99", web_url="http://journal.nkums.ac.ir/article-1-99-en.html")
    assert other.journal is article.journal and other.issue is article.issue
    fmt.render(article, OPEN)
    assert fmt.render(other, OPEN) == fmt.render(fresh(other), OPEN)


def test_per_issue_keys_on_identity_settings_and_arguments():
    article = nkums_article()
    calls = []

    def compute(journal, issue, settings, extra):
        calls.append(extra)
        return (journal.key, settings, extra)

    assert c.per_issue(article, OPEN, compute, 1) == ("2008-8701", OPEN, 1)
    c.per_issue(article, OPEN, compute, 1)
    c.per_issue(replace(article, key="other"), OPEN, compute, 1)  # same journal and issue objects
    assert calls == [1]
    c.per_issue(article, OPEN, compute, 2)
    c.per_issue(article, EMBARGOED, compute, 2)
    c.per_issue(fresh(article), EMBARGOED, compute, 2)
    assert calls == [1, 2, 2, 2]


def test_collapse_equals_split_and_join_for_every_kind_of_space():
    # The fast path of collapse() must give what " ".join(text.split()) gives, for every
    # whitespace character Python splits on, ZWNJ and other non-printable characters.
    import random
    import sys

    spaces = [chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace()]
    alphabet = [*spaces, "a", "ب", "\u200c", "\u200d", "\x00", "\ufeff", ":", " ", " "]
    rnd = random.Random(7)
    for _ in range(50000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 7)))
        assert c.collapse(text) == " ".join(text.split()), repr(text)
    for space in spaces:
        for text in (f"a{space}b", f"a\u200c{space}b", f"{space}a", f"a{space}"):
            assert c.collapse(text) == " ".join(text.split()), repr(text)
