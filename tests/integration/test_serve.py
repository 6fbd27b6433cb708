"""The README's first command: `oaiserver serve` on a fresh instance serves the bundled sample at once."""
from __future__ import annotations

import os
import subprocess
import sys
import urllib.request

import pytest
from lxml import etree

from tests.helpers.oai import NS, REPO, identifiers
from tests.helpers.servers import free_port, stop_process, wait_for

pytestmark = pytest.mark.integration


def _get(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read()
    except OSError:
        return None


def test_serve_on_a_fresh_instance_lists_the_demo_issue_at_once(tmp_path, oai_schema) -> None:
    """Only the instance folder set, as on a fresh machine: the demo is ingested and listed the moment
    the server answers (loaded without the visibility delay), with schema-valid responses."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OAISERVER_")}
    env["OAISERVER_INSTANCE_PATH"] = str(tmp_path / "instance")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "oaiserver.cli", "serve", "--port", str(port)], env=env,
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/oai"
    try:
        wait_for(lambda: _get(base + "?verb=Identify") is not None, 60, "oaiserver serve answering")
        body = _get(base + "?verb=ListRecords&metadataPrefix=oai_dc")
        assert body is not None
        tree = etree.fromstring(body)
        assert oai_schema.validate(tree), oai_schema.error_log
        assert tree.find("o:error", NS) is None and len(identifiers(tree)) > 0
    finally:
        stop_process(proc)
        output = proc.stdout.read().decode()
        proc.stdout.close()
    assert "demo issue ingested" in output
    assert (tmp_path / "instance" / "secret_key").exists()
