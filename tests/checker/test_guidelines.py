"""`oaiserver check --profile openaire4|openaire3`: our records keep every guideline rule, and a
record broken in one place breaks exactly the rule for that place, at the rule's level."""
from __future__ import annotations

import copy
import json
import typing as t

import pytest
from click.testing import CliRunner
from lxml import etree

from metadata_formats import FORMATS
from oaiserver.checker import Options, run_checks
from oaiserver.checker.checks import FAIL, INFO, WARN
from oaiserver.checker.command import check_command
from oaiserver.checker.guidelines import Record, apply
from oaiserver.checker.openaire3 import PROFILE as V3
from oaiserver.checker.openaire4 import PROFILE as V4
from oaiserver.checker.report import line
from tests.helpers.crosswalk_helpers import nkums_article
from tests.helpers.formats import JOURNALS, NKUMS, journal_settings
from tests.helpers.oai import GOOD_SAMPLES, REPOSITORY_IDENTIFIER, SCHEMAS
from tests.helpers.servers import gunicorn, oaiserver_env, wsgi_thread

DATACITE = "{http://datacite.org/schema/kernel-4}"
OAIRE = "{http://namespace.openaire.eu/schema/oaire/}"
DC = "{http://purl.org/dc/elements/1.1/}"
EMBARGOED = "http://purl.org/coar/access_right/c_f1cf"

#: What our real sample, rendered for its open-access journal, lacks (nothing in the input says it).
V4_ABSENT = {"alternate-identifier", "format", "source", "subject.scheme", "coverage", "size",
             "geolocation", "file-location", "audience"}
V3_ABSENT = {"format", "coverage", "audience"}


def rendered(prefix: str) -> etree._Element:
    """The real sample article in ``prefix``, its journal open access with a licence."""
    xml = FORMATS[prefix].render(nkums_article(), journal_settings(JOURNALS[NKUMS]))
    assert xml is not None
    return etree.fromstring(xml)


def broken_rules(profile, root: etree._Element) -> dict[str, str]:
    """{rule key: reason} of every rule of ``profile`` the record breaks."""
    return apply(profile.rules, Record("oai:x:1", root, profile.namespaces))


def status_of(profile, key: str) -> str:
    """The status a broken rule reports."""
    return next(r.status for r in profile.rules if r.key == key)


def remove(path: str) -> t.Callable[[etree._Element], None]:
    """A mutation: delete every element at ``path``."""
    def mutate(root: etree._Element) -> None:
        found = root.findall(path)
        assert found, path
        for element in found:
            element.getparent().remove(element)
    return mutate


def set_attr(path: str, name: str, value: str) -> t.Callable[[etree._Element], None]:
    """A mutation: set attribute ``name`` of the first element at ``path``."""
    def mutate(root: etree._Element) -> None:
        root.find(path).set(name, value)
    return mutate


def set_text(path: str, value: str) -> t.Callable[[etree._Element], None]:
    """A mutation: replace the text of the first element at ``path``."""
    def mutate(root: etree._Element) -> None:
        root.find(path).text = value
    return mutate


def add(xml: str) -> t.Callable[[etree._Element], None]:
    """A mutation: append an element given as XML (with the formats' prefixes declared)."""
    def mutate(root: etree._Element) -> None:
        wrapper = etree.fromstring(
            '<w xmlns:datacite="http://datacite.org/schema/kernel-4" '
            'xmlns:oaire="http://namespace.openaire.eu/schema/oaire/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/">{xml}</w>')
        root.append(wrapper[0])
    return mutate


def embargo_v4(root: etree._Element) -> None:
    """Say embargoed access, without the Accepted/Available dates."""
    rights = root.find(f"{DATACITE}rights")
    rights.set("rightsURI", EMBARGOED)
    rights.text = "embargoed access"


def rights_v3(term: str) -> t.Callable[[etree._Element], None]:
    """Replace the access-level term of dc:rights."""
    def mutate(root: etree._Element) -> None:
        element = next(e for e in root.iter(f"{DC}rights") if e.text.startswith("info:eu-repo/"))
        element.text = term
    return mutate


