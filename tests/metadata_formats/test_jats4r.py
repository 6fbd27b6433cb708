"""The JATS4R recommendations (all 36 schematron patterns) over every JATS record we can make.

The checker is the shared JATS4R tool (it needs saxonche, of the test extra). With a licence
configured a record must raise no JATS4R error at all; without one, only the error for the
missing ``<permissions>``: the input carries no licence, and the crosswalk never invents one.
"""
from __future__ import annotations

import sys
import typing as t

import pytest
from lxml import etree

from metadata_formats import FORMATS, CrosswalkSettings
from oaiserver.ingest.parsing import parse_issue
from oaiserver.model import Article
from tests.helpers.crosswalk_helpers import REPO_ROOT
from tests.helpers.formats import CC_BY_NC, HAND_MADE, HAND_MADE_ARTICLES, NKUMS, TJMS, harvest_records
from tests.helpers.issues import A, issue
from tests.helpers.oai import GOOD_SAMPLES

TOOL = REPO_ROOT.parent / "shared" / "tools" / "jats4r"
#: The one finding JATS4R reports for an article without <permissions> (its message starts so).
NO_PERMISSIONS = "Missing top-level <permissions> element"

#: Hand-made articles that reach the parts of the crosswalk the samples leave out.
EXTRA_ARTICLES = [
    *HAND_MADE_ARTICLES,
    A("X-1", title="<i>Helicobacter pylori</i> in CO<sub>2</sub>-rich water", doi="10.5555/x.1",
      abstract="<p><b>Background:</b> One.</p><p><b>Methods:</b> Two.</p>",
      authors=[("Sara", "Rahimi"), ("Ali", "Karimi")]),
    A("X-2", language="fa", abstract="<p><b>مقدمه:</b> یک متن.</p>", keywords="الف، ب"),
]


@pytest.fixture(scope="module")
def checker() -> t.Any:
    """The compiled JATS4R schematron, loaded once."""
    pytest.importorskip("saxonche")
    if not (TOOL / "jats4r_check.py").is_file():
        pytest.skip(f"the JATS4R tool is not under {TOOL}")
    sys.path.insert(0, str(TOOL))
    try:
        from jats4r_check import Checker
    finally:
        sys.path.remove(str(TOOL))
    return Checker()


def sample_articles() -> list[Article]:
    """Every article of the good sample issues, the hand-made issue and the extra articles."""
    issues = [path.read_bytes() for path in GOOD_SAMPLES]
    issues.append(issue(HAND_MADE_ARTICLES, issn=HAND_MADE, host="hm.example.ac.ir", volume="4", number="2"))
    issues.append(issue(EXTRA_ARTICLES, issn="3333-3333", host="x.example.ac.ir"))
    return [article for data in issues for article in parse_issue(data).articles]


def errors(checker: t.Any, record: etree._Element) -> list[str]:
    """The messages of the JATS4R errors (not warnings or info) of one JATS article."""
    return [f.message for f in checker.check(record) if f.role == "error"]


def rendered(settings: CrosswalkSettings) -> list[etree._Element]:
    """Every sample article that JATS expresses, rendered with ``settings``."""
    found = [FORMATS["jats"].render(article, settings) for article in sample_articles()]
    assert found, "no articles"
    return [etree.fromstring(xml) for xml in found if xml is not None]


LICENCES = {
    "OAI_LICENSE_URL": {"OAI_LICENSE_URL": CC_BY_NC},
    "OAI_JOURNALS license_url": {"OAI_JOURNALS": {key: {"license_url": CC_BY_NC}
                                                  for key in (NKUMS, TJMS, HAND_MADE, "3333-3333")}},
}


@pytest.mark.parametrize("config", LICENCES.values(), ids=LICENCES.keys())
def test_no_jats4r_error_with_a_licence(checker: t.Any, config: dict[str, t.Any]) -> None:
    records = rendered(CrosswalkSettings.from_config(config))
    assert len(records) >= 10
    assert [errors(checker, record) for record in records] == [[] for _ in records]


def test_without_a_licence_only_the_missing_permissions(checker: t.Any) -> None:
    for record in rendered(CrosswalkSettings()):
        found = errors(checker, record)
        assert len(found) == 1 and found[0].startswith(NO_PERMISSIONS), found


def test_harvested_records(checker: t.Any, repository: t.Any, oai: t.Any) -> None:
    """Over OAI-PMH: the two journals with a licence have clean records, the unconfigured one lacks only permissions."""
    records = harvest_records(oai, "jats")
    assert len(records) == 9  # the two copies of the real sample are one record
    for identifier, record in records.items():
        found = errors(checker, record)
        if f":{HAND_MADE}/" in identifier:
            assert len(found) == 1 and found[0].startswith(NO_PERMISSIONS), (identifier, found)
        else:
            assert found == [], (identifier, found)
