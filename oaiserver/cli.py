"""Admin commands: `oaiserver …` or `flask --app oaiserver …` (the same click commands)."""
from __future__ import annotations

import glob
import json
import logging
import os
import sqlite3
import sys
import typing as t
from importlib import resources
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from metadata_formats import FORMATS, CrosswalkSettings
from oaiserver.storage import db
from oaiserver.ingest import Counts, Ingester, IngestError, parse_issue

log = logging.getLogger(__name__)

#: The largest issue file ingest reads; bigger files are refused with a message.
MAX_FILE_BYTES = 256 * 1024 * 1024


def init_app(app: Flask) -> None:
    """Register the admin commands on the app's CLI group."""
    from oaiserver.checker.command import check_command

    for command in (init_db_command, ingest_command, withdraw_command, restore_command,
                    reindex_command, serve_command, show_command, stats_command, check_command):
        app.cli.add_command(command)


def open_store() -> Ingester:
    """Open the configured database for writing."""
    config = current_app.config
    return Ingester(
        db.connect_writer(config["DATABASE"]),
        config["OAI_REPOSITORY_IDENTIFIER"],
        CrosswalkSettings.from_config(config),
    )


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database and its tables (safe to run again)."""
    open_store()
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
    if path is None:
        data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    else:
        if not path.exists():
            raise IngestError("no such file")
        if not path.is_file():
            raise IngestError("not a regular file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise IngestError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise IngestError(f"cannot be read: {error.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise IngestError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return data


@click.command("ingest")
@click.argument("paths", nargs=-1, required=True)
@click.option("--dry-run", is_flag=True, help="Parse and check the files; write nothing.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors and the total.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per file and a total.")
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar instead of a line per file (default: on a terminal).")
@with_appcontext
def ingest_command(paths: tuple[str, ...], dry_run: bool, quiet: bool, as_json: bool,
                   progress: bool | None) -> None:
    """Ingest issue XML files (files, directories, globs; '-' reads stdin).

    Each file is one transaction: it goes in whole or, on any error, not at all. Prints one
    line per file (added, updated, unchanged, deleted) or its error, then a total; the exit
    status is 1 if any file failed.
    """
    # A dry run checks against the database when there is one (then rolls back), so its
    # counts say what a real ingest would do; it never creates the database.
    exists = os.path.exists(current_app.config["DATABASE"])
    store = open_store() if exists or not dry_run else None
    inputs = list(expand_paths(paths))
    if progress is None:
        progress = sys.stdout.isatty() and not (quiet or as_json)
    total, failed = Counts(), 0

    def articles_so_far(item: tuple[str, Path | None] | None) -> str:
        # The bar counts files; its label counts the articles they held so far.
        return f"{sum(total.as_tuple())} articles" + (f", {item[0]}" if item else "")

    with click.progressbar(inputs, label="ingesting", file=sys.stderr, show_pos=True,
                           item_show_func=articles_so_far, hidden=not progress) as bar:
        for name, work in _works(store, bar, dry_run, len(inputs)):
            outcome = _ingest_one(name, work)
            if isinstance(outcome, str):
                failed += 1
                _report_error(name, outcome, as_json)
                continue
            total += outcome
            if as_json:
                click.echo(json.dumps({"file": name, "ok": True, **vars(outcome)}))
            elif not (quiet or progress):
                prefix = "would ingest: " if dry_run else ""
                click.echo(f"{name}: {prefix}{outcome.summary()}")
    if as_json:
        click.echo(json.dumps({"total": True, "files": len(inputs), "failed": failed, **vars(total)}))
    else:
        word = "checked" if dry_run else "total"
        click.echo(f"{word}: {len(inputs)} file(s), {failed} failed: {total.summary()}")
    if failed:
        sys.exit(1)


def _works(store: Ingester | None, items: t.Iterable[tuple[str, Path | None]], dry_run: bool,
           count: int) -> t.Iterator[tuple[str, t.Callable[[], Counts]]]:
    """(name, work) per file, in order; with a database, parsed and rendered ahead on every core."""
    if store is not None:
        return store.ingest_files(items, read_input, dry_run, count)
    return ((name, lambda name=name, path=path: Counts(
        added=len(parse_issue(read_input(name, path)).articles))) for name, path in items)


def _ingest_one(name: str, work: t.Callable[[], Counts]) -> Counts | str:
    """Ingest (or only check) one file; return its counts or the error."""
    try:
        return work()
    except IngestError as error:
        return str(error)
    except sqlite3.Error as error:
        return f"database error: {error}"
    except Exception as error:  # noqa: BLE001 - a bug (e.g. in a crosswalk) must not stop the other files
        # The transaction was rolled back; one line for the operator, the traceback at DEBUG level.
        log.debug("unexpected error while ingesting %s", name, exc_info=True)
        return f"internal error ({type(error).__name__}: {' '.join(str(error).split())[:200]})"


def _report_error(name: str, message: str, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"file": name, "ok": False, "error": message}))
    else:
        click.echo(f"{name}: error: {message}", err=True)


@click.command("withdraw")
@click.argument("identifiers", nargs=-1, required=True)
@with_appcontext
def withdraw_command(identifiers: tuple[str, ...]) -> None:
    """Withdraw records: they become deleted and stay so when their issue is re-ingested."""
    _each_identifier(identifiers, open_store().withdraw)


@click.command("restore")
@click.argument("identifiers", nargs=-1, required=True)
@with_appcontext
def restore_command(identifiers: tuple[str, ...]) -> None:
    """Undo `withdraw`: the records are live again with a new datestamp."""
    _each_identifier(identifiers, open_store().restore)


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
def reindex_command() -> None:
    """Re-render every record in every registered format; only records whose output changed
    get a new datestamp.

    Run it after adding, removing or changing a metadata format, or changing a crosswalk
    setting: records ingested before then get their new renditions at once.
    """
    counts = open_store().reindex()
    click.echo(f"reindexed: {counts.summary()}")


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@with_appcontext
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

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        """The registered prefixes."""
        return tuple(FORMATS)

    @choices.setter
    def choices(self, _value: t.Any) -> None:
        pass  # click.Choice sets its own list; this one always reads the registry


@click.command("show")
@click.argument("identifier")
@click.option("--format", "prefix", type=RegisteredFormat(), default="oai_dc", show_default=True,
              help="The metadataPrefix: one of the registered formats.")
@with_appcontext
def show_command(identifier: str, prefix: str) -> None:
    """Print one record as GetRecord serves it."""
    from lxml import etree

    client = current_app.test_client()
    response = client.get(
        "/oai", query_string={"verb": "GetRecord", "identifier": identifier, "metadataPrefix": prefix}
    )
    tree = etree.fromstring(response.data, etree.XMLParser(resolve_entities=False, no_network=True))
    click.echo(etree.tostring(tree, pretty_print=True, encoding="unicode"))
    ns = {"o": "http://www.openarchives.org/OAI/2.0/"}
    if tree.find("o:error", ns) is not None:
        sys.exit(1)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def serve_command(host: str, port: int) -> None:
    """Run the development server; on an empty database, ingest the bundled demo issue first."""
    store = open_store()
    empty = store.conn.execute("SELECT COUNT(*) FROM records").fetchone()[0] == 0
    if empty and current_app.config["OAI_LOAD_DEMO"]:
        demo = resources.files("oaiserver") / "demo" / "nkums-v18n2.xml"
        counts = store.save_file(demo.read_bytes())
        click.echo(f"demo issue ingested: {counts.summary()}")
    store.db.close()
    click.echo(f"OAI-PMH base URL: http://{host}:{port}/oai")
    # app.run() refuses to start under a click command, so call Werkzeug directly.
    run_simple(host, port, current_app._get_current_object(), threaded=True)


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