#: One mutation per v4 rule: (rule key, mutation, the level's status).
V4_CASES = [
    ("title", remove(f"{DATACITE}titles"), FAIL),
    ("title.type", set_attr(f"{DATACITE}titles/{DATACITE}title", "titleType", "subtitle"), FAIL),
    ("creator", remove(f"{DATACITE}creators"), FAIL),
    ("creator.name-type", set_attr(f".//{DATACITE}creatorName", "nameType", "Person"), FAIL),
    ("creator.name-identifier", lambda r: r.find(f".//{DATACITE}nameIdentifier").attrib.pop("nameIdentifierScheme"), FAIL),
    ("contributor", add('<datacite:contributors><datacite:contributor contributorType="Boss">'
                        '<datacite:contributorName>X</datacite:contributorName></datacite:contributor>'
                        '</datacite:contributors>'), FAIL),
    ("funding-reference", add("<oaire:fundingReferences><oaire:fundingReference><oaire:awardTitle>T"
                              "</oaire:awardTitle></oaire:fundingReference></oaire:fundingReferences>"), FAIL),
    ("funding-reference.identifier-type", add(
        '<oaire:fundingReferences><oaire:fundingReference><oaire:funderName>F</oaire:funderName>'
        '<oaire:funderIdentifier funderIdentifierType="Crossref">x</oaire:funderIdentifier>'
        '<oaire:awardNumber awardURI="http://a">1</oaire:awardNumber><oaire:awardTitle>T</oaire:awardTitle>'
        '</oaire:fundingReference></oaire:fundingReferences>'), WARN),
    ("funding-reference.award", add(
        "<oaire:fundingReferences><oaire:fundingReference><oaire:funderName>F</oaire:funderName>"
        "<oaire:awardNumber>1</oaire:awardNumber></oaire:fundingReference></oaire:fundingReferences>"), WARN),
    ("alternate-identifier.type", add(
        '<datacite:alternateIdentifiers><datacite:alternateIdentifier alternateIdentifierType="doi">10.1/x'
        '</datacite:alternateIdentifier></datacite:alternateIdentifiers>'), FAIL),
    ("related-identifier", remove(f"{DATACITE}relatedIdentifiers"), WARN),
    ("related-identifier.type", set_attr(f".//{DATACITE}relatedIdentifier", "relationType", "PartOf"), FAIL),
    ("embargo-period-date", embargo_v4, FAIL),
    ("language", remove(f"{DC}language"), WARN),
    ("language.code", set_text(f"{DC}language", "Persian"), FAIL),
    ("publisher", remove(f"{DC}publisher"), WARN),
    ("publication-date", remove(f"{DATACITE}dates"), FAIL),
    ("resource-type", set_attr(f"{OAIRE}resourceType", "uri", "http://purl.org/coar/resource_type/c_7acd"), FAIL),
    ("description", remove(f"{DC}description"), WARN),
    ("description.language", set_attr(f"{DC}description", "{http://www.w3.org/XML/1998/namespace}lang", "farsi!"), WARN),
    ("format.mime-type", add("<dc:format>PDF</dc:format>"), WARN),
    ("resource-identifier", set_attr(f"{DATACITE}identifier", "identifierType", "Handle"), FAIL),
    ("access-rights", set_attr(f"{DATACITE}rights", "rightsURI", "http://purl.org/coar/access_right/c_abf3"), FAIL),
    ("subject", remove(f"{DATACITE}subjects"), WARN),
    ("license-condition", remove(f"{OAIRE}licenseCondition"), WARN),
    ("license-condition.attributes", set_attr(f"{OAIRE}licenseCondition", "startDate", "1 July 2026"), FAIL),
    ("geolocation.structure", add(
        "<datacite:geoLocations><datacite:geoLocation><datacite:geoLocationPoint>"
        "<datacite:pointLongitude>east</datacite:pointLongitude></datacite:geoLocationPoint>"
        "</datacite:geoLocation></datacite:geoLocations>"), FAIL),
    ("resource-version", remove(f"{OAIRE}version"), WARN),
    ("resource-version.uri", set_attr(f"{OAIRE}version", "uri", "http://purl.org/coar/version/VoR"), WARN),
    ("file-location.attributes", add('<oaire:file mimeType="pdf" objectType="fulltext" '
                                     'accessRightsURI="http://purl.org/coar/access_right/c_abf2">x</oaire:file>'), WARN),
    ("citation-title", remove(f"{OAIRE}citationTitle"), WARN),
    ("citation-volume", remove(f"{OAIRE}citationVolume"), WARN),
    ("citation-issue", remove(f"{OAIRE}citationIssue"), WARN),
    ("citation-start-page", remove(f"{OAIRE}citationStartPage"), WARN),
    ("citation-end-page", remove(f"{OAIRE}citationEndPage"), WARN),
    ("citation-conference-date", add("<oaire:citationConferenceDate>July 2026</oaire:citationConferenceDate>"), WARN),
]

