"""The metadata formats oaiserver disseminates: a registry keyed by metadataPrefix.

A format renders a normalised :class:`oaiserver.model.Article` to a serialised XML fragment
(the element that goes inside ``<metadata>``). Rendering happens at ingest; requests only
concatenate the stored fragments.

A format is a plug-in: one module here that defines ``FORMAT = MetadataFormat(...)``, and
one line naming that module in :data:`REGISTRATION`. Everything else (ListMetadataFormats,
the CLI, the browser view, the tests) reads :data:`FORMATS`. Records ingested before a format
existed get it from `oaiserver reindex` (or when their issue is ingested again)
(decisions.md P8).
"""
from __future__ import annotations

import hashlib
import importlib
import re
import typing as t
from dataclasses import dataclass, field

from metadata_formats.journals import JournalSettings, parse_journals

if t.TYPE_CHECKING:
    from oaiserver.model import Article


@dataclass(frozen=True)
class CrosswalkSettings:
    """Deployment choices the crosswalks need (from the app configuration)."""

    publisher: str | None = None
    rights: str | None = None  # e.g. "info:eu-repo/semantics/openAccess"
    license_url: str | None = None  # e.g. "https://creativecommons.org/licenses/by/4.0/"
    emit_corresponding_email: bool = True
    article_types: t.Mapping[str, str] = field(default_factory=dict)  # extra content_type -> JATS type
    journal_ids: t.Mapping[str, str] = field(default_factory=dict)  # journal key -> publisher-id
    # journal key -> access right, licence and publisher of that journal (OAI_JOURNALS)
    journals: t.Mapping[str, JournalSettings] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: t.Mapping[str, t.Any]) -> "CrosswalkSettings":
        """Build the settings from a Flask-style config mapping."""
        return cls(
            publisher=config.get("OAI_PUBLISHER") or None,
            rights=config.get("OAI_RIGHTS") or None,
            license_url=config.get("OAI_LICENSE_URL") or None,
            emit_corresponding_email=bool(config.get("OAI_EMIT_CORRESPONDING_EMAIL", True)),
            article_types=dict(config.get("OAI_ARTICLE_TYPES") or {}),
            journal_ids=dict(config.get("OAI_JOURNAL_IDS") or {}),
            journals=parse_journals(config.get("OAI_JOURNALS") or {}),
        )

    def journal(self, key: str) -> JournalSettings:
        """Return the settings of one journal (all empty when it has none)."""
        return self.journals.get(key) or _NO_JOURNAL_SETTINGS


@dataclass(frozen=True)
class MetadataFormat:
    """One metadataPrefix: what ListMetadataFormats says of it, and how an article is rendered."""

    prefix: str
    namespace: str
    schema: str  # the URL of its XML Schema, as ListMetadataFormats gives it
    # Returns the serialised metadata element, or None when this article cannot be
    # expressed in the format (then the record is not disseminated in it).
    render: t.Callable[["Article", CrosswalkSettings], str | None]
    # Bump it whenever the format's output changes for some article: it is part of every
    # record's ingest fingerprint, so the next ingest or `oaiserver reindex` renders anew.
    version: str
    label: str  # a human name ("Dublin Core", "JATS 1.3") for the CLI, the browser view, the docs

    def __post_init__(self) -> None:
        # OAI-PMH's metadataPrefix syntax less the apostrophe, and a namespace without one:
        # the browser view quotes both in XPath string literals.
        if not _PREFIX.fullmatch(self.prefix):
            raise ValueError(f"metadataPrefix {self.prefix!r} has characters OAI-PMH does not allow")
        if not self.namespace or "'" in self.namespace:
            raise ValueError(f"format {self.prefix!r}: namespace {self.namespace!r} is empty or has an apostrophe")


_PREFIX = re.compile(r"[A-Za-z0-9_.!~*()-]+")

#: The registered formats, one line each: the module that defines the format's ``FORMAT``.
#: Their order is the order of ListMetadataFormats. oai_dc comes first: OAI-PMH requires it.
REGISTRATION: tuple[str, ...] = (
    "metadata_formats.oai_dc",
    "metadata_formats.jats",
    "metadata_formats.oai_openaire",
    "metadata_formats.datacite",
    "metadata_formats.mods",
    "metadata_formats.marcxml",
)

_NO_JOURNAL_SETTINGS = JournalSettings()


def _registry(modules: t.Iterable[str]) -> dict[str, MetadataFormat]:
    """Import each registered module and key its FORMAT by prefix (a prefix only once)."""
    formats: dict[str, MetadataFormat] = {}
    for name in modules:
        fmt = importlib.import_module(name).FORMAT
        if not isinstance(fmt, MetadataFormat):
            raise TypeError(f"{name}.FORMAT is not a MetadataFormat")
        if fmt.prefix in formats:
            raise ValueError(f"metadataPrefix {fmt.prefix!r} is registered twice ({name})")
        formats[fmt.prefix] = fmt
    return formats


FORMATS: dict[str, MetadataFormat] = _registry(REGISTRATION)


def get(prefix: str) -> MetadataFormat | None:
    """Return the format registered under ``prefix``, or None."""
    return FORMATS.get(prefix)


def fingerprint(settings: CrosswalkSettings, formats: t.Mapping[str, MetadataFormat] | None = None) -> str:
    """What, besides an article, decides its renditions: every format's prefix and version, and the settings.

    It is part of every record's source hash. Adding, removing or changing a format (or a
    setting) therefore changes it, and the next ingest of a record, or `oaiserver reindex`
    for all of them at once, renders the record again; its datestamp moves only where the
    served output changed.
    """
    registered = FORMATS if formats is None else formats
    # Sorted: the order of the registration list is not part of any rendition.
    versions = "\0".join(sorted(f"{fmt.prefix}={fmt.version}" for fmt in registered.values()))
    return hashlib.sha256(f"{versions}\0{settings!r}".encode()).hexdigest()[:16]
