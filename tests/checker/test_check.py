"""`oaiserver check`: all PASS against our own server, and each fault of a broken server caught."""
from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from lxml import etree

from tests.helpers.broken_server import BrokenServer
from tests.helpers.oai import GOOD_SAMPLES, REPOSITORY_IDENTIFIER, SCHEMAS
from tests.helpers.issues import A, write_issue
from oaiserver.checker import Options, run_checks, schemas
from oaiserver.checker.command import check_command
from oaiserver.checker.probes import tamper
from oaiserver.checker.report import line
from oaiserver.checker.sampling import spread
from tests.helpers.servers import free_port, gunicorn, oaiserver_env, wsgi_thread

#: OAI-PMH.xsd with oai_dc and oai-identifier but no bundle: exercises the in-memory wrapper.
OAI_SCHEMAS = SCHEMAS / "oai"
WITHDRAWN = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/X-0"
LINE = re.compile(r"(PASS \S+|FAIL \S+( \S+)? — .+|SKIP \S+ — .+)")


@pytest.fixture
def bundle_dir():
    """The shared schemas folder with oai-bundle.xsd, or skip."""
    if not (SCHEMAS / "oai-bundle.xsd").is_file():
        pytest.skip(f"schemas not found at {SCHEMAS}: set OAISERVER_SCHEMAS")
    return SCHEMAS


@pytest.fixture
def oai_dir():
    """The folder with OAI-PMH.xsd and oai_dc.xsd (no bundle), or skip."""
    if not (OAI_SCHEMAS / "OAI-PMH.xsd").is_file():
        pytest.skip(f"schemas not found at {OAI_SCHEMAS}: set OAISERVER_SCHEMAS")
    return OAI_SCHEMAS


@pytest.fixture
def our_server(config, ingest, runner, tmp_path):
    """The samples, a five-article issue and a withdrawn record, served by a real gunicorn."""
    extra = write_issue(tmp_path / "extra.xml", [A(f"X-{i}") for i in range(5)], volume="2", number="5")
    ingest(*GOOD_SAMPLES, extra)
    assert runner.invoke(args=["withdraw", WITHDRAWN]).exit_code == 0
    with gunicorn(oaiserver_env(config, tmp_path / "instance")) as base:
        yield base


def check(*args: str):
    """Run the standalone command; return (exit code, parsed --json output)."""
    result = CliRunner().invoke(check_command, [*args, "--json", "--timeout", "20"])
    return result.exit_code, json.loads(result.stdout) if result.stdout.strip() else None


def statuses(document) -> dict[str, tuple[str, str]]:
    """Map check name -> (status, reason) from the --json output."""
    return {c["name"]: (c["status"], c["reason"]) for c in document["checks"]}


@pytest.mark.integration
def test_our_server_with_tombstones_passes(config, ingest, tmp_path, bundle_dir):
    """An article that changed type is listed, deleted, in its old type's set, its header naming the sets it is in now (decisions.md P16): every set's check passes."""
    path = tmp_path / "issue.xml"
    ingest(write_issue(path, [A(f"T-{i}") for i in range(4)]))
    ingest(write_issue(path, [A("T-0", content_type="Letter"), *(A(f"T-{i}") for i in range(1, 4))]))
    with gunicorn(oaiserver_env(config, tmp_path / "instance")) as base:
        report = run_checks(Options(base, timeout=20, schemas=bundle_dir, max_sets=100))
    failures = [line(r) for r in report.results if r.status == "FAIL"]
    assert not failures, "\n".join(failures)
    assert {r.name: r.status for r in report.results}["sets.type:original-article"] == "PASS"


