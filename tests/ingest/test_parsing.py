"""Tests for oaiserver.ingest.parsing (issue files) and oaiserver.ingest.keys (keys and slugs)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest


from oaiserver.ingest import keys as identity
from oaiserver.model import Issue, PubDate, to_dict
from oaiserver.ingest.parsing import IngestError, parse_issue

from tests.helpers.oai import SAMPLES
KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _sample(name: str) -> Issue:
    return parse_issue((SAMPLES / name).read_bytes())


def _errors(data: bytes) -> str:
    """Parse ``data`` expecting an IngestError; return its message (never an internal error)."""
    with pytest.raises(IngestError) as info:
        parse_issue(data)
    message = str(info.value)
    assert "internal error" not in message, message
    assert "\n" not in message
    return message


ARTICLE = """<article>
  <language>{language}</language>
  <article_id_doi></article_id_doi>
  <title_fa>{title_fa}</title_fa>
  <title>{title}</title>
  <abstract>{abstract}</abstract>
  <keyword>a, b</keyword>
  <start_page>{start}</start_page>
  <end_page>{end}</end_page>
  <web_url>{url}</web_url>
  <author_list><author>
    <first_name>Ali </first_name><middle_name>R.</middle_name><last_name>Karimi</last_name>
    <first_name_fa>علی</first_name_fa><last_name_fa>کریمی</last_name_fa>
    <code>123456789012345678901</code><orcid>123456789012345678901</orcid>
    <coreauthor>YES</coreauthor><email>not-an-email</email>
  </author></author_list>
