"""The ``openaire4`` profile: OpenAIRE Guidelines for Literature Repositories v4 on ``oai_openaire``.

One rule per check the OpenAIRE validator makes for each of the 32 guideline properties, at the
property's level: a missing mandatory property or a value outside a controlled vocabulary is a
FAIL (the validator's errors); a missing recommended property, and the validator's warnings, are
WARNs; a missing optional property is an INFO. A "mandatory if applicable" property that the
record does not have is a WARN when it applies to every journal article (language, publisher,
description, subject, file location) and is not checked when only the work itself could say
whether it applies (contributors, funding); the embargo dates are required of every record
whose access right is embargoed. The vocabularies are those of the v4.0 schemas.
"""
from __future__ import annotations

from lxml import etree

from oaiserver.checker.checks import FAIL, WARN, Problem, Run
from oaiserver.checker.guidelines import (
    M, MA, O, R, Profile, Record, Test, each, in_vocabulary, is_date, is_language, is_mime_type,
    listed_formats, present, rule, when,
)

NAMESPACE = "http://namespace.openaire.eu/schema/oaire/"
SCHEMA = "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"
NAMESPACES = {
    "oaire": NAMESPACE,
    "datacite": "http://datacite.org/schema/kernel-4",
    "dc": "http://purl.org/dc/elements/1.1/",
    "dcterms": "http://purl.org/dc/terms/",
    "xml": "http://www.w3.org/XML/1998/namespace",
}

TITLE_TYPES = {"AlternativeTitle", "Subtitle", "TranslatedTitle", "Other"}
NAME_TYPES = {"Personal", "Organizational"}
CONTRIBUTOR_TYPES = {
    "ContactPerson", "DataCollector", "DataCurator", "DataManager", "Distributor", "Editor",
    "HostingInstitution", "Other", "Producer", "ProjectLeader", "ProjectManager", "ProjectMember",
    "RegistrationAgency", "RegistrationAuthority", "RelatedPerson", "ResearchGroup", "RightsHolder",
    "Researcher", "Sponsor", "Supervisor", "WorkPackageLeader",
}
FUNDER_IDENTIFIER_TYPES = {"ISNI", "GRID", "Crossref Funder ID", "ROR", "Other"}
#: relatedIdentifierType, also the vocabulary of alternateIdentifierType.
IDENTIFIER_TYPES = {
    "ARK", "arXiv", "bibcode", "DOI", "EAN13", "EISSN", "Handle", "IGSN", "ISBN", "ISSN", "ISTC",
    "LISSN", "LSID", "PISSN", "PMID", "PURL", "UPC", "URL", "URN", "WOS",
}
RELATION_TYPES = {
    "IsCitedBy", "Cites", "IsSupplementTo", "IsSupplementedBy", "IsContinuedBy", "Continues",
    "IsDescribedBy", "Describes", "HasVersion", "IsVersionOf", "IsNewVersionOf", "IsPreviousVersionOf",
    "IsPartOf", "HasPart", "IsReferencedBy", "References", "IsDocumentedBy", "Documents",
    "IsCompiledBy", "Compiles", "IsVariantFormOf", "IsOriginalFormOf", "IsIdenticalTo", "HasMetadata",
    "IsMetadataFor", "Reviews", "IsReviewedBy", "IsDerivedFrom", "IsSourceOf", "IsRequiredBy", "Requires",
}
RESOURCE_IDENTIFIER_TYPES = {"DOI", "URN", "PURL", "URL", "HANDLE", "ARK"}
RESOURCE_TYPES_GENERAL = {"literature", "dataset", "software", "other research product"}
_COAR_TYPE = "http://purl.org/coar/resource_type/"
#: The COAR resource types of the v4.0 vocabulary (1.1).
RESOURCE_TYPES = {_COAR_TYPE + code for code in (
    "c_1162 c_0640 c_6501 c_b239 c_7a1f c_86bc c_2f33 c_3248 c_ba08 c_7ad9 c_e9a0 c_f744 c_c94f "
    "c_5794 c_6670 c_3e5a c_beb9 c_ddb1 c_db06 c_c513 c_8544 c_0857 c_bdcc c_8a7e c_2659 c_545b "
    "c_1843 c_15cd c_816b c_93fc c_ba1f c_baaf c_efa0 c_5ce6 c_ecc8 c_71bd c_393c c_8042 c_46ec "
    "c_12cc c_12cd c_12ce c_18cc c_18cd c_18cf c_18cp c_18co c_18cw c_18ww c_18wz c_18wq c_186u "
    "c_18op c_18hj c_18ws c_18gh c_dcae04bc c_2df8fbb1").split()}
