"""Every setting, declared once: its key, default, help text and check.

Settings are read in layers, each overriding the one before: the defaults below, then
``config.py`` in the instance folder, then ``OAISERVER_<KEY>`` environment variables (read as
JSON when they parse as JSON), then the test configuration; :func:`check_all` then parses and
validates the result, so a configuration that cannot work stops the app at start, naming the key.

Adding a key is one entry in :data:`SETTINGS`: its default reaches ``app.config``, its check runs
at start, and the README's Configuration table must gain its row: tests/test_docs.py compares
the table with :func:`markdown_table` and prints the expected table when they differ.
"""
from __future__ import annotations

import copy
import json
import os
import re
import secrets
import typing as t
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "SETTINGS", "Check", "Checking", "ConfigError", "Setting", "accept", "check_all", "defaults",
    "domain_name", "in_instance_folder", "journals", "markdown_table", "one_of", "secret_key", "seconds", "string_list",
    "whole_number",
]


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which key and why."""


@dataclass(frozen=True)
class Checking:
    """What a check may need besides the value: the key it checks and the app's situation."""

    key: str
    instance_path: Path
    development: bool  # debug or testing: development-only values are allowed


#: Parses and validates one value, returning what the app uses; raises ConfigError naming the key.
Check = t.Callable[[t.Any, Checking], t.Any]


def accept(value: t.Any, _checking: Checking) -> t.Any:
    """Take the value as it is (keys whose every value works, or that their reader interprets)."""
    return value


@dataclass(frozen=True)
class Setting:
    """One configuration key: its default, its README help and the check applied at start."""

    key: str
    default: t.Any
    help: str  # Markdown: the "meaning" cell of the README's table
    check: Check = accept
    #: Said after the default in the README: what an empty value means, or a unit.
    default_note: str = ""

    def documented_value(self) -> str:
        """The default as the docs write it: "empty", or the value in backticks (lists as JSON)."""
        if self.default == "":
            return "empty"
        if isinstance(self.default, (list, dict)):
            return f"`{json.dumps(self.default, ensure_ascii=False)}`"
        return f"`{self.default}`"

    def documented_default(self) -> str:
        """The README's "default" cell: the documented value and its note."""
        if not self.default_note:
            return self.documented_value()
        if self.default == "":
            return f"empty: {self.default_note}"
        return f"{self.documented_value()} ({self.default_note})"


# ---------------------------------------------------------------------------- checks


def whole_number(minimum: int) -> Check:
    """A check: an integer (or a string of one) of at least ``minimum``."""

    def check(value: t.Any, checking: Checking) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{checking.key} must be a whole number, not {value!r}") from None
        if number < minimum:
            raise ConfigError(f"{checking.key} must be at least {minimum}")
        return number

    return check


def one_of(*choices: str) -> Check:
    """A check: one of ``choices``, as a string."""

    def check(value: t.Any, checking: Checking) -> str:
        if value not in choices:
            raise ConfigError(f"{checking.key} must be one of {', '.join(choices)}, not {value!r}")
        return t.cast(str, value)

    return check


