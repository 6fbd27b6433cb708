"""Admin commands started together, through the real CLI in subprocesses: each one waits its turn
(saying so) or gives up with one clear line and exit status 75; never a traceback, never
"database is locked".

With OAISERVER_SLOW_TESTS=1 the ingests on a new database run 20 at once as well as 5.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

from tests.helpers.issues import A, write_issue
from tests.helpers.oai import REPO, REPOSITORY_IDENTIFIER, SAMPLES
from tests.helpers.servers import oaiserver_env

BASE = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/"
TIMEOUT = 300  # a deadlock fails the test instead of hanging it
#: The waiting line names the holder ("pid 12: oaiserver ingest"), or "an oaiserver command" when
#: the holder has the lock but has not yet written its name into the lock file.
WAITING = "waiting for another writer ("
COUNTS = [5, pytest.param(20, marks=pytest.mark.skipif(
    not os.environ.get("OAISERVER_SLOW_TESTS"), reason="slow: set OAISERVER_SLOW_TESTS=1"))]


def start(env: t.Mapping[str, str], *args: str | Path) -> subprocess.Popen:
    """Start one `oaiserver` command; its output is read when it ends."""
    return subprocess.Popen([sys.executable, "-m", "oaiserver.cli", *map(str, args)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(procs: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    """Wait for every command; return (exit status, stdout, stderr) of each."""
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=TIMEOUT)
        results.append((proc.returncode, out, err))
    return results


def assert_only_waiting_lines(stderr: str) -> None:
    """A command that succeeded said nothing on stderr but that it waited."""
    assert "Traceback" not in stderr and "locked" not in stderr, stderr
    assert all(line.startswith(WAITING) for line in stderr.splitlines()), stderr


def count(database: str, where: str = "1") -> int:
    """How many records match ``where``."""
    conn = sqlite3.connect(database)
    try:
        return conn.execute(f"SELECT COUNT(*) FROM records WHERE {where}").fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def env(config: dict, tmp_path: Path) -> dict[str, str]:
    """The environment of a CLI subprocess on the test's (not yet existing) database."""
    return oaiserver_env(config, tmp_path / "instance")


@pytest.mark.parametrize("n", COUNTS)
def test_ingests_started_together_on_a_new_database_all_succeed(env, config, tmp_path, n):
    """N ingests of the same files on a database that does not exist yet: the first creates it
    and adds the articles, the others wait their turn and find them unchanged."""
    files = [write_issue(tmp_path / f"v{i}.xml", [A(f"C-{i}-{k}") for k in range(6)], number=str(i))
             for i in range(3)]
    results = finish([start(env, "ingest", *files) for _ in range(n)])
    for status, out, err in results:
        assert status == 0, (out, err)
        assert_only_waiting_lines(err)
    totals = sorted(out.strip().splitlines()[-1] for _, out, _ in results)
    assert totals == sorted(
        ["total: 3 file(s), 0 failed: added 18, updated 0, unchanged 0, deleted 0"]
        + ["total: 3 file(s), 0 failed: added 0, updated 0, unchanged 18, deleted 0"] * (n - 1))
    assert count(config["DATABASE"]) == 18


def test_different_admin_commands_together_each_succeed(env, config, tmp_path):
    """ingest, withdraw, restore, reindex, init-db and stats at once: each does its work."""
    first = subprocess.run([sys.executable, "-m", "oaiserver.cli", "ingest", str(SAMPLES / "nkums-v18n2.xml"),
                            write_issue(tmp_path / "old.xml", [A("W-1"), A("W-2")])],
                           env=env, cwd=REPO, capture_output=True, text=True, timeout=TIMEOUT)
    assert first.returncode == 0, first.stderr
    assert subprocess.run([sys.executable, "-m", "oaiserver.cli", "withdraw", BASE + "W-2"], env=env, cwd=REPO,
                          capture_output=True, timeout=TIMEOUT).returncode == 0
    new = write_issue(tmp_path / "new.xml", [A(f"N-{k}") for k in range(8)], number="2")
    commands = [("ingest", new), ("withdraw", BASE + "W-1"), ("restore", BASE + "W-2"), ("reindex",),
                ("init-db",), ("stats",), ("ingest", new)]
    results = finish([start(env, *command) for command in commands])
    for command, (status, out, err) in zip(commands, results):
        assert status == 0, (command, out, err)
        assert_only_waiting_lines(err)
    database = config["DATABASE"]
    assert count(database, "identifier LIKE '%/N-%' AND deleted = 0") == 8
    assert count(database, f"identifier = '{BASE}W-1' AND deleted = 1 AND withdrawn = 1") == 1
    assert count(database, f"identifier = '{BASE}W-2' AND deleted = 0 AND withdrawn = 0") == 1


def test_a_command_waits_for_the_writer_and_names_it(env, config):
    """While another writer holds the lock, a command says whom it waits for, then does its work."""
    from oaiserver.storage.lock import writer_lock

    said = []
    with writer_lock(config["DATABASE"], "test holder", 0, said.append):
        proc = start(env, "ingest", SAMPLES / "nkums-v18n2.xml")
        first_line = proc.stderr.readline()  # blocks until the command waits
        assert first_line == f"waiting for another writer (pid {os.getpid()}: test holder) to finish…\n"
        assert proc.poll() is None
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0 and "added 1" in out, err
    assert said == []  # the lock was free when the test took it


def test_a_command_that_may_not_wait_gives_up_in_one_line(env, config):
    """With OAI_WRITER_WAIT=0 a command finding another writer says so in one line, exit status 75."""
    from oaiserver.storage.lock import writer_lock

    with writer_lock(config["DATABASE"], "oaiserver reindex", 0, print):
        done = subprocess.run(
            [sys.executable, "-m", "oaiserver.cli", "withdraw", BASE + "X"],
            env={**env, "OAISERVER_OAI_WRITER_WAIT": "0"}, cwd=REPO, capture_output=True, text=True,
            timeout=TIMEOUT)
    assert done.returncode == 75
    assert done.stderr.splitlines() == [
        f"error: another writer (pid {os.getpid()}: oaiserver reindex) still holds the database "
        "(OAI_WRITER_WAIT is 0); run this command again when it is done"]
