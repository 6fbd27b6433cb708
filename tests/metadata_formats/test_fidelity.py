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


def test_title_styles_kept_in_jats_and_plain_elsewhere() -> None:
    (article,) = parsed(A("I-1", title="<i>Helicobacter pylori</i> and CO<sub>2</sub> &amp; <b>Bold</b>",
                          title_fa="باکتری <i>هلیکوباکتر</i>", language="fa"))
    assert article.title_en == "Helicobacter pylori and CO2 & Bold"
    jats = render("jats", article)
    (trans,) = jats.findall(".//j:title-group/j:trans-title-group/j:trans-title", NS)
    assert etree.tostring(trans, encoding="unicode").split(">", 1)[1] == (
        "<italic>Helicobacter pylori</italic> and CO<sub>2</sub> &amp; <bold>Bold</bold></trans-title>")
    (main,) = jats.findall(".//j:title-group/j:article-title", NS)
    assert main.find("j:italic", NS).text == "هلیکوباکتر"
    assert "".join(main.itertext()) == "باکتری هلیکوباکتر"
    for prefix in ("oai_dc", "oai_openaire", "datacite", "mods", "marcxml"):
        if (xml := FORMATS[prefix].render(article, CrosswalkSettings(rights="info:eu-repo/semantics/openAccess"))):
            assert "Helicobacter pylori and CO2 & Bold" in all_text(etree.fromstring(xml)), prefix
            assert "<i>" not in xml and "italic" not in xml, prefix


def test_unstyled_titles_carry_no_runs() -> None:
    (plain, entity) = parsed(A("P-1", title="Plain title"), A("P-2", title="A &amp; B <span>c</span>"))
    assert plain.title_en_runs == () and entity.title_en_runs == ()
    assert entity.title_en == "A & B c"


JOURNAL_EXTRAS = (
    "<subject> Medical Sciences </subject><journal_id_iranmedex></journal_id_iranmedex>"
    "<journal_id_magiran>4567</journal_id_magiran><journal_id_sid> 1234 </journal_id_sid>"
    "<journal_id_nlai>---</journal_id_nlai><journal_id_science>89</journal_id_science>"
)


def with_journal_extras(data: bytes) -> bytes:
    """An issue file whose journal has a subject and ids in three Iranian indexes."""
    return data.replace(b"</title_fa>", b"</title_fa>" + JOURNAL_EXTRAS.encode(), 1)


def test_journal_index_ids_in_jats_and_subject_in_the_journal_set() -> None:
    from oaiserver.ingest.sets import article_sets
    from oaiserver.model import article_from_dict, to_dict

    (article,) = parse_issue(with_journal_extras(issue([A("J-1")]))).articles
    assert article.journal.index_ids == (("magiran", "4567"), ("sid", "1234"), ("science", "89"))
    assert article.journal.subject == "Medical Sciences"
    assert article_from_dict(to_dict(article)) == article
    ids = render("jats", article).findall(".//j:journal-meta/j:journal-id", NS)
    assert [(e.get("journal-id-type"), e.text) for e in ids] == [
        ("publisher-id", "tj.example.ac.ir"), ("magiran", "4567"), ("sid", "1234"), ("science", "89")]
    journal_set = next(s for s in article_sets(article) if s.spec == "journal:1234-5679")
    assert journal_set.description is not None
    description = etree.fromstring(journal_set.description)
    assert [e.text for e in description.findall("dc:subject", NS)] == ["Medical Sciences"]
    # Without them (the samples) nothing is added.
    (plain,) = parsed(A("J-2"))
    assert plain.journal.index_ids == () and plain.journal.subject is None
    assert len(render("jats", plain).findall(".//j:journal-meta/j:journal-id", NS)) == 1


def test_yektaweb_article_pages_get_a_publisher_id() -> None:
    data = issue([A("Y-1"), A("Y-2")]).replace(
        b"https://tj.example.ac.ir/browse.php?a_code=Y-1&amp;slc_lang=en&amp;sid=1",
        b"https://tj.example.ac.ir/article-1-2201-fa.html", 1)
    yektaweb, coded = parse_issue(data).articles
    for article, expected in ((yektaweb, "article-1-2201"), (coded, "Y-2")):
        ids = render("jats", article).findall(".//j:article-meta/j:article-id", NS)
        assert [(e.get("pub-id-type"), e.text) for e in ids] == [("publisher-id", expected)]


def test_abstract_sections_follow_one_rule_in_both_languages() -> None:
    # English: every block labelled; Persian: the first and the third, the second continues the
    # first section. Both are structured. A lone labelled block stays a bold lead-in paragraph.
    (article,) = parsed(A("S-1", language="fa", abstract="<p><b>Background:</b> One.</p><p><b>Methods:</b> Two.</p>"))
    article_title = "عنوان آزمایشی</title_fa>".encode()
    persian_abstracts = (
        "&lt;b&gt;مقدمه:&lt;/b&gt; الف&lt;br&gt;ب&lt;br&gt;&lt;b&gt;روش کار:&lt;/b&gt; ج",
        "&lt;b&gt;مقدمه:&lt;/b&gt; متن چکیده.",
    )
    structured, lead_in = (
        parse_issue(issue([A("S-2", language="fa")]).replace(
            article_title, article_title + f"<abstract_fa>{value}</abstract_fa>".encode(), 1)).articles[0]
        for value in persian_abstracts)
    secs = render("jats", structured).findall(".//j:abstract/j:sec", NS)
    assert [(e.findtext("j:title", namespaces=NS), [p.text for p in e.findall("j:p", NS)]) for e in secs] == [
        ("مقدمه", ["الف", "ب"]), ("روش کار", ["ج"])]
    english = render("jats", article).findall(".//j:abstract/j:sec/j:title", NS)
    assert [e.text for e in english] == ["Background", "Methods"]
    (paragraph,) = render("jats", lead_in).findall(".//j:abstract/j:p", NS)
    assert paragraph.findtext("j:bold", namespaces=NS) == "مقدمه:"
    assert "مقدمه: متن چکیده." in all_text(render("oai_dc", lead_in))


def test_every_format_stays_valid() -> None:
    from tests.helpers.crosswalk_helpers import assert_valid

    articles = [
        *parsed(A("V-1", title="<i>Helicobacter pylori</i> CO<sub>2</sub> &amp;amp; <b>x</b>",
                  title_fa="<i>عنوان</i>", abstract="<p><b>مقدمه:</b> One&amp;amp;rsquo;s.</p><p>&amp;nbsp;</p>")),
        *parse_issue(with_journal_extras(issue([A("V-2")]))).articles,
    ]
    settings = CrosswalkSettings(rights="info:eu-repo/semantics/openAccess")
    for article in articles:
        for prefix, fmt in FORMATS.items():
            xml = fmt.render(article, settings)
            assert xml is not None, prefix
            assert_valid(xml, prefix)
