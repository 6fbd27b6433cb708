"""A real repository for the harvester tests: CLI ingest, then gunicorn on a free local port."""
from __future__ import annotations

import contextlib
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.oai import GOOD_SAMPLES, REPO, REPOSITORY_IDENTIFIER
from tests.helpers.issues import A, write_issue
from tests.helpers.servers import gunicorn, oaiserver_env

WITHDRAWN = f"oai:{REPOSITORY_IDENTIFIER}:1234-5679/X-0"


@dataclass
class Expected:
    """What the database holds: identifier -> deleted, the sets and their members."""

    records: dict[str, bool]
    sets: list[str]
    members: dict[str, set[str]] = field(default_factory=dict)  # spec -> identifiers its harvest lists
    formats: dict[str, set[str]] = field(default_factory=dict)  # prefix -> identifiers rendered in it
    # spec -> live records that have left the set: listed in it as deleted (decisions.md P16)
    left: dict[str, set[str]] = field(default_factory=dict)

    @property
    def deleted(self) -> set[str]:
        """The identifiers of the deleted records."""
        return {i for i, d in self.records.items() if d}

    def deleted_in(self, spec: str) -> set[str]:
        """The identifiers a harvest of set ``spec`` lists as deleted: deleted records, and those that left it."""
        return (self.members[spec] & self.deleted) | self.left.get(spec, set())

    @property
    def live(self) -> set[str]:
        """The identifiers of the records that are not deleted."""
        return {i for i, d in self.records.items() if not d}

    def listed(self, prefix: str) -> set[str]:
        """What a full harvest in ``prefix`` lists: every deleted record, and the live ones it expresses."""
        return self.deleted | (self.live & self.formats.get(prefix, set()))


@dataclass
class Server:
    """A running gunicorn serving one database; ``restart`` keeps database and key."""

    root: Path
    env: dict[str, str]
    workers: int = 2
    base: str = ""
    _stack: contextlib.ExitStack | None = None

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """Run an `oaiserver` CLI command on this server's database."""
        return subprocess.run([sys.executable, "-m", "oaiserver.cli", *args], env=self.env, check=True,
                              capture_output=True, cwd=REPO, timeout=120)

    def start(self) -> None:
        """Start gunicorn (tests/servers.py) and wait until Identify answers."""
        self._stack = contextlib.ExitStack()
        self.base = self._stack.enter_context(gunicorn(self.env, workers=self.workers))

    def stop(self) -> None:
        """Stop gunicorn."""
        if self._stack is not None:
            self._stack.close()
            self._stack = None

    def restart(self) -> None:
        """Stop and start again: a new process on a new port, with the same key and data."""
        self.stop()
        self.start()

    def expected(self) -> Expected:
        """Read the records, sets and set members straight from the database."""
        conn = sqlite3.connect(self.root / "oai.sqlite3")
        try:
            records = {r[0]: bool(r[1]) for r in conn.execute("SELECT identifier, deleted FROM records")}
            sets = [r[0] for r in conn.execute("SELECT spec FROM sets ORDER BY spec")]
            members: dict[str, set[str]] = {spec: set() for spec in sets}
            left: dict[str, set[str]] = {}
            for spec, identifier, gone in conn.execute("SELECT set_spec, identifier, gone FROM record_sets"):
                members[spec].add(identifier)
                if gone and not records[identifier]:
                    left.setdefault(spec, set()).add(identifier)
            formats: dict[str, set[str]] = {}
            for prefix, identifier in conn.execute(
                    "SELECT x.prefix, r.identifier FROM renditions x JOIN records r ON r.id = x.record_id"):
                formats.setdefault(prefix, set()).add(identifier)
        finally:
            conn.close()
        return Expected(records, sets, members, formats, left)


#: The real sample's journal is open access (so it is in oai_openaire and the openaire set);
#: the synthetic samples' journal has no access right configured (so it is in neither).
JOURNALS = {"2008-8701": {"access_right": "open",
                          "license_url": "https://creativecommons.org/licenses/by-nc/4.0/"}}


def environment(root: Path, page_size: int = 2, identifiers_page_size: int = 2) -> dict[str, str]:
    """The OAISERVER_* environment of a test repository under ``root``."""
    config = {
        "OAI_JOURNALS": JOURNALS,
        "DATABASE": str(root / "oai.sqlite3"),
        "SECRET_KEY": "integration-secret",
        "OAI_PAGE_SIZE": page_size,
        "OAI_IDENTIFIERS_PAGE_SIZE": identifiers_page_size,
        "OAI_REPOSITORY_IDENTIFIER": REPOSITORY_IDENTIFIER,
    }
    return oaiserver_env(config, root / "instance")


def populated_server(root: Path, **sizes: int) -> Server:
    """Ingest the samples, an extra issue, a withdrawn record and a set left; start gunicorn.

    The extra issue is ingested twice: the second time its last article has another
    subject, so the set of the first subject lists it, its one item, as deleted (P16).
    """
    server = Server(root, environment(root, **sizes))
    extra = [A(f"X-{i}") for i in range(4)] + [A("X-4", subject="Short Report")]
    first = write_issue(root / "extra.xml", extra, volume="2", number="5")
    server.cli("ingest", *map(str, GOOD_SAMPLES), first)
    extra[-1] = A("X-4", subject="Clinical Notes")
    server.cli("ingest", write_issue(root / "extra.xml", extra, volume="2", number="5"))
    server.cli("withdraw", WITHDRAWN)
    server.start()
    return server
