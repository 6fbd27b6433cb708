"""Per-journal settings (OAI_JOURNALS): checking, precedence over the global keys, every format, the openaire set."""
from __future__ import annotations

from dataclasses import replace

import pytest
from lxml import etree

from metadata_formats import FORMATS, CrosswalkSettings, oai_dc, rights
from metadata_formats.jats import render as jats
from metadata_formats.journals import JournalSettings, parse_journals
from tests.helpers.crosswalk_helpers import assert_valid, nkums_article
from tests.helpers.formats import CC_BY_NC, HAND_MADE, NKUMS, TJMS, journal_settings, live_identifiers, texts
from tests.helpers.oai import NS, error_codes, harvest
from tests.helpers.protocol import headers, set_specs

CC_BY = "https://creativecommons.org/licenses/by/4.0/"


# --- checking the configuration ----------------------------------------------------------------


def test_a_full_entry_is_parsed() -> None:
    parsed = parse_journals({
        "2008-8701": {"access_right": "embargoed", "embargo_end": "2027-01-01", "license_url": " https://ex.org/a b ",
                      "license_label": "Terms", "publisher": " NKUMS Press "},
        "journal.example.ac.ir": {},
    })
    assert parsed == {
        "2008-8701": JournalSettings("embargoed", "2027-01-01", "https://ex.org/a%20b", "Terms", "NKUMS Press"),
        "journal.example.ac.ir": JournalSettings(),
    }
    assert list(parse_journals({"b.org": {}, "a.org": {}})) == ["a.org", "b.org"]  # repr-stable fingerprint


@pytest.mark.parametrize(("value", "message"), [
    ([], "must be a mapping of journal key"),
    ({"2008 8701": {}}, "is not a journal key"),
    ({"2008-8701": "open"}, "must be a mapping such as"),
    ({"2008-8701": {"licence_url": CC_BY}}, "unknown key(s) licence_url"),
    ({"2008-8701": {"access_right": "Open"}}, "access_right must be one of open, embargoed, restricted, metadata-only"),
    ({"2008-8701": {"access_right": "embargoed"}}, "needs embargo_end"),
    ({"2008-8701": {"access_right": "embargoed", "embargo_end": "2027-02-30"}}, "must be a date YYYY-MM-DD"),
    ({"2008-8701": {"access_right": "embargoed", "embargo_end": "2027-1-1"}}, "must be a date YYYY-MM-DD"),
    ({"2008-8701": {"access_right": "open", "embargo_end": "2027-01-01"}}, "only meaningful with access_right"),
    ({"2008-8701": {"license_url": "creativecommons.org/licenses/by/4.0/"}}, "must be an http(s) URL"),
    ({"2008-8701": {"license_label": "CC BY 4.0"}}, "license_label needs license_url"),
    ({"2008-8701": {"publisher": 3}}, "publisher must be a string"),
])
def test_unusable_entries_are_refused_with_the_key_named(value, message) -> None:
    with pytest.raises(ValueError) as raised:
        parse_journals(value)
    assert message in str(raised.value)


def test_the_app_refuses_to_start_with_an_unusable_entry(config, tmp_path, monkeypatch) -> None:
    from oaiserver import ConfigError, create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(ConfigError, match=r"OAI_JOURNALS\['2008-8701'\]\.access_right"):
        create_app({**config, "OAI_JOURNALS": {"2008-8701": {"access_right": "free"}}})


def test_the_setting_can_come_from_the_environment(config, tmp_path, monkeypatch) -> None:
    from oaiserver import create_app

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("OAISERVER_OAI_JOURNALS", '{"2008-8701": {"access_right": "open"}}')
    base = {k: v for k, v in config.items() if k != "OAI_JOURNALS"}
    app = create_app(base)
    assert CrosswalkSettings.from_config(app.config).journal(NKUMS) == JournalSettings("open")


# --- precedence: the journal's own value, else the global key, else nothing ----------------------


