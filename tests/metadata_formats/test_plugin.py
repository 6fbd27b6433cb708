"""A metadata format is a plug-in: a module with FORMAT, registered in FORMATS, and nothing else.

A throwaway format (tiny_format.py: one ``tiny:item`` in its own namespace) is registered by
a fixture, as one line in ``metadata_formats.REGISTRATION`` registers a real one. Records
ingested before it existed get it from `oaiserver reindex` (the documented step), and every
part that names formats (OAI verbs, CLI, browser view, checker, stats, the parametrized
format tests) picks it up without an edit.
"""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest
from lxml import etree
from lxml import html as lxml_html

import metadata_formats
from metadata_formats import FORMATS, CrosswalkSettings, MetadataFormat, fingerprint
from oaiserver.checker import Options, run_checks
from oaiserver.web import stylesheet as oai_xsl
from tests.helpers.crosswalk_helpers import EXTRA_SCHEMAS, oai_schema
from tests.helpers.oai import GOOD_SAMPLES, NS, REPO, SCHEMAS, check_response, error_codes, harvest
from tests.helpers.servers import wsgi_thread
from tests.metadata_formats import tiny_format

TINY = tiny_format.FORMAT
NS_TINY = {**NS, "tiny": tiny_format.NAMESPACE}
#: The tests that loop over FORMATS (parametrized by prefix), run again with tiny registered.
PARAMETRIZED = ["tests/protocol/test_list_identifiers.py", "tests/protocol/test_list_records.py",
                "tests/protocol/test_get_record.py"]


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> MetadataFormat:
    """Register the tiny format (and its schema, for the response checks) for one test."""
    monkeypatch.setitem(FORMATS, TINY.prefix, TINY)
    monkeypatch.setitem(EXTRA_SCHEMAS, tiny_format.NAMESPACE, tiny_format.xsd_path())
    return TINY


@pytest.fixture
def oai(client):
    """GET /oai, checked against the OAI schemas plus tiny's (whenever it is registered)."""

    def call(method: str = "GET", **params: str) -> etree._Element:
        assert method == "GET"
        return check_response(client.get("/oai", query_string=params), oai_schema())

    return call


def metadata_of(tree: etree._Element) -> dict[str, bytes]:
    """Each record's metadata element, canonical, by identifier."""
    return {r.findtext("o:header/o:identifier", namespaces=NS): etree.tostring(r.find("o:metadata/*", NS), method="c14n")
            for r in tree.iterfind(".//o:record", NS) if r.find("o:metadata", NS) is not None}


def datestamps_of(oai, prefix: str) -> dict[str, str]:
    """Every header's datestamp by identifier, from a full ListIdentifiers harvest."""
    _, pages = harvest(oai, "ListIdentifiers", metadataPrefix=prefix)
    return {h.findtext("o:identifier", namespaces=NS): h.findtext("o:datestamp", namespaces=NS)
            for page in pages for h in page.iterfind(".//o:header", NS)}


def prefixes_listed(tree: etree._Element) -> list[str]:
    """The metadataPrefixes of a ListMetadataFormats response, in order."""
    return [e.text for e in tree.iterfind(".//o:metadataPrefix", NS)]


# --- the registry and the fingerprint -------------------------------------------------------


def test_registry_is_built_from_the_registration_list():
    """FORMATS holds each registered module's FORMAT, in order, with version and label."""
    assert list(FORMATS) == [name.rsplit(".", 1)[-1] for name in metadata_formats.REGISTRATION]
    for fmt in FORMATS.values():
        assert fmt.version and fmt.label and fmt.schema.startswith("http") and fmt.namespace
    assert FORMATS["oai_dc"].label.startswith("Dublin Core") and FORMATS["jats"].label.startswith("JATS 1.3")


def test_a_prefix_registered_twice_or_malformed_is_refused():
    """Two modules with one prefix, or a prefix OAI-PMH does not allow, fail at registration."""
    with pytest.raises(ValueError, match="registered twice"):
        metadata_formats._registry(["metadata_formats.oai_dc", "metadata_formats.oai_dc"])
    with pytest.raises(ValueError, match="does not allow"):
        dataclasses.replace(TINY, prefix="ti ny")


def test_fingerprint_covers_every_format_and_the_settings(tiny):
    """Adding, removing or re-versioning a format, or changing a setting, changes the fingerprint."""
    settings = CrosswalkSettings()
    with_tiny = fingerprint(settings)
    without = fingerprint(settings, {p: f for p, f in FORMATS.items() if p != "tiny"})
    bumped = fingerprint(settings, {**FORMATS, "tiny": dataclasses.replace(TINY, version="2")})
    other = fingerprint(CrosswalkSettings(publisher="Another publisher"))
    assert len({with_tiny, without, bumped, other}) == 4
    # The registration order is no part of any rendition.
    assert fingerprint(settings, dict(reversed(FORMATS.items()))) == with_tiny


