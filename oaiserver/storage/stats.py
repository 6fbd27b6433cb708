"""Repository statistics for admins (`oaiserver stats`)."""
from __future__ import annotations

import os
import sqlite3
import typing as t


def collect(conn: sqlite3.Connection, path: str) -> dict[str, t.Any]:
    """Count records per journal and issue, live and deleted, per format; datestamp range; size."""
    totals = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(deleted), 0), MIN(datestamp), MAX(datestamp) FROM records"
    ).fetchone()
    issues = conn.execute(
        "SELECT i.journal_key, i.volume, i.number, COUNT(r.id), COALESCE(SUM(r.deleted), 0) "
        "FROM issues i LEFT JOIN records r ON r.issue_id = i.id "
        "GROUP BY i.id ORDER BY i.journal_key, i.volume, i.number"
    ).fetchall()
    journals: dict[str, dict[str, t.Any]] = {}
    for journal, volume, number, count, deleted in issues:
        entry = journals.setdefault(journal, {"journal": journal, "records": 0, "deleted": 0, "issues": []})
        entry["records"] += count
        entry["deleted"] += deleted
        entry["issues"].append({"volume": volume, "number": number, "records": count, "deleted": deleted})
    formats = dict(
        conn.execute(
            "SELECT x.prefix, COUNT(*) FROM renditions x JOIN records r ON r.id = x.record_id "
            "WHERE r.deleted = 0 GROUP BY x.prefix ORDER BY x.prefix"
        ).fetchall()
    )
    for prefix, gone in _tombstones(conn):
        formats[prefix] -= gone
    formats = {prefix: n for prefix, n in formats.items() if n}
    size = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    return {
        "records": totals[0],
        "live": totals[0] - totals[1],
        "deleted": totals[1],
        "earliest_datestamp": totals[2],
        "latest_datestamp": totals[3],
        "formats": formats,
        "sets": conn.execute("SELECT COUNT(*) FROM sets").fetchone()[0],
        "database": path,
        "database_bytes": size,
        "journals": list(journals.values()),
    }


def _tombstones(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    """The live records' tombstones by format (decisions.md P16), counted on their own small index."""
    try:
        return conn.execute(
            "SELECT x.prefix, COUNT(*) FROM renditions x INDEXED BY renditions_gone "
            "JOIN records r ON r.id = x.record_id WHERE x.xml = '' AND r.deleted = 0 GROUP BY x.prefix").fetchall()
    except sqlite3.OperationalError as error:
        if "no such index" not in str(error):
            raise
        return []  # a file no writer has opened since tombstones came has none


def render_text(stats: dict[str, t.Any]) -> str:
    """Format statistics as a short human-readable report."""
    lines = [
        f"records: {stats['records']} ({stats['live']} live, {stats['deleted']} deleted)",
        f"datestamps: {stats['earliest_datestamp'] or '-'} .. {stats['latest_datestamp'] or '-'}",
        "formats (live records): "
        + (", ".join(f"{k} {v}" for k, v in stats["formats"].items()) or "-"),
        f"sets: {stats['sets']}",
        f"database: {stats['database']} ({stats['database_bytes'] / 1024 / 1024:.1f} MiB)",
    ]
    for journal in stats["journals"]:
        lines.append(f"journal {journal['journal']}: {journal['records']} records, {journal['deleted']} deleted")
        for issue in journal["issues"]:
            lines.append(
                f"  vol. {issue['volume'] or '-'} no. {issue['number'] or '-'}: "
                f"{issue['records']} records, {issue['deleted']} deleted"
            )
    return "\n".join(lines)
