"""Fixtures of the format tests: a repository whose journals have configured rights."""
from __future__ import annotations

import typing as t

import pytest

from tests.helpers.formats import JOURNALS, ingest_everything


@pytest.fixture
def config(config: dict[str, t.Any]) -> dict[str, t.Any]:
    """The test configuration with per-journal rights (tests may still change it before `app`)."""
    return {**config, "OAI_JOURNALS": JOURNALS, "OAI_PAGE_SIZE": 3}


@pytest.fixture
def repository(app, ingest, tmp_path, clock):
    """Every good sample issue and the hand-made issue, ingested with the configured rights."""
    ingest_everything(ingest, tmp_path, clock)
    return app