# --- records ingested before the format existed: the documented step -------------------------


def test_reindex_gives_old_records_the_new_format(app, ingest, runner, oai, clock, tiny, monkeypatch):
    """`oaiserver reindex` renders every record in a format registered after it was ingested.

    Before it, the format is listed but holds no record; after it, GetRecord, ListRecords and
    ListMetadataFormats with an identifier serve it, and the records' datestamps moved
    (their content grew) while their oai_dc and JATS stayed byte for byte the same.
    """
    monkeypatch.delitem(FORMATS, "tiny")
    ingest(*GOOD_SAMPLES)
    before = datestamps_of(oai, "oai_dc")
    old = {prefix: metadata_of(harvest(oai, metadataPrefix=prefix)[1][0]) for prefix in ("oai_dc", "jats")}
    monkeypatch.setitem(FORMATS, "tiny", TINY)
    clock.advance(60)

    assert prefixes_listed(oai(verb="ListMetadataFormats")) == list(FORMATS)
    assert error_codes(oai(verb="ListRecords", metadataPrefix="tiny")) == ["noRecordsMatch"]
    assert json.loads(runner.invoke(args=["stats", "--json"]).output)["formats"]["tiny"] == 0
    assert "no record is in tiny yet" in runner.invoke(args=["stats"]).output

    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"reindexed: added 0, updated {len(before)}, unchanged 0, deleted 0"

    ids, pages = harvest(oai, metadataPrefix="tiny")
    assert sorted(ids) == sorted(before)
    for page in pages:
        for item in page.iterfind(".//o:metadata/tiny:item", NS_TINY):
            assert item.findtext("tiny:key", namespaces=NS_TINY)
    one = ids[0]
    record = oai(verb="GetRecord", identifier=one, metadataPrefix="tiny")
    assert record.find(".//o:metadata/tiny:item", NS_TINY) is not None
    assert "tiny" in prefixes_listed(oai(verb="ListMetadataFormats", identifier=one))
    after = datestamps_of(oai, "tiny")
    assert all(after[i] > before[i] for i in before)
    for prefix in ("oai_dc", "jats"):
        assert metadata_of(harvest(oai, metadataPrefix=prefix)[1][0]) == old[prefix]
    assert json.loads(runner.invoke(args=["stats", "--json"]).output)["formats"]["tiny"] == len(before)
    assert "no record is in" not in runner.invoke(args=["stats"]).output

    # Nothing changed since: a second reindex moves no datestamp.
    assert runner.invoke(args=["reindex"]).output.strip().endswith(f"unchanged {len(before)}, deleted 0")


def test_reingest_gives_old_records_the_new_format(app, ingest, oai, tiny, monkeypatch):
    """Ingesting an issue again renders its records in a newly registered format (not "unchanged")."""
    monkeypatch.delitem(FORMATS, "tiny")
    sample = GOOD_SAMPLES[0]
    ingest(sample)
    monkeypatch.setitem(FORMATS, "tiny", TINY)
    line = ingest(sample).output.splitlines()[0]
    assert "added 0, updated " in line and "unchanged 0" in line, line
    assert harvest(oai, metadataPrefix="tiny")[0]


def test_a_new_version_or_a_removed_format_reaches_every_record(app, ingest, runner, oai, clock, tiny, monkeypatch):
    """A new version with new output re-renders every record; a removed format leaves them all."""
    ingest(*GOOD_SAMPLES)
    live = len(harvest(oai, metadataPrefix="tiny")[0])

    def shouting(article, settings):
        return TINY.render(article, settings).replace("<tiny:title>", "<tiny:title>NEW ")

    monkeypatch.setitem(FORMATS, "tiny", dataclasses.replace(TINY, version="2", render=shouting))
    clock.advance(60)
    assert runner.invoke(args=["reindex"]).output.strip().endswith(f"updated {live}, unchanged 0, deleted 0")
    titles = oai(verb="ListRecords", metadataPrefix="tiny").iterfind(".//tiny:title", NS_TINY)
    assert all(title.text.startswith("NEW ") for title in titles)

    monkeypatch.delitem(FORMATS, "tiny")
    assert runner.invoke(args=["reindex"]).output.strip().endswith(f"updated {live}, unchanged 0, deleted 0")
    assert "tiny" not in json.loads(runner.invoke(args=["stats", "--json"]).output)["formats"]
    one = harvest(oai, metadataPrefix="oai_dc")[0][0]
    assert "tiny" not in prefixes_listed(oai(verb="ListMetadataFormats", identifier=one))


# --- the CLI, the browser view and the checker read FORMATS ---------------------------------


