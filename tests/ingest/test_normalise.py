"""Tests for oaiserver.ingest.normalise: the leaf-value helpers."""
from __future__ import annotations

import pytest

from oaiserver.model import PubDate
from oaiserver.ingest.normalise import (
    ascii_digits, clean_number, clean_text, clean_url, jalali_to_gregorian, match_key,
    normalise_doi, normalise_email, normalise_issn, normalise_language, normalise_orcid,
    orcid_checksum, parse_flag, parse_int, parse_pubdate, resolve_language, split_keywords, strip_xml_illegal,
    valid_jalali,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("-", None),
        ("---", None),
        (" --- \n", None),
        ("\u2014", None),
        ("Fatemeh ", "Fatemeh"),
        ("Yes\n", "Yes"),
        ("\xa0value\xa0", "value"),
        ("\u200cسلام\u200c", "سلام"),
        ("\ufeff\u200bx", "x"),
        ("a - b", "a - b"),
        ("e-12", "e-12"),
    ],
)
def test_clean_text(raw: str | None, expected: str | None) -> None:
    assert clean_text(raw) == expected


def test_clean_text_keeps_inner_zwnj_and_collapses_on_request() -> None:
    assert clean_text("سلول\u200cهای") == "سلول\u200cهای"
    assert clean_text("a \n\t b") == "a \n\t b"
    assert clean_text("a \n\t\xa0b", collapse=True) == "a b"
    assert clean_text("x\x00y\x1f") == "xy"


def test_strip_xml_illegal() -> None:
    assert strip_xml_illegal("a\x00b\x0bc\ud800d\ufffee\tf\n") == "abcde\tf\n"


