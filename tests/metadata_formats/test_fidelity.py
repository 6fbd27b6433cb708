"""What the input says reaches the formats intact: entities, title styles, journal ids, article ids."""
from __future__ import annotations

from lxml import etree

from metadata_formats import FORMATS, CrosswalkSettings
from oaiserver.ingest.parsing import parse_issue
from oaiserver.model import Article
from tests.helpers.issues import A, issue

NS = {"j": "https://jats.nlm.nih.gov/ns/publishing/1.3/", "dc": "http://purl.org/dc/elements/1.1/"}
SETTINGS = CrosswalkSettings()


def parsed(*articles: A, **kwargs: str) -> list[Article]:
    """The articles of a generated issue file, as ingest reads them."""
    return list(parse_issue(issue(list(articles), **kwargs)).articles)


def render(prefix: str, article: Article) -> etree._Element:
    """One article rendered in ``prefix`` (it must be expressible)."""
    xml = FORMATS[prefix].render(article, SETTINGS)
    assert xml is not None
    return etree.fromstring(xml)


def all_text(root: etree._Element) -> str:
    """Every text and attribute value of a record, joined."""
    return " ".join([*root.itertext(), *(v for e in root.iter() for v in e.attrib.values())])


def test_entities_escaped_three_times_in_the_file_come_out_as_characters() -> None:
    # A escapes once more: the file holds "&amp;amp;rsquo;", "&amp;amp;nbsp;" and "&amp;amp;amp;".
    (article,) = parsed(A("E-1", title="Women&amp;rsquo;s health &amp;amp; work",
                          abstract="<p>Patients&amp;rsquo; sleep&amp;nbsp;</p><p>&amp;nbsp;</p>",
                          keywords="Sleep&amp;nbsp;quality, R&amp;amp;D"))
    for prefix in ("oai_dc", "jats"):
        text = all_text(render(prefix, article))
        assert "Women\u2019s health & work" in text
        assert "Patients\u2019 sleep" in text
        assert "R&D" in text
        assert "&rsquo;" not in text and "&nbsp;" not in text and "&amp;" not in text, prefix
    # The block that was only a non-breaking space is gone.
    assert len(render("jats", article).findall(".//j:abstract/j:p", NS)) == 1