def string_list(value: t.Any, _checking: Checking) -> t.Any:
    """A list as it is, or a comma-separated string (from the environment) as a list."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


# The repositoryIdentifier syntax of oai-identifier.xsd (a domain name).
_DOMAIN_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")


def domain_name(value: t.Any, checking: Checking) -> str:
    """A domain name such as journal.example.org (what an oai-identifier's repository part allows)."""
    if not isinstance(value, str) or not _DOMAIN_NAME.fullmatch(value):
        raise ConfigError(
            f"{checking.key} must be a domain name such as journal.example.org, not {value!r}"
        )
    return value


def in_instance_folder(file_name: str) -> Check:
    """A check: a path, where empty means ``file_name`` in the instance folder."""

    def check(value: t.Any, checking: Checking) -> t.Any:
        return value or os.path.join(checking.instance_path, file_name)

    return check


def secret_key(value: t.Any, checking: Checking) -> t.Any:
    """Refuse the tutorial key 'dev' outside debug/testing; generate a key when empty."""
    if value == "dev" and not checking.development:
        raise ConfigError(
            f"{checking.key} is the development value 'dev'; set OAISERVER_{checking.key} to a long "
            "random string (the same on every host), or leave it empty to generate one"
        )
    return value or _instance_secret(checking.instance_path / "secret_key")


def _instance_secret(path: Path) -> str:
    """Read the instance's generated key, creating it once (safe with several workers)."""
    for _ in range(50):
        try:
            key = path.read_text().strip()
        except FileNotFoundError:
            key = ""
        if key:
            return key
        tmp = path.with_name(f".secret_key.{os.getpid()}")
        tmp.write_text(secrets.token_urlsafe(48))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic: exactly one process creates the key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    raise ConfigError(f"cannot read or create the secret key file {path}")


#: An OAI request is a few short arguments; a bigger body is refused (413) before it is parsed.
_MAX_CONTENT_LENGTH = 64 * 1024


def seconds(value: t.Any, checking: Checking) -> float:
    """A number of seconds, 0 or more (an integer or a decimal, or a string of one)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{checking.key} must be a number of seconds, not {value!r}") from None
    if number < 0:
        raise ConfigError(f"{checking.key} must be 0 or more")
    return number


def journals(value: t.Any, checking: Checking) -> t.Any:
    """Per-journal settings (metadata_formats.journals): checked here, read by the crosswalks."""
    from metadata_formats.journals import parse_journals

    try:
        parse_journals(value or {})
    except ValueError as error:
        raise ConfigError(str(error)) from None
    return value or {}


def content_length(value: t.Any, checking: Checking) -> t.Any:
    """A byte count; None (Flask's own default, "no limit") takes this project's default instead."""
    return whole_number(0)(_MAX_CONTENT_LENGTH if value is None else value, checking)


# ---------------------------------------------------------------------------- the settings

#: Every key, in the README's order. To add a key, add one Setting here (its check: ``accept`` or
#: one of the checks above) and its row to the README (the test prints it); nothing else.
SETTINGS: tuple[Setting, ...] = (
    Setting("DATABASE", "", "the SQLite file", in_instance_folder("oai.sqlite3"),
            default_note="`<instance>/oai.sqlite3`"),
    # Every host serving one database needs the same key: tokens signed by one are read by all.
    Setting("SECRET_KEY", "",
            "signs resumption tokens; every host serving one database needs the same key. "
            "The tutorial value `dev` is refused outside debug/testing",
            secret_key, default_note="generated once into `<instance>/secret_key`"),
    Setting("OAI_REPOSITORY_NAME", "oaiserver demo repository", "Identify's repositoryName"),
    Setting("OAI_BASE_URL", "",
            "the base URL echoed in every response and in Identify; set it in production",
            default_note="the URL of the request"),
    Setting("OAI_ADMIN_EMAILS", ["admin@localhost.localdomain"],
            "Identify's adminEmail(s); a list, or comma-separated in the environment", string_list),
    Setting("OAI_REPOSITORY_IDENTIFIER", "oaiserver.localhost",
            "the domain name inside identifiers (`oai:{this}:…`); checked at start against the "
            "oai-identifier syntax. Never change it once harvested", domain_name),
    # Page sizes start at 2: no page may hold a single item (decisions.md P10).
    Setting("OAI_PAGE_SIZE", 100, "records per ListRecords page", whole_number(2)),
    # A page ends after the record that reaches it, or at its second record if later.
    Setting("OAI_PAGE_MAX_BYTES", 4 * 1024 * 1024,
            "bytes of records per ListRecords page, at most (about): large records make shorter "
            "pages", whole_number(1), default_note="4 MiB"),
    Setting("OAI_IDENTIFIERS_PAGE_SIZE", 500,
            "headers per ListIdentifiers page, and sets per ListSets page", whole_number(2)),
    Setting("OAI_TOKEN_TTL", 7 * 24 * 3600, "lifetime of a resumption token, in seconds",
            whole_number(1), default_note="7 days"),
    Setting("OAI_COMPRESSION", ["gzip", "deflate"],
            "content codings offered (and listed in Identify)", string_list),
    # The crosswalk keys (publisher … journal ids) are read by metadata_formats.CrosswalkSettings.
    Setting("OAI_PUBLISHER", "", "`dc:publisher` and JATS `<publisher-name>`",
            default_note="the journal title"),
    Setting("OAI_RIGHTS", "", "`dc:rights` access term, e.g. `info:eu-repo/semantics/openAccess`"),
    Setting("OAI_LICENSE_URL", "", "licence URL for `dc:rights` and JATS `<permissions>`"),
    Setting("OAI_EMIT_CORRESPONDING_EMAIL", True, "the corresponding author's e-mail in JATS"),
    Setting("OAI_ARTICLE_TYPES", {},
            "extra `content_type` → JATS `@article-type` mappings (lower-case keys)"),
    Setting("OAI_JOURNAL_IDS", {},
            "JATS publisher `journal-id` per journal key (default: the journal's host)"),
    Setting("OAI_JOURNALS", {},
            "per journal key (ISSN or host): what the issue files do not say — `access_right` "
            "(`open`, `embargoed`, `restricted`, `metadata-only`), `embargo_end`, `license_url`, "
            "`license_label`, `publisher`; a journal's own value wins over `OAI_RIGHTS`, "
            "`OAI_LICENSE_URL` and `OAI_PUBLISHER`. See docs/admin.md", journals),
    Setting("OAI_LOAD_DEMO", True,
            "`oaiserver serve` ingests the bundled sample into an empty database"),
    # Per process: with gunicorn's sync workers (one request per process) it never triggers.
    Setting("OAI_MAX_CONCURRENT_REQUESTS", 16,
            "requests in progress per process; beyond it `503` with `Retry-After` (0: no limit; "
            "matters with threaded workers, see docs/admin.md)", whole_number(0)),
    Setting("OAI_RETRY_AFTER", 5, "seconds in that `Retry-After`", whole_number(1)),
    # Flask's own key (Flask's default, None, means no limit).
    Setting("MAX_CONTENT_LENGTH", _MAX_CONTENT_LENGTH, "largest POST body; larger ones get `413`",
            content_length),
    # Ingest holds 10 to 30 times a file's size at its peak: 32 MiB keeps it under about 1 GiB.
    Setting("OAI_MAX_FILE_BYTES", 32 * 1024 * 1024,
            "largest issue file `oaiserver ingest` accepts; a bigger one is refused with one line "
            "naming it", whole_number(1), default_note="32 MiB"),
    Setting("OAI_WRITER_WAIT", 3600,
            "seconds a writing admin command (ingest, withdraw, restore, reindex, init-db) waits "
            "for another one on the same database before it gives up with exit status 75 "
            "(0: do not wait)", seconds, default_note="an hour"),
    # Replicated nodes (decisions.md P14, docs/admin.md "Replicas and disaster recovery").
    Setting("OAI_ROLE", "standalone",
            "`standalone` (one machine), `primary` (the ingest host, replicated by Litestream) or "
            "`follower` (a web node serving a replica: never writes, refuses a file in WAL mode, "
            "answers `503` when behind)", one_of("standalone", "primary", "follower")),
    Setting("OAI_VISIBILITY_DELAY", 2,
            "seconds added to the datestamp of every change: lists show a change from that moment, "
            "on every node at once. At least `OAI_MAX_LAG` + 5 on a replicated primary",
            whole_number(0)),
    Setting("OAI_MAX_LAG", 5,
            "a follower answers `503` (and `/healthz` fails) when the primary's last heartbeat is "
            "older than this", whole_number(1), default_note="seconds"),
    Setting("OAI_REPLICA_URL", "",
            "where Litestream keeps the replica (`file:///path` or `s3://bucket/path`), for "
            "`oaiserver replica` commands"),
    # Browsers load XSLT only from the page's own origin, so keep it on this server.
    Setting("OAI_STYLESHEET", "/oai.xsl",
            "where each response's `<?xml-stylesheet?>` points (below the app's root); "
            "empty leaves it out"),
)


def defaults() -> dict[str, t.Any]:
    """Every key's default; a fresh copy, so that no app shares a list or dict with another."""
    return {setting.key: copy.deepcopy(setting.default) for setting in SETTINGS}


def check_all(config: t.MutableMapping[str, t.Any], instance_path: str | os.PathLike[str],
              development: bool) -> None:
    """Replace each key's value by its checked value, in declaration order; raise ConfigError."""
    for setting in SETTINGS:
        checking = Checking(setting.key, Path(instance_path), development)
        config[setting.key] = setting.check(config.get(setting.key, setting.default), checking)


def markdown_table() -> str:
    """The README's Configuration table, one row per setting."""
    rows = ["| key | default | meaning |", "|---|---|---|"]
    rows += [f"| `{s.key}` | {s.documented_default()} | {s.help} |" for s in SETTINGS]
    return "\n".join(rows) + "\n"