def test_journal_values_win_and_other_journals_keep_the_global_ones() -> None:
    settings = journal_settings({"access_right": "restricted", "license_url": CC_BY_NC, "publisher": "Own"},
                                rights="info:eu-repo/semantics/openAccess", license_url=CC_BY, publisher="Global")
    own, other = nkums_article(), replace(nkums_article(), journal=replace(nkums_article().journal, key=TJMS))
    assert (rights.access(own, settings), rights.access(other, settings)) == (
        rights.Access("restricted"), rights.Access("open"))
    assert (rights.licence(own, settings).url, rights.licence(other, settings).url) == (CC_BY_NC, CC_BY)
    assert (rights.publisher(own, settings), rights.publisher(other, settings)) == ("Own", "Global")
    assert rights.rights_statement(own, settings) == "info:eu-repo/semantics/restrictedAccess"
    assert rights.rights_statement(other, settings) == "info:eu-repo/semantics/openAccess"


def test_nothing_configured_means_nothing() -> None:
    article, settings = nkums_article(), CrosswalkSettings()
    assert (rights.access(article, settings), rights.licence(article, settings), rights.publisher(article, settings),
            rights.rights_statement(article, settings)) == (None, None, None, None)


def test_a_global_rights_text_is_kept_for_dc_but_is_no_access_right() -> None:
    settings = CrosswalkSettings(rights="Copyright the authors")
    assert rights.rights_statement(nkums_article(), settings) == "Copyright the authors"
    assert rights.access(nkums_article(), settings) is None


@pytest.mark.parametrize(("url", "name", "spdx"), [
    ("https://creativecommons.org/licenses/by-nc/4.0/", "CC BY-NC 4.0", "cc-by-nc-4.0"),
    ("http://creativecommons.org/licenses/by-nc-sa/3.0", "CC BY-NC-SA 3.0", "cc-by-nc-sa-3.0"),
    ("https://creativecommons.org/publicdomain/zero/1.0/", "CC0 1.0", "cc0-1.0"),
    ("https://creativecommons.org/licenses/by/3.0/de/", "CC BY 3.0", None),  # a port: no certain SPDX id
    ("https://example.org/licence", "https://example.org/licence", None),
])
def test_licence_names_and_spdx_identifiers(url, name, spdx) -> None:
    found = rights.make_licence(url, None)
    assert (found.label, found.spdx) == (name, spdx)


# --- the licence reaches every format, and only when configured -------------------------------


@pytest.mark.parametrize("prefix", sorted(FORMATS))
def test_licence_appears_in_every_format_only_when_configured(prefix) -> None:
    render = FORMATS[prefix].render
    url = "https://example.org/licences/journal-terms"
    configured = journal_settings({"access_right": "open", "license_url": url, "license_label": "Journal terms"})
    xml = render(nkums_article(), configured)
    assert xml is not None and url in xml
    assert_valid(xml, prefix)
    unconfigured = render(nkums_article(), journal_settings({"access_right": "open"}))
    assert unconfigured is not None and "example.org" not in unconfigured
    other_journal = render(nkums_article(), journal_settings({"access_right": "open", "license_url": url}, key=TJMS))
    assert other_journal is None or url not in other_journal


def test_oai_dc_rights_and_embargo_end() -> None:
    settings = journal_settings({"access_right": "embargoed", "embargo_end": "2027-01-01", "license_url": CC_BY_NC})
    root = etree.fromstring(oai_dc.render(nkums_article(), settings))
    assert texts(root, "dc:rights") == ["info:eu-repo/semantics/embargoedAccess", CC_BY_NC]
    assert texts(root, "dc:date") == ["2026-07-01", "info:eu-repo/date/embargoEnd/2027-01-01"]
    settings = journal_settings({"access_right": "metadata-only"}, rights="info:eu-repo/semantics/openAccess")
    root = etree.fromstring(oai_dc.render(nkums_article(), settings))
    assert texts(root, "dc:rights") == ["info:eu-repo/semantics/closedAccess"]


def test_oai_dc_global_keys_as_before() -> None:
    settings = CrosswalkSettings(rights="info:eu-repo/semantics/openAccess", license_url=CC_BY, publisher="P")
    root = etree.fromstring(oai_dc.render(nkums_article(), settings))
    assert texts(root, "dc:rights") == ["info:eu-repo/semantics/openAccess", CC_BY]
    assert texts(root, "dc:publisher") == ["P"]


