"""Bad and odd issue files for the ingest reliability tests, and watchers for file and network access."""
from __future__ import annotations

import codecs
import errno
import gzip
import os
import socket
import threading
import time
import typing as t
from pathlib import Path

from tests.helpers.issues import A, issue

# A Persian title without U+06CC, which windows-1256 cannot encode.
TITLE_FA = "مقاله فارسي"
GOOD = issue([A("E-1", title_fa=TITLE_FA)])
DECLARATION = b'<?xml version="1.0" encoding="utf-8"?>\n'
# tests/issues.py writes the journal's Persian title with U+06CC too: use the Arabic yeh.
BODY = GOOD[len(DECLARATION):].decode("utf-8").replace("\u06cc", "\u064a")


def declared(encoding: str, text: str = BODY) -> str:
    """The issue text with an XML declaration naming ``encoding``."""
    return f'<?xml version="1.0" encoding="{encoding}"?>\n{text}'


def with_title(raw: bytes) -> bytes:
    """The good issue with ``raw`` bytes as the journal title."""
    return GOOD.replace(b"<title>Test Journal</title>", b"<title>" + raw + b"</title>")


def with_doctype(doctype: str, title: str = "&x;") -> bytes:
    """The good issue with a DOCTYPE before the root and ``title`` as the journal title."""
    text = BODY.replace("<title>Test Journal</title>", f"<title>{title}</title>")
    return (doctype + "\n" + text).encode("utf-8")


def nested(depth: int, tag: str = "x") -> bytes:
    """``depth`` nested elements around one word."""
    return f"<{tag}>".encode() * depth + b"deep" + f"</{tag}>".encode() * depth


PUBMED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<ArticleSet><Article><Journal>'
    b"<PublisherName>X</PublisherName><JournalTitle>J</JournalTitle></Journal>"
    b"<ArticleTitle>T</ArticleTitle></Article></ArticleSet>"
)

