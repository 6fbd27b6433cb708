"""The metadata formats oaiserver disseminates: a registry keyed by metadataPrefix.

A format renders a normalised :class:`oaiserver.model.Article` to a serialised XML fragment
(the element that goes inside ``<metadata>``). Rendering happens at ingest; requests only
concatenate the stored fragments.
"""
from __future__ import annotations

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
    """One metadataPrefix: its schema, namespace and render function."""

    prefix: str
    schema: str
    namespace: str
    # Returns the serialised metadata element, or None when this article cannot be
    # expressed in the format (then the record is not disseminated in it).
    render: t.Callable[["Article", CrosswalkSettings], str | None]
    version: str = "1"  # bumped when the format's output changes for the same input
    label: str = ""  # a human-readable name ("OpenAIRE Literature v4")


_NO_JOURNAL_SETTINGS = JournalSettings()


def _registry() -> dict[str, MetadataFormat]:
    from metadata_formats import datacite, jats, marcxml, mods, oai_dc, oai_openaire

    formats = (oai_dc.FORMAT, jats.FORMAT, oai_openaire.FORMAT, datacite.FORMAT, mods.FORMAT, marcxml.FORMAT)
    return {f.prefix: f for f in formats}


FORMATS: dict[str, MetadataFormat] = _registry()


def get(prefix: str) -> MetadataFormat | None:
    """Return the format registered under ``prefix``, or None."""
    return FORMATS.get(prefix)
