"""Build small issue files in the real export format, for tests and fixtures."""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import escape


@dataclass
class A:
    """One article of a generated issue."""

    code: str
    title: str = ""
    title_fa: str = "عنوان آزمایشی"
    content_type: str = "Original Article"
    subject: str = "Basic Sciences"
    abstract: str = "<p>An abstract.</p>"
    keywords: str = "One, Two"
    start_page: str = "1"
    end_page: str = "9"
    doi: str = ""
    language: str = "en"
    authors: list[tuple[str, str]] = field(default_factory=lambda: [("Sara", "Rahimi")])

    def xml(self, host: str) -> str:
        authors = "".join(
            f"<author><first_name>{escape(g)}</first_name><last_name>{escape(f)}</last_name>"
            "<orcid></orcid><coreauthor>No</coreauthor><affiliation>Test University, Iran</affiliation>"
            "</author>"
            for g, f in self.authors
        )
        return (
            "<article>"
            f"<language>{self.language}</language><article_id_doi>{escape(self.doi)}</article_id_doi>"
            f"<title_fa>{escape(self.title_fa)}</title_fa><title>{escape(self.title or 'Article ' + self.code)}</title>"
            f"<subject>{escape(self.subject)}</subject><content_type>{escape(self.content_type)}</content_type>"
            f"<abstract>{escape(self.abstract)}</abstract><keyword>{escape(self.keywords)}</keyword>"
            f"<start_page>{self.start_page}</start_page><end_page>{self.end_page}</end_page>"
            f"<web_url>https://{host}/browse.php?a_code={self.code}&amp;slc_lang=en&amp;sid=1</web_url>"
            f"<author_list>{authors}</author_list>"
            "</article>"
        )


def issue(
    articles: list[A],
    volume: str = "1",
    number: str = "1",
    issn: str = "1234-5679",
    host: str = "tj.example.ac.ir",
    title: str = "Test Journal",
    year: int = 2025,
) -> bytes:
    """Return the bytes of an issue file holding ``articles``."""
    body = "".join(a.xml(host) for a in articles)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<journal>'
        f"<title>{escape(title)}</title><title_fa>مجله آزمایشی</title_fa>"
        f"<web_url>https://{host}</web_url><journal_id_issn>{issn}</journal_id_issn>"
        "<language>fa</language>"
        f"<pubdate><type>gregorian</type><year>{year}</year><month>3</month><day>1</day></pubdate>"
        f"<volume>{volume}</volume><number>{number}</number><publish_type>online</publish_type>"
        f"<articleset>{body}</articleset></journal>"
    ).encode("utf-8")


def write_issue(path, articles: list[A], **kwargs) -> str:
    """Write an issue file and return its path as a string."""
    path.write_bytes(issue(articles, **kwargs))
    return str(path)
