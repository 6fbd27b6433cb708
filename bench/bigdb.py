"""Build a large benchmark database directly, by cloning a really ingested seed corpus.

    python -m bench.bigdb --seed-corpus DIR --records 1000000 --db OUT.sqlite3

Generating and ingesting a million articles from XML would take hours on two cores, so the
seed corpus (a few thousand articles) goes through the real ingest, and its rows are then
copied in SQL with new identifiers (``…/A-10-3-7-c12``) and new datestamps, one second per
copy of the seed, later than the seed's. What the clones share with their original: the
rendered metadata (oai_dc and JATS, byte for byte: the dc:identifier still names the
original's landing page), the article JSON and the set memberships (so issue sets grow with
the number of copies). Headers are rewritten for the new identifier and datestamp.
list_sizes is rebuilt from scratch at the end (the triggers are off while cloning).
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from metadata_formats import CrosswalkSettings
from oaiserver.storage import db as dbmod, list_sizes
from oaiserver.cli import expand_paths, read_input
from oaiserver.protocol.datestamps import format_datestamp
from oaiserver.ingest import Ingester

REPOSITORY = "oaiserver.localhost"


def ingest_seed(store: Ingester, corpus: Path) -> int:
    """Ingest the seed corpus through the real path; return the number of records."""
    for name, path in expand_paths([str(corpus)]):
        store.save_file(read_input(name, path))
    return store.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]


def clone(conn, seed: int, copy: int, datestamp: str) -> None:
    """Insert copy number ``copy`` of the ``seed`` first records, all at ``datestamp``."""
    suffix = f"-c{copy}"
    conn.execute("BEGIN IMMEDIATE")
    first_new = conn.execute("SELECT MAX(id) FROM records").fetchone()[0] + 1
    conn.execute(
        "INSERT INTO records (identifier, datestamp, deleted, withdrawn, issue_id, journal_key, "
        "article_key, source_hash, content_hash, article, header) "
        "SELECT identifier || :s, :d, deleted, withdrawn, issue_id, journal_key, article_key || :s, "
        "source_hash, content_hash, article, "
        "replace(replace(header, '<identifier>' || identifier || '</identifier>', "
        "'<identifier>' || identifier || :s || '</identifier>'), "
        "'<datestamp>' || datestamp || '</datestamp>', '<datestamp>' || :d || '</datestamp>') "
        "FROM records WHERE id <= :seed ORDER BY id",
        {"s": suffix, "d": datestamp, "seed": seed},
    )
    # Rows went in in id order with no gaps, so the clone of record i is first_new + i - 1.
    offset = first_new - 1
    for prefix in [r[0] for r in conn.execute("SELECT DISTINCT prefix FROM renditions")]:
        conn.execute(
            "INSERT INTO renditions (record_id, prefix, xml, crc) SELECT record_id + ?, prefix, xml, crc "
            "FROM renditions WHERE prefix = ? AND record_id <= ? ORDER BY record_id",
            (offset, prefix, seed),
        )
    conn.execute(
        "INSERT INTO record_sets (set_spec, datestamp, identifier, record_id, gone) "
        "SELECT set_spec, ?, identifier || ?, record_id + ?, gone FROM record_sets WHERE record_id <= ?",
        (datestamp, suffix, offset, seed),
    )
    conn.execute("COMMIT")


def build(seed_corpus: Path, records: int, path: Path) -> dict:
    """Build the database; return what was done."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    started = time.perf_counter()
    store = Ingester(dbmod.connect_writer(path), REPOSITORY, CrosswalkSettings())
    seed = ingest_seed(store, seed_corpus)
    ingested = time.perf_counter() - started
    if store.conn.execute("SELECT MAX(id) FROM records").fetchone()[0] != seed:
        raise RuntimeError("the seed ingest left gaps in the record ids")
    conn = store.conn
    list_sizes.uninstall(conn)  # create_schema puts the cache back, recounted
    latest = conn.execute("SELECT MAX(datestamp) FROM records").fetchone()[0]
    moment = dt.datetime.strptime(latest, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    copies = max(0, -(-records // seed) - 1)
    for copy in range(1, copies + 1):
        clone(conn, seed, copy, format_datestamp(moment + dt.timedelta(seconds=copy)))
        if copy % 20 == 0:
            print(f"  {copy}/{copies} copies", file=sys.stderr)
    dbmod.create_schema(store.db)  # list_sizes and its triggers, recounted
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total = conn.execute("SELECT COUNT(*) FROM records").fetchone()[0]
    conn.close()
    return {"seed_records": seed, "copies": copies, "records": total,
            "seed_ingest_seconds": round(ingested, 1),
            "seconds": round(time.perf_counter() - started, 1),
            "size_mb": round(path.stat().st_size / 1e6, 1)}


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed-corpus", type=Path, required=True)
    parser.add_argument("--records", type=int, required=True)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args(argv)
    args.db.parent.mkdir(parents=True, exist_ok=True)
    print(build(args.seed_corpus, args.records, args.db), file=sys.stderr)


if __name__ == "__main__":
    main()
