"""`oaiserver check` without a schemas folder: official schemas fetched once into a cache (here
from a loopback mirror serving copies of the shared schemas), or a plain SKIP saying why not."""
from __future__ import annotations

import json
import shutil
import socket
import typing as t
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.wrappers import Response

from oaiserver.checker import schema_cache
from oaiserver.checker.command import check_command
from tests.helpers.broken_server import BrokenServer
from tests.helpers.oai import SCHEMAS
from tests.helpers.servers import free_port, wsgi_thread

#: Shared schema folder -> where its files live on the official hosts (URL path without scheme).
LAYOUT = {
    "oai": "www.openarchives.org/OAI/2.0",
    "dcmi": "www.dublincore.org/schemas/xmls/qdc/2008/02/11",
    "oai_openaire": "www.openaire.eu/schema/repo-lit/4.0",
    "marcxml": "www.loc.gov/standards/marcxml/schema",
    "mods": "www.loc.gov/standards/mods/v3",
    "datacite": "schema.datacite.org/meta/kernel-4",
}


@pytest.fixture
def mirror_dir(tmp_path):
    """A temporary copy of the needed .xsd files, laid out as <host>/<path> of their official URLs.

    Two imports are put back to the absolute cross-host URLs the upstream files use, so the
    cache must follow them to another host: oai_dc.xsd -> dublincore.org's simpledc, and
    OpenAIRE's oaire.xsd -> the W3C xml.xsd.
    """
    if not (SCHEMAS / "oai" / "OAI-PMH.xsd").is_file():
        pytest.skip(f"schemas not found at {SCHEMAS}")
    root = tmp_path / "mirror"
    for folder, path in LAYOUT.items():
        shutil.copytree(SCHEMAS / folder, root / path, ignore=shutil.ignore_patterns("*.md", "*.py"))
    _point(root / LAYOUT["oai"] / "oai_dc.xsd", "simpledc20021212.xsd",
           "http://dublincore.org/schemas/xmls/simpledc20021212.xsd")
    (root / "dublincore.org/schemas/xmls").mkdir(parents=True)
    shutil.copy(SCHEMAS / "oai" / "simpledc20021212.xsd", root / "dublincore.org/schemas/xmls")
    shutil.copy(SCHEMAS / "oai" / "xml.xsd", root / "dublincore.org/schemas/xmls")
    _point(root / LAYOUT["oai_openaire"] / "oaire.xsd", "xml.xsd", "http://www.w3.org/2009/01/xml.xsd")
    (root / "www.w3.org/2009/01").mkdir(parents=True)
    shutil.copy(SCHEMAS / "oai" / "xml.xsd", root / "www.w3.org/2009/01/xml.xsd")
    return root


