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
        # Each probe holds its worker a moment, so that both workers answer some of them.
        probe = ("__import__('time').sleep(0.05) or (__import__('os').getpid(), "
                 "sorted({'oaiserver.cli', 'flask', 'click'} & set(__import__('sys').modules)))")
        answers = [f.result() for f in [pool.submit(eval, probe) for _ in range(8)]]
        print(len({pid for pid, _ in answers}), sorted({str(found) for _, found in answers}),
              sys.modules["__main__"].__file__ == __file__)
"""


def test_workers_do_not_import_the_main_module(tmp_path: Path) -> None:
    """Neither worker imports the CLI, only what its tasks need; the parent keeps its __main__."""
    script = tmp_path / "main.py"
    script.write_text(MAIN)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.split() == ["2", "['[]']", "True"]


def test_pool_puts_back_the_main_module() -> None:
    """In process too (as under pytest): __main__ is the same module after the pool started."""
    main = sys.modules["__main__"]
    with pipeline._pool(1) as pool:
        assert pool.submit(abs, -2).result() == 2
    assert sys.modules["__main__"] is main
