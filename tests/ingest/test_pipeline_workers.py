"""Ingest's worker processes start without the parent's main module (pipeline._pool)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from oaiserver.ingest import pipeline

# The main module of `oaiserver ingest` (the console script or `python -m oaiserver.cli`)
# imports oaiserver.cli, and with it Flask and click: a worker that ran it would load them.
MAIN = """
import sys
import oaiserver.cli
from oaiserver.ingest import pipeline

if __name__ == "__main__":
    with pipeline._pool(2) as pool:
        probe = "sorted({'oaiserver.cli', 'flask', 'click'} & set(__import__('sys').modules))"
        print(pool.submit(eval, probe).result(), sys.modules["__main__"].__file__ == __file__)
"""


def test_workers_do_not_import_the_main_module(tmp_path: Path) -> None:
    """A worker imports what its tasks need, not the CLI; the parent keeps its __main__."""
    script = tmp_path / "main.py"
    script.write_text(MAIN)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["[]", "True"]


def test_pool_puts_back_the_main_module() -> None:
    """In process too (as under pytest): __main__ is the same module after the pool started."""
    main = sys.modules["__main__"]
    with pipeline._pool(1) as pool:
        assert pool.submit(abs, -2).result() == 2
    assert sys.modules["__main__"] is main