def test_show_and_its_help_offer_the_new_format(app, ingest, runner, tiny):
    """`oaiserver show --format tiny` prints the record in it; --help and errors name it."""
    ingest(*GOOD_SAMPLES)
    identifier = f"oai:{app.config['OAI_REPOSITORY_IDENTIFIER']}:2008-8701/A-10-25-972"
    shown = runner.invoke(args=["show", identifier, "--format", "tiny"])
    assert shown.exit_code == 0, shown.output
    assert etree.fromstring(shown.output.encode()).find(".//o:metadata/tiny:item", NS_TINY) is not None
    # click wraps the help text: compare it with its whitespace collapsed.
    offered = "|".join(FORMATS)
    assert offered.endswith("|tiny") and f"[{offered}]" in "".join(runner.invoke(args=["show", "--help"]).output.split())
    wrong = runner.invoke(args=["show", identifier, "--format", "nope"])
    assert wrong.exit_code == 2 and "'tiny'" in wrong.output


def test_browser_view_links_the_new_format(app, client, ingest, oai, tiny):
    """/oai.xsl links every registered format: the menu, each record, each set, the formats table."""
    ingest(*GOOD_SAMPLES)
    body = client.get("/oai.xsl").data
    assert body == oai_xsl.render(FORMATS) and b"metadataPrefix=tiny" in body
    transform = etree.XSLT(etree.fromstring(body))

    def page(tree: etree._Element) -> lxml_html.HtmlElement:
        return lxml_html.fromstring(str(transform(tree)))

    first = oai(verb="ListRecords", metadataPrefix="oai_dc")
    menu = {a.text_content(): a.get("href") for a in page(first).find(".//nav").iter("a")}
    assert menu["Records (Tiny test format)"] == "?verb=ListRecords&metadataPrefix=tiny"
    assert page(first).xpath("//div[@class='formats']/a[starts-with(@href, '?verb=GetRecord&metadataPrefix=tiny&')]")
    sets = page(oai(verb="ListSets"))
    assert sets.xpath("//td[@class='actions']/a[starts-with(@href, '?verb=ListRecords&metadataPrefix=tiny&set=')]")
    formats = page(oai(verb="ListMetadataFormats"))
    assert "Tiny test format" in [" ".join(td.text_content().split()) for td in formats.iter("td")]
    # A resumed list names no metadataPrefix: the records' namespace tells the page it is tiny.
    token = oai(verb="ListRecords", metadataPrefix="tiny").findtext(".//o:resumptionToken", namespaces=NS)
    resumed = page(oai(verb="ListRecords", resumptionToken=token))
    assert resumed.xpath("//a[@class='set' and starts-with(@href, '?verb=ListRecords&metadataPrefix=tiny&')]")


@pytest.mark.integration
def test_checker_harvests_the_new_format(app, ingest, tiny):
    """The checker harvests every listed format; tiny (no schema it knows) is skipped, not failed."""
    if not (SCHEMAS / "oai-bundle.xsd").is_file():
        pytest.skip(f"schemas not found at {SCHEMAS}: set OAISERVER_SCHEMAS")
    ingest(*GOOD_SAMPLES)
    app.config["OAI_BASE_URL"] = ""  # answer as the URL asked, as a deployment would
    with wsgi_thread(app) as base:
        report = run_checks(Options(base, timeout=20, schemas=SCHEMAS, max_sets=2))
    results = {r.name: r for r in report.results}
    assert not [r for r in report.results if r.status == "FAIL"], [r.as_dict() for r in report.results
                                                                   if r.status == "FAIL"]
    assert results["list-metadata-formats.response"].reason.split(", ") == list(FORMATS)
    assert results["get-record.tiny"].status == "PASS"
    assert {name.split(".")[1] for name in results if name.startswith("list-records.")} == set(FORMATS)
    coverage = results["schemas.coverage"]
    assert coverage.status == "SKIP" and tiny_format.NAMESPACE in coverage.reason
    assert results["responses.schema-valid"].status == "PASS"


# --- the tests that loop over formats --------------------------------------------------------


@pytest.mark.integration
def test_parametrized_format_tests_pick_it_up(tmp_path):
    """With tiny registered for a whole run (tiny_plugin), the format tests run and pass for it."""
    report = tmp_path / "report.xml"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.metadata_formats.tiny_plugin", "-k", "tiny",
         f"--junit-xml={report}", *PARAMETRIZED],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    cases = etree.parse(str(report)).getroot().iter("testcase")
    ran = {f"{c.get('classname').rsplit('.', 1)[-1]}::{c.get('name')}" for c in cases if not len(c)}
    assert len(ran) >= 8 and all("tiny" in name for name in ran), sorted(ran)
    assert {name.split("::")[0] for name in ran} == {path.rsplit("/", 1)[-1][:-3] for path in PARAMETRIZED}
