"""The checker's output: one line per check and a summary, or one JSON document."""
from __future__ import annotations

import json
from dataclasses import dataclass

from oaiserver.checker.checks import FAIL, INFO, PASS, SKIP, WARN, Result

#: Report order of the check groups (the first part of a check's name).
GROUPS = ("identify", "list-metadata-formats", "list-sets", "list-identifiers", "list-records",
          "get-record", "sets", "windows", "errors", "openaire4", "openaire3", "responses", "schemas")


@dataclass
class Report:
    """The results of one run."""

    base_url: str
    results: list[Result]
    requests: int

    def __post_init__(self) -> None:
        def group(result: Result) -> int:
            head = result.name.split(".", 1)[0]
            return GROUPS.index(head) if head in GROUPS else len(GROUPS)

        self.results = sorted(self.results, key=group)  # stable: run order within a group

    def count(self, status: str) -> int:
        """Return how many checks have ``status``."""
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> bool:
        """Did any check fail?"""
        return self.count(FAIL) > 0

    def summary(self) -> str:
        """Return 'N checks: P passed, F failed, S skipped' (and warnings and notes, if any)."""
        text = (f"{len(self.results)} checks: {self.count(PASS)} passed, {self.count(FAIL)} failed, "
                f"{self.count(SKIP)} skipped")
        if self.count(WARN) or self.count(INFO):
            text += f", {self.count(WARN)} warnings, {self.count(INFO)} notes"
        return text


def line(result: Result) -> str:
    """Format one result: PASS name / FAIL name url — reason / SKIP name — reason.

    WARN and INFO lines are written like FAIL lines.
    """
    if result.status == PASS:
        return f"PASS {result.name}"
    if result.status in (FAIL, WARN, INFO):
        where = f" {result.url}" if result.url else ""
        return f"{result.status} {result.name}{where} — {result.reason}"
    return f"SKIP {result.name} — {result.reason}"


def as_text(report: Report) -> str:
    """Return the report as lines of text ending with the summary."""
    return "\n".join([*(line(r) for r in report.results), report.summary()])


def as_json(report: Report) -> str:
    """Return the report as one JSON document."""
    return json.dumps({
        "base_url": report.base_url,
        "ok": not report.failed,
        "summary": {"checks": len(report.results), "passed": report.count(PASS),
                    "failed": report.count(FAIL), "skipped": report.count(SKIP),
                    "warnings": report.count(WARN), "notes": report.count(INFO)},
        "requests": report.requests,
        "checks": [r.as_dict() for r in report.results],
    }, indent=2)
