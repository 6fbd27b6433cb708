"""Admin commands: `oaiserver …` or `flask --app oaiserver …` (the same click commands)."""
from __future__ import annotations

import contextlib
import functools
import glob
import json
import logging
import os
import sqlite3
import signal
import sys
import threading
import time
import typing as t
from importlib import resources
from pathlib import Path

import click
from flask import Flask, current_app, has_app_context
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from metadata_formats import FORMATS, CrosswalkSettings
from oaiserver import config
from oaiserver import replica
from oaiserver.storage import db, health, lock, problems, timeline
from oaiserver.ingest import Counts, Ingester, IngestError, parse_issue
from oaiserver.ingest.xmlfile import read_limited

log = logging.getLogger(__name__)

#: Exit status of a command that gave up waiting for another writer (EX_TEMPFAIL: try again later).
EXIT_BUSY = 75
# Failures of the database as a whole: every file after the one that met it would fail alike.
_STOPS_INGEST = (problems.FULL, problems.CORRUPT, problems.READONLY, problems.CANTOPEN, problems.IOERR)


class AdminError(click.ClickException):
    """A command that cannot go on: one line on stderr, and exit status 1."""

    def show(self, file: t.IO[t.Any] | None = None) -> None:
        """Print ``error: <message>`` on stderr."""
        click.echo(f"error: {self.format_message()}", err=True)


class WriterBusyError(AdminError):
    """Another writer kept the database past OAI_WRITER_WAIT: exit status 75 (EX_TEMPFAIL), try later."""

    # A class attribute: click declares exit_code a class variable.
    exit_code = EXIT_BUSY


def one_line_errors(command: t.Callable[..., t.Any]) -> t.Callable[..., t.Any]:
    """Turn a failure of the database (busy, full, corrupt, …) or of Litestream into one line and an exit status."""

    @functools.wraps(command)
    def run(*args: t.Any, **kwargs: t.Any) -> t.Any:
        try:
            return command(*args, **kwargs)
        except lock.WriterBusy as error:
            raise WriterBusyError(str(error)) from None
        except replica.LitestreamError as error:  # Litestream missing, failing, or refusing
            raise AdminError(str(error)) from None
        except sqlite3.Error as error:
            log.debug("database error", exc_info=True)
            raise AdminError(problems.explain(error, current_app.config["DATABASE"])) from None
        except json.JSONDecodeError as error:  # a stored article, read back by reindex or restore
            raise AdminError(problems.corrupt(f"a stored article is not valid JSON: {error}",
                                              current_app.config["DATABASE"])) from None

    return run


def init_app(app: Flask) -> None:
    """Register the admin commands on the app's CLI group."""
    from oaiserver.checker.command import check_command

    for command in (init_db_command, ingest_command, withdraw_command, restore_command,
                    reindex_command, serve_command, show_command, stats_command, verify_command,
                    check_command, replica_group):
        app.cli.add_command(command)


def open_store(delay: int | None = None) -> Ingester:
    """Open the configured database for writing (datestamps ``delay`` s ahead; the configured one by default)."""
    config = current_app.config
    if config["OAI_ROLE"] == "follower":
        raise AdminError(f"this node is a follower (OAI_ROLE=follower): {config['DATABASE']} is a replica "
                         "that only Litestream writes; run this command on the primary")
    return Ingester(
        db.connect_writer(config["DATABASE"]),
        config["OAI_REPOSITORY_IDENTIFIER"],
        CrosswalkSettings.from_config(config),
        delay=config["OAI_VISIBILITY_DELAY"] if delay is None else delay,
    )


def writing(command: str) -> Ingester:
    """Open the store for the rest of this admin command, as the only writer.

    Takes the writer lock (waiting up to OAI_WRITER_WAIT seconds, saying so), and at the end
    of the command checkpoints the -wal file back to nothing and closes the database.
    """
    ctx = click.get_current_context()
    config = current_app.config
    ctx.with_resource(lock.writer_lock(
        config["DATABASE"], f"oaiserver {command}", config["OAI_WRITER_WAIT"], _say))
    store = open_store()
    ctx.call_on_close(functools.partial(close_store, store))
    return store


