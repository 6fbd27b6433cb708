"""`systemctl reload` (SIGHUP to the gunicorn master) serves new code and configuration, as docs/admin.md says."""
from __future__ import annotations

import os
import signal
import time
import urllib.request

import pytest

from tests.helpers.oai import REPO
from tests.helpers.servers import shipped_gunicorn

pytestmark = pytest.mark.integration

RELOAD_DEADLINE = 30  # seconds for the new workers to answer


def identify(base: str) -> tuple[str, str]:
    """(the repository name in Identify, the X-Code-Version header) of one response."""
    with urllib.request.urlopen(base + "?verb=Identify", timeout=10) as response:
        body = response.read().decode()
        version = response.headers.get("X-Code-Version", "")
    return body.split("<repositoryName>")[1].split("</repositoryName>")[0], version


def test_sighup_loads_new_code_and_configuration(tmp_path):
    """After SIGHUP the workers run the code and the instance config.py as they are now."""
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text('OAI_REPOSITORY_NAME = "before"\n')
    # A deployment's wsgi.py, plus a module of "application code" that the test changes.
    (tmp_path / "wsgi.py").write_text(
        "import codeversion\n"
        "from oaiserver import create_app\n"
        "_app = create_app()\n"
        "def app(environ, start_response):\n"
        "    def start(status, headers, *exc):\n"
        "        return start_response(status, [*headers, ('X-Code-Version', codeversion.VERSION)], *exc)\n"
        "    return _app(environ, start)\n")
    (tmp_path / "codeversion.py").write_text('VERSION = "1"\n')
    env = {**os.environ, "OAISERVER_INSTANCE_PATH": str(instance), "OAISERVER_SECRET_KEY": "reload-test",
           "GUNICORN_ACCESSLOG": "off", "GUNICORN_WORKERS": "2",
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    with shipped_gunicorn(env, tmp_path / "gunicorn.log", cwd=tmp_path) as (base, proc):
        assert identify(base) == ("before", "1")
        (instance / "config.py").write_text('OAI_REPOSITORY_NAME = "after"\n')
        (tmp_path / "codeversion.py").write_text('VERSION = "2"\n')
        proc.send_signal(signal.SIGHUP)
        deadline, seen = time.monotonic() + RELOAD_DEADLINE, []
        while (now := identify(base)) != ("after", "2") and time.monotonic() < deadline:
            seen.append(now)
            time.sleep(0.2)
    assert now == ("after", "2"), (seen[-3:], (tmp_path / "gunicorn.log").read_text()[-2000:])
