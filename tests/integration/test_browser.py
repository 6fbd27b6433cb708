"""The browser view: OAI responses point at the server's XSLT, and a real Chromium renders them.

The first tests need no browser: the processing instruction, the /oai.xsl route, and libxslt
(the engine Chromium uses too) applied to every verb's response. The rest start gunicorn, open
pages in Debian's headless ``chromium`` (install it with tests/browser/install.sh), check the
rendered DOM, and keep the screenshots in test-artifacts/.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import typing as t
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from lxml import etree
from lxml import html as lxml_html

from metadata_formats import FORMATS
from oaiserver.web import stylesheet as oai_xsl
from tests.helpers.oai import GOOD_SAMPLES, NS, REPO, REPOSITORY_IDENTIFIER

ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_TIMEOUT = 90  # seconds per chromium run; a page normally takes one or two
# Chromium's announced plan: XSLT off by default from M155 (blink-dev "Intent to Deprecate and
# Remove: XSLT", 2025). From then on a page without the transformation is a skip, not a failure.
XSLT_REMOVED_IN = 155
PERSIAN_SAMPLE = f"oai:{REPOSITORY_IDENTIFIER}:2008-8701/A-10-25-972"

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed: run tests/browser/install.sh"
)


def transform(xml: bytes) -> lxml_html.HtmlElement:
    """Apply oai.xsl (for the registered formats) with lxml's libxslt; parse the HTML it writes."""
    stylesheet = etree.XSLT(etree.fromstring(oai_xsl.render(FORMATS)))
    result = stylesheet(etree.fromstring(xml))
    assert not [e for e in stylesheet.error_log if e.level_name == "ERROR"], stylesheet.error_log
    return lxml_html.fromstring(str(result))


def text(element: t.Any) -> str:
    """The element's text with whitespace collapsed."""
    return " ".join(element.text_content().split())


# --- without a browser ------------------------------------------------------------------------


def test_every_response_names_the_stylesheet(client, ingest):
    """Success and error responses alike start with the xml-stylesheet instruction."""
    ingest(*GOOD_SAMPLES)
    for query in ("verb=Identify", "verb=ListRecords&metadataPrefix=oai_dc", "verb=Bogus"):
        body = client.get(f"/oai?{query}").data
        assert body.split(b"\n")[1] == b'<?xml-stylesheet type="text/xsl" href="/oai.xsl"?>', query


def test_stylesheet_below_script_root_or_disabled(app, client):
    """The href follows the app's mount point; an empty OAI_STYLESHEET leaves the instruction out."""
    body = client.get("/oai?verb=Identify", base_url="http://oai.test/journal/").data
    assert b'<?xml-stylesheet type="text/xsl" href="/journal/oai.xsl"?>' in body
    app.config["OAI_STYLESHEET"] = ""
    assert b"xml-stylesheet" not in client.get("/oai?verb=Identify").data


def test_stylesheet_route(client):
    """/oai.xsl is the template written for the registered formats, as text/xsl, cacheable and
    revalidated by ETag."""
    response = client.get("/oai.xsl")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xsl; charset=utf-8"
    assert "max-age=" in response.headers["Cache-Control"]
    assert response.data == oai_xsl.render(FORMATS)
    again = client.get("/oai.xsl", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "query",
    [
        "verb=Identify",
        "verb=ListMetadataFormats",
        f"verb=ListMetadataFormats&identifier={PERSIAN_SAMPLE}",
        "verb=ListSets",
        "verb=ListIdentifiers&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=oai_dc",
        "verb=ListRecords&metadataPrefix=jats",
        f"verb=GetRecord&metadataPrefix=jats&identifier={PERSIAN_SAMPLE}",
        "verb=ListRecords&metadataPrefix=oai_dc&from=2100-01-01",
        "verb=GetRecord&metadataPrefix=nope&identifier=oai:x:y",
    ],
)
def test_xslt_renders_every_verb(client, ingest, query):
    """libxslt turns each kind of response into a page with a heading and no leftover XML."""
    ingest(*GOOD_SAMPLES)
    page = transform(client.get(f"/oai?{query}").data)
    assert text(page.find(".//h1"))
    assert page.find(".//nav") is not None
    assert not page.xpath("//*[contains(name(), ':')]"), "namespaced elements leaked into the page"


