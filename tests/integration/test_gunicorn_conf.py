"""gunicorn.conf.py: the defaults, and the variables that change them."""
from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
import time
import urllib.request

import pytest
from gunicorn.workers.gthread import ThreadWorker

from tests.helpers.oai import REPO


def _settings(monkeypatch, **env: str) -> dict:
    for name in ("GUNICORN_MAX_REQUESTS", "GUNICORN_WORKERS", "GUNICORN_BIND", "GUNICORN_THREADS",
                 "GUNICORN_WORKER_CLASS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(REPO / "gunicorn.conf.py"))


def test_workers_build_the_app_and_are_not_recycled_by_default(monkeypatch):
    settings = _settings(monkeypatch)
    assert settings["preload_app"] is False  # a reload must build the app anew (test_reload.py)
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (0, 0)


def test_threaded_workers_take_no_more_connections_than_threads(monkeypatch):
    settings = _settings(monkeypatch)
    assert (settings["worker_class"].__name__, settings["threads"], settings["keepalive"]) == ("MainLoopWorker", 32, 0)
    assert issubclass(settings["worker_class"], ThreadWorker)
    assert settings["worker_connections"] == settings["threads"]
    settings = _settings(monkeypatch, GUNICORN_THREADS="64")
    assert settings["worker_connections"] == settings["threads"] == 64


def test_sync_workers_behind_a_proxy(monkeypatch):
    """GUNICORN_WORKER_CLASS=sync: gunicorn's sync worker, one thread (more would make it gthread)."""
    settings = _settings(monkeypatch, GUNICORN_WORKER_CLASS="sync", GUNICORN_THREADS="8")
    assert (settings["worker_class"], settings["threads"]) == ("sync", 1)
    assert _settings(monkeypatch, GUNICORN_WORKER_CLASS="gthread")["worker_class"].__name__ == "MainLoopWorker"
    with pytest.raises(SystemExit, match="GUNICORN_WORKER_CLASS='gevent'"):
        _settings(monkeypatch, GUNICORN_WORKER_CLASS="gevent")


def test_responses_are_never_sent_by_sendfile(monkeypatch):
    """MainLoopWorker keeps a response's bytes to send them in order: a sendfile() on the socket would jump them."""
    assert _settings(monkeypatch)["sendfile"] is False


def test_recycling_can_be_turned_on(monkeypatch):
    settings = _settings(monkeypatch, GUNICORN_MAX_REQUESTS="5000", GUNICORN_WORKERS="3")
    assert (settings["max_requests"], settings["max_requests_jitter"]) == (5000, 500)
    assert settings["workers"] == 3


@pytest.mark.integration
def test_gunicorn_conf(tmp_path):
    """`gunicorn -c gunicorn.conf.py wsgi:app` binds GUNICORN_BIND and logs requests with durations."""
    from tests.helpers.servers import free_port, stop_process

    port = free_port()
    env = {
        **os.environ,
        "OAISERVER_INSTANCE_PATH": str(tmp_path / "instance"),
        "OAISERVER_SECRET_KEY": "gunicorn-conf-test",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        try:
            request = urllib.request.Request(f"http://127.0.0.1:{port}/oai?verb=Identify",
                                             headers={"X-Forwarded-For": "203.0.113.9"})
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(request, timeout=2) as response:
                        assert b"<repositoryName>" in response.read()
                    break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                    time.sleep(0.2)
        finally:
            stop_process(proc, grace=15)
    output = log.read_text()
    assert re.search(r'fwd=203\.0\.113\.9 \[[^]]+\] "GET /oai\?verb=Identify HTTP/1\.1" 200 \d+ \d+ms', output), output
