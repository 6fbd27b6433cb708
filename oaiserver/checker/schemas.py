"""Schema validation of whole OAI-PMH responses, with the strict wildcard mapped to known formats.

OAI-PMH.xsd declares the content of ``<metadata>``, ``<about>``, ``<description>`` and
``<setDescription>`` as ``xs:any namespace="##other" processContents="strict"``: a validator
must find a global declaration for the embedded root element, so validating against
OAI-PMH.xsd alone fails on every record. The checker therefore builds, in memory, a wrapper
schema that imports OAI-PMH.xsd together with every known format schema present in the
schemas folder (the "strict wildcard mapping"): embedded content in those namespaces is
validated strictly against the real format schema. If the folder holds a bundle (a wrapper
that already imports OAI-PMH.xsd and the formats this project serves), the wrapper imports
that instead: ``oai-bundle-with-formats.xsd`` when present, else ``oai-bundle.xsd``. Two
formats define the DataCite namespace differently (DataCite's own schema and OpenAIRE's),
and one schema set holds only one of them; so ``oai-bundle-with-datacite.xsd``, when present,
is loaded as a second schema set, used for the responses whose embedded content it covers and
the first does not. Embedded elements in namespaces with no schema in the folder
are swapped for a placeholder before validation and reported as not validated; elements
with no namespace are left in place, because OAI-PMH forbids them and the schema says so.
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from oaiserver.checker.responses import OAI_NS

XS = "http://www.w3.org/2001/XMLSchema"
PLACEHOLDER_NS = "urn:oaiserver:checker:not-validated"
#: Bundles in order of preference; the first present is the main schema set.
BUNDLES = ("oai-bundle-with-formats.xsd", "oai-bundle.xsd")
#: A second schema set, for the DataCite namespace that the first cannot also hold.
ALTERNATIVE_BUNDLE = "oai-bundle-with-datacite.xsd"

#: Known formats: namespace -> schema files to look for, relative to the schemas folder.
KNOWN_FORMATS: dict[str, tuple[str, ...]] = {
    "http://www.openarchives.org/OAI/2.0/oai_dc/": ("oai_dc.xsd", "oai/oai_dc.xsd"),
    "http://www.openarchives.org/OAI/2.0/oai-identifier": (
        "oai-identifier.xsd", "oai/oai-identifier.xsd"),
    "https://jats.nlm.nih.gov/ns/publishing/1.3/": (
        "jats/jats-publishing-1.3-ns.xsd", "jats-publishing-1.3-ns.xsd"),
    "http://www.openarchives.org/OAI/2.0/provenance": ("provenance.xsd", "oai/provenance.xsd"),
    "http://www.openarchives.org/OAI/2.0/friends/": ("friends.xsd", "oai/friends.xsd"),
    "http://www.openarchives.org/OAI/2.0/branding/": ("branding.xsd", "oai/branding.xsd"),
    "http://www.openarchives.org/OAI/2.0/rights/": ("rights.xsd", "oai/rights.xsd"),
}
OAI_SCHEMA_FILES = ("OAI-PMH.xsd", "oai/OAI-PMH.xsd")
_WILDCARD_PARENTS = tuple(f"{{{OAI_NS}}}{n}" for n in ("metadata", "about", "description",
                                                      "setDescription"))


class SchemaError(Exception):
    """The schemas folder cannot be used."""


#: One compiled schema set: the schema, the namespaces it validates strictly, what it was built from.
SchemaSet = tuple[etree.XMLSchema, frozenset[str], str]


class Validator:
    """Validate OAI-PMH response trees; remember namespaces that could not be validated."""

    def __init__(self, schema: etree.XMLSchema, known: frozenset[str], source: str,
                 alternatives: tuple[SchemaSet, ...] = ()) -> None:
        self.sets = ((schema, known | {OAI_NS}, source),
                     *((s, k | {OAI_NS}, src) for s, k, src in alternatives))
        self.schema, self.known, _ = self.sets[0]
        self.source = "; ".join(src for _, _, src in self.sets)
        self.unvalidated: set[str] = set()

    def validate(self, root: etree._Element) -> str | None:
        """Return None if ``root`` is valid, else the first error message."""
        schema, known = self._pick(root)
        target = self._masked(root, known)
        if schema.validate(target):
            return None
        errors = schema.error_log.filter_from_errors()
        first = errors[0] if errors else schema.error_log.last_error
        if first is None:  # lxml logs why a document is invalid; this only guards the type
            return "invalid, with no error logged"
        return f"line {first.line}: {first.message}"

    def _pick(self, root: etree._Element) -> tuple[etree.XMLSchema, frozenset[str]]:
        # The main set, unless it misses an embedded namespace that an alternative covers.
        if len(self.sets) == 1:
            return self.sets[0][0], self.sets[0][1]
        embedded = {_ns(child) for parent in root.iter(*_WILDCARD_PARENTS) for child in parent
                    if isinstance(child.tag, str) and _ns(child)}
        for schema, known, _ in self.sets:
            if embedded <= known:
                return schema, known
        return self.sets[0][0], self.sets[0][1]

    def _masked(self, root: etree._Element, known: frozenset[str]) -> etree._Element:
        # Copy the tree only when something must be swapped for the placeholder.
        unknown = [child for parent in root.iter(*_WILDCARD_PARENTS) for child in parent
                   if isinstance(child.tag, str) and _ns(child) and _ns(child) not in known]
        if not unknown:
            return root
        self.unvalidated.update(_ns(c) for c in unknown)
        masked = copy.deepcopy(root)
        for parent in masked.iter(*_WILDCARD_PARENTS):
            for child in list(parent):
                if isinstance(child.tag, str) and _ns(child) and _ns(child) not in known:
                    parent.replace(child, etree.Element(f"{{{PLACEHOLDER_NS}}}not-validated"))
        return masked


def _ns(element: etree._Element) -> str:
    return etree.QName(element).namespace or ""


def load(folder: Path) -> Validator:
    """Return a validator for the schemas in ``folder``; raise SchemaError if unusable."""
    main, *alternatives = _load(folder.resolve())
    return Validator(*main, alternatives=tuple(alternatives))


@functools.lru_cache(maxsize=4)
def _load(folder: Path) -> list[SchemaSet]:
    # Cached per process: the JATS schemas take seconds to load.
    sets = [_compile(folder, *_imports(folder))]
    alternative = folder / ALTERNATIVE_BUNDLE
    if (folder / BUNDLES[0]).is_file() and alternative.is_file():
        sets.append(_compile(folder, {_target_namespace(alternative): alternative},
                             _bundle_namespaces(alternative)))
    return sets


def _compile(folder: Path, imports: dict[str, Path], known: frozenset[str]) -> SchemaSet:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        schema = etree.XMLSchema(etree.fromstring(_wrapper(imports), parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as error:
        raise SchemaError(f"cannot load the schemas in {folder}: {error}") from None
    return schema, known, ", ".join(str(p) for p in imports.values())


def _imports(folder: Path) -> tuple[dict[str, Path], frozenset[str]]:
    # Returns {namespace: schema file} to import and the namespaces validated strictly.
    bundle = next((folder / name for name in BUNDLES if (folder / name).is_file()), None)
    if bundle is not None:
        return {_target_namespace(bundle): bundle}, _bundle_namespaces(bundle)
    oai = next((folder / f for f in OAI_SCHEMA_FILES if (folder / f).is_file()), None)
    if oai is None:
        raise SchemaError(f"{folder} has neither {' nor '.join(BUNDLES)} nor {' nor '.join(OAI_SCHEMA_FILES)}")
    imports = {OAI_NS: oai}
    for namespace, candidates in KNOWN_FORMATS.items():
        found = next((folder / c for c in candidates if (folder / c).is_file()), None)
        if found is not None:
            imports[namespace] = found
    return imports, frozenset(imports)


def _wrapper(imports: dict[str, Path]) -> bytes:
    # The wrapper's own namespace declares the placeholder for unvalidated content.
    lines = [f'<xs:schema xmlns:xs="{XS}" targetNamespace="{PLACEHOLDER_NS}">']
    for namespace, path in imports.items():
        attr = f"namespace={quoteattr(namespace)} " if namespace else ""
        lines.append(f"<xs:import {attr}schemaLocation={quoteattr(path.as_uri())}/>")
    lines.append(
        '<xs:element name="not-validated"><xs:complexType><xs:sequence>'
        '<xs:any namespace="##any" processContents="skip" minOccurs="0" maxOccurs="unbounded"/>'
        '</xs:sequence><xs:anyAttribute namespace="##any" processContents="skip"/>'
        "</xs:complexType></xs:element></xs:schema>"
    )
    return "\n".join(lines).encode("utf-8")


def _target_namespace(path: Path) -> str:
    return etree.parse(str(path), etree.XMLParser(no_network=True)).getroot().get("targetNamespace", "")


def _bundle_namespaces(path: Path) -> frozenset[str]:
    root = etree.parse(str(path), etree.XMLParser(no_network=True)).getroot()
    return frozenset(i.get("namespace", "") for i in root.iter(f"{{{XS}}}import"))