def close_store(store: Ingester) -> None:
    """Checkpoint and truncate the -wal file (readers permitting), then close the database.

    Not on a replicated primary: Litestream holds a read lock that makes the checkpoint wait and
    fail, and checkpoints the file itself.
    """
    try:
        if current_app.config["OAI_ROLE"] != "primary" and not db.checkpoint(store.conn):
            log.info("readers kept the -wal file from being truncated; a later command will")
    except sqlite3.Error:  # e.g. a full disk: the data is safe in the -wal file meanwhile
        log.debug("checkpoint failed", exc_info=True)
    finally:
        store.db.close()


def _say(message: str) -> None:
    click.echo(message, err=True)


def _quick_check(store: Ingester) -> None:
    """Refuse to call a damaged database ready (SQLite's quick_check: structure, not contents)."""
    found = db.quick_check(store.conn)
    if found:
        raise AdminError(problems.corrupt(f"quick_check: {found[0]}", current_app.config["DATABASE"]))


@click.command("init-db")
@with_appcontext
@one_line_errors
def init_db_command() -> None:
    """Create the database and its tables (safe to run again)."""
    store = writing("init-db")
    _quick_check(store)
    click.echo(f"database ready: {current_app.config['DATABASE']}")


def expand_paths(paths: t.Iterable[str]) -> t.Iterator[tuple[str, Path | None]]:
    """Yield (name, path) for files, directories (recursively) and glob patterns; '-' is stdin."""
    for name in paths:
        if name == "-":
            yield name, None
            continue
        path = Path(name)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if not any(part.startswith(".") for part in child.relative_to(path).parts):
                    yield str(child), child
        elif path.exists() or not glob.has_magic(name):
            yield name, path
        else:
            matches = sorted(glob.glob(name, recursive=True))
            if not matches:
                yield name, path  # reported as "no such file"
            for match in matches:
                yield from expand_paths([match])


def read_input(name: str, path: Path | None) -> bytes:
    """Read one input file (or stdin), refusing what ingest cannot take."""
    limit = current_app.config["OAI_MAX_FILE_BYTES"] if has_app_context() else config.defaults()["OAI_MAX_FILE_BYTES"]
    return read_limited(path, limit)


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Parse and check the files; write nothing.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and the total.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file and a total.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar instead of a line per file (default: on a terminal).")
@with_appcontext
@one_line_errors
def ingest_command(paths: tuple[str, ...], dry_run: bool, quiet: bool, as_json: bool,
                   progress: bool | None) -> None:
    """Ingest issue XML files (files, directories, globs; '-' reads stdin).

    Each file goes in whole or, on any error, not at all. Prints one
    line per file (added, updated, unchanged, deleted) or its error, then a total; the exit
    status is 1 if any file failed. A full disk or a damaged database stops the ingest at
    the file that met it; once it is fixed, the same command takes up the files not done.
    """
    # A dry run checks each file against the database when there is one (then rolls back), so
    # its counts say what a real ingest of that file alone would do (not of the files before it
    # in the same run: docs/admin.md); it never creates the database.
    exists = os.path.exists(current_app.config["DATABASE"])
    store = writing("ingest") if exists or not dry_run else None
    inputs = list(expand_paths(paths))
    if progress is None:
        progress = sys.stdout.isatty() and not (quiet or as_json)
    total, failed, done = Counts(), 0, 0

    def articles_so_far(item: tuple[str, Path | None] | None) -> str:
        # The bar counts files; its label counts the articles they held so far.
        return f"{sum(total.as_tuple())} articles" + (f", {item[0]}" if item else "")

    with click.progressbar(inputs, label="ingesting", file=sys.stderr, show_pos=True,
                           item_show_func=articles_so_far, hidden=not progress) as bar, \
            contextlib.closing(_works(store, bar, dry_run, len(inputs))) as works:
        for name, work in works:
            done += 1
            outcome = _ingest_one(name, work)
            if isinstance(outcome, Failure):
                failed += 1
                _report_error(name, outcome.message, as_json)
                if outcome.stops:
                    break
                continue
            total += outcome
            if as_json:
                click.echo(json.dumps({"file": name, "ok": True, **vars(outcome)}))
            elif not (quiet or progress):
                prefix = "would ingest: " if dry_run else ""
                click.echo(f"{name}: {prefix}{outcome.summary()}")
    untried = len(inputs) - done
    if untried:
        _say(f"stopped: {untried} file(s) not tried; once the cause above is fixed, run the same "
             f"ingest again (files already in are found unchanged)")
    if as_json:
        click.echo(json.dumps({"total": True, "files": len(inputs), "failed": failed,
                               **({"not_tried": untried} if untried else {}), **vars(total)}))
    else:
        word = "checked" if dry_run else "total"
        skipped = f", {untried} not tried" if untried else ""
        click.echo(f"{word}: {len(inputs)} file(s), {failed} failed{skipped}: {total.summary()}")
    if failed:
        sys.exit(1)