@pytest.mark.integration
def test_our_server_passes(our_server, bundle_dir, runner):
    """Every check passes against gunicorn serving our repository (directly and via the app CLI)."""
    report = run_checks(Options(our_server, timeout=20, schemas=bundle_dir))
    failures = [line(r) for r in report.results if r.status == "FAIL"]
    assert not failures, "\n".join(failures)
    by_name = {r.name: r for r in report.results}
    for name in ("list-records.jats.cursor", "list-records.oai_dc.token-reuse", "list-sets.cursor",
                 "get-record.jats", "windows.day", "errors.tampered-token", "responses.schema-valid",
                 "schemas.coverage", "sets.journal", "identify.deleted-record"):
        assert by_name[name].status == "PASS", line(by_name[name])
    skipped = [r for r in report.results if r.status == "SKIP"]
    assert all(r.reason for r in skipped)

    result = runner.invoke(args=["check", our_server, "--json", "--schemas", str(bundle_dir)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["ok"] is True and document["summary"]["failed"] == 0
    assert document["summary"]["checks"] == len(document["checks"]) == len(report.results)


def test_conformant_broken_server_passes(oai_dir):
    """With no fault switched on, the independent test repository passes: no false alarms."""
    with wsgi_thread(BrokenServer()) as base:
        code, document = check(base, "--schemas", str(oai_dir))
    failed = [c for c in document["checks"] if c["status"] == "FAIL"]
    assert code == 0 and not failed, failed
    assert document["summary"]["passed"] > 60


FAULTS = {
    "wrong_cursor": {"list-records.oai_dc.cursor": "cursor 0 on page 2, expected 2",
                     "list-identifiers.oai_dc.cursor": "cursor 0 on page 2, expected 2"},
    "invalid_xml": {"responses.well-formed": "not well-formed XML",
                    "list-records.oai_dc.harvest": "not well-formed XML"},
    "error_500": {"errors.illegal-argument": "HTTP 500", "errors.repeated-argument": "HTTP 500",
                  "errors.bad-date": "HTTP 500", "errors.bad-verb": "HTTP 500",
                  "responses.no-5xx": "HTTP 500"},
    "extra_empty_page": {"list-records.oai_dc.empty-page": "extra empty page: page 4 has no items",
                         "list-identifiers.oai_dc.empty-page": "extra empty page"},
    "token_expires_at_once": {"list-records.oai_dc.token-reuse": "failed when sent again",
                              "list-identifiers.oai_dc.token-reuse": "badResumptionToken",
                              "list-records.oai_dc.expiration": "is not after the responseDate"},
    "schema_invalid_record": {"responses.schema-valid": "abstract"},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_is_caught(fault, oai_dir):
    """Each fault makes the expected checks FAIL, with a reason, and the exit status 1."""
    with wsgi_thread(BrokenServer(fault)) as base:
        code, document = check(base, "--schemas", str(oai_dir))
    assert code == 1
    results = statuses(document)
    for name, reason in FAULTS[fault].items():
        status, got = results[name]
        assert status == "FAIL" and reason in got, (name, status, got)
    assert document["ok"] is False


def test_text_output(oai_dir):
    """One line per check (FAIL lines carry URL and reason), then the summary line."""
    with wsgi_thread(BrokenServer("wrong_cursor")) as base:
        result = CliRunner().invoke(check_command, [base, "--schemas", str(oai_dir), "--max-sets", "1"])
    lines = result.stdout.strip().splitlines()
    assert result.exit_code == 1
    assert all(LINE.fullmatch(text) for text in lines[:-1]), lines
    cursor = next(text for text in lines if text.startswith("FAIL list-records.oai_dc.cursor "))
    assert re.fullmatch(rf"FAIL list-records\.oai_dc\.cursor {re.escape(base)}\?verb=ListRecords&"
                        r"resumptionToken=\S+ — cursor 0 on page 2, expected 2", cursor)
    summary = re.fullmatch(r"(\d+) checks: (\d+) passed, (\d+) failed, (\d+) skipped", lines[-1])
    assert summary and int(summary[1]) == len(lines) - 1 and summary[3] == "2"


def test_without_schemas_validation_is_skipped():
    """No --schemas: responses.schema-valid is a SKIP with the reason, not a PASS."""
    with wsgi_thread(BrokenServer("schema_invalid_record")) as base:
        code, document = check(base, "--sample", "1", "--max-sets", "0")
        report = run_checks(Options(base, timeout=20, sample=1, max_sets=0))  # the library: no cache, offline
    assert code == 0
    status, reason = statuses(document)["responses.schema-valid"]
    # No folder, and the official schemas cannot be fetched (the tests' mirror is a closed port).
    assert status == "SKIP" and reason.startswith("schema validation skipped: no --schemas folder")
    assert next(r for r in report.results if r.name == "responses.schema-valid").reason == "no --schemas folder given"


def test_max_pages_bounds_the_harvest():
    """--max-pages 1 stops every list after its first page and says so."""
    with wsgi_thread(BrokenServer()) as base:
        code, document = check(base, "--max-pages", "1")
    status, reason = statuses(document)["list-records.oai_dc.harvest"]
    assert (status, reason) == ("SKIP", "stopped after 1 pages (--max-pages)")
    assert code == 0


def test_unreachable_and_usage_errors_exit_2(tmp_path):
    """Nothing listening, a non-HTTP URL, or a schemas folder without schemas: exit status 2."""
    result = CliRunner().invoke(check_command, [f"http://127.0.0.1:{free_port()}/oai", "--timeout", "5"])
    assert result.exit_code == 2 and "cannot connect" in result.stderr
    assert CliRunner().invoke(check_command, ["ftp://example.org/oai"]).exit_code == 2
    result = CliRunner().invoke(check_command, ["http://127.0.0.1:9/oai", "--schemas", str(tmp_path)])
    assert result.exit_code == 2 and "OAI-PMH.xsd" in result.stderr


def test_strict_wildcard_mapping(oai_dir):
    """Known formats are validated strictly; unknown namespaces are masked and reported."""
    validator = schemas.load(oai_dir)
    samples = SCHEMAS / "samples"
    assert validator.validate(etree.parse(str(samples / "getrecord_oai_dc.xml")).getroot()) is None
    error = validator.validate(etree.parse(str(samples / "getrecord_oai_dc_invalid.xml")).getroot())
    assert error and "abstract" in error
    # No JATS schema in oai/: a namespaced article is masked; an unqualified one stays invalid.
    record = etree.parse(str(samples / "getrecord_oai_dc.xml")).getroot()
    metadata = record.find(".//{http://www.openarchives.org/OAI/2.0/}metadata")
    metadata[0] = etree.Element("{https://jats.nlm.nih.gov/ns/publishing/1.3/}article")
    assert validator.validate(record) is None
    assert validator.unvalidated == {"https://jats.nlm.nih.gov/ns/publishing/1.3/"}
    metadata[0] = etree.Element("article")
    assert validator.validate(record) is not None


def test_bundle_validates_jats_strictly(bundle_dir):
    """With oai-bundle.xsd, JATS content is validated, not masked."""
    validator = schemas.load(bundle_dir)
    record = etree.parse(str(SCHEMAS / "samples" / "getrecord_oai_dc.xml")).getroot()
    metadata = record.find(".//{http://www.openarchives.org/OAI/2.0/}metadata")
    metadata[0] = etree.Element("{https://jats.nlm.nih.gov/ns/publishing/1.3/}article")
    assert validator.validate(record) is not None  # an empty <article> is not valid JATS
    assert not validator.unvalidated


@pytest.mark.parametrize(("sample", "valid"), [
    ("getrecord_oai_openaire.xml", True), ("getrecord_oai_openaire_invalid.xml", False),
    ("getrecord_datacite.xml", True), ("getrecord_datacite_invalid.xml", False),
    ("getrecord_mods.xml", True), ("getrecord_mods_invalid.xml", False),
    ("getrecord_marcxml.xml", True), ("getrecord_marcxml_invalid.xml", False),
])
def test_format_bundles_validate_every_served_format(bundle_dir, sample, valid):
    """With the format bundles, DataCite records are checked by the second schema set, the rest by the first."""
    if not (bundle_dir / schemas.ALTERNATIVE_BUNDLE).is_file():
        pytest.skip("no format bundles in the schemas folder")
    validator = schemas.load(bundle_dir)
    error = validator.validate(etree.parse(str(bundle_dir / "samples" / sample)).getroot())
    assert (error is None) == valid, error
    assert not validator.unvalidated


def test_helpers():
    """tamper changes a token but keeps its length and alphabet; spread keeps both ends."""
    token = "eyJhYmMiOjF9.ZZ1x.abc123"
    changed = tamper(token)
    assert changed != token and len(changed) == len(token)
    assert tamper("ab") != "ab"
    assert spread(list(range(10)), 3) == [0, 4, 9]
    assert spread([1, 2], 5) == [1, 2] and spread([1, 2], 0) == []
