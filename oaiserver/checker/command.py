"""The `oaiserver check BASE_URL` command (also `python -m oaiserver.checker BASE_URL`)."""
from __future__ import annotations

import json
import sys
import urllib.parse
from pathlib import Path

import click
from flask.cli import ScriptInfo

from oaiserver.checker.checks import Options, Unreachable
from oaiserver.checker.report import as_json, as_text
from oaiserver.checker.runner import PROFILES, PROTOCOL, run_checks
from oaiserver.checker.schema_cache import default_folder
from oaiserver.checker.schemas import SchemaError


def _base_url(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter("must be an http:// or https:// URL")
    if parts.fragment:
        raise click.BadParameter("must not have a #fragment")
    return value


def _default_cache() -> Path:
    # Under the app's CLI (`oaiserver check`) the instance folder; standalone the XDG cache.
    info = click.get_current_context().find_object(ScriptInfo)
    if info is not None:
        try:
            return Path(info.load_app().instance_path) / "schema-cache"
        except Exception:  # an app that does not load (bad config) must not stop a check of others
            pass
    return default_folder()


@click.command("check")
@click.argument("base_url", callback=_base_url)
@click.option("--profile", "profiles", multiple=True, type=click.Choice(PROFILES),
              help=f"What to check (repeatable; default {PROTOCOL}): the OAI-PMH protocol, or the OpenAIRE "
                   "guidelines v4 (oai_openaire records) or v3 (oai_dc records of the openaire set).")
@click.option("--schemas", type=click.Path(exists=True, file_okay=False, path_type=Path),
              envvar="OAISERVER_SCHEMAS", show_envvar=True,
              help="Validate every response against the XML Schemas in this folder "
                   "(oai-bundle.xsd, else OAI-PMH.xsd plus the known format schemas found).")
@click.option("--schema-cache", type=click.Path(file_okay=False, path_type=Path),
              envvar="OAISERVER_SCHEMA_CACHE", show_envvar=True,
              help="Without --schemas: the folder of official schemas fetched once from their "
                   "schemaLocation URLs (default: <instance>/schema-cache under the app's CLI, "
                   "else $XDG_CACHE_HOME/oaiserver/schemas).")
@click.option("--schema-mirror", metavar="URL", envvar="OAISERVER_SCHEMA_MIRROR", show_envvar=True,
              help="Fetch the official schemas from this mirror instead: URL/<host>/<path>.")
@click.option("--json", "as_json_output", is_flag=True, help="Print one JSON document instead of lines.")
@click.option("--max-pages", default=1000, show_default=True, type=click.IntRange(1),
              help="Pages followed per list before a harvest stops.")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1),
              help="Seconds to wait for each response.")
@click.option("--sample", default=5, show_default=True, type=click.IntRange(0),
              help="Records fetched with GetRecord per format (0: none).")
@click.option("--max-sets", default=5, show_default=True, type=click.IntRange(0),
              help="Sets harvested to check set membership.")
@click.option("--format", "formats", multiple=True, metavar="PREFIX",
              help="Harvest only this metadataPrefix (repeatable); default: every format listed.")
@click.option("--delay", default=0.0, show_default=True, type=click.FloatRange(0),
              help="Seconds to wait between requests, to go easy on someone else's server.")
def check_command(base_url: str, profiles: tuple[str, ...], schemas: Path | None,
                  schema_cache: Path | None, schema_mirror: str | None, as_json_output: bool,
                  max_pages: int, timeout: float, sample: int, max_sets: int, formats: tuple[str, ...],
                  delay: float) -> None:
    """Check the OAI-PMH endpoint at BASE_URL for conformance (any repository, not only this one).

    Prints PASS, FAIL or SKIP for each check (WARN and INFO for guideline rules) and a summary.
    Exit status: 0 when nothing failed, 1 when a check failed, 2 on a usage error or when the
    endpoint cannot be reached.
    """
    chosen = tuple(dict.fromkeys(profiles)) or (PROTOCOL,)
    options = Options(base_url, timeout, max_pages, sample, max_sets, formats, schemas, delay, chosen,
                      schema_cache=None if schemas else schema_cache or _default_cache(),
                      schema_mirror=schema_mirror)
    try:
        report = run_checks(options)
    except (Unreachable, SchemaError) as error:
        if as_json_output:
            click.echo(json.dumps({"base_url": base_url, "ok": False, "error": str(error)}))
        click.echo(f"error: {error}", err=True)
        sys.exit(2)
    click.echo(as_json(report) if as_json_output else as_text(report))
    sys.exit(1 if report.failed else 0)