_COAR_ACCESS = "http://purl.org/coar/access_right/"
#: COAR access right URI -> its label.
ACCESS_RIGHTS = {
    _COAR_ACCESS + "c_abf2": "open access",
    _COAR_ACCESS + "c_f1cf": "embargoed access",
    _COAR_ACCESS + "c_16ec": "restricted access",
    _COAR_ACCESS + "c_14cb": "metadata only access",
}
EMBARGOED = _COAR_ACCESS + "c_f1cf"
_COAR_VERSION = "http://purl.org/coar/version/"
VERSIONS = {_COAR_VERSION + code for code in (
    "c_b1a7d7d4d402bcce c_71e4c1898caa6e32 c_ab4af688f83e57aa c_fa2ee174bc00049f "
    "c_970fb48d4fbd8a85 c_e19f295774971610 c_dc82b40f9837b551 c_be7fb7dd8ff6fe43").split()}
OBJECT_TYPES = {"fulltext", "dataset", "software", "other"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _access_rights(record: Record) -> str | None:
    rights = record.find("datacite:rights")
    if not rights:
        return "no datacite:rights"
    for element in rights:
        uri = element.get("rightsURI")
        if uri not in ACCESS_RIGHTS:
            return f"rightsURI {uri!r} is not a COAR access right"
        if (element.text or "").strip() != ACCESS_RIGHTS[uri]:
            return f"the label {(element.text or '').strip()!r} is not {ACCESS_RIGHTS[uri]!r} for {uri}"
    return None


def _embargoed(record: Record) -> bool:
    return any(e.get("rightsURI") == EMBARGOED for e in record.find("datacite:rights"))


def _embargo_dates(record: Record) -> str | None:
    types = {e.get("dateType") for e in record.find("datacite:dates/datacite:date") if (e.text or "").strip()}
    missing = [kind for kind in ("Accepted", "Available") if kind not in types]
    return f"embargoed, but no {' or '.join(missing)} date" if missing else None


def _publication_date(record: Record) -> str | None:
    issued = record.texts('datacite:dates/datacite:date[@dateType="Issued"]')
    if not issued:
        return 'no datacite:date with dateType="Issued"'
    bad = next((d for d in issued if not is_date(d)), None)
    return None if bad is None else f"publication date {bad!r} is not YYYY, YYYY-MM or YYYY-MM-DD"


def _resource_type(record: Record) -> str | None:
    found = record.find("oaire:resourceType")
    if not found:
        return "no oaire:resourceType"
    for element in found:
        if element.get("resourceTypeGeneral") not in RESOURCE_TYPES_GENERAL:
            return f"resourceTypeGeneral {element.get('resourceTypeGeneral')!r} is not in the vocabulary"
        if element.get("uri") not in RESOURCE_TYPES:
            return f"uri {element.get('uri')!r} is not a COAR resource type of the v4.0 vocabulary"
    return None


def _resource_identifier(record: Record) -> str | None:
    found = [e for e in record.find("datacite:identifier") if (e.text or "").strip()]
    if not found:
        return "no datacite:identifier"
    bad = next((e for e in found if e.get("identifierType") not in RESOURCE_IDENTIFIER_TYPES), None)
    return None if bad is None else f"identifierType {bad.get('identifierType')!r} is not in the vocabulary"


def _license_condition(record: Record) -> str | None:
    for element in record.find("oaire:licenseCondition"):
        if not element.get("uri"):
            return "oaire:licenseCondition has no uri"
        if not is_date(element.get("startDate") or ""):
            return f"oaire:licenseCondition startDate {element.get('startDate')!r} is not a date"
    return None


def _geolocation(record: Record) -> str | None:
    for point in record.find(".//datacite:geoLocationPoint"):
        if not _numbers(point, "pointLongitude", "pointLatitude"):
            return "geoLocationPoint needs a numeric pointLongitude and pointLatitude"
    for box in record.find(".//datacite:geoLocationBox"):
        if not _numbers(box, "westBoundLongitude", "eastBoundLongitude", "southBoundLatitude",
                        "northBoundLatitude"):
            return "geoLocationBox needs four numeric bounds"
    return None


def _numbers(element: etree._Element, *names: str) -> bool:
    for name in names:
        text = element.findtext(f"{{{NAMESPACES['datacite']}}}{name}") or ""
        try:
            float(text)
        except ValueError:
            return False
    return True


def _file_attributes(record: Record) -> str | None:
    for element in record.find("oaire:file"):
        if element.get("accessRightsURI") not in ACCESS_RIGHTS:
            return f"oaire:file accessRightsURI {element.get('accessRightsURI')!r} is not a COAR access right"
        if not is_mime_type(element.get("mimeType") or ""):
            return f"oaire:file mimeType {element.get('mimeType')!r} is not a media type"
        if element.get("objectType") not in OBJECT_TYPES:
            return f"oaire:file objectType {element.get('objectType')!r} is not in the vocabulary"
    return None


def _conference_date(record: Record) -> str | None:
    for value in record.texts("oaire:citationConferenceDate"):
        if not all(is_date(part) for part in value.split("/")):
            return f"conference date {value!r} is not an ISO 8601 date or range"
    return None


def _named(path: str, attribute: str, what: str) -> Test:
    return each(path, lambda e: bool(e.get(attribute)), lambda e: f"{what} without {attribute}")


def _lang(path: str, what: str) -> Test:
    return each(path, lambda e: e.get(XML_LANG) is None or is_language(e.get(XML_LANG)),
                lambda e: f"{what} has xml:lang {e.get(XML_LANG)!r}, not a language tag")


def _subject_scheme(record: Record) -> str | None:
    for element in record.find("datacite:subjects/datacite:subject"):
        missing = [a for a in ("subjectScheme", "schemeURI", "valueURI") if not element.get(a)]
        if missing:
            return f"subject {(element.text or '').strip()[:40]!r} has no {', '.join(missing)}"
    return None


RULES = (
    rule("title", "Title", M, present("datacite:titles/datacite:title", "datacite:title")),
    rule("title.type", "Title", M, in_vocabulary("datacite:titles/datacite:title/@titleType", TITLE_TYPES, "titleType")),
    rule("creator", "Creator", M, present("datacite:creators/datacite:creator/datacite:creatorName",
                                         "datacite:creator with a creatorName")),
    rule("creator.name-type", "Creator", M, in_vocabulary(
        "datacite:creators/datacite:creator/datacite:creatorName/@nameType", NAME_TYPES, "nameType")),
    rule("creator.name-identifier", "Creator", M, _named(
        "datacite:creators/datacite:creator/datacite:nameIdentifier", "nameIdentifierScheme", "a nameIdentifier")),
    rule("contributor", "Contributor", MA, each(
        "datacite:contributors/datacite:contributor",
        lambda e: e.get("contributorType") in CONTRIBUTOR_TYPES and bool(
            e.findtext(f"{{{NAMESPACES['datacite']}}}contributorName", "").strip()),
        lambda e: "a contributor needs a contributorName and a contributorType of the vocabulary")),
    rule("funding-reference", "Funding Reference", MA, each(
        "oaire:fundingReferences/oaire:fundingReference",
        lambda e: bool(e.findtext(f"{{{NAMESPACE}}}funderName", "").strip()),
        lambda e: "a fundingReference has no funderName")),
    rule("funding-reference.identifier-type", "Funding Reference", MA, in_vocabulary(
        "oaire:fundingReferences/oaire:fundingReference/oaire:funderIdentifier/@funderIdentifierType",
        FUNDER_IDENTIFIER_TYPES, "funderIdentifierType"), status=WARN),
    rule("funding-reference.award", "Funding Reference", MA, each(
        "oaire:fundingReferences/oaire:fundingReference",
        lambda e: all(a.get("awardURI") for a in e.iterfind(f"{{{NAMESPACE}}}awardNumber"))
        and bool(e.findtext(f"{{{NAMESPACE}}}awardTitle", "").strip()),
        lambda e: "a fundingReference lacks an awardNumber/@awardURI or an awardTitle"), status=WARN),
    rule("alternate-identifier", "Alternate Identifier", R, present(
        "datacite:alternateIdentifiers/datacite:alternateIdentifier", "datacite:alternateIdentifier")),
    rule("alternate-identifier.type", "Alternate Identifier", R, in_vocabulary(
        "datacite:alternateIdentifiers/datacite:alternateIdentifier/@alternateIdentifierType",
        IDENTIFIER_TYPES, "alternateIdentifierType"), status=FAIL),
    rule("related-identifier", "Related Identifier", R, present(
        "datacite:relatedIdentifiers/datacite:relatedIdentifier", "datacite:relatedIdentifier")),
    rule("related-identifier.type", "Related Identifier", R, lambda record: in_vocabulary(
        "datacite:relatedIdentifiers/datacite:relatedIdentifier/@relatedIdentifierType",
        IDENTIFIER_TYPES, "relatedIdentifierType")(record) or in_vocabulary(
        "datacite:relatedIdentifiers/datacite:relatedIdentifier/@relationType",
        RELATION_TYPES, "relationType")(record), status=FAIL),
    rule("embargo-period-date", "Embargo Period Date", MA, when(_embargoed, _embargo_dates)),
    rule("language", "Language", MA, present("dc:language", "dc:language"), status=WARN),
    rule("language.code", "Language", MA, each(
        "dc:language", lambda e: is_language(e.text or ""),
        lambda e: f"dc:language {e.text!r} is not an ISO 639 code")),
    rule("publisher", "Publisher", MA, present("dc:publisher", "dc:publisher"), status=WARN),
    rule("publication-date", "Publication Date", M, _publication_date),
    rule("resource-type", "Resource Type", M, _resource_type),
    rule("description", "Description", MA, present("dc:description", "dc:description"), status=WARN),
    rule("description.language", "Description", MA, _lang("dc:description", "a dc:description"), status=WARN),
    rule("format", "Format", R, present("dc:format", "dc:format")),
    rule("format.mime-type", "Format", R, each("dc:format", lambda e: is_mime_type(e.text or ""),
                                             lambda e: f"dc:format {e.text!r} is not a media type")),
    rule("resource-identifier", "Resource Identifier", M, _resource_identifier),
    rule("access-rights", "Access Rights", M, _access_rights),
    rule("source", "Source", R, present("dc:source", "dc:source")),
    rule("subject", "Subject", MA, present("datacite:subjects/datacite:subject", "datacite:subject"), status=WARN),
    rule("subject.scheme", "Subject", MA, _subject_scheme, status=WARN),
    rule("license-condition", "License Condition", R, present("oaire:licenseCondition", "oaire:licenseCondition")),
    rule("license-condition.attributes", "License Condition", R, _license_condition, status=FAIL),
    rule("coverage", "Coverage", R, present("dcterms:coverage", "dcterms:coverage")),
    rule("size", "Size", O, present("datacite:sizes/datacite:size", "datacite:size")),
    rule("geolocation", "Geo Location", O, present("datacite:geoLocations/datacite:geoLocation", "datacite:geoLocation")),
    rule("geolocation.structure", "Geo Location", O, _geolocation, status=FAIL),
    rule("resource-version", "Resource Version", R, present("oaire:version", "oaire:version")),
    rule("resource-version.uri", "Resource Version", R, each(
        "oaire:version", lambda e: e.get("uri") in VERSIONS,
        lambda e: f"oaire:version uri {e.get('uri')!r} is not a COAR version")),
    rule("file-location", "File Location", MA, present("oaire:file", "oaire:file"), status=WARN),
    rule("file-location.attributes", "File Location", MA, _file_attributes, status=WARN),
    rule("citation-title", "Citation Title", R, present("oaire:citationTitle", "oaire:citationTitle")),
    rule("citation-volume", "Citation Volume", R, present("oaire:citationVolume", "oaire:citationVolume")),
    rule("citation-issue", "Citation Issue", R, present("oaire:citationIssue", "oaire:citationIssue")),
    rule("citation-start-page", "Citation Start Page", R, present("oaire:citationStartPage", "oaire:citationStartPage")),
    rule("citation-end-page", "Citation End Page", R, present("oaire:citationEndPage", "oaire:citationEndPage")),
    rule("citation-conference-date", "Citation Conference Date", R, _conference_date),
    rule("audience", "Audience", O, present("dcterms:audience", "dcterms:audience")),
)


def _preflight(run: Run, profile: Profile) -> bool:
    # The format must be offered, in its namespace; the advertised schema should be the official one.
    try:
        url, formats = listed_formats(run)
    except Problem as problem:
        run.fail("openaire4.metadata-format", problem.url, problem.reason)
        return False
    namespace, schema = formats.get(profile.prefix, (None, None))
    if profile.prefix not in formats:
        run.fail("openaire4.metadata-format", url, f"{profile.prefix} is not listed by ListMetadataFormats")
        return False
    if namespace != NAMESPACE:
        run.fail("openaire4.metadata-format", url, f"{profile.prefix} has the namespace {namespace!r}, not {NAMESPACE}")
        return False
    run.ok("openaire4.metadata-format")
    if schema == SCHEMA:
        run.ok("openaire4.schema-location")
    else:
        run.add("openaire4.schema-location", WARN, url, f"{profile.prefix} names the schema {schema!r}, not {SCHEMA}")
    return True


PROFILE = Profile(name="openaire4", title="OpenAIRE Guidelines for Literature Repositories v4",
                  prefix="oai_openaire", namespace=NAMESPACE, namespaces=NAMESPACES, rules=RULES,
                  preflight=_preflight)
