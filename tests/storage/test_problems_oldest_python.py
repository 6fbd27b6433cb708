"""The database-error wording works on the oldest Python that setup.cfg allows (3.10)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess

import pytest

from tests.helpers.oai import REPO

# Before 3.11, sqlite3 has no result-code constants and its exceptions carry no code: the
# kinds come from SQLite's fixed messages alone.
SCRIPT = """
import sqlite3
from oaiserver.storage import problems
print(problems.kind(sqlite3.OperationalError("database is locked")),
      problems.kind(sqlite3.DatabaseError("database disk image is malformed")))
"""


def python_3_10() -> str | None:
    """A runnable Python 3.10: on the PATH, or one that pyenv keeps without selecting it."""
    pyenv = os.path.expanduser(os.environ.get("PYENV_ROOT", "~/.pyenv"))
    found = [shutil.which("python3.10"), *sorted(glob.glob(f"{pyenv}/versions/3.10*/bin/python3.10"))]
    return next((p for p in found if p and subprocess.run([p, "-c", ""], capture_output=True).returncode == 0),
                None)


def test_problems_imports_and_classifies_on_python_3_10() -> None:
    """oaiserver.storage.problems imports on 3.10 (no sqlite3.SQLITE_* there) and names the kinds."""
    python = python_3_10()
    if python is None:
        pytest.skip("no Python 3.10 on this machine")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([python, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["busy", "corrupt"]
