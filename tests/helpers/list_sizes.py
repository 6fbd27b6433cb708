"""Watch how the ingest writer's ListSizeKeeper counts: which records it reads back."""
from __future__ import annotations

import pytest

from oaiserver.storage import list_sizes


def records_read_back(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the records ListSizeKeeper counts by reading them back (SQL), from now on."""
    read_back: list[int] = []
    real_count = list_sizes.ListSizeKeeper._count

    def counting(keeper: list_sizes.ListSizeKeeper, sign: int, ids: list[int]) -> None:
        if sign > 0:  # adding back (taking away always reads what is there)
            read_back.extend(ids)
        real_count(keeper, sign, ids)

    monkeypatch.setattr(list_sizes.ListSizeKeeper, "_count", counting)
    return read_back