@pytest.mark.parametrize(("entry", "free_to_read"), [
    ({"access_right": "open"}, [{}]),
    ({"access_right": "embargoed", "embargo_end": "2027-01-01"}, [{"start_date": "2027-01-01"}]),
    ({"access_right": "restricted"}, []),
    ({"access_right": "metadata-only", "license_url": CC_BY_NC}, []),
])
def test_jats_permissions_follow_the_journal(entry, free_to_read) -> None:
    xml = jats.render(nkums_article(), journal_settings(entry))
    root = etree.fromstring(xml)
    ns = {"j": jats.NAMESPACE, "ali": "http://www.niso.org/schemas/ali/1.0/"}
    assert [dict(e.attrib) for e in root.iterfind(".//j:permissions/ali:free_to_read", ns)] == free_to_read
    assert [e.text for e in root.iterfind(".//ali:license_ref", ns)] == ([CC_BY_NC] if "license_url" in entry else [])
    if not free_to_read and "license_url" not in entry:
        assert root.find(".//j:permissions", ns) is None and "xmlns:ali" not in xml
    assert_valid(xml, "jats")


def test_jats_licence_sentence_uses_the_configured_label() -> None:
    settings = journal_settings({"license_url": CC_BY_NC, "license_label": "Attribution-NonCommercial 4.0"})
    xml = jats.render(nkums_article(), settings)
    assert "distributed under the terms of Attribution-NonCommercial 4.0." in xml


# --- the openaire set of OpenAIRE v3 -----------------------------------------------------------


def test_openaire_set_holds_the_open_access_journals(repository, oai) -> None:
    sets = {s.findtext("o:setSpec", namespaces=NS): s.findtext("o:setName", namespaces=NS)
            for p in harvest(oai, "ListSets")[1] for s in p.iterfind(".//o:set", NS)}
    assert sets["openaire"] == "OpenAIRE"
    identifiers, pages = harvest(oai, "ListRecords", metadataPrefix="oai_dc", set="openaire")
    assert identifiers and all(f":{NKUMS}/" in i for i in identifiers)  # TJMS is embargoed, HAND_MADE unset
    assert set(identifiers) == {i for i in live_identifiers(oai) if f":{NKUMS}/" in i}
    for page in pages:
        for record in page.iterfind(".//o:record", NS):
            assert "openaire" in set_specs(record.find("o:header", NS))
            rights_ = [e.text for e in record.iterfind(".//dc:rights", NS)]
            assert rights_ == ["info:eu-repo/semantics/openAccess", CC_BY_NC]
    others = headers(harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc")[1])
    assert all("openaire" not in set_specs(h) for i, h in others.items() if f":{NKUMS}/" not in i)
    assert any(f":{HAND_MADE}/" in i for i in others)


def test_no_open_journal_means_no_openaire_set(config, app, oai) -> None:
    from oaiserver import create_app

    bare = create_app({**config, "OAI_JOURNALS": {TJMS: {"access_right": "restricted"}}})
    from tests.helpers.oai import GOOD_SAMPLES

    assert bare.test_cli_runner().invoke(args=["ingest", *map(str, GOOD_SAMPLES)]).exit_code == 0
    tree = oai(verb="ListIdentifiers", metadataPrefix="oai_dc", set="openaire")
    assert error_codes(tree) == ["noRecordsMatch"]


def test_a_configuration_change_reaches_records_at_reindex(config, app, oai, clock) -> None:
    """The settings are part of the ingest fingerprint: reindex re-renders, formats and sets follow."""
    from oaiserver import create_app
    from tests.helpers.formats import REVIEW
    from tests.helpers.oai import SAMPLES

    before = create_app({**config, "OAI_JOURNALS": {}})
    assert before.test_cli_runner().invoke(args=["ingest", str(SAMPLES / "nkums-v18n2.xml")]).exit_code == 0
    assert error_codes(oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="oai_openaire")) == [
        "cannotDisseminateFormat"]
    clock.advance(10)
    result = app.test_cli_runner().invoke(args=["reindex"])  # `app` has OAI_JOURNALS: NKUMS open
    assert result.exit_code == 0, result.output
    record = oai(verb="GetRecord", identifier=REVIEW, metadataPrefix="oai_openaire")
    assert error_codes(record) == []
    header = record.find(".//o:header", NS)
    assert "openaire" in set_specs(header) and header.findtext("o:datestamp", namespaces=NS) == "2026-01-01T00:00:10Z"
    assert [i for i in harvest(oai, "ListIdentifiers", metadataPrefix="oai_dc", set="openaire")[0]] == [REVIEW]
