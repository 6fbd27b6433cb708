"""Crash safety: `kill -9` an ingest at random moments, again and again.

After every kill the database passes SQLite's integrity check, each issue file is either wholly
in (in some version) or wholly out, the derived tables agree with the records, and the next
ingest completes the work.
"""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from oaiserver.storage import packing
from tests.helpers.oai import REPO, REPOSITORY_IDENTIFIER
from tests.helpers.issues import A, write_issue
from tests.helpers.servers import oaiserver_env

ROUNDS = 15
SEED = 6
# issue number -> articles in version 0. Ten files: enough for ingest to use its worker
# processes (oaiserver/ingest/pipeline.py), whose orphans must not outlive a killed ingest.
ISSUES = {**{n: 12 for n in range(1, 10)}, 10: 150}
ORPHAN_GRACE = 5  # seconds a killed ingest's workers get to notice and exit
VERSIONS = 3
#: Renditions of every live record here: every format but oai_openaire (no access right is configured).
RENDITIONS = 5


def codes(number: int, version: int) -> list[str]:
    """The article codes of an issue in a version: v1 drops the last two, v2 adds two new ones."""
    base = [f"K-{number}-{i}" for i in range(ISSUES[number])]
    if version == 1:
        return base[:-2]
    if version == 2:
        return base[:-2] + [f"K-{number}-new-{i}" for i in range(2)]
    return base


def write_version(root: Path, version: int) -> list[str]:
    """Write every issue file of ``version``; every title names the version."""
    return [
        write_issue(root / f"issue-{number}-v{version}.xml",
                    [A(code, title=f"{code} version {version}") for code in codes(number, version)],
                    volume="1", number=str(number))
        for number in ISSUES
    ]


def start_ingest(env: dict[str, str], files: list[str], log: Path) -> subprocess.Popen:
    """Start `python -m oaiserver.cli ingest` on ``files``, its output to ``log``.

    A file, not a pipe: worker processes orphaned by a kill would hold a pipe open forever.
    """
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "oaiserver.cli", "ingest", "--quiet", *files], env=env,
                                cwd=REPO, stdout=out, stderr=subprocess.STDOUT)


