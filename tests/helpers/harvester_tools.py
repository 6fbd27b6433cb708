"""Run the harvesters installed by tests/harvesters/install.sh and read what they printed.

Several of these programs exit 0 after an OAI error or a crash half-way, so every adapter
reads the program's output (records, deletions, error lines), not only its exit status.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import typing as t
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

HARVESTERS = Path(__file__).resolve().parents[1] / "harvesters"
OAI_HARVEST = HARVESTERS / ".venv-oaiharvest" / "bin" / "oai-harvest"
NODE_OAI_PMH = HARVESTERS / "node" / "node_modules" / "oai-pmh" / "bin" / "oai-pmh"
TIMEOUT = 60  # seconds per harvester run (the test repository is small); a hang fails the test
INSTALL = "run `bash tests/harvesters/install.sh`"


@dataclass
class Harvest:
    """What one harvester run delivered, read from its output."""

    ids: list[str] = field(default_factory=list)  # every header, in the order received
    deleted: set[str] = field(default_factory=set)
    roots: dict[str, str] = field(default_factory=dict)  # identifier -> metadata root local name
    errors: list[str] = field(default_factory=list)  # what the tool reported as going wrong


def run(command: list[str], **kwargs: t.Any) -> subprocess.CompletedProcess:
    """Run a harvester with a bounded time; text output."""
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


def local_name(xml: str) -> str:
    """Return the local name of the root element of an XML fragment."""
    return etree.QName(etree.fromstring(xml.strip().encode("utf-8"))).localname


def _failure(proc: subprocess.CompletedProcess, ignore: str | None = None, only: str | None = None) -> list[str]:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    if ignore:
        lines = [line for line in lines if not re.search(ignore, line)]
    if only:
        lines = [line for line in lines if re.search(only, line)]
    if proc.returncode != 0:
        lines.insert(0, f"exit status {proc.returncode}")
    return lines


class Tool:
    """One harvester program; ``harvest`` runs one list request to its end."""

    name = ""

    def missing(self) -> str | None:
        """Return why the tool cannot run here, or None."""
        raise NotImplementedError

    def harvest(self, base: str, verb: str, prefix: str, spec: str | None = None) -> Harvest:
        """Run ListRecords or ListIdentifiers (optionally in a set) and read the output."""
        raise NotImplementedError


class NodeOaiPmh(Tool):
    """The npm package oai-pmh (its CLI prints one JSON object per header or record)."""

    name = "node oai-pmh"

    def missing(self) -> str | None:
        """Return why the tool cannot run here, or None."""
        if not shutil.which("node"):
            return "node is not installed"
        return None if NODE_OAI_PMH.exists() else f"npm package oai-pmh is not installed: {INSTALL}"

    def harvest(self, base: str, verb: str, prefix: str, spec: str | None = None) -> Harvest:
        """Run list-records or list-identifiers and parse its JSON lines."""
        command = "list-records" if verb == "ListRecords" else "list-identifiers"
        proc = run(["node", str(NODE_OAI_PMH), command, base, "-p", prefix, *(["-s", spec] if spec else [])])
        result = Harvest(errors=_failure(proc))
        for line in proc.stdout.splitlines():
            item = json.loads(line)
            header = item["header"] if verb == "ListRecords" else item
            result.ids.append(header["identifier"])
            if header.get("$", {}).get("status") == "deleted":
                result.deleted.add(header["identifier"])
            if item.get("metadata"):
                result.roots[header["identifier"]] = next(iter(item["metadata"])).split(":")[-1]
        return result


class PerlOaiPmh(Tool):
    """oai_pmh from libhttp-oai-perl: records separated by form feeds, header lines first."""

    name = "perl oai_pmh"

    def missing(self) -> str | None:
        """Return why the tool cannot run here, or None."""
        return None if shutil.which("oai_pmh") else f"oai_pmh (libhttp-oai-perl) is not installed: {INSTALL}"

    def harvest(self, base: str, verb: str, prefix: str, spec: str | None = None) -> Harvest:
        """Run oai_pmh -X verb and parse its header lines and metadata."""
        proc = run(["oai_pmh", "-X", verb, "--metadataPrefix", prefix, *(["--set", spec] if spec else []), base])
        # It prints UTF-8 text without declaring an output layer: Perl warns, the bytes are right.
        result = Harvest(errors=_failure(proc, ignore=r"^Wide character in print"))
        for chunk in proc.stdout.split("\f"):
            fields = dict(re.findall(r"^(identifier|status): ?(.*)$", chunk, re.M))
            if "identifier" not in fields:
                continue
            identifier = fields["identifier"]
            result.ids.append(identifier)
            if fields.get("status") == "deleted":
                result.deleted.add(identifier)
            metadata = re.search(r"<metadata[^>]*>(.*)</metadata>", chunk, re.S)
            if metadata:
                result.roots[identifier] = local_name(metadata.group(1))
        return result


class Catmandu(Tool):
    """`catmandu convert OAI` from libcatmandu-oai-perl, written as JSON lines."""

    name = "catmandu OAI"

    def missing(self) -> str | None:
        """Return why the tool cannot run here, or None."""
        if not shutil.which("catmandu"):
            return f"catmandu (libcatmandu-oai-perl) is not installed: {INSTALL}"
        probe = run(["perl", "-MCatmandu::Importer::OAI", "-e", "1"])
        return None if probe.returncode == 0 else f"Catmandu::Importer::OAI is missing: {INSTALL}"

    def harvest(self, base: str, verb: str, prefix: str, spec: str | None = None) -> Harvest:
        """Run catmandu convert OAI ... to JSON and parse the lines."""
        options = ["--url", base, "--metadataPrefix", prefix, "--handler", "raw"]
        options += ["--set", spec] if spec else []
        options += ["--listIdentifiers", "1"] if verb == "ListIdentifiers" else []
        proc = run(["catmandu", "convert", "OAI", *options, "to", "JSON", "--line_delimited", "1"])
        result = Harvest(errors=_failure(proc))
        for line in proc.stdout.splitlines():
            item = json.loads(line)
            result.ids.append(item["_id"])
            if item.get("_status") == "deleted":
                result.deleted.add(item["_id"])
            if item.get("_metadata"):
                result.roots[item["_id"]] = local_name(item["_metadata"])
        return result


class OaiHarvest(Tool):
    """oai-harvest (oaiharvest + the original pyoai): one file per live record, deletions logged.

    It only speaks ListRecords, so a per-set "ListIdentifiers" is a per-set ListRecords here.
    """

    name = "oai-harvest"
    written = re.compile(r"^DEBUG\s+Writing to file (.+)$", re.M)
    removed = re.compile(r"^DEBUG\s+Respecting server request to delete file (.+)$", re.M)

    def missing(self) -> str | None:
        """Return why the tool cannot run here, or None."""
        return None if OAI_HARVEST.exists() else f"oai-harvest venv is not installed: {INSTALL}"

    def harvest(self, base: str, verb: str, prefix: str, spec: str | None = None) -> Harvest:
        """Harvest into a temporary folder and read its log lines and files."""
        with tempfile.TemporaryDirectory() as home:
            out = Path(home) / "out"
            # It keeps a registry and a log under ~/.oai-harvest: give it a throw-away HOME.
            env = {**os.environ, "HOME": home}
            proc = run([str(OAI_HARVEST), "-p", prefix, *(["-s", spec] if spec else []), "-d", str(out), base],
                       env=env)
            # It logs every error (and exits 0): ERROR lines, and a traceback for crashes.
            result = Harvest(errors=_failure(proc, only=r"^(ERROR|CRITICAL)\s|^Traceback"))
            for match in re.finditer(f"{self.written.pattern}|{self.removed.pattern}", proc.stderr, re.M):
                path = Path(match.group(1) or match.group(2))
                identifier = self._identifier(path.name, prefix)
                result.ids.append(identifier)
                if match.group(2):
                    result.deleted.add(identifier)
                else:
                    result.roots[identifier] = local_name(path.read_text(encoding="utf-8"))
        return result

    @staticmethod
    def _identifier(filename: str, prefix: str) -> str:
        # Files are named quote("<identifier>.<prefix>.xml") with ":" left as it is.
        return urllib.parse.unquote(filename)[: -len(f".{prefix}.xml")]


TOOLS: list[Tool] = [OaiHarvest(), NodeOaiPmh(), PerlOaiPmh(), Catmandu()]
