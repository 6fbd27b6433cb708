"""The HTTP edge: the Flask view, the fast WSGI route and request limits, over one Flask-free answer.

Only ``oaiserver.create_app`` and ``oaiserver.cli`` import this package; the rest of oaiserver
knows nothing of HTTP.
"""
from __future__ import annotations

import typing as t

from oaiserver.web import fastpath, limits, views

if t.TYPE_CHECKING:
    from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    """Install the views, the request limits and the fast route, in that order, on a checked app."""
    views.init_app(app)
    limits.init_app(app)
    fastpath.init_app(app)  # last: it wraps the WSGI app the others set up