def _works(store: Ingester | None, items: t.Iterable[tuple[str, Path | None]], dry_run: bool,
           count: int) -> t.Generator[tuple[str, t.Callable[[], Counts]], None, None]:
    """(name, work) per file, in order; with a database, parsed and rendered ahead on every core."""
    if store is not None:
        return store.ingest_files(items, read_input, dry_run, count)
    return ((name, functools.partial(_parse_only, name, path)) for name, path in items)


def _parse_only(name: str, path: Path | None) -> Counts:
    """The work of a file in a dry run without a database: parse it, count its articles."""
    return Counts(added=len(parse_issue(read_input(name, path)).articles))


class Failure(t.NamedTuple):
    """Why one file was not ingested, and whether the files after it would fail alike."""

    message: str
    stops: bool = False


def _ingest_one(name: str, work: t.Callable[[], Counts]) -> Counts | Failure:
    """Ingest (or only check) one file; return its counts or why it failed."""
    try:
        return work()
    except IngestError as error:
        return Failure(str(error))
    except lock.WriterBusy as error:
        return Failure(str(error), stops=True)
    except sqlite3.Error as error:
        log.debug("database error while ingesting %s", name, exc_info=True)
        message = problems.explain(error, current_app.config["DATABASE"])
        return Failure(message, stops=problems.kind(error) in _STOPS_INGEST)
    except Exception as error:  # noqa: BLE001 - a bug (e.g. in a crosswalk) must not stop the other files
        # The transaction was rolled back; one line for the operator, the traceback at DEBUG level.
        log.debug("unexpected error while ingesting %s", name, exc_info=True)
        return Failure(f"internal error ({type(error).__name__}: {' '.join(str(error).split())[:200]})")


def _report_error(name: str, message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"file": name, "ok": False, "error": message}))
    else:
        click.echo(f"{name}: error: {message}", err=True)


@click.command("withdraw")
@click.argument("identifiers", nargs=-1, required=True)
@with_appcontext
@one_line_errors
def withdraw_command(identifiers: tuple[str, ...]) -> None:
    """Withdraw records: they become deleted and stay so when their issue is re-ingested."""
    _each_identifier(identifiers, writing("withdraw").withdraw)


@click.command("restore")
@click.argument("identifiers", nargs=-1, required=True)
@with_appcontext
@one_line_errors
def restore_command(identifiers: tuple[str, ...]) -> None:
    """Undo `withdraw`: the records are live again with a new datestamp."""
    _each_identifier(identifiers, writing("restore").restore)