</article>"""


def _article(**fields: str) -> str:
    values = {"language": "en", "title_fa": "", "title": "A title", "abstract": "",
              "start": "1", "end": "9", "url": ""}
    values.update(fields)
    return ARTICLE.format(**values)


def _issue(*articles: str, volume: str = "5", number: str = "2", head: str = "",
           journal: str = "<journal_id_issn>2008-8701</journal_id_issn>",
           declaration: str = '<?xml version="1.0" encoding="utf-8"?>') -> str:
    body = "".join(articles) if articles else _article()
    return (
        f"{declaration}\n{head}<journal>\n<title>Test Journal</title>\n"
        "<title_fa>مجله آزمون</title_fa>\n<web_url>http://journal.example.ac.ir:8080/</web_url>\n"
        f"{journal}\n<language>fa</language>\n"
        "<pubdate><type>gregorian</type><year>2024</year><month>2</month><day>3</day></pubdate>\n"
        f"<volume>{volume}</volume>\n<number>{number}</number>\n<publish_type>print</publish_type>\n"
        f"<articleset>{body}</articleset>\n</journal>\n"
    )


# ------------------------------------------------------------------ the real sample


def test_real_sample_journal_and_issue() -> None:
    issue = _sample("nkums-v18n2.xml")
    journal = issue.journal
    assert journal.key == "2008-8701"
    assert journal.title_en == "North Khorasan University of Medical Sciences"
    assert journal.title_fa == "مجله دانشگاه علوم پزشکی خراسان شمالی"
    assert journal.issn_print == "2008-8701" and journal.issn_electronic == "2008-8698"
    assert journal.doi == "10.22034/nkums"
    assert journal.web_url == "http://journal.nkums.ac.ir"
    assert journal.language == "fa"
    info = issue.info
    assert (info.volume, info.number) == ("18", "2")
    assert info.pub_date == PubDate("gregorian", 2026, 7, 1, derived=False)
    assert info.pub_date.iso() == "2026-07-01"
    assert info.pub_date_persian == PubDate("persian", 1405, 4, 1)
    assert info.pub_date_persian.iso() == "1405-04-01"
    assert info.publication_format == "electronic"
    assert len(issue.articles) == 1


def test_real_sample_article() -> None:
    article = _sample("nkums-v18n2.xml").articles[0]
    assert article.key == "A-10-25-972" and article.publisher_id == "A-10-25-972"
    assert (article.language, article.language_inferred) == ("fa", True)
    assert article.doi is None
    assert article.title_en.startswith("Applications of Mesenchymal Stem Cells")
    assert article.title_fa.startswith("کاربرد سلولهای بنیادی")
    assert (article.subject_en, article.subject_fa) == ("Basic Sciences", "علوم پایه")
    assert (article.type_en, article.type_fa) == ("Review Article", "مقالات مروری")
    assert article.keywords_en == (
        "Cell Therapy", "Central Nervous System", "Mesenchymal Stem Cells", "Spinal Cord Injury",
    )
    assert article.keywords_fa == (
        "ضایعه نخاعی", "سلولهای بنیادی مزانشیمی", "سلولدرمانی", "سیستم اعصاب مرکزی",
    )
    assert (article.first_page, article.last_page) == ("12", "25")
    assert article.web_url == (
        "http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&slc_lang=other&sid=1"
    )
    assert article.journal.key == "2008-8701" and article.issue.volume == "18"


def test_real_sample_abstracts() -> None:
    article = _sample("nkums-v18n2.xml").articles[0]
    assert [b.label for b in article.abstract_en] == ["Introduction", "Methods", "Results", "Conclusions"]
    text_en = " ".join(i.text for b in article.abstract_en for i in b.content)
    assert "\u2019" in text_en and "&" not in text_en and "Introduction" not in text_en
    assert len(article.abstract_fa) == 4
    text_fa = " ".join(i.text for b in article.abstract_fa for i in b.content)
    assert "\u200c" in text_fa and "\xa0" not in text_fa


def test_real_sample_authors() -> None:
    authors = _sample("nkums-v18n2.xml").articles[0].authors
    assert len(authors) == 4
    assert [a.given_en for a in authors] == ["Fatemeh", "Nooshin", "Fatemeh", "Hamideh"]
    assert [a.surname_en for a in authors] == ["Sadeghian-Nodoushan", "Ahmadirad", "Kuchakzade", "Babaloo"]
    assert authors[2].surname_fa == "کوچک زاده"
    assert [a.orcid for a in authors] == [None, None, "0009-0009-5218-9750", None]
    assert [a.corresponding for a in authors] == [False, False, False, True]
    assert [a.email for a in authors] == [None, None, None, "hbabaloo92@gmail.com"]
    assert authors[0].affiliation_en.startswith("Assistant Professor, Biotechnology")
    assert authors[0].affiliation_fa.startswith("استادیار، مرکز تحقیقات زیستفناوری")
    dump = repr(to_dict(_sample("nkums-v18n2.xml")))
    assert "100319475328460031467" not in dump  # <code> never stored (decisions.md Q8)
    assert "admin" not in dump  # journal_hbi_system_user (decisions.md Q15)


def test_crlf_bom_equals_plain_sample() -> None:
    assert _sample("crlf-bom.xml") == _sample("nkums-v18n2.xml")


def test_jalali_only_derives_gregorian() -> None:
    issue = _sample("jalali-only.xml")
    assert issue.info.pub_date_persian == PubDate("persian", 1403, 12, 30)
    assert issue.info.pub_date == PubDate("gregorian", 2025, 3, 20, derived=True)
    assert issue.info.number == "Supplement 1"
    article = issue.articles[0]
    assert (article.language, article.language_inferred) == ("en", False)
    assert article.abstract_fa == () and article.keywords_fa == ()
    assert article.authors[0].orcid == "0000-0001-5109-3700"


def test_multi_article() -> None:
    issue = _sample("multi-article.xml")
    assert len(issue.articles) == 3
    first, second, third = issue.articles
    assert [a.key for a in issue.articles] == ["article-1-2201", "article-1-2202", "article-1-2203"]
    assert first.doi == "10.22034/tjms.2025.41022"
    assert first.keywords_en == ("Vitamin D", "Adolescent", "Prevalence", "Iran")
    assert first.keywords_fa == ("ویتامین D", "نوجوان", "شیوع")
    assert [a.orcid for a in first.authors] == ["0000-0002-1825-0097", "0000-0002-1694-233X", None]
    assert first.authors[2].given_en == "Mohammad R."
    assert [a.corresponding for a in first.authors] == [False, True, False]
    assert [b.label for b in first.abstract_en] == ["Background", "Methods", "Results", "Conclusion"]
    assert second.title_en is None and second.title_fa == "بررسی کیفیت خواب پرستاران شیفت شب"
    assert second.language == "fa" and second.last_page is None and second.keywords_en == ()
    assert second.authors[0].given_en is None and second.authors[0].given_fa == "زهرا"
    assert third.title_en == "Case Report: Rare Presentation of Brucella Spondylitis"
    assert (third.first_page, third.last_page) == ("e12", "e15")
    assert third.authors[0].corresponding is True
    text = " ".join(i.text for b in third.abstract_en for i in b.content)
    assert "alert" not in text and "ESR" not in text and "85 mm/h" not in text
    assert "doxycycline & rifampin" in text


def test_every_sample_parses_with_safe_keys() -> None:
    for path in sorted(SAMPLES.glob("*.xml")):
        issue = parse_issue(path.read_bytes())
        assert issue.articles, path.name
        assert KEY_RE.match(issue.journal.key)
        for article in issue.articles:
            assert KEY_RE.match(article.key), article.key


# ------------------------------------------------------------------ hostile and broken files


@pytest.mark.parametrize(
    "name, expected",
    [
        ("billion-laughs.xml", "DOCTYPE declarations are not allowed"),
        ("xxe.xml", "DOCTYPE declarations are not allowed"),
        ("empty.xml", "empty file"),
        ("truncated.xml", "not well-formed XML: "),
        ("not-a-journal.xml", "root element is <rss>, expected <journal>"),
    ],
)
def test_bad_samples(name: str, expected: str) -> None:
    message = _errors((SAMPLES / "bad" / name).read_bytes())
    assert message.startswith(expected), message


def test_truncated_names_the_line() -> None:
    assert re.search(r"line \d+", _errors((SAMPLES / "bad" / "truncated.xml").read_bytes()))


def test_whitespace_only_and_bom_only_are_empty() -> None:
    assert _errors(b"  \r\n\t") == "empty file"
    assert _errors(b"\xef\xbb\xbf\n") == "empty file"
    assert _errors(b"") == "empty file"


def test_doctype_variants_refused() -> None:
    parameter_entity = (
        '<?xml version="1.0"?>\n<!DOCTYPE journal [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>'
        "<journal><title>x</title></journal>"
    )
    external_dtd = (
        '<?xml version="1.0"?>\n<!DOCTYPE journal SYSTEM "http://127.0.0.1:9/evil.dtd">'
        "<journal><title>&x;</title></journal>"
    )
    harmless = '<!DOCTYPE journal>' + _issue(declaration="")
    utf16 = _issue(head='<!DOCTYPE journal [<!ENTITY x "y">]>\n',
                   declaration='<?xml version="1.0" encoding="utf-16"?>').encode("utf-16")
    for data in (parameter_entity.encode(), external_dtd.encode(), harmless.encode(), utf16):
        assert "DOCTYPE declarations are not allowed" in _errors(data)


def test_article_set_root_refused() -> None:
    data = b'<?xml version="1.0"?><ArticleSet><Article><Journal/></Article></ArticleSet>'
    assert _errors(data) == (
        "PubMed-style ArticleSet exports are not supported; export the issue in the journal XML format"
    )


def test_other_errors() -> None:
    assert _errors(b"<journal><title>x</title>").startswith("not well-formed XML")
    assert _errors(b"\x00\x01\x02garbage").startswith("not well-formed XML")
    bogus = b'<?xml version="1.0" encoding="x-bogus"?><journal/>'
    assert _errors(bogus).startswith("not well-formed XML")
    assert _errors(b"<ns:journal xmlns:ns='urn:x'/>") == (
        "root element is <{urn:x}journal>, expected <journal>"
    )


def test_journal_and_issue_requirements() -> None:
    no_key = _issue(journal="").replace("http://journal.example.ac.ir:8080/", "")
    assert _errors(no_key.encode()) == "no journal key: the journal has no ISSN and no usable web_url"
    no_title = _issue().replace("Test Journal", "").replace("مجله آزمون", "")
    assert _errors(no_title.encode()) == "journal has no title in either language"
    assert _errors(_issue(volume="", number=" ").encode()) == "issue has neither a volume nor a number"
    no_articles = _issue().replace("<articleset>", "<articleset><!--")
    no_articles = no_articles.replace("</articleset>", "--></articleset>")
    assert _errors(no_articles.encode()) == "no articles: expected journal/articleset/article"
    flattened = _issue().replace("<articleset>", "").replace("</articleset>", "")
    assert "flattened" in _errors(flattened.encode())


def test_article_without_title_is_named() -> None:
    data = _issue(_article(), _article(title="  ", title_fa="---", url="http://x.ir/?a_code=A-2")).encode()
    assert _errors(data) == "article 2: no title in either language"


def test_duplicate_articles_refused() -> None:
    url = "http://x.ir/browse.php?a_code=A-1-2-3&amp;sid=1"
    data = _issue(_article(url=url), _article(url=url, title="Other")).encode()
    assert _errors(data) == "article 2: duplicate article key 'A-1-2-3' (same as article 1)"
    # Without a URL the hash key collides when title and start page are the same.
    same = _issue(_article(title="Same  title"), _article(title="same title")).encode()
    assert "article 2: duplicate article key 'h-" in _errors(same)


def test_never_raises_anything_but_ingest_error() -> None:
    base = _issue().encode()
    for cut in range(0, len(base), 37):
        for data in (base[:cut], base[cut:], base[:cut] + b"\xff\xfe<" + base[cut:]):
            try:
                parse_issue(data)
            except IngestError as exc:
                assert "internal error" not in str(exc), (cut, str(exc))


def test_str_input_is_a_programming_error() -> None:
    with pytest.raises(TypeError):
        parse_issue("<journal/>")  # type: ignore[arg-type]


# ------------------------------------------------------------------ encodings and leniency


def test_windows_1256_file() -> None:
    text = _issue(_article(title_fa="شیوع کمبود ویتامین", title=""),
                  declaration='<?xml version="1.0" encoding="windows-1256"?>')
    data = text.replace("ی", "ي").replace("ک", "ك").encode("cp1256")  # cp1256 has Arabic Yeh/Kaf
    issue = parse_issue(data)
    assert issue.articles[0].title_fa == "شيوع كمبود ويتامين"
    assert issue.journal.title_fa == "مجله آزمون".replace("ی", "ي").replace("ک", "ك")


def test_iso_8859_1_file() -> None:
    text = _issue(_article(title="Café Müller"), declaration='<?xml version="1.0" encoding="ISO-8859-1"?>')
    data = text.encode("latin-1", "xmlcharrefreplace")  # Persian names as &#NNNN; references
    issue = parse_issue(data)
    assert issue.articles[0].title_en == "Café Müller"
    assert issue.journal.title_fa == "مجله آزمون"


def test_utf16_file() -> None:
    text = _issue(_article(title_fa="سلول\u200cهای بنیادی"),
                  declaration='<?xml version="1.0" encoding="utf-16"?>')
    for data in (text.encode("utf-16"), b"\xfe\xff" + text.encode("utf-16-be")):
        issue = parse_issue(data)
        assert issue.articles[0].title_fa == "سلول\u200cهای بنیادی"  # ZWNJ kept where present


def test_raw_html_entities_at_xml_level_fallback() -> None:
    data = _issue(_article(title="Crohn&rsquo;s disease&nbsp;", abstract="x&nbsp;y")).encode()
    issue = parse_issue(data)
    assert issue.articles[0].title_en == "Crohn\u2019s disease"
    assert issue.articles[0].abstract_en[0].content[0].text == "x y"
    # An entity that HTML does not know either stays an error.
    assert _errors(_issue(_article(title="a &bogus; b")).encode()).startswith("not well-formed XML")


def test_persian_digits_in_numeric_fields() -> None:
    issue = parse_issue(_issue(_article(start="۱۲", end="٢٥"), volume="۱۸", number="۲").encode())
    assert (issue.info.volume, issue.info.number) == ("18", "2")
    assert (issue.articles[0].first_page, issue.articles[0].last_page) == ("12", "25")


def test_persian_digits_and_unpadded_dates() -> None:
    text = _issue().replace(
        "<pubdate><type>gregorian</type><year>2024</year><month>2</month><day>3</day></pubdate>",
        "<pubdate><type>Jalali</type><year>۱۴۰۲</year><month>۱۱</month><day>۱۴</day></pubdate>",
    )
    info = parse_issue(text.encode()).info
    assert info.pub_date_persian == PubDate("persian", 1402, 11, 14)
    assert info.pub_date == PubDate("gregorian", 2024, 2, 3, derived=True)


@pytest.mark.parametrize(
    "pubdates, gregorian, persian",
    [
        ("<pubdate><type>gregorian</type><year>2024</year><month>13</month></pubdate>", None, None),
        ("<pubdate><type>gregorian</type><year>2024</year><month>2</month><day>30</day></pubdate>",
         None, None),
        ("<pubdate><type>gregorian</type><year>24</year></pubdate>", None, None),
        ("<pubdate><type>gregorian</type><year>2024</year><month></month><day>5</day></pubdate>",
         PubDate("gregorian", 2024), None),
        ("<pubdate><type>jalali</type><year>1404</year><month>12</month><day>30</day></pubdate>", None, None),
        ("<pubdate><type>jalali</type><year>1403</year><month>7</month></pubdate>",
         PubDate("gregorian", 2024, 9, derived=True), PubDate("persian", 1403, 7)),
        ("<pubdate><year>1403</year></pubdate><pubdate><year>2025</year></pubdate>",
         PubDate("gregorian", 2025), PubDate("persian", 1403)),
        ("", None, None),
    ],
)
def test_pubdate_leniency(pubdates: str, gregorian: PubDate | None, persian: PubDate | None) -> None:
    text = _issue().replace(
        "<pubdate><type>gregorian</type><year>2024</year><month>2</month><day>3</day></pubdate>", pubdates
    )
    info = parse_issue(text.encode()).info
    assert (info.pub_date, info.pub_date_persian) == (gregorian, persian)


def test_small_fixture_fields() -> None:
    url = "https://x.ir/browse.php?a_id=77&amp;sid=3&amp;slc_lang=fa"
    issue = parse_issue(_issue(_article(url=url)).encode())
    assert issue.info.publication_format == "print"
    assert issue.journal.key == "2008-8701"
    article = issue.articles[0]
    assert article.key == "article-3-77" and article.publisher_id == "article-3-77"
    author = article.authors[0]
    assert (author.given_en, author.surname_en, author.given_fa) == ("Ali R.", "Karimi", "علی")
    assert author.orcid is None and author.email is None and author.corresponding is True


def test_journal_key_falls_back_to_host() -> None:
    issue = parse_issue(_issue(journal="<journal_id_issn>bad</journal_id_issn>").encode())
    assert issue.journal.key == "journal.example.ac.ir"
    online_only = "<journal_id_issn_online>2008-8698</journal_id_issn_online>"
    online = parse_issue(_issue(journal=online_only).encode())
    assert online.journal.key == "2008-8698"


def test_title_markup_and_unescaped_child_elements() -> None:
    issue = parse_issue(_issue(_article(
        title="Rare <i>Brucella</i> &amp;amp; more",
        abstract="<p>Raw <b>XHTML</b> child</p><p>two</p>",
    )).encode())
    article = issue.articles[0]
    assert article.title_en == "Rare Brucella & more"
    assert [b.content for b in article.abstract_en][0][1].styles == ("bold",)
    assert len(article.abstract_en) == 2


def test_authors_without_any_name_are_skipped() -> None:
    text = _issue().replace("</author_list>", "<author><email>x@example.org</email></author></author_list>")
    assert len(parse_issue(text.encode()).articles[0].authors) == 1


# ------------------------------------------------------------------ identity


def test_article_key_chain() -> None:
    args = ("2008-8701", "18", "2", "12", "Title")
    assert identity.article_key("http://j.ir/browse.php?a_code=A-10-25-972&sid=1", *args) == "A-10-25-972"
    assert identity.article_key("https://j.ir/article-1-2201-en.html", *args) == "article-1-2201"
    assert identity.article_key("https://j.ir/article-1-2201-fa.html", *args) == "article-1-2201"
    browse = "https://j.ir/browse.php?a_id=2201&sid=1&slc_lang=en"
    assert identity.article_key(browse, *args) == "article-1-2201"
    # An a_code that would need escaping is not used; the chain moves on.
    assert identity.article_key("https://j.ir/article-1-5-en.html?a_code=A/1", *args) == "article-1-5"
    hashed = identity.article_key(None, *args)
    assert re.match(r"^h-[0-9a-f]{12}$", hashed)
    assert identity.article_key("http://j.ir/other", *args) == hashed
    # Folding: case, whitespace, ZWNJ, Arabic Yeh/Kaf do not change the hash; the page does.
    assert identity.article_key(None, "2008-8701", "18", "2", "12", " title ") == hashed
    fa = identity.article_key(None, "k", "1", "1", "1", "سلول\u200cهای كوچك")
    assert fa == identity.article_key(None, "k", "1", "1", "1", "سلولهای کوچک")
    assert identity.article_key(None, "2008-8701", "18", "2", "13", "Title") != hashed


def test_journal_key() -> None:
    assert identity.journal_key("2008-8701", "2008-8698", "http://x.ir") == "2008-8701"
    assert identity.journal_key(None, "2008-8698", "http://x.ir") == "2008-8698"
    assert identity.journal_key(None, None, "http://Journal.NKUMS.ac.ir:8080/path") == "journal.nkums.ac.ir"
    assert identity.journal_key(None, None, "http://مجله.ایران/").startswith("xn--")
    with pytest.raises(ValueError):
        identity.journal_key(None, None, None)
    with pytest.raises(ValueError):
        identity.journal_key(None, None, "http:///nohost")


def test_slug() -> None:
    assert identity.slug("Review Article", "مقالات مروری") == "review-article"
    assert identity.slug(" Basic   Sciences ", None) == "basic-sciences"
    assert identity.slug("Café & Résumé", None) == "cafe-resume"
    fa = identity.slug(None, "علوم پایه")
    assert re.match(r"^h-[0-9a-f]{8}$", fa)
    assert identity.slug("", "علوم پايه") == fa  # Arabic Yeh folded
    assert identity.slug("---", "علوم پایه") == fa
    assert identity.slug("مقالات", None).startswith("h-")
    long = identity.slug("word " * 40, None)
    assert len(long) <= 64 and KEY_RE.match(long)
    with pytest.raises(ValueError):
        identity.slug(None, " ")


def test_parser_never_expands_or_fetches_entities(tmp_path: Path) -> None:
    """Defence in depth: even past the DOCTYPE refusal, the lxml parser reads no file."""
    from lxml import etree

    from oaiserver.ingest.xmlfile import hardened_parser

    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-CONTENT")
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "SECRET-CONTENT">')
    cases = [
        f'<!DOCTYPE j [<!ENTITY x SYSTEM "{secret.as_uri()}">]><j>&x;</j>',
        f'<!DOCTYPE j [<!ENTITY % p SYSTEM "{dtd.as_uri()}"> %p;]><j>&leak;</j>',
        f'<!DOCTYPE j SYSTEM "{dtd.as_uri()}"><j>&leak;</j>',
    ]
    for case in cases:
        root = etree.fromstring(case.encode(), hardened_parser())
        assert b"SECRET" not in etree.tostring(root)
        assert _errors(case.encode()).startswith("DOCTYPE declarations are not allowed")
