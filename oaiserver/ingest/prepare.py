"""Issue file bytes → everything the writer stores for them: parse, render, serialise, hash.

Pure functions of their input and a :class:`PrepareConfig`; no database. An ingest runs
:func:`prepare_issue` in its own process or in a worker process (pipeline.py), reindex and
restore run :func:`prepare_stored` on an article read back from the database; either way
the writer (writer.py) gets :class:`Prepared` articles and only decides what to write.

What comes out is packed for a trip between processes: the article JSON and the renditions
(~25 KB an article) as the bytes the writer stores, the article JSON and most renditions packed
(storage/packing.py), the renditions with their checksums, since pickle would encode text on one
side, decode it on the other, and the writer encode it again to store it, while SQLite takes the
bytes as they are (writes.TEXT); and the sets, alike across an issue, once per issue.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import typing as t
from dataclasses import dataclass

import metadata_formats
from metadata_formats import FORMATS, CrosswalkSettings, rights
from oaiserver.ingest.parsing import parse_issue
from oaiserver.ingest.sets import SetInfo, article_sets
from oaiserver.model import Article, Issue, article_from_dict
from oaiserver.storage import integrity, packing

@dataclass(frozen=True)
class PrepareConfig:
    """What preparing depends on besides its input (sent to every worker process)."""

    repository_identifier: str
    settings: CrosswalkSettings
    # Part of every source hash and file digest: see metadata_formats.fingerprint (every
    # format's version and the settings).
    fingerprint: str

    @classmethod
    def of(cls, repository_identifier: str, settings: CrosswalkSettings) -> PrepareConfig:
        """The configuration for a repository and its crosswalk settings."""
        return cls(repository_identifier, settings, metadata_formats.fingerprint(settings))


class Stored(t.NamedTuple):
    """A rendition as the writer stores it: packed or not (storage/packing.py), and the CRC-32 of its XML."""

    data: bytes
    crc: int


@dataclass(frozen=True)
class Rendered:
    """Everything the server disseminates for one live article."""

    sets: list[SetInfo]
    renditions: dict[str, Stored]  # prefix -> what is stored for it
    content_hash: str


@dataclass(frozen=True)
class Prepared:
    """One article made ready to save."""

    identifier: str
    journal_key: str
    article_key: str
    article_json: bytes  # as stored: its UTF-8 packed (storage/packing.py pack_article)
    source_hash: str
    rendered: Rendered


@dataclass(frozen=True)
class PreparedIssue:
    """One parsed issue file made ready to save: the issue's key and its articles."""

    key: tuple[str, str, str]  # (journal key, volume, number)
    articles: list[Prepared]


def prepare_issue(data: bytes, config: PrepareConfig) -> PreparedIssue:
    """Parse one issue file and prepare every article in it (in a worker or in process).

    Raises :class:`~oaiserver.ingest.parsing.IngestError` for a file that cannot be ingested.
    """
    return prepare_parsed(parse_issue(data), config)


def prepare_parsed(issue: Issue, config: PrepareConfig) -> PreparedIssue:
    """Prepare every article of a parsed issue."""
    shared: dict[SetInfo, SetInfo] = {}
    return PreparedIssue(issue_key(issue), [
        prepare_article(article, oai_identifier(config.repository_identifier, article), config, shared)
        for article in issue.articles
    ])


def prepare_stored(identifier: str, article_json: str, config: PrepareConfig) -> Prepared:
    """Prepare an article again from its stored JSON (for reindex and restore)."""
    return prepare_article(article_from_dict(json.loads(article_json)), identifier, config)


def prepare_article(article: Article, identifier: str, config: PrepareConfig,
                    shared_sets: dict[SetInfo, SetInfo] | None = None) -> Prepared:
    """Serialise, hash and render one article.

    ``shared_sets`` makes equal sets one object, which pickle then sends once.
    """
    text = article_json(article)
    rendered = render_article(article, config.settings)
    if shared_sets is not None:
        rendered = dataclasses.replace(
            rendered, sets=[shared_sets.setdefault(info, info) for info in rendered.sets])
    return Prepared(identifier, article.journal.key, article.key, packing.pack_article(text.encode("utf-8")),
                    source_hash(text, config.fingerprint), rendered)


