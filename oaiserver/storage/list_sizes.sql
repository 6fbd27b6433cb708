-- The completeListSize cache: its table and the triggers that keep it exact.
-- A template, rendered by list_sizes.py. Each line of the form
--     {add: ids};   or   {take_away: ids};
-- stands for one statement: add to list_sizes (or take from it) the list items of the records
-- whose id is in (ids), counted by the rule written once in list_sizes.py (ITEMS).
--
-- Every trigger does the same thing: before a row changes, take away the items of the
-- records it belongs to; after, add them back as they now are. So no trigger needs to know
-- what one row is worth, and a change nobody foresaw (an admin's UPDATE in the sqlite3 shell)
-- is counted as right as the ones ingest makes.

-- How many list items each (set, format, datestamp) holds, so that completeListSize is a
-- short SUM instead of a COUNT over the repository. set_spec '' is the whole repository;
-- prefix '' counts deleted records (listed in every format, header only).
-- This statement's text also names the rule the counts follow: a file whose list_sizes was
-- made by another text is counted again from scratch when the writer opens it, one whose
-- table is this one keeps its counts. So when the rule (ITEMS in list_sizes.py) changes,
-- change this statement too, e.g. a comment "-- rule 2" inside the parentheses.
CREATE TABLE list_sizes (
    set_spec TEXT NOT NULL,
    prefix TEXT NOT NULL,
    datestamp TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (set_spec, prefix, datestamp)
) WITHOUT ROWID;

-- While this table holds a row, the counting triggers do nothing: the one writer that put it
-- there (ListSizeKeeper, inside its own write transaction) counts the records it changes
-- itself, a few set-based statements per transaction, and deletes the row before it commits,
-- so no reader or other writer ever sees it. Counting row by row would cost an ingest more
-- than all its other writes.
CREATE TABLE list_size_hold (holder TEXT NOT NULL);

-- records: a new record; a record whose datestamp or deletion changes; a record deleted.

CREATE TRIGGER list_sizes_records_insert_after AFTER INSERT ON records
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: NEW.id};
END;

CREATE TRIGGER list_sizes_records_update_before BEFORE UPDATE OF id, datestamp, deleted ON records
WHEN (OLD.id IS NOT NEW.id OR OLD.datestamp IS NOT NEW.datestamp OR OLD.deleted IS NOT NEW.deleted)
    AND NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: OLD.id};
END;

CREATE TRIGGER list_sizes_records_update_after AFTER UPDATE OF id, datestamp, deleted ON records
WHEN (OLD.id IS NOT NEW.id OR OLD.datestamp IS NOT NEW.datestamp OR OLD.deleted IS NOT NEW.deleted)
    AND NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: NEW.id};
END;

CREATE TRIGGER list_sizes_records_delete_before BEFORE DELETE ON records
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: OLD.id};
END;

-- renditions: a record gains, loses or changes a format.

CREATE TRIGGER list_sizes_renditions_insert_before BEFORE INSERT ON renditions
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: NEW.record_id};
END;

CREATE TRIGGER list_sizes_renditions_insert_after AFTER INSERT ON renditions
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: NEW.record_id};
END;

CREATE TRIGGER list_sizes_renditions_delete_before BEFORE DELETE ON renditions
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: OLD.record_id};
END;

CREATE TRIGGER list_sizes_renditions_delete_after AFTER DELETE ON renditions
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: OLD.record_id};
END;

CREATE TRIGGER list_sizes_renditions_update_before BEFORE UPDATE OF record_id, prefix ON renditions
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: OLD.record_id, NEW.record_id};
END;

CREATE TRIGGER list_sizes_renditions_update_after AFTER UPDATE OF record_id, prefix ON renditions
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: OLD.record_id, NEW.record_id};
END;

-- record_sets: a record joins or leaves a set, or its membership's datestamp moves.

CREATE TRIGGER list_sizes_record_sets_insert_before BEFORE INSERT ON record_sets
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: NEW.record_id};
END;

CREATE TRIGGER list_sizes_record_sets_insert_after AFTER INSERT ON record_sets
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: NEW.record_id};
END;

CREATE TRIGGER list_sizes_record_sets_delete_before BEFORE DELETE ON record_sets
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: OLD.record_id};
END;

CREATE TRIGGER list_sizes_record_sets_delete_after AFTER DELETE ON record_sets
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: OLD.record_id};
END;

CREATE TRIGGER list_sizes_record_sets_update_before
BEFORE UPDATE OF set_spec, datestamp, record_id ON record_sets
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {take_away: OLD.record_id, NEW.record_id};
END;

CREATE TRIGGER list_sizes_record_sets_update_after
AFTER UPDATE OF set_spec, datestamp, record_id ON record_sets
WHEN NOT EXISTS (SELECT 1 FROM list_size_hold)
BEGIN
    {add: OLD.record_id, NEW.record_id};
END;