V3_CASES = [
    ("title", remove(f"{DC}title"), FAIL),
    ("creator", remove(f"{DC}creator"), FAIL),
    ("creator.form", set_text(f"{DC}creator", "Fatemeh Sadeghian"), WARN),
    ("project-identifier", add("<dc:relation>info:eu-repo/grantAgreement/EC</dc:relation>"), FAIL),
    ("access-level", rights_v3("info:eu-repo/semantics/freeAccess"), FAIL),
    ("license-condition", lambda r: [e.getparent().remove(e) for e in r.findall(f"{DC}rights")
                                     if e.text.startswith("http")], WARN),
    ("embargo-end-date", rights_v3("info:eu-repo/semantics/embargoedAccess"), FAIL),
    ("alternative-identifier", add("<dc:relation>info:eu-repo/semantics/altIdentifier/issn/2008-8701</dc:relation>"), WARN),
    ("subject", remove(f"{DC}subject"), WARN),
    ("description", remove(f"{DC}description"), WARN),
    ("publisher", remove(f"{DC}publisher"), WARN),
    ("publication-date", set_text(f"{DC}date", "01/07/2026"), FAIL),
    ("publication-type", lambda r: [e.getparent().remove(e) for e in r.findall(f"{DC}type")
                                    if e.text == "info:eu-repo/semantics/article"], FAIL),
    ("publication-version", lambda r: [e.getparent().remove(e) for e in r.findall(f"{DC}type")
                                       if e.text.endswith("publishedVersion")], WARN),
    ("resource-identifier", remove(f"{DC}identifier"), FAIL),
    ("resource-identifier.url", set_text(f"{DC}identifier", "A-10-25-972"), WARN),
    ("source", remove(f"{DC}source"), WARN),
    ("language", remove(f"{DC}language"), WARN),
    ("language.code", set_text(f"{DC}language", "Persian"), WARN),
]


@pytest.mark.parametrize(("profile", "absent"), [(V4, V4_ABSENT), (V3, V3_ABSENT)], ids=["openaire4", "openaire3"])
def test_our_record_breaks_only_what_the_input_cannot_say(profile, absent):
    """The crosswalk's record breaks no FAIL rule; the WARN/INFO ones are the absent properties."""
    broken = broken_rules(profile, rendered(profile.prefix))
    assert set(broken) == absent, broken
    assert all(status_of(profile, key) != FAIL for key in broken)


@pytest.mark.parametrize(("profile", "key", "mutation", "status"),
                         [(V4, *case) for case in V4_CASES] + [(V3, *case) for case in V3_CASES],
                         ids=[f"openaire4-{c[0]}" for c in V4_CASES] + [f"openaire3-{c[0]}" for c in V3_CASES])
def test_each_rule_catches_its_mutation(profile, key, mutation, status):
    """One mutation of the good record breaks its rule, at the rule's level, and no other FAIL rule."""
    root = copy.deepcopy(rendered(profile.prefix))
    before = set(broken_rules(profile, root))
    mutation(root)
    broken = broken_rules(profile, root)
    assert key in broken and key not in before, broken
    assert status_of(profile, key) == status
    others = {k for k in set(broken) - before - {key} if status_of(profile, k) == FAIL}
    assert not others, {k: broken[k] for k in others}


def test_every_rule_has_a_case_or_is_shown_absent():
    """The table covers every rule: a mutation, or the baseline record already lacks it."""
    for profile, cases, absent in ((V4, V4_CASES, V4_ABSENT), (V3, V3_CASES, V3_ABSENT)):
        covered = {c[0] for c in cases} | absent
        assert {r.key for r in profile.rules} <= covered, {r.key for r in profile.rules} - covered


def test_levels_map_to_statuses():
    """Mandatory rules FAIL, recommended ones at most WARN (unless a vocabulary is broken), optional INFO."""
    for profile in (V3, V4):
        for rule in profile.rules:
            if rule.level == "O" and not rule.key.endswith(".structure"):
                assert rule.status == INFO, rule.key
            if rule.level == "M" and "." not in rule.key:
                assert rule.status == FAIL, rule.key


@pytest.fixture
def journals_config(config):
    """The test configuration with one journal open access and one embargoed (before the app is made)."""
    config["OAI_JOURNALS"] = JOURNALS
    return config


@pytest.fixture
def open_access_server(journals_config, ingest, tmp_path):
    """The sample issues served by gunicorn, one journal open access and one embargoed."""
    config = journals_config
    ingest(*GOOD_SAMPLES)
    with gunicorn(oaiserver_env(config, tmp_path / "instance"), workers=1) as base:
        yield base