def _point(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert f'schemaLocation="{old}"' in text, path
    path.write_text(text.replace(f'schemaLocation="{old}"', f'schemaLocation="{new}"'), encoding="utf-8")


class Counting:
    """A static file server (WSGI) that counts the requests it gets."""

    def __init__(self, folder: Path) -> None:
        self.requests: list[str] = []
        self.app = SharedDataMiddleware(Response("not found", status=404), {"/": str(folder)})

    def __call__(self, environ: dict[str, t.Any], start_response: t.Callable) -> t.Iterable[bytes]:
        self.requests.append(environ["PATH_INFO"])
        return self.app(environ, start_response)


@pytest.fixture
def mirror(mirror_dir):
    """The mirror folder served on a loopback port: (URL, the request log)."""
    server = Counting(mirror_dir)
    with wsgi_thread(server, path="/") as url:
        yield url, server.requests


def load(path: Path) -> etree._Element:
    """Parse a shared sample response."""
    return etree.parse(str(path)).getroot()


def test_fill_from_the_official_locations_then_work_offline(mirror, tmp_path):
    """Every official schema is fetched (with its imports, across hosts) into the cache; the
    bundles validate each served format strictly; a second run needs no network at all."""
    url, requests = mirror
    cache = tmp_path / "cache"
    outcome = schema_cache.load_or_fill(cache, timeout=10, mirror=url)
    assert outcome.validator is not None, outcome.reason
    assert not outcome.missing, outcome.missing
    assert "/dublincore.org/schemas/xmls/simpledc20021212.xsd" in requests
    assert "/www.w3.org/2009/01/xml.xsd" in requests
    stored = (cache / "files/www.openarchives.org/OAI/2.0/oai_dc.xsd").read_text(encoding="utf-8")
    assert 'schemaLocation="../../../dublincore.org/schemas/xmls/simpledc20021212.xsd"' in stored
    samples = SCHEMAS / "samples"
    for name, valid in (("getrecord_oai_dc.xml", True), ("getrecord_oai_dc_invalid.xml", False),
                        ("getrecord_oai_openaire.xml", True), ("getrecord_oai_openaire_invalid.xml", False),
                        ("getrecord_datacite.xml", True), ("getrecord_datacite_invalid.xml", False),
                        ("getrecord_mods.xml", True), ("getrecord_marcxml.xml", True)):
        error = outcome.validator.validate(load(samples / name))
        assert (error is None) == valid, (name, error)
    assert not outcome.validator.unvalidated

    fetched = len(requests)
    again = schema_cache.load_or_fill(cache, timeout=10, mirror=f"http://127.0.0.1:{free_port()}/")
    assert again.validator is not None and len(requests) == fetched


def test_check_uses_the_cache(mirror, tmp_path):
    """`oaiserver check` with no --schemas fills the cache and validates every response."""
    url, _ = mirror
    with wsgi_thread(BrokenServer()) as base:
        result = CliRunner().invoke(check_command, [base, "--json", "--schema-cache", str(tmp_path / "c"),
                                                    "--schema-mirror", url, "--max-sets", "1"])
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert result.exit_code == 0, result.output
    assert checks["responses.schema-valid"]["status"] == "PASS"
    assert checks["schemas.coverage"]["status"] == "PASS"
    assert str(tmp_path / "c") in checks["schemas.coverage"]["reason"]


def test_no_network_is_a_plain_skip():
    """The mirror refuses connections: validation is a SKIP saying why, the run goes on (exit 0)."""
    with wsgi_thread(BrokenServer()) as base:
        result = CliRunner().invoke(check_command, [base, "--json", "--max-sets", "0", "--sample", "1"])
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    skipped = checks["responses.schema-valid"]
    assert skipped["status"] == "SKIP"
    assert skipped["reason"].startswith("schema validation skipped: no --schemas folder or OAISERVER_SCHEMAS, "
                                        "and the official schemas could not be fetched")
    assert "OAI-PMH.xsd: cannot connect" in skipped["reason"]


def test_a_silent_server_times_out(tmp_path):
    """A schema host that accepts the connection but never answers: the fetch gives up (timeout)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        mirror = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        outcome = schema_cache.load_or_fill(tmp_path / "cache", timeout=0.5, mirror=mirror)
    assert outcome.validator is None
    assert "timed out" in outcome.reason


def test_a_schema_with_a_missing_import_is_left_out(mirror_dir, tmp_path):
    """OpenAIRE's xml.xsd import unreachable: oai_openaire is left out, the rest still validates."""
    (mirror_dir / "www.w3.org/2009/01/xml.xsd").unlink()
    with wsgi_thread(Counting(mirror_dir), path="/") as url:
        outcome = schema_cache.load_or_fill(tmp_path / "cache", timeout=10, mirror=url)
    assert outcome.validator is not None, outcome.reason
    assert any("openaire.xsd" in m for m in outcome.missing), outcome.missing
    samples = SCHEMAS / "samples"
    assert outcome.validator.validate(load(samples / "getrecord_oai_dc.xml")) is None
    assert outcome.validator.validate(load(samples / "getrecord_oai_openaire.xml")) is None  # masked
    assert outcome.validator.unvalidated == {"http://namespace.openaire.eu/schema/oaire/"}


def test_default_folder_follows_xdg(monkeypatch, tmp_path):
    """The standalone default is $XDG_CACHE_HOME/oaiserver/schemas."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert schema_cache.default_folder() == tmp_path / "oaiserver" / "schemas"


def test_app_cli_caches_under_the_instance_folder(mirror, runner, app, monkeypatch):
    """`oaiserver check` run through the app's CLI keeps its cache in <instance>/schema-cache."""
    url, _ = mirror
    monkeypatch.delenv("OAISERVER_SCHEMA_CACHE")
    with wsgi_thread(BrokenServer()) as base:
        result = runner.invoke(args=["check", base, "--schema-mirror", url, "--max-sets", "0", "--sample", "1"])
    assert result.exit_code == 0, result.output
    assert (Path(app.instance_path) / "schema-cache" / "oai-bundle-with-formats.xsd").is_file()
    assert "PASS responses.schema-valid" in result.output
