"""Write prepared issues and articles into the store: one transaction per file or batch.

The writer never parses and never renders: it gets :class:`~oaiserver.ingest.prepare.Prepared`
articles and decides what to write. A record's datestamp moves only when what the server
disseminates for it changes (its rendered formats or its sets), when it is deleted, or when
it comes back.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import sqlite3
import time
import typing as t
from dataclasses import dataclass

from oaiserver.protocol import datestamps
from oaiserver.protocol.datestamps import format_datestamp
from oaiserver.ingest.headers import render_header
from oaiserver.ingest.prepare import Prepared, PreparedIssue
from oaiserver.ingest.writes import Listed, RecordWrites
from oaiserver.storage import list_sizes
from oaiserver.storage.list_sizes import ListSizeKeeper
from oaiserver.storage import db, packing, timeline
from oaiserver.storage.integrity import checksum

if t.TYPE_CHECKING:
    import sqlite_utils

log = logging.getLogger(__name__)


@dataclass
class Counts:
    """What one ingest did to the records."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple())))

    def as_tuple(self) -> tuple[int, int, int, int]:
        """Return (added, updated, unchanged, deleted)."""
        return (self.added, self.updated, self.unchanged, self.deleted)

    def summary(self) -> str:
        """Return "added 3, updated 1, unchanged 16, deleted 0"."""
        return (
            f"added {self.added}, updated {self.updated}, "
            f"unchanged {self.unchanged}, deleted {self.deleted}"
        )


@dataclass(frozen=True)
class StoredArticle:
    """A record's article as read back for reindex or restore, to be prepared again."""

    id: int
    identifier: str
    article_json: str
    source_hash: str  # as read: the writer skips the record if it has changed since
    withdrawn: bool


#: The columns of a :class:`StoredArticle`.
_STORED = "id, identifier, article, source_hash, withdrawn"


def _stored(row: tuple[t.Any, ...]) -> StoredArticle:
    # The article is packed, or TEXT where written before articles were (integrity.DamagedRecord
    # if it cannot be unpacked).
    return StoredArticle(row[0], row[1], packing.unpack_article(row[1], row[2]), row[3], bool(row[4]))


