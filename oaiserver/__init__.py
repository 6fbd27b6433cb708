"""oaiserver: an OAI-PMH 2.0 data provider for scholarly journals."""
from __future__ import annotations

import os
import typing as t

from oaiserver.config import ConfigError

if t.TYPE_CHECKING:
    from flask import Flask

__all__ = ["ConfigError", "create_app"]


def create_app(test_config: t.Mapping[str, t.Any] | None = None) -> Flask:
    """Build the app: defaults, instance/config.py, OAISERVER_* variables, test config; then check."""
    # Imported here: ingest's worker processes import oaiserver modules but never an app.
    from flask import Flask

    from oaiserver import cli, config, web

    instance_path = os.environ.get("OAISERVER_INSTANCE_PATH") or None
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.from_mapping(config.defaults())
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("OAISERVER")
    if test_config is not None:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    config.check_all(app.config, app.instance_path, development=app.debug or app.testing)

    web.init_app(app)
    cli.init_app(app)
    return app
