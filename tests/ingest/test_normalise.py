"""Tests for oaiserver.ingest.normalise: the leaf-value helpers."""
from __future__ import annotations

import pytest

from oaiserver.model import PubDate
from oaiserver.ingest.normalise import (
    ascii_digits, clean_number, clean_text, jalali_to_gregorian, match_key, normalise_language,
    parse_flag, parse_int, parse_pubdate, resolve_language, split_keywords, valid_jalali,
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
    # Dedup folds Arabic Yeh and ZWNJ (decisions.md Q20, Q3), keeping the first spelling.
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


def test_match_key() -> None:
    assert match_key("سلول\u200cهاي") == match_key("سلولهای")
    assert match_key("كتاب") == match_key("کتاب")
    assert match_key(" Stem  Cells ") == "stemcells"
    assert match_key("۱۲") == "12"
    assert match_key(None) == ""


def test_jalali_to_gregorian() -> None:
    # The real sample's Jalali date (decisions.md Q9: the file's own Gregorian date differs on purpose).
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
