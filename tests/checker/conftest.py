"""The checker's tests never fetch real schemas: the cache is a temporary folder, the mirror a closed port."""
from __future__ import annotations

import pytest

from tests.helpers.servers import free_port


@pytest.fixture(autouse=True)
def offline_schema_cache(tmp_path, monkeypatch):
    """Point `oaiserver check` without --schemas at an empty cache and an unreachable mirror."""
    monkeypatch.setenv("OAISERVER_SCHEMA_CACHE", str(tmp_path / "schema-cache"))
    monkeypatch.setenv("OAISERVER_SCHEMA_MIRROR", f"http://127.0.0.1:{free_port()}/")
    monkeypatch.delenv("OAISERVER_SCHEMAS", raising=False)