def test_withdrawn_record_and_token_links(client, ingest, runner):
    """A deleted record says so; the next-page link carries the token, percent-encoded if needed."""
    ingest(*GOOD_SAMPLES)
    assert runner.invoke(args=["withdraw", PERSIAN_SAMPLE]).exit_code == 0
    url = f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={PERSIAN_SAMPLE}"
    page = transform(client.get(url).data)
    assert "has been deleted" in text(page)
    first = client.get("/oai?verb=ListRecords&metadataPrefix=oai_dc").data
    token = etree.fromstring(first).findtext(".//o:resumptionToken", namespaces=NS)
    (href,) = transform(first).xpath("//a[@rel='next']/@href")
    assert href == f"?verb=ListRecords&resumptionToken={token}"


def test_hostile_values_stay_text():
    """Markup in a value is text, only http(s) becomes a link, and query values are encoded."""
    xml = f"""<OAI-PMH xmlns="{NS['o']}"><responseDate>2026-01-01T00:00:00Z</responseDate>
      <request verb="GetRecord" metadataPrefix="oai_dc">http://oai.test/oai</request>
      <GetRecord><record><header><identifier>oai:x.org:a&amp;b+c d#e</identifier>
      <datestamp>2026-01-01T00:00:00Z</datestamp></header><metadata>
      <oai_dc:dc xmlns:oai_dc="{NS['oai_dc']}" xmlns:dc="{NS['dc']}">
      <dc:title>&lt;script&gt;alert(1)&lt;/script&gt;</dc:title>
      <dc:identifier>javascript:alert(1)</dc:identifier>
      <dc:identifier>https://doi.org/10.1/x</dc:identifier>
      </oai_dc:dc></metadata></record></GetRecord></OAI-PMH>""".encode()
    page = transform(xml)
    assert page.xpath("//script") == []
    assert text(page.find(".//h2")) == "<script>alert(1)</script>"
    hrefs = page.xpath("//a/@href")
    assert not [h for h in hrefs if "javascript" in h]
    assert "https://doi.org/10.1/x" in hrefs
    assert "?verb=GetRecord&metadataPrefix=jats&identifier=oai:x.org:a%26b%2Bc%20d%23e" in hrefs


