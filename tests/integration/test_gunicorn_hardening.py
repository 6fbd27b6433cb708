"""The shipped gunicorn.conf.py against a real gunicorn: request headers that must not steer it."""
from __future__ import annotations

import http.client
import os
import urllib.parse

import pytest

from tests.helpers.servers import shipped_gunicorn

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """gunicorn as shipped (workers, classes, timeouts) on an empty repository."""
    root = tmp_path_factory.mktemp("hardening")
    env = {**os.environ, "OAISERVER_INSTANCE_PATH": str(root / "instance"),
           "OAISERVER_SECRET_KEY": "hardening-test", "GUNICORN_ACCESSLOG": "off"}
    with shipped_gunicorn(env, root / "gunicorn.log") as (base, _proc):
        yield base


def get(base: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """One GET on a new connection with exactly these extra headers."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("header", ["SCRIPT_NAME", "PATH_INFO"])
@pytest.mark.parametrize("value", ["/oai", "/elsewhere", "/"])
def test_script_name_and_path_info_headers_are_ignored(served, header, value):
    """A client's SCRIPT_NAME or PATH_INFO header changes nothing (no 500, no redirect)."""
    status, body = get(served, "/oai?verb=Identify", {header: value})
    assert status == 200, body[:300]
    assert b"<Identify>" in body


def test_the_mount_point_comes_from_the_environment(tmp_path):
    """SCRIPT_NAME in the environment (docs/admin.md, "Under a path") still mounts the app, header or not."""
    env = {**os.environ, "OAISERVER_INSTANCE_PATH": str(tmp_path / "instance"), "SCRIPT_NAME": "/journal",
           "OAISERVER_SECRET_KEY": "hardening-test", "GUNICORN_ACCESSLOG": "off", "GUNICORN_WORKERS": "1"}
    with shipped_gunicorn(env, tmp_path / "gunicorn.log", path="/journal/oai") as (base, _proc):
        status, body = get(base, "/journal/oai?verb=Identify", {"SCRIPT_NAME": "/elsewhere"})
    assert status == 200 and b"<Identify>" in body
    assert b'href="/journal/oai.xsl"' in body