@pytest.mark.integration
def test_our_server_passes_the_openaire_profiles(open_access_server):
    """Against our server both profiles pass: no FAIL; WARN/INFO only for the absent properties."""
    bundle = SCHEMAS if (SCHEMAS / "oai-bundle-with-formats.xsd").is_file() else None
    report = run_checks(Options(open_access_server, timeout=20, profiles=("openaire4", "openaire3"),
                                schemas=bundle))
    failures = [line(r) for r in report.results if r.status == FAIL]
    assert not failures, "\n".join(failures)
    by_name = {r.name: r for r in report.results}
    for name in ("openaire4.records", "openaire4.metadata-format", "openaire4.schema-location",
                 "openaire4.embargo-period-date", "openaire4.access-rights", "openaire3.set",
                 "openaire3.records", "openaire3.access-level"):
        assert by_name[name].status == "PASS", line(by_name[name])
    assert "records" in by_name["openaire4.records"].reason
    if bundle is not None:  # the harvested oai_openaire pages are XSD-valid too
        assert by_name["responses.schema-valid"].status == "PASS", line(by_name["responses.schema-valid"])
    flagged = {r.name for r in report.results if r.status in (WARN, INFO)}
    assert {n for n in flagged if n.startswith("openaire3.")} == {f"openaire3.{k}" for k in V3_ABSENT}
    # A synthetic sample article gives a first page only: its end page is honestly missing.
    assert {n.split(".", 1)[1] for n in flagged if n.startswith("openaire4.")} <= V4_ABSENT | {"citation-end-page"}
    assert not any(r.name.startswith("list-records.") for r in report.results)  # protocol not asked for

    result = CliRunner().invoke(check_command, ["--profile", "openaire4", open_access_server, "--timeout", "20"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert any(text.startswith("WARN openaire4.format ") and "Format (recommended)" in text for text in lines)
    assert lines[-1].endswith("notes") and " 0 failed" in lines[-1]


def _one_record_server(record: etree._Element) -> t.Callable:
    """A WSGI app serving one oai_openaire record (and enough of OAI-PMH around it)."""
    body = etree.tostring(record, encoding="unicode")
    identifier = f"oai:{REPOSITORY_IDENTIFIER}:1"

    def app(environ, start_response):
        from urllib.parse import parse_qs
        args = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        base = f"http://{environ['HTTP_HOST']}/oai"
        verb = args.get("verb", "Identify")
        inner = {
            "Identify": f"<Identify><repositoryName>x</repositoryName><baseURL>{base}</baseURL>"
                        "<protocolVersion>2.0</protocolVersion><adminEmail>a@b.c</adminEmail>"
                        "<earliestDatestamp>2024-01-01</earliestDatestamp><deletedRecord>no</deletedRecord>"
                        "<granularity>YYYY-MM-DD</granularity></Identify>",
            "ListMetadataFormats": "<ListMetadataFormats><metadataFormat><metadataPrefix>oai_openaire"
                                   "</metadataPrefix><schema>https://www.openaire.eu/schema/repo-lit/4.0/"
                                   "openaire.xsd</schema><metadataNamespace>http://namespace.openaire.eu/"
                                   "schema/oaire/</metadataNamespace></metadataFormat></ListMetadataFormats>",
            "ListRecords": f"<ListRecords><record><header><identifier>{identifier}</identifier><datestamp>"
                           f"2024-01-01</datestamp></header><metadata>{body}</metadata></record></ListRecords>",
        }[verb]
        xml = ('<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
               f"<responseDate>2024-01-02T00:00:00Z</responseDate><request>{base}</request>{inner}</OAI-PMH>")
        start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
        return [xml.encode("utf-8")]
    return app


def test_a_broken_record_fails_over_http():
    """End to end: a served record without a publication date FAILs that rule, with its GetRecord URL."""
    root = copy.deepcopy(rendered("oai_openaire"))
    remove(f"{DATACITE}dates")(root)
    with wsgi_thread(_one_record_server(root)) as base:
        result = CliRunner().invoke(check_command, [base, "--profile", "openaire4", "--json", "--timeout", "20"])
    assert result.exit_code == 1, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    failed = checks["openaire4.publication-date"]
    assert failed["status"] == "FAIL"
    assert "verb=GetRecord" in failed["url"] and "metadataPrefix=oai_openaire" in failed["url"]
    assert "1 of 1 records" in failed["reason"] and "Issued" in failed["reason"]
    assert {c["status"] for n, c in checks.items() if n.startswith("openaire4.") and n != "openaire4.publication-date"} \
        <= {"PASS", "WARN", "INFO"}
