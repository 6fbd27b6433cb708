"""Flow control: beyond OAI_MAX_CONCURRENT_REQUESTS requests in progress in one process, a 503
with Retry-After at once instead of a queue (oaiserver/limits.py, decisions.md P6)."""
from __future__ import annotations

import threading
import typing as t
import urllib.error
import urllib.request

import pytest

from tests.helpers.servers import wsgi_thread

HTTP_TIMEOUT = 30


class Gate:
    """Holds requests inside the view until released, and counts those that arrived."""

    def __init__(self) -> None:
        self.inside = threading.Semaphore(0)
        self.release = threading.Event()

    def wrap(self, handle: t.Callable) -> t.Callable:
        """A verbs.handle that waits at the gate."""

        def held(params, context):
            self.inside.release()
            assert self.release.wait(30)
            return handle(params, context)

        return held


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    """GET a URL; return status, headers and body, also for HTTP errors."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def limited_app(app, limit: int, retry_after: int):
    """The app with oaiserver.web.limits installed, at ``limit`` concurrent requests."""
    from oaiserver.web import limits

    limits.init_app(app)  # a no-op once create_app installs it
    app.config["OAI_RETRY_AFTER"] = retry_after
    app.extensions["oaiserver.slots"] = limits.Slots(limit)
    return app


def test_over_the_limit_is_503_with_retry_after(app, monkeypatch):
    """Two requests held inside a threaded server at limit 2: the third is 503 at once."""
    from oaiserver.protocol import verbs

    gate = Gate()
    monkeypatch.setattr(verbs, "handle", gate.wrap(verbs.handle))
    limited_app(app, limit=2, retry_after=7)
    with wsgi_thread(app, "") as root:
        results: list[int] = []
        held = [threading.Thread(target=lambda: results.append(get(f"{root}/oai?verb=Identify")[0]))
                for _ in range(2)]
        for thread in held:
            thread.start()
        try:
            assert gate.inside.acquire(timeout=30) and gate.inside.acquire(timeout=30)
            status, headers, body = get(f"{root}/oai?verb=Identify")
            assert (status, headers["Retry-After"]) == (503, "7")
            assert headers["Content-Type"].startswith("text/plain") and b"busy" in body
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert get(f"{root}/healthz")[0] == 200  # a load balancer still sees a live node
        finally:
            gate.release.set()
            for thread in held:
                thread.join(timeout=30)
        assert results == [200, 200]
        assert get(f"{root}/oai?verb=Identify")[0] == 200  # the slots came back


def test_a_failed_request_gives_its_slot_back(app, monkeypatch):
    """A request that raised still frees its slot: with limit 1 the next one is served."""
    from oaiserver.protocol import verbs

    limited_app(app, limit=1, retry_after=1)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    real, calls = verbs.handle, []

    def once_broken(params, context):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return real(params, context)

    monkeypatch.setattr(verbs, "handle", once_broken)
    client = app.test_client()
    assert client.get("/oai?verb=Identify").status_code == 500
    assert [client.get("/oai?verb=Identify").status_code for _ in range(3)] == [200, 200, 200]


def test_limit_zero_means_unlimited(app):
    """OAI_MAX_CONCURRENT_REQUESTS = 0 switches the limit off."""
    limited_app(app, limit=0, retry_after=1)
    assert all(app.extensions["oaiserver.slots"].take() for _ in range(1000))
    assert app.test_client().get("/oai?verb=Identify").status_code == 200


@pytest.mark.parametrize("key, value", [("OAI_MAX_CONCURRENT_REQUESTS", -1),
                                        ("OAI_MAX_CONCURRENT_REQUESTS", "many"), ("OAI_RETRY_AFTER", 0)])
def test_bad_limit_settings_stop_the_app(config, tmp_path, monkeypatch, key, value):
    """A negative or non-numeric limit, or a Retry-After under a second, stops the app naming the key."""
    from oaiserver import ConfigError, create_app
    from oaiserver.web import limits

    monkeypatch.setenv("OAISERVER_INSTANCE_PATH", str(tmp_path / "instance"))
    with pytest.raises(ConfigError, match=key):
        limits.init_app(create_app({**config, key: value}))
