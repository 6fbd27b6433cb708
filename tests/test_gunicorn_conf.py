"""gunicorn.conf.py: the defaults, and the variables that change them."""
from __future__ import annotations

import runpy

from tests.conftest import REPO


def _settings(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_MAX_REQUESTS", "GUNICORN_WORKERS", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_workers_are_preloaded_and_not_recycled_by_default(monkeypatch):
    settings = _settings(monkeypatch)
    assert settings["preload_app"] is True
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (0, 0)
    assert settings["worker_class"] == "sync"


def test_recycling_can_be_turned_on(monkeypatch):
    settings = _settings(monkeypatch, GUNICORN_MAX_REQUESTS="5000", GUNICORN_WORKERS="3")
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (5000, 500)
    assert settings["workers"] == 3