def _each_identifier(identifiers: tuple[str, ...], action: t.Callable[[str], str]) -> None:
    """Apply ``action`` to each identifier, print its outcome; exit 1 if any was unknown."""
    unknown = 0
    for identifier in identifiers:
        outcome = action(identifier)
        unknown += outcome == "unknown"
        click.echo(f"{identifier}: {outcome}", err=outcome == "unknown")
    if unknown:
        sys.exit(1)


@click.command("reindex")
@with_appcontext
@one_line_errors
def reindex_command() -> None:
    """Re-render every record in every registered format; only records whose output changed
    get a new datestamp.

    Run it after adding, removing or changing a metadata format, or changing a crosswalk
    setting: records ingested before then get their new renditions at once.
    """
    store = writing("reindex")
    _quick_check(store)  # reindex reads every record anyway: a damaged file must not pass
    counts = store.reindex()
    click.echo(f"reindexed: {counts.summary()}")


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@with_appcontext
@one_line_errors
def stats_command(as_json: bool) -> None:
    """Show records per journal and issue, live and deleted, formats, datestamps, size."""
    from oaiserver.storage import stats

    path = current_app.config["DATABASE"]
    conn = db.connect_reader(path)
    try:
        collected = stats.collect(conn, path)
    finally:
        conn.close()
    collected["formats"] = _every_format(collected["formats"])
    if as_json:
        click.echo(json.dumps(collected, indent=2))
        return
    click.echo(stats.render_text(collected))
    unrendered = [prefix for prefix in FORMATS if not collected["formats"][prefix]]
    if unrendered and collected["live"]:
        click.echo(f"note: no record is in {', '.join(unrendered)} yet: if that format was added "
                   "after they were ingested, run `oaiserver reindex`")


def _every_format(counts: dict[str, int]) -> dict[str, int]:
    """Live records per format: every registered one (0 if none has it yet), then any other stored."""
    return {**{prefix: counts.get(prefix, 0) for prefix in FORMATS}, **counts}


class RegisteredFormat(click.Choice):
    """A metadataPrefix of the registry, read when the command runs (formats are plug-ins)."""

    name = "format"

    def __init__(self) -> None:
        super().__init__(())

    # click before 8.5 types `choices` as an instance attribute (a property overrides it); 8.5
    # declares it on the class (no override error): the ignore serves either.
    @property  # type: ignore[override, unused-ignore]
    def choices(self) -> tuple[str, ...]:
        """The registered prefixes."""
        return tuple(FORMATS)

    @choices.setter
    def choices(self, _value: t.Any) -> None:
        pass  # click.Choice sets its own list; this one always reads the registry


@click.command("verify")
@click.option("--quick", is_flag=True,
              help="SQLite's quick_check instead of integrity_check (skips indexes against tables).")
@with_appcontext
@one_line_errors
def verify_command(quick: bool) -> None:
    """Read the whole database and report any damage; exit status 1 if there is some.

    SQLite's integrity_check (structure), then every header, rendition (checksum) and stored
    article, and the list sizes. Reads only: safe while the server runs. Takes minutes on
    millions of records.
    """
    from oaiserver.storage import verify

    path = current_app.config["DATABASE"]
    if not os.path.exists(path):
        raise AdminError(f"no database at {path}")
    conn = db.connect_reader(path)
    try:
        report = verify.verify(conn, quick=quick)
    finally:
        conn.close()
    unchecked = f" ({report.unchecked} without a checksum, parsed instead)" if report.unchecked else ""
    left = f", {report.tombstones} tombstones" if report.tombstones else ""
    read = f"{report.records} records, {report.renditions} renditions{unchecked}{left}"
    if not report.found:
        click.echo(f"ok: {read}; SQLite's {'quick_check' if quick else 'integrity_check'} found nothing")
        return
    for problem in report.problems:
        click.echo(f"problem: {problem}", err=True)
    if report.more:
        click.echo(f"problem: … and {report.more} more", err=True)
    raise AdminError(problems.corrupt(f"{report.found} problem(s) in {read}", path,
                                      f"stop ingesting, then {problems.RESTORE}"))


