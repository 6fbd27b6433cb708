"""The -wal file goes back to nothing after an admin command, even while the server keeps its
read connections open (as it does between requests)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from oaiserver.storage import db
from tests.helpers.issues import A, write_issue
from tests.helpers.oai import REPO
from tests.helpers.servers import oaiserver_env


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """Run one `oaiserver` command to its end."""
    done = subprocess.run([sys.executable, "-m", "oaiserver.cli", *args], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done


def test_the_wal_is_truncated_after_each_command_while_readers_stay_connected(config, tmp_path):
    """Without the checkpoint the -wal file keeps the size of the largest transaction for as
    long as any connection stays open, which the server's always do."""
    env = oaiserver_env(config, tmp_path / "instance")
    first = write_issue(tmp_path / "v1.xml", [A(f"R-{k}", abstract="<p>" + "text " * 500 + "</p>")
                                               for k in range(200)])
    run(env, "init-db")
    reader = db.connect_reader(config["DATABASE"])  # the server's cached connection
    try:
        reader.execute("SELECT COUNT(*) FROM records").fetchone()  # one request, then idle
        wal = Path(f"{config['DATABASE']}-wal")
        run(env, "ingest", first)
        assert wal.stat().st_size == 0
        assert reader.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 200
        run(env, "withdraw", reader.execute("SELECT identifier FROM records LIMIT 1").fetchone()[0])
        assert wal.stat().st_size == 0
    finally:
        reader.close()