def test_digits() -> None:
    assert ascii_digits("۱۸") == "18"
    assert ascii_digits("١٨") == "18"
    assert ascii_digits("Supplement ۲") == "Supplement 2"
    assert ascii_digits(None) is None
    assert clean_number(" ۱۲ ") == "12"
    assert clean_number("---") is None
    assert parse_int("۰۴") == 4
    assert parse_int("4a") is None
    assert parse_int("1234567") is None
    assert parse_int("") is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0009-0009-5218-9750 ", "0009-0009-5218-9750"),
        ("https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("http://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097"),
        ("https://orcid.org/0000-0002-1694-233x", "0000-0002-1694-233X"),
        ("0000-0002-1694-233X", "0000-0002-1694-233X"),
        ("0000-0001-5109-3700", "0000-0001-5109-3700"),
        ("100319475328460031467", None),  # the platform's internal code (Q8)
        ("0000-0002-1825-0098", None),  # bad checksum
        ("0000000218250097", None),  # no hyphens
        ("0000-0002-1825-009", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_orcid(raw: str | None, expected: str | None) -> None:
    assert normalise_orcid(raw) == expected


def test_orcid_checksum() -> None:
    assert orcid_checksum("000000021825009") == "7"
    assert orcid_checksum("000000021694233") == "X"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("10.22034/tjms.2025.41022", "10.22034/tjms.2025.41022"),
        (" https://doi.org/10.1000/xyz123 ", "10.1000/xyz123"),
        ("http://dx.doi.org/10.1000/ABC", "10.1000/ABC"),
        ("doi:10.1000/x", "10.1000/x"),
        ("DOI: 10.1000/x", "10.1000/x"),
        ("10.22034/nkums", "10.22034/nkums"),
        ("10.123/x", None),  # registrant code too short
        ("10.22034", None),
        ("10.22034/a b", None),
        ("not a doi", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_doi(raw: str | None, expected: str | None) -> None:
    assert normalise_doi(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2008-8701", "2008-8701"),
        (" 2008-8701\n", "2008-8701"),
        ("1234-567x", "1234-567X"),
        ("20088701", "2008-8701"),
        ("ISSN 2008-8701", "2008-8701"),
        ("۲۰۰۸-۸۷۰۱", "2008-8701"),
        ("2008\u20138701", "2008-8701"),
        ("2008-870", None),
        ("abcd-efgh", None),
        ("", None),
    ],
)
def test_normalise_issn(raw: str | None, expected: str | None) -> None:
    assert normalise_issn(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("hbabaloo92@gmail.com", "hbabaloo92@gmail.com"),
        (" a.karimi@example.ac.ir\n", "a.karimi@example.ac.ir"),
        ("mailto:x@example.org", "x@example.org"),
        ("x@example.org; y@example.org", "x@example.org"),
        ("not an email", None),
        ("x@localhost", None),
        ("x@@example.org", None),
        ("x..y@example.org", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_email(raw: str | None, expected: str | None) -> None:
    assert normalise_email(raw) == expected


def test_split_keywords() -> None:
    assert split_keywords("Cell Therapy, Central Nervous System, , Cell therapy") == (
        "Cell Therapy", "Central Nervous System",
    )
    assert split_keywords("ویتامین D، نوجوان؛ شیوع") == ("ویتامین D", "نوجوان", "شیوع")
    assert split_keywords("Vitamin D, Adolescent, Prevalence; Iran") == (
        "Vitamin D", "Adolescent", "Prevalence", "Iran",
    )
    assert split_keywords("Keywords: a, b") == ("a", "b")
    assert split_keywords("Key words : a; b") == ("a", "b")
    assert split_keywords("کلیدواژه‌ها: الف، ب") == ("الف", "ب")
    assert split_keywords("واژه‌های کلیدی: الف") == ("الف",)
    # A colon inside a real keyword is content, not a label.
    assert split_keywords("COVID-19: vaccines, x") == ("COVID-19: vaccines", "x")
    assert split_keywords("---") == ()
    assert split_keywords(None) == ()
    # Dedup folds Arabic Yeh and ZWNJ (Q20, Q3), keeping the first spelling.
    assert split_keywords("سلول‌های, سلولهای, سلولهاي") == ("سلول‌های",)


@pytest.mark.parametrize(
    "raw, expected",
    [("Yes\n", True), ("yes", True), ("YES", True), ("1", True), ("true", True),
     ("No", False), ("no", False), ("0", False), ("", False), (None, False), ("maybe", False)],
)
def test_parse_flag(raw: str | None, expected: bool) -> None:
    assert parse_flag(raw) is expected


def test_resolve_language() -> None:
    assert resolve_language("other", "fa") == ("fa", True)
    assert resolve_language("", "fa") == ("fa", True)
    assert resolve_language(None, "en") == ("en", True)
    assert resolve_language("fa", "en") == ("fa", False)
    assert resolve_language(" EN ", "fa") == ("en", False)
    assert resolve_language("ar", "fa") == ("ar", False)
    assert resolve_language("other", None) == ("und", True)
    assert resolve_language("other", "other") == ("und", True)
    assert resolve_language("de", "fa") == ("fa", True)
    assert normalise_language("per") == "fa"
    assert normalise_language("fa-IR") == "fa"
    assert normalise_language("xx") is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&slc_lang=other&sid=1",
         "http://journal.nkums.ac.ir/browse.php?a_code=A-10-25-972&slc_lang=other&sid=1"),
        ("http://x.ir/browse.php?a_code=A-1\\u0026sid=1", "http://x.ir/browse.php?a_code=A-1&sid=1"),
        ("http://x.ir/browse.php?a_code=A-1%5Cu0026sid=1", "http://x.ir/browse.php?a_code=A-1&sid=1"),
        ("http://x.ir/b.php?a=1&amp;b=2", "http://x.ir/b.php?a=1&b=2"),
        ("HTTP://Journal.Example.IR/Article-1-2-EN.html", "HTTP://Journal.Example.IR/Article-1-2-EN.html"),
        ("journal.example.ir/page", "http://journal.example.ir/page"),
        (" https://x.ir/a b ", "https://x.ir/a%20b"),
        ("javascript:alert(1)", None),
        ("file:///etc/passwd", None),
        ("---", None),
        (None, None),
    ],
)
def test_clean_url(raw: str | None, expected: str | None) -> None:
    assert clean_url(raw) == expected


def test_match_key() -> None:
    assert match_key("سلول\u200cهاي") == match_key("سلولهای")
    assert match_key("كتاب") == match_key("کتاب")
    assert match_key(" Stem  Cells ") == "stemcells"
    assert match_key("۱۲") == "12"
    assert match_key(None) == ""


def test_jalali_to_gregorian() -> None:
    # The real sample's Jalali date (Q9: the file's own Gregorian date differs on purpose).
    assert jalali_to_gregorian(1405, 4, 1) == PubDate("gregorian", 2026, 6, 22, derived=True)
    assert jalali_to_gregorian(1403, 12, 30) == PubDate("gregorian", 2025, 3, 20, derived=True)
    assert jalali_to_gregorian(1403, 1) == PubDate("gregorian", 2024, 3, None, derived=True)
    assert jalali_to_gregorian(1403) == PubDate("gregorian", 2024, None, None, derived=True)
    assert jalali_to_gregorian(1404, 12, 30) is None  # 1404 is not a leap year
    assert jalali_to_gregorian(1404, 13, 1) is None
    assert jalali_to_gregorian(99999, 1, 1) is None


def test_valid_jalali() -> None:
    assert valid_jalali(1405, 4, 1)
    assert valid_jalali(1405, None, None)
    assert not valid_jalali(1405, None, 3)
    assert not valid_jalali(1405, 7, 31)  # months 7-11 have 30 days


def test_parse_pubdate() -> None:
    assert parse_pubdate("jalali", "1405", "4", "1") == PubDate("persian", 1405, 4, 1)
    assert parse_pubdate(" Gregorian\n", "2026", "07", "1") == PubDate("gregorian", 2026, 7, 1)
    assert parse_pubdate("shamsi", "۱۴۰۵", "۴", "") == PubDate("persian", 1405, 4)
    assert parse_pubdate(None, "1403", None, None) == PubDate("persian", 1403)
    assert parse_pubdate("", "2025", "2", None) == PubDate("gregorian", 2025, 2)
    assert parse_pubdate("gregorian", "2025", None, "9") == PubDate("gregorian", 2025)
    assert parse_pubdate("gregorian", "2025", "2", "29") is None
    assert parse_pubdate("jalali", "1405", "12", "30") is None
    assert parse_pubdate("gregorian", "25", "1", "1") is None
    assert parse_pubdate("gregorian", "twenty", None, None) is None
    assert parse_pubdate("gregorian", None, "1", "1") is None