#: name -> (file content, pattern the one-line reason must match)
REFUSED: dict[str, tuple[bytes, str]] = {
    "pubmed-articleset": (PUBMED, r"ArticleSet exports are not supported"),
    "rss-root": (b'<?xml version="1.0"?><rss version="2.0"><channel/></rss>', r"root element is <rss>"),
    "namespaced-root": (GOOD.replace(b"<journal>", b'<journal xmlns="urn:x">'), r"root element"),
    "flattened-layout": (GOOD.replace(b"<articleset>", b"").replace(b"</articleset>", b""), r"flattened"),
    "html-page": (b"<!DOCTYPE html><html><body>Not found</body></html>", r"DOCTYPE"),
    "png-bytes": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), r"not well-formed|empty"),
    "gzipped-xml": (gzip.compress(GOOD, mtime=0), r"not well-formed"),
    "bom-only": (codecs.BOM_UTF8 + b"\r\n", r"empty file"),
    "two-roots": (GOOD + b"<journal/>", r"not well-formed"),
    # Encodings: undeclared, wrong, unknown, broken.
    "cp1256-undeclared": (BODY.encode("cp1256"), r"Invalid bytes in character encoding"),
    "utf8-declared-latin1": (declared("iso-8859-1").encode(), r"declaration says encoding 'iso-8859-1'"),
    "utf8-declared-cp1256": (declared("windows-1256").encode(), r"declaration says encoding"),
    "utf8-declared-utf16": (declared("utf-16").encode(), r"not well-formed"),
    "unknown-encoding": (declared("x-klingon").encode(), r"Unsupported encoding"),
    "ebcdic": (declared("IBM037", BODY.replace(TITLE_FA, "x").replace("مجله آزمايشي", "y")).encode("cp037"),
               r"EBCDIC|encoding"),
    "utf16-odd-length": (declared("utf-16").encode("utf-16")[:-1], r"not well-formed"),
    "invalid-utf8": (with_title(b"Bad \xff\xfe bytes"), r"Invalid bytes"),
    "overlong-utf8": (with_title(b"Bad \xc0\xaf bytes"), r"Invalid bytes"),
    "utf8-surrogate": (with_title(b"Bad \xed\xa0\x80 bytes"), r"Invalid bytes"),
    "truncated-utf8": (with_title(b"Bad \xd8"), r"Invalid bytes|not well-formed"),
    # Characters XML 1.0 forbids, raw or as references.
    "raw-nul": (with_title(b"a\x00b"), r"not well-formed"),
    "raw-soh": (with_title(b"a\x01b"), r"invalid Char value 1"),
    "raw-vt": (with_title(b"a\x0bb"), r"invalid Char value 11"),
    "raw-esc": (with_title(b"a\x1bb"), r"invalid Char value 27"),
    "ref-soh": (with_title(b"a&#1;b"), r"invalid xmlChar value 1"),
    "ref-nul": (with_title(b"a&#0;b"), r"invalid xmlChar value 0"),
    "ref-esc-hex": (with_title(b"a&#x1B;b"), r"invalid xmlChar value 27"),
    "ref-fffe": (with_title(b"a&#xFFFE;b"), r"invalid xmlChar value 65534"),
    "ref-surrogate": (with_title(b"a&#xD800;b"), r"invalid xmlChar value"),
    "ref-beyond-unicode": (with_title(b"a&#x110000;b"), r"not well-formed"),
    # DOCTYPEs of every kind, and in encodings a byte-level sniffer could miss.
    "doctype-internal-entity": (with_doctype('<!DOCTYPE journal [<!ENTITY x "expanded">]>'), r"DOCTYPE"),
    "doctype-external-entity": (with_doctype('<!DOCTYPE journal [<!ENTITY x SYSTEM "file:///etc/passwd">]>'),
                                r"DOCTYPE"),
    "doctype-parameter-entity": (with_doctype('<!DOCTYPE journal [<!ENTITY % p "<!ENTITY x \'y\'>"> %p;]>'),
                                 r"DOCTYPE"),
    "doctype-external-dtd": (with_doctype('<!DOCTYPE journal SYSTEM "journal.dtd">', "T"), r"DOCTYPE"),
    "doctype-public": (with_doctype('<!DOCTYPE journal PUBLIC "-//X//DTD J//EN" "j.dtd">', "T"), r"DOCTYPE"),
    "doctype-after-comment": (with_doctype('<!-- c --><?pi x?><!DOCTYPE journal [<!ENTITY x "y">]>'),
                              r"DOCTYPE"),
    "doctype-utf16": (declared("utf-16", '<!DOCTYPE journal [<!ENTITY x "y">]>\n' + BODY).encode("utf-16"),
                      r"DOCTYPE"),
    "doctype-utf32-no-bom": (declared("utf-32", '<!DOCTYPE journal [<!ENTITY x "y">]>\n' + BODY)
                             .encode("utf-32-be"), r"DOCTYPE"),
    "doctype-utf7": (b'<?xml version="1.0" encoding="UTF-7"?>'
                     + '\n<!DOCTYPE journal [<!ENTITY x "y">]><journal/>'.encode("utf-7"), r"DOCTYPE"),
    "doctype-quadratic-blowup": (with_doctype(f'<!DOCTYPE journal [<!ENTITY x "{"a" * 50_000}">]>',
                                              "&x;" * 20_000), r"DOCTYPE"),
    # Structure.
    "nesting-10k": (with_title(nested(10_000)), r"Excessive depth"),
    "nesting-1m": (with_title(nested(1_000_000)), r"Excessive depth"),
    "no-articles": (issue([]), r"no articles"),
    "no-articleset": (GOOD[:GOOD.index(b"<articleset>")] + b"</journal>", r"no articles"),
    "duplicate-articles": (issue([A("D-1"), A("D-2"), A("D-1")]), r"article 3: duplicate article key 'D-1'"),
    "no-volume-or-number": (issue([A("V-1")], volume="", number=""), r"neither a volume nor a number"),
}

#: name -> (file content, title the journal or article must have once ingested)
ACCEPTED: dict[str, tuple[bytes, str]] = {
    "cp1256-declared": (declared("windows-1256").encode("cp1256"), TITLE_FA),
    "utf16-bom": (declared("utf-16").encode("utf-16"), TITLE_FA),
    "utf16le-no-bom": (declared("utf-16").encode("utf-16-le"), TITLE_FA),
    "utf16be-bom": (codecs.BOM_UTF16_BE + declared("utf-16").encode("utf-16-be"), TITLE_FA),
    "utf32-bom": (declared("utf-32").encode("utf-32"), TITLE_FA),
    "no-declaration": (BODY.encode("utf-8"), TITLE_FA),
    # XML 1.0 allows C1 controls, DEL and astral characters: they must still be served valid.
    "c1-controls-del-astral": (issue([A("E-1", title="C1 \u0085 \u009f DEL \x7f astral \U0001f600 end",
                                        title_fa=TITLE_FA)]), TITLE_FA),
    "nesting-200": (with_title(nested(200)), TITLE_FA),
    "html-abstract-nesting-5000": (issue([A("E-1", title_fa=TITLE_FA, abstract="<p>" + "<b>" * 5000 + "x")]),
                                   TITLE_FA),
    "empty-optional-fields": (issue([A("E-1", title_fa=TITLE_FA, abstract="", keywords="", doi="",
                                       start_page="", end_page="", authors=[])]), TITLE_FA),
}


