"""OAI-PMH §4.4 ListMetadataFormats: the formats of the repository or of one item."""
from __future__ import annotations

import pytest

from metadata_formats import FORMATS
from tests.helpers.oai import NS, REPOSITORY_IDENTIFIER, error_codes, harvest, identifiers
from tests.helpers.issues import A, write_issue
from tests.helpers.protocol import REVIEW, request_attrs, withdraw

OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
JATS_SCHEMA = "https://jats.nlm.nih.gov/publishing/1.3/xsd/JATS-journalpublishing1-3-mathml3.xsd"


def item_formats() -> set[str]:
    """The formats of an item of a journal with no access right configured (so no oai_openaire)."""
    return set(FORMATS) - {"oai_openaire"}


def formats(tree) -> dict[str, tuple[str, str]]:
    """Map metadataPrefix -> (schema, metadataNamespace) of a ListMetadataFormats response."""
    return {
        f.findtext("o:metadataPrefix", namespaces=NS): (
            f.findtext("o:schema", namespaces=NS), f.findtext("o:metadataNamespace", namespaces=NS))
        for f in tree.iterfind(".//o:metadataFormat", NS)
    }


def test_list_metadata_formats(loaded, oai):
    """§4.4: every registered format with its schema and namespace (§3.4), in registry order."""
    listed = formats(oai(verb="ListMetadataFormats"))
    assert listed == {prefix: (fmt.schema, fmt.namespace) for prefix, fmt in FORMATS.items()}
    assert list(listed) == list(FORMATS)
    assert listed["oai_dc"] == (OAI_DC_SCHEMA, NS["oai_dc"])
    assert listed["jats"] == (JATS_SCHEMA, NS["j"])
    assert {p: listed[p] for p in ("oai_openaire", "datacite", "mods", "marcxml")} == {
        "oai_openaire": ("https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd",
                         "http://namespace.openaire.eu/schema/oaire/"),
        "datacite": ("http://schema.datacite.org/meta/kernel-4/metadata.xsd", "http://datacite.org/schema/kernel-4"),
        "mods": ("http://www.loc.gov/standards/mods/v3/mods-3-8.xsd", "http://www.loc.gov/mods/v3"),
        "marcxml": ("http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", "http://www.loc.gov/MARC21/slim"),
    }


def test_formats_of_an_empty_repository(oai):
    """§4.4: the repository's formats do not depend on it holding records."""
    assert set(formats(oai(verb="ListMetadataFormats"))) == set(FORMATS)


def test_list_metadata_formats_for_item(loaded, oai):
    """§4.4: with an identifier, the formats of that item, identifier echoed in <request>."""
    identifier = identifiers(oai(verb="ListIdentifiers", metadataPrefix="oai_dc"))[0]
    tree = oai(verb="ListMetadataFormats", identifier=identifier)
    assert set(formats(tree)) == item_formats()
    assert request_attrs(tree) == {"verb": "ListMetadataFormats", "identifier": identifier}


def test_formats_of_an_item_without_jats(app, ingest, tmp_path, oai):
    """§4.4: an article without an ISSN has no JATS rendition, so JATS is not listed for it."""
    ingest(write_issue(tmp_path / "no-issn.xml", [A("N-1")], issn=""))
    identifier = identifiers(oai(verb="ListIdentifiers", metadataPrefix="oai_dc"))[0]
    assert set(formats(oai(verb="ListMetadataFormats", identifier=identifier))) == item_formats() - {"jats"}
    assert set(formats(oai(verb="ListMetadataFormats"))) == set(FORMATS)


def test_formats_of_a_deleted_item(loaded, oai, runner):
    """§4.4 / §2.5.1: a deleted item is still known; every format carries its deleted header."""
    withdraw(runner, REVIEW)
    tree = oai(verb="ListMetadataFormats", identifier=REVIEW)
    assert error_codes(tree) == [] and set(formats(tree)) == set(FORMATS)


@pytest.mark.parametrize("deleted", [False, True], ids=["live", "deleted"])
def test_formats_of_an_item_agree_with_get_record_and_lists(loaded, oai, runner, deleted):
    """§4.4 / §4.1 / §4.3: a format is listed for an item exactly when GetRecord answers the item in
    it and ListIdentifiers in it lists the item, live or deleted (in this module's configuration
    no journal has an access right, so no live item is in oai_openaire)."""
    if deleted:
        withdraw(runner, REVIEW)
    listed = set(formats(oai(verb="ListMetadataFormats", identifier=REVIEW)))
    answered = {p for p in FORMATS
                if not error_codes(oai(verb="GetRecord", identifier=REVIEW, metadataPrefix=p))}
    in_lists = {p for p in FORMATS
                if REVIEW in harvest(oai, "ListIdentifiers", metadataPrefix=p, set="type:review-article")[0]}
    assert listed == answered == in_lists == (set(FORMATS) if deleted else item_formats())


@pytest.mark.parametrize("identifier", [
    "oai:arXiv.org:cs/0112017",
    "oai:other.example.org:1234-5679/G-1",
    f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/NOPE",
    "urn:nbn:de:1111-2004033116",
    "info:doi/10.1000/182",
    "https://doi.org/10.1000/182",
])
def test_unknown_item(loaded, oai, identifier):
    """§4.4: an identifier of no item here (in whatever syntax) is idDoesNotExist, echoed."""
    tree = oai(verb="ListMetadataFormats", identifier=identifier)
    assert error_codes(tree) == ["idDoesNotExist"]
    assert request_attrs(tree) == {"verb": "ListMetadataFormats", "identifier": identifier}


@pytest.mark.parametrize("params", [
    {"metadataPrefix": "oai_dc"},
    {"set": "journal"},
    {"resumptionToken": "abc"},
    {"identifier": ""},
    {"identifier": "has space"},
], ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_arguments(loaded, oai, params, method):
    """§4.4 / §3.6: other arguments, or an identifier in illegal syntax, are badArgument."""
    tree = oai(method, verb="ListMetadataFormats", **params)
    assert set(error_codes(tree)) == {"badArgument"}
    assert request_attrs(tree) == {}
