"""A schema folder for users who have none: the official schemas, fetched once into a cache.

When no ``--schemas`` folder is given, the checker looks in its cache folder; if the cache has
no bundle yet, it fetches the official schemas from their ``schemaLocation`` URLs (each with
the request timeout, following every ``xs:import``/``xs:include`` they make), stores them
under ``<cache>/files/<host>/<path>`` with every ``schemaLocation`` rewritten to the stored
copy, and writes two bundles there (the same shape as a project schemas folder, which
:func:`oaiserver.checker.schemas.load` reads). The DCMI ``dc.xsd`` comes first in the main
bundle: it declares the Dublin Core elements both oai_dc and OpenAIRE need (libxml2 keeps the
first schema it loads for a namespace); DataCite's kernel-4 is in the second bundle, since
OpenAIRE defines that namespace differently. A schema that cannot be fetched is left out,
and its namespace is then reported as not validated. Nothing here raises: when validation is
impossible, the reason comes back for the report.
"""
from __future__ import annotations

import os
import posixpath
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from oaiserver.checker import schemas
from oaiserver.checker.http import USER_AGENT

XS = "http://www.w3.org/2001/XMLSchema"
#: Largest schema document fetched.
MAX_SCHEMA_BYTES = 4 * 1024 * 1024
#: The main bundle's schemas, in import order: (namespace, official schemaLocation).
OFFICIAL: tuple[tuple[str, str], ...] = (
    ("http://www.openarchives.org/OAI/2.0/", "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"),
    ("http://purl.org/dc/elements/1.1/", "https://www.dublincore.org/schemas/xmls/qdc/2008/02/11/dc.xsd"),
    ("http://www.openarchives.org/OAI/2.0/oai_dc/", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    ("http://www.openarchives.org/OAI/2.0/oai-identifier", "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"),
    ("http://namespace.openaire.eu/schema/oaire/", "https://www.openaire.eu/schema/repo-lit/4.0/openaire.xsd"),
    ("http://www.loc.gov/MARC21/slim", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"),
    ("http://www.loc.gov/mods/v3", "http://www.loc.gov/standards/mods/v3/mods-3-8.xsd"),
)
#: The second bundle adds DataCite's own kernel-4 (and leaves out OpenAIRE's).
DATACITE = ("http://datacite.org/schema/kernel-4", "http://schema.datacite.org/meta/kernel-4/metadata.xsd")
_NOT_WITH_DATACITE = {"http://namespace.openaire.eu/schema/oaire/", "http://purl.org/dc/elements/1.1/"}
_DIRECTIVES = tuple(f"{{{XS}}}{name}" for name in ("import", "include", "redefine", "override"))


@dataclass
class Outcome:
    """A validator, or None and why not; plus what could not be fetched."""

    validator: schemas.Validator | None
    reason: str = ""
    missing: list[str] = field(default_factory=list)


def default_folder() -> Path:
    """The XDG cache folder for schemas: ``$XDG_CACHE_HOME/oaiserver/schemas`` (else ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "oaiserver" / "schemas"


def load_or_fill(folder: Path, timeout: float, mirror: str | None = None) -> Outcome:
    """Use the bundles cached in ``folder``, fetching the official schemas first if there are none."""
    fetched: list[str] = []
    missing: list[str] = []
    if not (folder / schemas.BUNDLES[0]).is_file():
        try:
            fetched, missing = fill(folder, timeout, mirror)
        except OSError as error:
            return Outcome(None, f"schema validation skipped: cannot write the schema cache {folder}: {error}")
        if OFFICIAL[0][1] not in fetched:
            why = missing[0] if missing else OFFICIAL[0][1]
            return Outcome(None, f"schema validation skipped: no --schemas folder or OAISERVER_SCHEMAS, "
                                 f"and the official schemas could not be fetched ({why})", missing)
    try:
        return Outcome(schemas.load(folder), missing=missing)
    except schemas.SchemaError as error:
        return Outcome(None, f"schema validation skipped: the cached schemas do not compile: {error} "
                             f"(delete {folder} to fetch them again)", missing)


def fill(folder: Path, timeout: float, mirror: str | None = None) -> tuple[list[str], list[str]]:
    """Fetch every official schema into ``folder`` and write the bundles; return (fetched, failures)."""
    store = _Store(folder, timeout, mirror)
    got: dict[str, Path] = {}
    for namespace, url in (*OFFICIAL, DATACITE):
        path = store.fetch(url)
        if path is None and not got:
            return [], store.failures  # without OAI-PMH.xsd nothing validates: one timeout, not eight
        if path is not None:
            got[namespace] = path
    fetched = [url for namespace, url in (*OFFICIAL, DATACITE) if namespace in got]
    main = [(ns, got[ns]) for ns, _ in OFFICIAL if ns in got]
    if "http://namespace.openaire.eu/schema/oaire/" in got and "http://purl.org/dc/elements/1.1/" not in got:
        # Without the full DCMI dc.xsd first, OpenAIRE's schemas cannot compile with oai_dc's.
        main = [(ns, path) for ns, path in main if ns != "http://namespace.openaire.eu/schema/oaire/"]
    _write(folder / schemas.BUNDLES[0], main)
    if DATACITE[0] in got:
        alternative = [(ns, path) for ns, path in main if ns not in _NOT_WITH_DATACITE]
        _write(folder / schemas.ALTERNATIVE_BUNDLE, [*alternative, (DATACITE[0], got[DATACITE[0]])])
    return fetched, store.failures


class _Store:
    """Fetch schema documents and their imports into ``<folder>/files``, once each."""

    def __init__(self, folder: Path, timeout: float, mirror: str | None) -> None:
        self.files = folder / "files"
        self.timeout = timeout
        self.mirror = mirror.rstrip("/") + "/" if mirror else None
        self.done: dict[str, Path | None] = {}
        self.failures: list[str] = []

    def fetch(self, url: str) -> Path | None:
        """Store ``url`` and everything it imports; return its path, or None if it failed."""
        if url in self.done:
            return self.done[url]
        path = self.path_for(url)
        self.done[url] = path  # before the imports: schemas may import each other
        try:
            root = etree.fromstring(self._get(url), etree.XMLParser(no_network=True, resolve_entities=False))
        except (OSError, ValueError, etree.XMLSyntaxError) as error:
            self.done[url] = None
            self.failures.append(f"{url}: {_describe(error)}")
            return None
        for directive in root.iter(*_DIRECTIVES):
            location = directive.get("schemaLocation")
            if not location:
                continue
            target = self.fetch(urllib.parse.urljoin(url, location))
            if target is None:  # a schema missing a part would not compile: leave it out
                self.done[url] = None
                self.failures.append(f"{url}: needs {location}, which could not be fetched")
                return None
            directive.set("schemaLocation", posixpath.relpath(target.as_posix(), path.parent.as_posix()))
        _write_bytes(path, etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
        return path

    def path_for(self, url: str) -> Path:
        """Where ``url`` is stored: files/<host>/<path>."""
        parts = urllib.parse.urlsplit(url)
        segments = [s for s in parts.path.split("/") if s not in ("", ".", "..")] or ["index.xsd"]
        return self.files.joinpath(parts.hostname or "_", *segments)

    def _get(self, url: str) -> bytes:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ValueError(f"not an http(s) URL: {url}")
        where = f"{self.mirror}{parts.hostname}{parts.path}" if self.mirror else url
        request = urllib.request.Request(where, headers={"User-Agent": USER_AGENT})
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:
            body = answer.read(MAX_SCHEMA_BYTES + 1)
        if len(body) > MAX_SCHEMA_BYTES:
            raise ValueError(f"larger than {MAX_SCHEMA_BYTES} bytes")
        return body


def _write(path: Path, imports: list[tuple[str, Path]]) -> None:
    # A bundle: one wrapper schema importing each namespace from its stored copy, in order.
    lines = [f'<xs:schema xmlns:xs="{XS}" targetNamespace="urn:oaiserver:checker:{path.stem}">']
    lines += [f"  <xs:import namespace={quoteattr(ns)} schemaLocation={quoteattr(p.relative_to(path.parent).as_posix())}/>"
              for ns, p in imports]
    lines.append("</xs:schema>\n")
    _write_bytes(path, "\n".join(lines).encode("utf-8"))


def _write_bytes(path: Path, data: bytes) -> None:
    # Atomic: a run that stops half-way never leaves a truncated schema behind.
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, path)


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect: {error.reason}"
    if isinstance(error, TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"