class _Watcher:
    """A background thread that runs ``_run`` until :meth:`close`."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        self._thread.join(timeout=5)


class Listener(_Watcher):
    """A TCP listener on 127.0.0.1 that counts every connection it receives."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        super().__init__()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        """Stop listening."""
        super().close()
        self.server.close()


class FifoWatch(_Watcher):
    """A named pipe that notices any process opening it for reading.

    Opening a FIFO for reading blocks until a writer comes, so a parser that tried to read it
    would still be waiting when this thread next polls with a non-blocking writer open.
    """

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self.opened = 0
        super().__init__()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as error:
                if error.errno != errno.ENXIO:  # ENXIO: nobody has it open for reading
                    raise
                time.sleep(0.005)
                continue
            self.opened += 1
            try:
                os.write(fd, b"FIFO-MARKER")
            finally:
                os.close(fd)


def break_renderer(monkeypatch: t.Any, on_article: int = 3) -> t.Callable:
    """Make ingest's renderer raise ``RuntimeError("renderer bug")`` on its ``on_article``-th
    article (a bug halfway through a file, prepared in process); return the real renderer."""
    from oaiserver.ingest import prepare

    real, calls = prepare.render_article, []

    def flaky(article: t.Any, settings: t.Any) -> t.Any:
        calls.append(article.key)
        if len(calls) == on_article:
            raise RuntimeError("renderer bug")
        return real(article, settings)

    monkeypatch.setattr(prepare, "render_article", flaky)
    return real


def hostile_files(url: str, fifo: Path, marker: Path) -> dict[str, bytes]:
    """Files whose markup points at ``url``, the watched FIFO or a marker file."""
    inner = BODY.replace(TITLE_FA, "x").replace("مجله آزمايشي", "y")
    entity = f'<!DOCTYPE journal [<!ENTITY x SYSTEM "file://{fifo}">]>'
    dtd = f'<!DOCTYPE journal SYSTEM "{url}/dtd" [<!ENTITY % p SYSTEM "{url}/pe"> %p;]>'
    links = (f'<!DOCTYPE html SYSTEM "{url}/h" [<!ENTITY z SYSTEM "file://{marker}">]><p>&z;</p>'
             f'<img src="{url}/img"><iframe src="{url}/if"></iframe><script src="{url}/js"></script>'
             f'<link rel="stylesheet" href="{url}/css"><object data="file://{fifo}"></object>')
    xinclude = (f'<title xmlns:xi="http://www.w3.org/2001/XInclude">T<xi:include href="{fifo}" parse="text"/>'
                f'<xi:include href="{url}/xi"/></title>')
    return {
        "entity-fifo-url": with_doctype(entity),
        "entity-fifo-path": with_doctype(f'<!DOCTYPE journal [<!ENTITY x SYSTEM "{fifo}">]>'),
        "entity-marker": with_doctype(f'<!DOCTYPE journal [<!ENTITY x SYSTEM "file://{marker}">]>'),
        "entity-http": with_doctype(f'<!DOCTYPE journal [<!ENTITY x SYSTEM "{url}/e">]>'),
        "external-dtd-and-parameter-entity": with_doctype(dtd),
        "public-dtd": with_doctype(f'<!DOCTYPE journal PUBLIC "-//X//DTD J//EN" "{url}/p">', "T"),
        "utf16-entity": declared("utf-16", entity + inner.replace("<title>Test", "<title>&x;")).encode("utf-16"),
        "utf32-no-bom-dtd": declared("utf-32", dtd + inner).encode("utf-32-le"),
        "utf7-entity": b'<?xml version="1.0" encoding="UTF-7"?>' + ("\n" + entity + inner).encode("utf-7"),
        "xinclude": GOOD.replace(b"<title>Test Journal</title>", xinclude.encode()),
        "schema-location": GOOD.replace(b"<journal>", (
            '<journal xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:noNamespaceSchemaLocation="{url}/xsd">').encode()),
        "stylesheet-pi": GOOD.replace(b"<journal>", f'<?xml-stylesheet href="{url}/xsl"?><journal>'.encode()),
        "abstract-links": issue([A("N-1", abstract=links, doi=f"{url}/doi")]).replace(
            b"<web_url>https://tj", f"<web_url>{url}/web?x=".encode()),
    }