def descendants(pid: int) -> set[int]:
    """The pids of every live descendant of ``pid`` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += children - found
            found |= children
    return found


def wait_gone(pids: set[int], timeout: float) -> set[int]:
    """Wait until none of ``pids`` is alive (or the timeout); return those still alive."""
    deadline = time.monotonic() + timeout
    while True:
        alive = {pid for pid in pids if Path(f"/proc/{pid}").exists()
                 and "zombie" not in Path(f"/proc/{pid}/status").read_text(errors="replace")}
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.1)


def issue_versions(conn: sqlite3.Connection) -> dict[int, int | None]:
    """Which version each issue is wholly in (None: never ingested); fail if one is half in."""
    live: dict[int, dict[str, str]] = defaultdict(dict)
    rows = conn.execute(
        "SELECT i.number, r.article_key, r.article FROM records r JOIN issues i ON i.id = r.issue_id "
        "WHERE r.deleted = 0")
    for number, key, article in rows:
        live[int(number)][key] = json.loads(packing.unpack_article(key, article))["title_en"]
    found: dict[int, int | None] = {}
    for number in ISSUES:
        if not live[number]:
            found[number] = None
            continue
        matches = [v for v in range(VERSIONS)
                   if live[number] == {code: f"{code} version {v}" for code in codes(number, v)}]
        assert len(matches) == 1, f"issue {number} is half in: {sorted(live[number].items())[:6]}"
        found[number] = matches[0]
    return found


def check_consistent(database: Path) -> dict[int, int | None]:
    """Integrity, keys, derived tables and whole files; return the version of each issue."""
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "records" not in tables:
            return {number: None for number in ISSUES}  # killed before the schema was complete
        assert conn.execute(
            "SELECT identifier FROM records r WHERE deleted = 0 AND "
            f"(SELECT COUNT(*) FROM renditions x WHERE x.record_id = r.id) != {RENDITIONS}").fetchall() == []
        assert conn.execute(
            "SELECT identifier FROM records WHERE instr(header, '<datestamp>' || datestamp || '</datestamp>') = 0 "
            "OR instr(header, identifier) = 0 OR (deleted = 1) != (instr(header, 'status=\"deleted\"') > 0)"
        ).fetchall() == []
        assert conn.execute(
            "SELECT s.identifier FROM record_sets s JOIN records r ON r.id = s.record_id "
            "WHERE s.datestamp != r.datestamp OR s.identifier != r.identifier").fetchall() == []
        if "list_sizes" in tables:
            check_list_sizes(conn)
        return issue_versions(conn)
    finally:
        conn.close()


def check_list_sizes(conn: sqlite3.Connection) -> None:
    """The trigger-kept list sizes equal a count from scratch."""
    from oaiserver.storage import list_sizes

    assert list_sizes.kept(conn) == list_sizes.counted(conn)


@dataclass
class Rounds:
    """What the kill rounds saw."""

    killed: int = 0
    mixed: int = 0  # kills that left files of different versions side by side
    outputs: list[str] = field(default_factory=list)
    states: list[dict[int, int | None]] = field(default_factory=list)
    workers: set[int] = field(default_factory=set)  # worker processes of the killed ingests
    orphans: set[int] = field(default_factory=set)  # those still alive ORPHAN_GRACE s after the last kill
    final: dict[int, int | None] = field(default_factory=dict)
    whole: float = 0.0


def kill(proc: subprocess.Popen, rounds: Rounds) -> None:
    """SIGKILL an ingest; remember its worker processes."""
    rounds.workers |= descendants(proc.pid)
    proc.kill()  # SIGKILL: no cleanup, no rollback, no atexit
    proc.wait(timeout=30)
    rounds.killed += 1


def reap(rounds: Rounds) -> None:
    """Give the killed ingests' workers a grace period, then end the survivors (this test started them)."""
    rounds.orphans = wait_gone(rounds.workers, ORPHAN_GRACE)
    for pid in rounds.orphans:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def rounds(tmp_path_factory) -> Rounds:
    """15 ingests killed at random moments (fixed seed), a check after each, then one that completes."""
    root = tmp_path_factory.mktemp("crash")
    config = {"DATABASE": str(root / "oai.sqlite3"), "SECRET_KEY": "crash-secret",
              "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_IDENTIFIER}
    env = oaiserver_env(config, root / "instance")
    versions = [write_version(root, v) for v in range(VERSIONS)]
    result, log = Rounds(), root / "ingest.log"
    # How long one whole ingest takes here (on a scratch database), to spread the kills over it.
    started = time.monotonic()
    calibration = start_ingest({**env, "OAISERVER_DATABASE": str(root / "scratch.sqlite3")}, versions[0], log)
    assert calibration.wait(timeout=300) == 0, log.read_text()[-2000:]
    result.whole = time.monotonic() - started
    rng = random.Random(SEED)
    try:
        for round_ in range(ROUNDS):
            proc = start_ingest(env, versions[round_ % VERSIONS], log)
            try:
                proc.wait(timeout=rng.uniform(0.1, 1.1) * result.whole)
            except subprocess.TimeoutExpired:
                kill(proc, result)
            result.outputs.append(log.read_text(errors="replace"))
            result.states.append(check_consistent(Path(config["DATABASE"])))
            result.mixed += len(set(result.states[-1].values())) > 1
        final = start_ingest(env, versions[1], log)
        assert final.wait(timeout=300) == 0, log.read_text()[-2000:]
        result.final = check_consistent(Path(config["DATABASE"]))
    finally:
        reap(result)
    print(f"{result.killed} of {ROUNDS} ingests killed (a whole one takes {result.whole:.1f} s); "
          f"{result.mixed} kills left files of different versions side by side")
    return result


def test_kill_9_at_random_points_never_leaves_half_a_file(rounds):
    """After every kill: integrity, consistency, whole files; the next ingest completes the work."""
    assert rounds.killed >= ROUNDS // 2, f"only {rounds.killed} of {ROUNDS} ingests were killed"
    assert len(rounds.states) == ROUNDS  # check_consistent passed after every round
    assert rounds.final == {number: 1 for number in ISSUES}
    for output in rounds.outputs:
        assert "Traceback" not in output and "locked" not in output, output[-2000:]


def test_a_killed_ingest_leaves_no_worker_processes(rounds):
    """The worker processes of a killed ingest exit by themselves within a few seconds."""
    if not rounds.workers:
        pytest.skip("no kill landed while ingest had worker processes")
    assert not rounds.orphans, f"{len(rounds.orphans)} workers outlived their ingest by {ORPHAN_GRACE} s"