class Writer:
    """The one writer of the database: save, skip-if-known, withdraw, restore, reindex, restamp."""

    def __init__(self, db: sqlite_utils.Database,
                 clock: t.Callable[[], dt.datetime] | None = None, delay: int = 0) -> None:
        """``delay``: the visibility delay, in seconds, added to every datestamp (decisions.md P14)."""
        self.db = db
        self.conn = db.conn
        # Looked up at call time so tests can move the clock with monkeypatch.
        now = clock or (lambda: datestamps.now())
        ahead = dt.timedelta(seconds=delay)
        self.clock = (lambda: now() + ahead) if delay else now
        self.delay = delay
        self._touched: list[int] = []  # records given a new datestamp in this transaction (or file of a group)
        # The records changed in the open transaction, by the datestamp they were written with
        # (several in a group of files, decisions.md P15): given the commit's time at the commit.
        self._stamped: dict[str, list[int]] = {}
        self._lists = ListSizeKeeper(self.conn)
        self._group: _Group | None = None
        # In an open group: what each existing record it changed disseminated before the group,
        # (datestamp, deleted, what it shows: content hash if live, setSpecs if deleted) as
        # first seen, to find the changes undone within the group.
        self._before: dict[int, tuple[str, int, str | tuple[str, ...]]] = {}
        # What each record the open transaction has changed was listed in when it began (its
        # formats and sets, live or as tombstones): where its tombstones go (writes.py).
        self._visible: dict[int, Listed] = {}
        # The set tombstones the open transaction left (RecordWrites.left), for the commit's restamp.
        self._left: list[tuple[str, int, str]] = []

    def save_issue(self, issue: PreparedIssue, digest: str | None = None,
                   dry_run: bool = False) -> Counts:
        """Save one prepared issue in one transaction; return what changed.

        ``digest`` is its file's :func:`~oaiserver.ingest.prepare.file_digest`: the file is
        remembered, so that :meth:`known_unchanged` recognises the same bytes next time.
        With ``dry_run`` the transaction is rolled back: the counts say what would change.
        """
        with self._transaction(commit=not dry_run) as datestamp:
            counts = self._save_issue(issue, datestamp)
            if digest is not None:
                self._remember(digest, issue)
            return counts

    def _remember(self, digest: str, issue: PreparedIssue) -> None:
        issue_id = self._issue_id(issue.key)
        # Only this file's latest state is worth remembering for its issue.
        self.conn.execute("DELETE FROM ingested_files WHERE issue_id = ?", (issue_id,))
        self.conn.execute(
            "INSERT OR REPLACE INTO ingested_files (digest, issue_id, articles, state) "
            "VALUES (?, ?, ?, ?)",
            (digest, issue_id, len(issue.articles), self._issue_state(issue_id)),
        )

    @contextlib.contextmanager
    def bulk(self) -> t.Iterator[None]:
        """Ingest many files in a row, each still in its own transaction, without a sync per file.

        In WAL mode with synchronous=NORMAL a commit is not flushed to disk until the next
        checkpoint. A killed process loses nothing (the commit is in the operating system's
        hands); a power cut may lose the last files committed, each wholly (the WAL replays
        only whole transactions), and their ingested_files entries with them, so running the
        same ingest again puts them back. Never a half file.
        """
        previous = self.conn.execute("PRAGMA synchronous").fetchone()[0]
        self.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            self.conn.execute(f"PRAGMA synchronous = {int(previous)}")

    def known_unchanged(self, digest: str) -> Counts | None:
        """The counts of saving a remembered file again onto its unchanged issue, else None.

        A file ingested before byte for byte (same fingerprint), whose issue's records are
        still exactly as that ingest left them, would change nothing: its articles are all
        counted unchanged without preparing it again.
        """
        known = self.conn.execute(
            "SELECT issue_id, articles, state FROM ingested_files WHERE digest = ?", (digest,)
        ).fetchone()
        if known is not None and self._issue_state(known[0]) == known[2]:
            return Counts(unchanged=known[1])
        return None

    def _issue_state(self, issue_id: int) -> str:
        """A digest of everything about an issue's records that a re-ingest would look at."""
        digest = hashlib.sha256()
        for row in self.conn.execute(
            "SELECT id, identifier, source_hash, deleted, withdrawn FROM records "
            "WHERE issue_id = ? ORDER BY id",
            (issue_id,),
        ):
            digest.update("\0".join(map(str, row)).encode() + b"\n")
        return digest.hexdigest()

    def _save_issue(self, issue: PreparedIssue, datestamp: str) -> Counts:
        issue_id = self._issue_id(issue.key)
        counts = self._save_articles([(prepared, issue_id) for prepared in issue.articles], datestamp)
        seen = {prepared.identifier for prepared in issue.articles}
        rows = self.conn.execute(
            "SELECT id, identifier FROM records WHERE issue_id = ? AND deleted = 0",
            (issue_id,),
        ).fetchall()
        for record_id, identifier in rows:
            if identifier not in seen:
                self._mark_deleted(record_id, identifier, datestamp)
                counts.deleted += 1
        return counts

    def _issue_id(self, key: tuple[str, str, str]) -> int:
        self.conn.execute(
            "INSERT INTO issues (journal_key, volume, number) VALUES (?, ?, ?) "
            "ON CONFLICT (journal_key, volume, number) DO NOTHING",
            key,
        )
        return self.conn.execute(
            "SELECT id FROM issues WHERE journal_key = ? AND volume = ? AND number = ?", key
        ).fetchone()[0]

    def _save_articles(self, items: list[tuple[Prepared, int]], datestamp: str,
                       force: bool = False) -> Counts:
        """Save articles, each with its issue id, in a few statements; count the outcomes.

        ``force`` writes their renderings even where the source is unchanged or withdrawn.
        """
        counts = Counts()
        identifiers = [prepared.identifier for prepared, _ in items]
        if len(set(identifiers)) < len(identifiers):
            # One identifier twice: the second must see the first saved. One at a time.
            for item in items:
                counts += self._save_articles([item], datestamp, force)
            return counts
        existing = {row[0]: row[1:] for row in self.conn.execute(
            "SELECT identifier, id, source_hash, content_hash, deleted, issue_id, withdrawn, datestamp "
            "FROM records WHERE identifier IN (SELECT value FROM json_each(?))",
            (json.dumps(identifiers),),
        )}
        writes = RecordWrites(visible=self._visible)
        for prepared, issue_id in items:
            outcome = self._plan(prepared, existing.get(prepared.identifier), issue_id, datestamp,
                                 force, writes)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
        self._touched.extend(writes.write(self.conn, self._lists))
        # (Not undone when a group's file rolls back: its rows are gone, so restamping them does nothing.)
        self._left.extend(writes.left)
        return counts

    def _plan(self, prepared: Prepared, row: tuple | None, issue_id: int, datestamp: str,
              force: bool, writes: RecordWrites) -> str:
        """Decide what saving one article writes (into ``writes``); return its outcome.

        ``row`` is its record as it stands: (id, source_hash, content_hash, deleted,
        issue_id, withdrawn, datestamp), or None.
        """
        identifier, article_json, source_hash = (
            prepared.identifier, prepared.article_json, prepared.source_hash)
        if not force and row is not None and (row[5] or (not row[3] and row[1] == source_hash)):
            # Unchanged source (or withdrawn by the admin): nothing to write, but perhaps a move.
            if row[4] != issue_id:
                writes.moved.append((issue_id, row[0]))
            return "unchanged"
        rendered = prepared.rendered
        if row is not None and not row[3] and row[2] == rendered.content_hash:
            # The source changed in a way no format shows: keep the datestamp.
            writes.quiet.append((source_hash, article_json, issue_id, row[0]))
            return "unchanged"
        specs = [info.spec for info in rendered.sets]
        header = render_header(identifier, datestamp, specs, False)
        values = (identifier, datestamp, 0, 0, issue_id, prepared.journal_key, prepared.article_key,
                  source_hash, rendered.content_hash, article_json, header, checksum(header))
        if row is None:
            record_id = self._next_id(writes)
            writes.inserted.append((record_id, *values))
        else:
            record_id = row[0]
            writes.updated.append((*values, record_id))
            self._seen_before(record_id, row[6], row[3], row[2])
        writes.renditions.extend(
            [(record_id, prefix, data, crc) for prefix, (data, crc) in rendered.renditions.items()])
        writes.members.extend([(spec, datestamp, identifier, record_id, 0) for spec in specs])
        writes.listed[record_id] = list_sizes.lists_of(False, specs, rendered.renditions)
        for info in rendered.sets:
            writes.sets[info.spec] = (info.spec, info.name, info.description)
        return "added" if row is None else "updated"

    def _first_change_in_group(self, record_id: int) -> bool:
        """Whether an open group is about to change a record for the first time, and it existed before the group."""
        # The first sighting is the state before the group (a file rolled back to its
        # savepoint puts the record back as it was, so what it saw still holds), unless the
        # group made the record: one it inserted has no datestamp from before to go back to.
        return self._group is not None and record_id not in self._before and record_id not in self._lists.changed

    def _seen_before(self, record_id: int, datestamp: str, deleted: int, content_hash: str) -> None:
        """Remember, in an open group, what a record disseminated before the group first changed it."""
        if not self._first_change_in_group(record_id):
            return
        # A deleted record shows only its header: its sets, not its last content, are what it shows.
        self._before[record_id] = (datestamp, deleted, self._specs(record_id) if deleted else content_hash)

    def _specs(self, record_id: int) -> tuple[str, ...]:
        """The setSpecs of a record's set memberships, in order (not the sets it has left: decisions.md P16)."""
        return tuple(row[0] for row in self.conn.execute(
            "SELECT set_spec FROM record_sets WHERE record_id = ? AND gone = 0 ORDER BY set_spec", (record_id,)))

    def _next_id(self, writes: RecordWrites) -> int:
        # What SQLite would give the row, inserted now: one more than the largest id.
        if writes.inserted:
            return writes.inserted[-1][0] + 1
        return self.conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM records").fetchone()[0]

    def _mark_deleted(self, record_id: int, identifier: str, datestamp: str) -> None:
        if self._first_change_in_group(record_id):  # (the query only then)
            # (Only a live record is marked deleted: its content hash says what it showed.)
            self._seen_before(record_id, *self.conn.execute(
                "SELECT datestamp, 0, content_hash FROM records WHERE id = ?", (record_id,)).fetchone())
        self._lists.before_change([record_id])
        then = self._visible.get(record_id) if self._group is not None and record_id in self._before else None
        # Deleted in the sets it is in; in those it has left, its tombstones keep their
        # datestamps (decisions.md P16): the harvesters of those sets know it is gone.
        if then is None:
            rows = self.conn.execute(
                "SELECT set_spec, gone FROM record_sets WHERE record_id = ? ORDER BY set_spec", (record_id,)).fetchall()
            self.conn.execute("UPDATE record_sets SET datestamp = ? WHERE record_id = ? AND gone = 0",
                              (datestamp, record_id))
        else:
            # An earlier file of the group changed it, which no harvester saw: it is deleted
            # from the sets it was listed in when the group began, as they were (decisions.md P16).
            _, specs_then, gone_then = then
            left_before = dict(gone_then)
            rows = [(spec, int(spec in left_before)) for spec in sorted(specs_then)]
            self.conn.execute("DELETE FROM record_sets WHERE record_id = ?", (record_id,))
            self.conn.executemany(
                "INSERT INTO record_sets (set_spec, datestamp, identifier, record_id, gone) VALUES (?, ?, ?, ?, ?)",
                [(spec, left_before.get(spec, datestamp), identifier, record_id, gone) for spec, gone in rows])
        # Its header names the sets it is in; it is listed, deleted, in those it has left too.
        specs = [spec for spec, gone in rows if not gone]
        header = render_header(identifier, datestamp, specs, True)
        self.conn.execute(
            "UPDATE records SET deleted = 1, datestamp = ?, header = ?, header_crc = ? WHERE id = ?",
            (datestamp, header, checksum(header), record_id),
        )
        if len(specs) == len(rows):
            self._lists.written(record_id, list_sizes.lists_of(True, specs, ()))
        # (Else its tombstones are not on the datestamp the keeper counts written records on:
        # it reads the record back.)
        self._touched.append(record_id)

    def withdraw(self, identifier: str) -> str:
        """Delete one record by hand; it stays deleted until restored. Return what happened."""
        with self._transaction() as datestamp:
            row = self.conn.execute(
                "SELECT id, deleted FROM records WHERE identifier = ?", (identifier,)
            ).fetchone()
            if row is None:
                return "unknown"
            self.conn.execute("UPDATE records SET withdrawn = 1 WHERE id = ?", (row[0],))
            if row[1]:
                return "already deleted"
            self._mark_deleted(row[0], identifier, datestamp)
            return "withdrawn"

    def stored(self, identifier: str) -> StoredArticle | None:
        """Read back one record's article (to prepare it again for :meth:`restore`)."""
        row = self.conn.execute(
            f"SELECT {_STORED} FROM records WHERE identifier = ?", (identifier,)).fetchone()
        return None if row is None else _stored(row)

    def restore(self, seen: StoredArticle, prepared: Prepared) -> str | None:
        """Undo a withdrawal: the record is live again with a new datestamp.

        ``prepared`` is ``seen`` prepared again. Returns what happened, or None if the record
        changed after it was read (read it again).
        """
        with self._transaction() as datestamp:
            row = self.conn.execute(
                "SELECT withdrawn, source_hash, issue_id FROM records WHERE id = ?", (seen.id,)
            ).fetchone()
            if row is None:
                return "unknown"
            if not row[0]:
                return "not withdrawn"
            if row[1] != seen.source_hash:
                return None
            # A withdrawn record is deleted, so the forced save brings it back with a new datestamp.
            self._save_articles([(prepared, row[2])], datestamp, force=True)
            return "restored"

    def live_after(self, after_id: int, limit: int) -> list[StoredArticle]:
        """Read back the articles of up to ``limit`` live records with ids above ``after_id``."""
        return [_stored(row) for row in self.conn.execute(
            f"SELECT {_STORED} FROM records WHERE id > ? AND deleted = 0 AND withdrawn = 0 "
            "ORDER BY id LIMIT ?", (after_id, limit))]

    def save_reindexed(self, batch: list[tuple[StoredArticle, Prepared]]) -> Counts:
        """Save records prepared again from their stored articles, in one short transaction.

        Only a record whose rendered output changed gets a new datestamp. A record deleted,
        withdrawn or changed since it was read is left as it now is (whoever changed it
        rendered it then) and not counted.
        """
        with self._transaction() as datestamp:
            current = {row[0]: row[1:] for row in self.conn.execute(
                "SELECT id, source_hash, issue_id FROM records "
                "WHERE id IN (SELECT value FROM json_each(?)) AND deleted = 0 AND withdrawn = 0",
                (json.dumps([seen.id for seen, _ in batch]),))}
            items = [(prepared, current[seen.id][1]) for seen, prepared in batch
                     if current.get(seen.id, (None,))[0] == seen.source_hash]
            return self._save_articles(items, datestamp, force=True)

    def _start_state(self) -> None:
        """Forget what the last transaction noted: a new one (or a group) begins."""
        self._touched, self._stamped, self._before, self._visible, self._left = [], {}, {}, {}, []
        self._lists = ListSizeKeeper(self.conn)

    @contextlib.contextmanager
    def _transaction(self, commit: bool = True) -> t.Iterator[str]:
        """One write transaction (a savepoint inside an open group); yields the datestamp for the records it changes."""
        if self._group is not None:
            with self._in_group(commit) as datestamp:
                yield datestamp
            return
        self._start_state()
        # db.begin_immediate waits for a writer outside the admin commands' lock.
        with timeline.write_transaction(self.conn, changes_data=True, begin=db.begin_immediate,
                                        delay=self.delay, commit=commit):
            datestamp = format_datestamp(self.clock())
            yield datestamp
            if commit:
                self._lists.settle(self._restamp({datestamp: self._touched}))

    # ------------------------------------------------------------------ groups of files

    def begin_group(self) -> None:
        """Open one transaction for the next files saved (each in its own savepoint), until :meth:`commit_group`.

        Every file still goes in whole or not at all, and readers see a group at once; the
        group's records are stamped with the group's commit time (decisions.md P15).
        """
        if self._group is not None:
            raise RuntimeError("a group of files is open already")
        self._start_state()
        db.begin_immediate(self.conn)
        self._group = _Group(time.monotonic())

    def group_open(self) -> bool:
        """Tell whether a group of files is open."""
        return self._group is not None

    def group_files(self) -> int:
        """How many files the open group holds (0 without one)."""
        return 0 if self._group is None else self._group.files

    def group_age(self) -> float:
        """Seconds since the open group began (0 without one)."""
        return 0.0 if self._group is None else time.monotonic() - self._group.began

    def group_alive(self) -> bool:
        """Tell whether the open group's transaction still stands (SQLite rolls it back after some errors)."""
        return self._group is not None and self.conn.in_transaction

    def commit_group(self) -> None:
        """Stamp, count and commit the open group's files; the group is closed even if the commit fails."""
        group, self._group = self._group, None
        if group is None:
            return
        if not group.files:  # every file was known unchanged, or failed: nothing to commit
            timeline.rollback(self.conn)
            return
        before, self._before = self._before, {}
        with timeline.write_transaction(self.conn, changes_data=True, begin=_begun, delay=self.delay):
            self._unstamp_undone(before)
            self._lists.settle(self._restamp(self._stamped))

    def _unstamp_undone(self, before: dict[int, tuple[str, int, str | tuple[str, ...]]]) -> None:
        """Give back their datestamp to the records a group changed and changed back (v1, v2, v1 of an issue).

        Readers see the group at once, never the states in between: a record that ends the
        group disseminating what it did before it (the same deletion status, and the same
        content hash, which covers its formats and sets, or if deleted the same sets) has not
        changed for any harvester, so its datestamp must not move (decisions.md P2).
        Its tombstones are as they were too: they go where the record was listed when the
        group began and is not now (writes.py, decisions.md P16).
        """
        if not before:
            return
        undone = {}
        for record_id, identifier, deleted, content_hash in self.conn.execute(
                "SELECT id, identifier, deleted, content_hash FROM records "
                "WHERE id IN (SELECT value FROM json_each(?))", (json.dumps(list(before)),)):
            datestamp, was_deleted, shown = before[record_id]
            # (Seen by a file rolled back since, and not changed by another: nothing to undo.)
            if record_id not in self._lists.changed or deleted != was_deleted:
                continue
            # (A live record is compared by its content hash: its sets are read only if undone.)
            specs = self._specs(record_id) if deleted else None
            if shown == (specs if deleted else content_hash):
                undone[record_id] = (identifier, datestamp, bool(deleted), specs or self._specs(record_id))
        if not undone:
            return
        # Not restamped with the commit, and counted by reading them back (their datestamps
        # now differ from the commit's, which the keeper was told they would carry).
        for touched in self._stamped.values():
            touched[:] = [i for i in touched if i not in undone]
        self._lists.forget_written(undone)
        for record_id, (identifier, datestamp, deleted, specs) in undone.items():
            header = render_header(identifier, datestamp, specs, deleted)
            self.conn.execute("UPDATE records SET datestamp = ?, header = ?, header_crc = ? WHERE id = ?",
                              (datestamp, header, checksum(header), record_id))
            # (Its set tombstones are those it had when the group began, on their own datestamps.)
            self.conn.execute("UPDATE record_sets SET datestamp = ? WHERE record_id = ? AND gone = 0",
                              (datestamp, record_id))

    def abandon_group(self) -> None:
        """Roll the open group back (nothing of its files is written)."""
        group, self._group, self._before = self._group, None, {}
        if group is not None:
            timeline.rollback(self.conn)

    @contextlib.contextmanager
    def _in_group(self, commit: bool) -> t.Iterator[str]:
        # One file of a group: a savepoint, so that a failing (or dry-run) file leaves the
        # others of its group as they were, and the list-size bookkeeping with it.
        assert self._group is not None
        lists = self._lists.mark()
        self._touched = []
        datestamp = format_datestamp(self.clock())
        self.conn.execute("SAVEPOINT file")
        try:
            yield datestamp
            if not commit:
                raise _DryRun
        except BaseException as error:
            if self.conn.in_transaction:  # else SQLite rolled the whole group back itself
                self.conn.execute("ROLLBACK TO file")
                self.conn.execute("RELEASE file")
            self._lists.back_to(lists)
            if not isinstance(error, _DryRun):
                raise
            return
        self.conn.execute("RELEASE file")
        self._stamped.setdefault(datestamp, []).extend(self._touched)
        self._group.files += 1

    def _restamp(self, stamped: dict[str, list[int]]) -> str:
        """Give the records this transaction changed the time of its commit, not of its start; return that datestamp.

        ``stamped`` holds the records by the datestamp they were written with. A harvest that
        did not see them (it read before the commit) has a responseDate no later than the
        commit; stamped at commit, they fall inside the harvester's next incremental harvest
        (``from`` = that responseDate, inclusive) instead of before it.
        """
        committed = format_datestamp(self.clock())
        for started, touched in stamped.items():
            if committed == started or not touched:
                continue
            ids = json.dumps(touched)
            old, new = f"<datestamp>{started}</datestamp>", f"<datestamp>{committed}</datestamp>"
            # Counted afresh by the settle that follows (every touched record is a changed one).
            # (+datestamp: find the rows by id, not among all the records of that second.)
            # And the new header's checksum (db.CHECKSUM_FUNCTION; both sides of SET read the
            # row as it was).
            self.conn.execute(
                "UPDATE records SET datestamp = ?, header = replace(header, ?, ?), "
                f"header_crc = {db.CHECKSUM_FUNCTION}(replace(header, ?, ?)) "
                "WHERE id IN (SELECT value FROM json_each(?)) AND +datestamp = ?",
                (committed, old, new, old, new, ids, started),
            )
            self.conn.execute(
                "UPDATE record_sets SET datestamp = ? "
                "WHERE record_id IN (SELECT value FROM json_each(?)) AND datestamp = ? AND gone = 0",
                (committed, ids, started),
            )
        # And the set tombstones it left, on their file's datestamp; one kept from an earlier
        # transaction keeps its datestamp, even one that is a start datestamp here (P16).
        self.conn.executemany(
            "UPDATE record_sets SET datestamp = ? "
            "WHERE record_id = ? AND set_spec = ? AND datestamp = ? AND gone = 1",
            [(committed, record_id, spec, started) for started, record_id, spec in self._left
             if started != committed])
        # Every record changed (each is in ``stamped``) and its set memberships now carry it.
        return committed


class _DryRun(Exception):
    """Raised inside a file's savepoint to roll a dry run back."""


@dataclass
class _Group:
    """An open group of files: when it began (time.monotonic) and how many files it holds."""

    began: float
    files: int = 0


def _begun(conn: sqlite3.Connection) -> None:
    """Begin nothing: the group's transaction is open already."""