# --- in Chromium ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The sample repository (page size 2) served by a real gunicorn on 127.0.0.1."""
    from tests.helpers.harvest_server import populated_server

    server = populated_server(tmp_path_factory.mktemp("browser"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Open a URL in headless chromium: return its DOM after the XSLT ran; keep a screenshot."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    ARTIFACTS.mkdir(exist_ok=True)

    def open_page(url: str, name: str) -> lxml_html.HtmlElement:
        out, log = run_chromium(profile, "--enable-logging=stderr", "--dump-dom", url)
        dom = out.decode("utf-8")
        (ARTIFACTS / f"browser-{name}.html").write_text(dom, encoding="utf-8")
        if '<nav class="top">' not in dom:
            untransformed(log)
        shot = ARTIFACTS / f"browser-{name}.png"
        shot.unlink(missing_ok=True)
        run_chromium(profile, f"--screenshot={shot}", "--window-size=1200,1600", url)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", f"no screenshot for {url}"
        return lxml_html.fromstring(dom)

    return open_page


def untransformed(log: bytes) -> t.NoReturn:
    """Skip when this chromium has no XSLT any more; otherwise fail with the console's reasons."""
    version = chromium_major()
    if version >= XSLT_REMOVED_IN:
        pytest.skip(f"chromium {version} does not apply XSLT (removed upstream from M{XSLT_REMOVED_IN})")
    console = [line for line in log.decode(errors="replace").splitlines()
               if "CONSOLE" in line or "Content Security Policy" in line]
    pytest.fail("chromium did not apply oai.xsl:\n" + "\n".join(console[-10:]))


def chromium_major() -> int:
    """The major version of the installed chromium (0 if it cannot be told)."""
    out = subprocess.run([CHROMIUM, "--version"], capture_output=True, timeout=30).stdout.decode()
    match = re.search(r"(\d+)\.\d+\.\d+", out)
    return int(match.group(1)) if match else 0


def run_chromium(profile: Path, *args: str) -> tuple[bytes, bytes]:
    """Run headless chromium once with a bounded time; return its stdout and stderr."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--no-proxy-server", "--hide-scrollbars",
        "--force-device-scale-factor=1", "--lang=en-US", f"--user-data-dir={profile}", *args,
    ]
    # Its own session, so a hung browser is killed with all its helper processes.
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)
        pytest.fail(f"chromium did not finish in {BROWSER_TIMEOUT}s: {args}")
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out, err


def fetch(url: str) -> etree._Element:
    """The raw OAI response a harvester gets for ``url``."""
    with urllib.request.urlopen(url, timeout=10) as response:
        return etree.fromstring(response.read())


def assert_rendered(page: lxml_html.HtmlElement) -> None:
    """The browser applied the XSLT: an HTML page with our navigation, not an XML tree."""
    assert page.tag == "html" and page.find(".//nav") is not None, lxml_html.tostring(page)[:500]


@needs_chromium
@pytest.mark.integration
def test_identify_page(served, browser):
    """Identify shows the repository's name as the heading and its facts in a table."""
    raw = fetch(served.base + "?verb=Identify")
    page = browser(served.base + "?verb=Identify", "identify")
    assert_rendered(page)
    name = raw.findtext(".//o:repositoryName", namespaces=NS)
    assert text(page.find(".//h1")) == name
    facts = text(page.find(".//table"))
    assert "persistent" in facts and raw.findtext(".//o:earliestDatestamp", namespaces=NS) in facts
    assert page.xpath("//a[starts-with(@href, 'mailto:')]")


@needs_chromium
@pytest.mark.integration
def test_list_records_pages(served, browser):
    """Records show their titles (Persian right to left); the next-page link leads to page two."""
    url = served.base + "?verb=ListRecords&metadataPrefix=oai_dc"
    raw = fetch(url)
    page = browser(url, "listrecords")
    assert_rendered(page)
    titles = [text(h) for h in page.xpath("//article[contains(@class, 'record')]//h2")]
    expected = [r.findtext(".//dc:title", namespaces=NS) for r in raw.iterfind(".//o:record", NS)]
    assert titles and titles == [" ".join(t.split()) for t in expected if t]
    persian = page.xpath("//*[@lang='fa']")
    assert persian and all(p.get("dir") == "rtl" for p in persian)
    assert any("\u0600" <= ch <= "\u06ff" for p in persian for ch in text(p))
    (next_href,) = page.xpath("//a[@rel='next']/@href")
    assert "resumptionToken=" in next_href
    assert "Items 1–2 of" in text(page)

    second = browser(urllib.parse.urljoin(url, next_href), "listrecords-page2")
    assert_rendered(second)
    assert "Items 3–4 of" in text(second)
    assert titles[0] not in [text(h) for h in second.xpath("//article//h2")]


@needs_chromium
@pytest.mark.integration
def test_jats_record_page(served, browser):
    """A JATS record: article title, Persian translated title right to left, authors, DOI link."""
    url = served.base + f"?verb=GetRecord&metadataPrefix=jats&identifier={PERSIAN_SAMPLE}"
    raw = fetch(url)
    page = browser(url, "getrecord-jats")
    assert_rendered(page)
    title = raw.find(".//j:article-title", NS)
    heading = page.find(".//h2")
    assert text(heading) == " ".join(title.text.split())
    # The sample is a Persian article: its title is Persian, the English one a trans-title.
    assert title.xpath("string(ancestor-or-self::*[@xml:lang][1]/@xml:lang)") == "fa"
    assert heading.get("dir") == "rtl" and heading.get("lang") == "fa"
    trans = raw.findtext(".//j:title-group/j:trans-title-group/j:trans-title", namespaces=NS)
    (shown,) = [e for e in page.find_class("alt-title") if text(e) == " ".join(trans.split())]
    assert shown.get("dir") == "auto" and shown.get("lang") == "en"
    assert all(e.get("dir") == "rtl" for e in page.xpath("//*[@lang='fa']"))
    surname = raw.findtext(".//j:contrib//j:surname", namespaces=NS)
    assert surname in text(page.find_class("authors")[0])
    for doi in raw.iterfind(".//j:article-id[@pub-id-type='doi']", NS):
        assert page.xpath("//a[@href=$h]", h=f"https://doi.org/{doi.text}")
    assert page.xpath("//a[contains(@href, 'metadataPrefix=oai_dc') and contains(@href, 'GetRecord')]")


@needs_chromium
@pytest.mark.integration
def test_error_page(served, browser):
    """An error is named and explained in words, with links to the verbs that exist."""
    page = browser(served.base + "?verb=Bogus", "error")
    assert_rendered(page)
    error = page.find_class("error")[0]
    assert "badVerb" in text(error)
    assert "does not name one of the six OAI-PMH verbs" in text(error)
    assert "Bogus" in text(error)  # the server's own message is shown too
    assert page.xpath("//a[@href='?verb=Identify']")
