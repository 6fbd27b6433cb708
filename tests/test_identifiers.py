"""Tests for oaiserver.identifiers: reading typed identifiers, and checking stored ones."""
from __future__ import annotations

import pytest

from oaiserver import identifiers
from oaiserver.ingest.normalise import clean_number, clean_text

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
        ("100319475328460031467", None),  # the platform's internal code (decisions.md Q8)
        ("0000-0002-1825-0098", None),  # bad checksum
        ("0000000218250097", None),  # no hyphens
        ("0000-0002-1825-009", None),
        ("", None),
        (None, None),
    ],
)
def test_orcid_is_read(raw: str | None, expected: str | None) -> None:
    assert identifiers.orcid(raw) == expected


def test_orcid_check_digit() -> None:
    assert identifiers.orcid_check_digit("000000021825009") == "7"
    assert identifiers.orcid_check_digit("000000021694233") == "X"


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
def test_doi_is_read(raw: str | None, expected: str | None) -> None:
    assert identifiers.doi(raw) == expected


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
def test_issn_is_read(raw: str | None, expected: str | None) -> None:
    assert identifiers.issn(clean_number(raw)) == expected


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
def test_email_is_read(raw: str | None, expected: str | None) -> None:
    assert identifiers.email(raw) == expected


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
def test_web_url_is_read(raw: str | None, expected: str | None) -> None:
    assert identifiers.web_url(clean_text(raw)) == expected


def test_issn_reading_forgives_more_than_the_stored_check() -> None:
    # Persian digits are folded by ingest (clean_number), not by the ISSN rule.
    assert identifiers.issn(clean_number("۲۰۰۸-۸۷۰۱")) == "2008-8701"
    assert identifiers.issn("ISSN: 2008 8701") == "2008-8701"
    assert identifiers.valid_issn("ISSN: 2008 8701") is None
    assert identifiers.valid_issn(" 1234-567x\x00") == "1234-567X"
    assert identifiers.valid_issn(None) is None


def test_doi_check_accepts_only_the_bare_form() -> None:
    assert identifiers.valid_doi(" 10.1000/xyz\x01 ") == "10.1000/xyz"
    assert identifiers.valid_doi("https://doi.org/10.1000/xyz") is None
    assert identifiers.doi("https://doi.org/10.1000/xyz") == "10.1000/xyz"


def test_orcid_uri_of_a_stored_orcid() -> None:
    assert identifiers.orcid_uri("0000-0002-1825-0097") == "https://orcid.org/0000-0002-1825-0097"
    assert identifiers.orcid_uri("https://orcid.org/0000-0002-1694-233x") == "https://orcid.org/0000-0002-1694-233X"
    assert identifiers.orcid_uri("0000-0002-1825-0098") is None  # bad check digit
    # Reading forgives inner spaces; the check of a stored value does not.
    assert identifiers.orcid("0000-0002-1825-00 97") == "0000-0002-1825-0097"
    assert identifiers.orcid_uri("0000-0002-1825-00 97") is None
    assert identifiers.orcid_uri(None) is None


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("http://x.ir/a b?q=ü#f", "http://x.ir/a%20b?q=%C3%BC#f"),
        ("HTTPS://x.ir/100%", "https://x.ir/100%25"),
        ("http://x.ir/%41", "http://x.ir/%41"),
        ("http://[::1", None),
        ("ftp://x.ir/", None),
        ("http://ex ample.ir/", None),
        ("   ", None),
        (None, None),
    ],
)
def test_web_uri_is_a_valid_any_uri(raw: str | None, expected: str | None) -> None:
    assert identifiers.web_uri(raw) == expected
