"""oaiserver: an OAI-PMH 2.0 data provider for scholarly journals."""
from __future__ import annotations

import os
import secrets
import typing as t
from pathlib import Path

if t.TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]

_LIST_KEYS = ("OAI_ADMIN_EMAILS", "OAI_COMPRESSION")
_INT_KEYS = ("OAI_PAGE_SIZE", "OAI_IDENTIFIERS_PAGE_SIZE", "OAI_TOKEN_TTL")


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which key and why."""


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Build the app: defaults, then instance/config.py, then OAISERVER_* variables."""
    # Imported here: ingest's worker processes import oaiserver modules but never an app.
    from flask import Flask

    instance_path = os.environ.get("OAISERVER_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_object("oaiserver.config")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("OAISERVER")
    if test_config is not None:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    _finish_config(app)

    from oaiserver import cli

    from oaiserver.web import fastpath, limits, views

    views.init_app(app)
    limits.init_app(app)
    fastpath.init_app(app)
    cli.init_app(app)
    return app


def _finish_config(app: Flask) -> None:
    config = app.config
    if not config["DATABASE"]:
        config["DATABASE"] = os.path.join(app.instance_path, "oai.sqlite3")
    for key in _LIST_KEYS:
        if isinstance(config[key], str):
            config[key] = [v.strip() for v in config[key].split(",") if v.strip()]
    for key in _INT_KEYS:
        try:
            config[key] = int(config[key])
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a whole number, not {config[key]!r}") from None
        if config[key] < 1:
            raise ConfigError(f"{key} must be at least 1")
    _check_repository_identifier(config["OAI_REPOSITORY_IDENTIFIER"])
    _check_journals(config.get("OAI_JOURNALS") or {})
    if config["SECRET_KEY"] == "dev" and not (app.debug or app.testing):
        raise ConfigError(
            "SECRET_KEY is the development value 'dev'; set OAISERVER_SECRET_KEY to a long "
            "random string (the same on every host), or leave it empty to generate one"
        )
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = _instance_secret(Path(app.instance_path) / "secret_key")


def _check_repository_identifier(value: str) -> None:
    import re

    # The repositoryIdentifier syntax of oai-identifier.xsd (a domain name).
    if not re.fullmatch(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+", value or ""):
        raise ConfigError(
            f"OAI_REPOSITORY_IDENTIFIER must be a domain name such as journal.example.org, not {value!r}"
        )


def _check_journals(value: object) -> None:
    from metadata_formats.journals import parse_journals

    try:
        parse_journals(value)
    except ValueError as error:
        raise ConfigError(str(error)) from None


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