@click.command("show")
@click.argument("identifier")
@click.option("--format", "prefix", type=RegisteredFormat(), default="oai_dc", show_default=True,
              help="The metadataPrefix: one of the registered formats.")
@with_appcontext
@one_line_errors
def show_command(identifier: str, prefix: str) -> None:
    """Print one record as GetRecord serves it."""
    from lxml import etree

    client = current_app.test_client()
    response = client.get(
        "/oai", query_string={"verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix}
    )
    if response.status_code != 200:
        # The server's own one-line reason (e.g. a damaged database), as a harvester gets it.
        reason = " ".join(response.get_data(as_text=True).split())[:300]
        raise AdminError(f"the server answered {response.status}: {reason}")
    try:
        tree = etree.fromstring(response.data, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as error:
        raise AdminError(problems.corrupt(f"the record is not well-formed XML: {error}",
                                          current_app.config["DATABASE"])) from None
    click.echo(etree.tostring(tree, pretty_print=True, encoding="unicode"))
    ns = {"o": "http://www.openarchives.org/OAI/2.0/"}
    if tree.find("o:error", ns) is not None:
        sys.exit(1)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
@one_line_errors
def serve_command(host: str, port: int) -> None:
    """Run the development server; on an empty database, ingest the bundled demo issue first."""
    config = current_app.config
    if config["OAI_ROLE"] != "follower":
        _load_demo(config)
    click.echo(f"OAI-PMH base URL: http://{host}:{port}/oai")
    # app.run() refuses to start under a click command, so call Werkzeug directly.
    # current_app is a werkzeug LocalProxy at run time, typed as the Flask app it stands for.
    run_simple(host, port, current_app._get_current_object(), threaded=True)  # type: ignore[attr-defined]


def _load_demo(config: t.Mapping[str, t.Any]) -> None:
    """Ingest the bundled demo issue into an empty database (if OAI_LOAD_DEMO)."""
    # The writer lock only while the demo goes in: serving never writes.
    with lock.writer_lock(config["DATABASE"], "oaiserver serve", config["OAI_WRITER_WAIT"], _say):
        # No visibility delay: an empty repository has no harvest in progress to keep exact,
        # and the demo is there the moment the server starts.
        store = open_store(delay=0)
        try:
            empty = store.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
            if empty and config["OAI_LOAD_DEMO"]:
                demo = resources.files("oaiserver") / "demo" / "nkums-v18n2.xml"
                counts = store.save_file(demo.read_bytes())
                click.echo(f"demo issue ingested: {counts.summary()}")
        finally:
            close_store(store)


# ---------------------------------------------------------------------------- replicas


@click.group("replica")
def replica_group() -> None:
    """Replicate with Litestream: the primary, a web node's follower, a restore (docs/admin.md)."""


def _replica_settings(*roles: str) -> tuple[Path, str, replica.Litestream]:
    """DATABASE, OAI_REPLICA_URL and Litestream, once the node's OAI_ROLE is one of ``roles``."""
    config = current_app.config
    if config["OAI_ROLE"] not in roles:
        raise AdminError(f"this command runs on a node with OAI_ROLE={' or '.join(roles)}, "
                         f"not {config['OAI_ROLE']}")
    if not config["OAI_REPLICA_URL"]:
        raise AdminError("set OAI_REPLICA_URL to the replica (file:///path or s3://bucket/path)")
    return Path(config["DATABASE"]), config["OAI_REPLICA_URL"], replica.Litestream()


def _until_signalled(run: t.Callable[[threading.Event], None]) -> None:
    """Run ``run(stop)`` until SIGTERM or SIGINT sets ``stop``."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run(stop)


@replica_group.command("primary")
@with_appcontext
@one_line_errors
def replica_primary_command() -> None:
    """Replicate the database to OAI_REPLICA_URL and beat every second (run it as a service)."""
    config = current_app.config
    database, url, litestream = _replica_settings("primary")
    needed = timeline.min_delay(config["OAI_MAX_LAG"])
    if config["OAI_VISIBILITY_DELAY"] < needed:
        raise AdminError(f"OAI_VISIBILITY_DELAY is {config['OAI_VISIBILITY_DELAY']} s: a replicated primary "
                         f"needs at least OAI_MAX_LAG + {timeline.CLOCK_TOLERANCE} = {needed} s")
    _until_signalled(replica.Primary(database, url, config["OAI_VISIBILITY_DELAY"], litestream, _say).run)


@replica_group.command("follow")
@with_appcontext
@one_line_errors
def replica_follow_command() -> None:
    """Keep DATABASE a servable replica of OAI_REPLICA_URL (run it as a service beside gunicorn)."""
    database, url, litestream = _replica_settings("follower")
    _until_signalled(replica.Follower(url, database, litestream, _say).run)


@replica_group.command("restore")
@click.option("--timestamp", help="restore the state at this UTC time (2026-12-05T18:59:39Z), not the latest")
@click.option("--txid", help="restore the state at this Litestream transaction id (hex)")
@click.option("--replace", is_flag=True, help="move an existing database aside (stop its primary first)")
@with_appcontext
@one_line_errors
def replica_restore_command(timestamp: str | None, txid: str | None, replace: bool) -> None:
    """Make this host's DATABASE a new primary restored from OAI_REPLICA_URL (a new epoch)."""
    database, url, litestream = _replica_settings("primary", "standalone")
    with lock.writer_lock(str(database), "oaiserver replica restore", current_app.config["OAI_WRITER_WAIT"], _say):
        epoch = replica.restore_primary(database, url, litestream, timestamp, txid, replace)
    click.echo(f"restored {database} from {url} (epoch {epoch}); now start `oaiserver replica primary`")


@replica_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@with_appcontext
def replica_status_command(as_json: bool) -> None:
    """Print this node's epoch, data version and heartbeat age, and what /healthz would say; exit 1 if unhealthy."""
    config = current_app.config
    database, follower = config["DATABASE"], config["OAI_ROLE"] == "follower"
    now = time.time()
    found = [p.detail for p in health.problems_of(database, follower, config["OAI_MAX_LAG"], now)]
    position = None
    # The numbers too when unhealthy (how far behind), if the file may be opened at all.
    if os.path.exists(database) and not (follower and db.replica_file_problem(database)):
        with contextlib.suppress(sqlite3.Error):
            conn = db.connect_reader(database)
            try:
                position = timeline.read(conn)
            finally:
                conn.close()
    age = None if position is None or position.heartbeat is None else round(now - position.heartbeat, 1)
    report = {"role": config["OAI_ROLE"], "database": database, "healthy": not found, "problems": found,
              "epoch": position and position.epoch, "version": position and position.version,
              "heartbeat_age_seconds": age, "visibility_delay": position and position.delay}
    if as_json:
        click.echo(json.dumps(report))
    else:
        for key, value in report.items():
            if key != "problems":
                click.echo(f"{key}: {value}")
        for problem in found:
            click.echo(f"problem: {problem}")
    if found:
        sys.exit(1)


def _create_app() -> Flask:
    from oaiserver import create_app

    return create_app()


cli = FlaskGroup(create_app=_create_app, add_default_commands=False, load_dotenv=False,
                 help="oaiserver: an OAI-PMH 2.0 repository for journal issues.")


def main() -> None:
    """Entry point of the `oaiserver` console script."""
    os.environ.setdefault("FLASK_RUN_FROM_CLI", "false")
    cli.main()


if __name__ == "__main__":
    main()
