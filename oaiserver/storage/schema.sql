-- The repository's tables and indexes. Run whole by storage/db.py `create_schema` each time
-- the writer opens the file: every statement is idempotent. The completeListSize cache
-- (list_sizes, its triggers) is kept apart, in list_sizes.sql.

-- An issue of a journal, as ingested from one file.
CREATE TABLE IF NOT EXISTS issues (
    id INTEGER PRIMARY KEY,
    journal_key TEXT NOT NULL,
    volume TEXT NOT NULL,
    number TEXT NOT NULL,
    UNIQUE (journal_key, volume, number)
);

-- One OAI item per article. `header` is its OAI header, ready to serve, and `header_crc` the
-- CRC-32 of its UTF-8 bytes, checked when served (integrity.py), or NULL where unknown (the
-- header's shape is checked instead); `article` the normalised article as JSON, from which
-- every format is rendered again on reindex: a BLOB packed against the articles' dictionary
-- (packing.py pack_article), or TEXT where written before articles were packed.
-- A deleted record keeps its row (the header says status="deleted"); `withdrawn` marks one
-- deleted by an admin, which ingest leaves deleted.
CREATE TABLE IF NOT EXISTS records (
    id INTEGER PRIMARY KEY,
    identifier TEXT NOT NULL UNIQUE,
    datestamp TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    withdrawn INTEGER NOT NULL DEFAULT 0,
    issue_id INTEGER REFERENCES issues(id),
    journal_key TEXT NOT NULL,
    article_key TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    article TEXT NOT NULL,
    header TEXT NOT NULL,
    header_crc INTEGER
);
-- Covering index for list pages: a page walks this index alone (the header and its checksum
-- are in it) and never reads the wide records rows, whose article JSON sits before the header.
-- A file made before header checksums gets the column and this index from
-- db._add_header_checksums.
CREATE INDEX IF NOT EXISTS records_listing ON records (datestamp, identifier, deleted, id, header, header_crc);
CREATE INDEX IF NOT EXISTS records_by_issue ON records (issue_id);
-- Superseded by records_listing; dropped from files made before it.
DROP INDEX IF EXISTS records_by_datestamp;

-- A record's metadata in one format (prefix), as served. Clustered by format, then record:
-- the oai_dc renditions of records ingested together lie together, so a ListRecords page
-- reads a few consecutive pages instead of one per record. xml is the XML as TEXT, or a BLOB
-- packed against a dictionary of its format (packing.py: first byte NUL), unpacked when served.
-- crc is the CRC-32 of the XML's UTF-8 bytes (unpacked), checked when served (integrity.py);
-- NULL in rows written before it existed (a file from then gets the column, and the values,
-- from db._add_rendition_checksums).
CREATE TABLE IF NOT EXISTS renditions (
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    xml TEXT NOT NULL,
    crc INTEGER,
    PRIMARY KEY (prefix, record_id)
) WITHOUT ROWID;
-- A record's formats, and the narrow "is it rendered?" probe of ListIdentifiers.
CREATE INDEX IF NOT EXISTS renditions_by_record ON renditions (record_id, prefix);
-- A live record that has left a format keeps a tombstone there, xml '' (crc 0, the CRC-32 of
-- no bytes): it is listed in that format as deleted, header only (decisions.md P16). This
-- index holds the tombstones alone, so that ListIdentifiers, which never reads the wide rows,
-- tells a tombstone from a rendition by one probe of a tiny index.
CREATE INDEX IF NOT EXISTS renditions_gone ON renditions (record_id, prefix) WHERE xml = '';

-- The sets ListSets shows; `description` is an oai_dc fragment or NULL.
CREATE TABLE IF NOT EXISTS sets (
    spec TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT
) WITHOUT ROWID;

-- Set membership carries a copy of the record's (datestamp, identifier) so that a set's
-- harvest walks one index in keyset order, whatever the size of the repository.
-- `gone` = 1 is a tombstone: a live record that has left the set, listed in it as deleted,
-- header only (decisions.md P16). A file made before tombstones gets the column from
-- db._add_set_tombstones.
CREATE TABLE IF NOT EXISTS record_sets (
    set_spec TEXT NOT NULL,
    datestamp TEXT NOT NULL,
    identifier TEXT NOT NULL,
    record_id INTEGER NOT NULL REFERENCES records(id) ON DELETE CASCADE,
    gone INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (set_spec, datestamp, identifier)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_sets_by_record ON record_sets (record_id);

-- A deleted record's renditions and set memberships go with it, also on a connection without
-- foreign keys (the sqlite3 shell's default), where ON DELETE CASCADE does nothing.
CREATE TRIGGER IF NOT EXISTS records_delete_children AFTER DELETE ON records
BEGIN
    DELETE FROM record_sets WHERE record_id = OLD.id;
    DELETE FROM renditions WHERE record_id = OLD.id;
END;

-- The last file ingested for each issue, and what its records looked like right after:
-- re-ingesting the same bytes onto the same state is skipped (ingest's Store.save_file).
CREATE TABLE IF NOT EXISTS ingested_files (
    digest TEXT PRIMARY KEY,
    issue_id INTEGER NOT NULL,
    articles INTEGER NOT NULL,
    state TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ingested_files_by_issue ON ingested_files (issue_id);

-- Where this database stands (storage/timeline.py, decisions.md P14): one row, replicated with
-- the data. `version` grows with every commit that changes what is served; `epoch` is drawn
-- anew when a primary is restored; `heartbeat` is the primary's clock at its last beat (NULL
-- before the first); `delay` the visibility delay its datestamps carry, in seconds.
CREATE TABLE IF NOT EXISTS timeline (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    epoch INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    heartbeat REAL,
    delay INTEGER NOT NULL DEFAULT 0
);
INSERT OR IGNORE INTO timeline (id, epoch) VALUES (1, abs(random() % 2147483646) + 1);