def render_article(article: Article, settings: CrosswalkSettings) -> Rendered:
    """Render every metadata format and the set membership of one article."""
    renditions = {}
    for prefix, fmt in FORMATS.items():
        xml = fmt.render(article, settings)
        if xml is not None:
            renditions[prefix] = xml
    access = rights.access(article, settings)
    sets = article_sets(article, access.right if access else None)
    encoded = {prefix: xml.encode("utf-8") for prefix, xml in renditions.items()}
    digest = hashlib.sha256()
    for info in sets:
        digest.update(f"set\0{info.spec}\0".encode())
    for prefix in sorted(encoded):
        # The bytes of f"format\0{prefix}\0{xml}\0", each rendition encoded once.
        digest.update(f"format\0{prefix}\0".encode())
        digest.update(encoded[prefix])
        digest.update(b"\0")
    return Rendered(sets, {prefix: stored(prefix, data) for prefix, data in encoded.items()},
                    digest.hexdigest())


def stored(prefix: str, data: bytes) -> Stored:
    """What the writer stores for a rendition (its UTF-8 bytes): packed where its format has a dictionary, and its checksum.

    Both are made here, in the worker processes, so that the single writer only stores them.
    """
    return Stored(packing.pack(prefix, data), integrity.checksum(data))


def oai_identifier(repository_identifier: str, article: Article) -> str:
    """Return the OAI identifier of an article: oai:<repository>:<journal key>/<article key>."""
    return f"oai:{repository_identifier}:{article.journal.key}/{article.key}"


def issue_key(issue: Issue) -> tuple[str, str, str]:
    """Return what names an issue in the database: (journal key, volume, number)."""
    return (issue.journal.key, issue.info.volume or "", issue.info.number or "")


def source_hash(article_json: str, fingerprint: str) -> str:
    """The hash that tells an unchanged article (and unchanged settings) from a changed one."""
    return hashlib.sha256(f"{fingerprint}\0{article_json}".encode()).hexdigest()


def file_digest(data: bytes, fingerprint: str) -> str:
    """The key under which an ingested file is remembered (its bytes and the fingerprint)."""
    return hashlib.sha256(f"{fingerprint}\0".encode() + data).hexdigest()


def article_json(article: Article) -> str:
    """The article as stored: ``json.dumps(plain(article), ensure_ascii=False, sort_keys=True)``."""
    return _ENCODER.encode(article)


# The same bytes as json.dumps(plain(article), …) in a third of the time. The encoder writes
# tuples as arrays itself and asks ``vars`` (a C builtin, no Python frame) for each model
# object's attributes: a frozen dataclass keeps exactly its fields in __dict__
# (tests/ingest/test_ingest_speed_equivalence.py checks both claims).
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=vars)

_FIELDS: dict[type, tuple[str, ...]] = {}
_LEAVES = frozenset({str, int, float, bool, type(None)})


def plain(value: t.Any) -> t.Any:
    """The JSON-able data of a model object: what ``model.to_dict`` gives, several times faster.

    ``dataclasses.asdict`` deep-copies every leaf; the model holds only str/int/bool/None
    leaves, tuples and dataclasses, so a plain walk gives equal data (the JSON, and so the
    source hash, is byte for byte the same).
    """
    kind = type(value)
    if kind in _LEAVES:
        return value
    names = _FIELDS.get(kind)
    if names is None:
        if kind is tuple or kind is list:
            return [v if type(v) in _LEAVES else plain(v) for v in value]
        if not dataclasses.is_dataclass(kind):
            return value
        names = _FIELDS[kind] = tuple(f.name for f in dataclasses.fields(kind))
    out = {}
    for name in names:
        v = getattr(value, name)
        out[name] = v if type(v) in _LEAVES else plain(v)
    return out
