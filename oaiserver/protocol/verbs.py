"""The six OAI-PMH verbs: a request's checked arguments in, the response document out.

Free of Flask: ``handle`` takes the request's arguments, a read connection and the
repository's settings, so it is tested and benchmarked without a web server.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import typing as t
from dataclasses import dataclass, field, replace

import metadata_formats
from oaiserver.protocol import arguments, envelope
from oaiserver.storage import queries as store
from oaiserver.storage import timeline
from oaiserver import xmltext
from oaiserver.protocol.arguments import OAIRequest
from oaiserver.protocol.datestamps import SECONDS, format_datestamp, lower_bound, upper_bound
from oaiserver.protocol.errors import (
    BadArgument,
    BadResumptionToken,
    BadVerb,
    CannotDisseminateFormat,
    IdDoesNotExist,
    NoMetadataFormats,
    NoRecordsMatch,
    OAIError,
    OAIErrors,
    Unavailable,
)
from oaiserver.protocol.tokens import ListState, TokenCodec

NS_OAI_ID = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"


@dataclass(frozen=True)
class Repository:
    """What the verbs need to know about this repository (from the configuration)."""

    name: str
    base_url: str
    admin_emails: tuple[str, ...]
    repository_identifier: str
    page_size: int
    identifiers_page_size: int
    codec: TokenCodec
    compression: tuple[str, ...] = ()
    stylesheet: str | None = None
    # A ListRecords page ends after the record that brings it to this many bytes (at least
    # two records per page, where two are left); None: only page_size counts.
    page_max_bytes: int | None = None
    formats: t.Mapping[str, metadata_formats.MetadataFormat] = field(
        default_factory=lambda: metadata_formats.FORMATS
    )


#: Retry-After, in seconds, for a page asked of a node that has not caught up with the page
#: before it: replicas catch up within a second or two (decisions.md P14).
BEHIND_RETRY_AFTER = 2


@dataclass(frozen=True)
class Context:
    """One request's view of the repository: settings, a read connection and the time."""

    repo: Repository
    conn: sqlite3.Connection
    now: dt.datetime
    #: On a follower, the most its data may lag behind the primary's heartbeat, in seconds;
    #: None where there is nothing to lag behind (a standalone server, the primary).
    max_lag: float | None = None
    #: The database's timeline as this request's snapshot reads it (set by :func:`handle` for
    #: lists and on followers).
    position: timeline.Position = timeline.Position(timeline.UNKNOWN_EPOCH, 0, None, 0)


def handle(params: t.Mapping[str, t.Sequence[str]], ctx: Context) -> bytes:
    """Answer one OAI-PMH request; protocol errors become ``<error>`` elements.

    Raises :class:`Unavailable` when this node cannot answer correctly now (a follower too far
    behind the primary, or behind a page of the list already sent).
    """
    request_attrs: dict[str, str] | None = None
    try:
        request = arguments.parse(params)
        request_attrs = {"verb": request.verb, **request.args}
        # One read transaction per response, so all its queries see one snapshot.
        ctx.conn.execute("BEGIN")
        try:
            ctx = _in_snapshot(ctx, request.verb)
            body = VERBS[request.verb](request, ctx)
        finally:
            ctx.conn.execute("COMMIT")
    except (BadVerb, BadArgument) as error:
        request_attrs, body = None, envelope.errors([error])
    except OAIErrors as error:
        if any(isinstance(e, (BadVerb, BadArgument)) for e in error.errors):
            request_attrs = None
        body = envelope.errors(error.errors)
    except OAIError as error:
        body = envelope.errors([error])
    return envelope.document(ctx.repo.base_url, ctx.now, request_attrs, body, ctx.repo.stylesheet)


#: The verbs whose answers depend on the timeline: lists carry its epoch and version in their tokens.
_LIST_VERBS = frozenset({"ListIdentifiers", "ListRecords", "ListSets"})


def _in_snapshot(ctx: Context, verb: str) -> Context:
    """The context with the snapshot's timeline where it matters; Unavailable if this follower is too far behind.

    Read only for a follower (every answer depends on its lag) or a list (its tokens): a
    standalone GetRecord or Identify does not pay the query.
    """
    if ctx.max_lag is None and verb not in _LIST_VERBS:
        return ctx
    position = timeline.read(ctx.conn)
    if ctx.max_lag is not None:
        problem = timeline.lag_problem(position, ctx.now.timestamp(), ctx.max_lag)
        if problem is not None:
            raise Unavailable(problem, retry_after=max(1, round(ctx.max_lag)))
    return replace(ctx, position=position)


def _resume(ctx: Context, token: str, verb: str) -> ListState:
    """The state a resumption token carries, if this node can go on with it."""
    state = ctx.repo.codec.decode(token, verb)
    here = ctx.position
    if state.epoch not in (timeline.UNKNOWN_EPOCH, here.epoch):
        raise BadResumptionToken("the repository was restored from a backup after this list began; "
                                 "start the list again")
    if here.version < state.version:
        if ctx.max_lag is None:
            # Not a follower, so not behind: the data went back (a backup put in place).
            raise BadResumptionToken("the repository's data was restored from a backup after this list "
                                     "began; start the list again")
        # A page of this list was read at a newer version: this follower has not caught up yet,
        # and going on would send records as they were before changes that page reflects.
        raise Unavailable(f"this node is at data version {here.version}, the list at {state.version}",
                          retry_after=BEHIND_RETRY_AFTER)
    return state


def identify(request: OAIRequest, ctx: Context) -> str:
    """Identify (OAI-PMH §4.2)."""
    repo = ctx.repo
    earliest = store.earliest_datestamp(ctx.conn) or format_datestamp(ctx.now)
    sample = store.sample_identifier(ctx.conn) or f"oai:{repo.repository_identifier}:1234-5678/A-1"
    parts = [
        xmltext.leaf("repositoryName", repo.name),
        xmltext.leaf("baseURL", repo.base_url),
        "<protocolVersion>2.0</protocolVersion>",
        *(xmltext.leaf("adminEmail", email) for email in repo.admin_emails),
        f"<earliestDatestamp>{earliest}</earliestDatestamp>",
        "<deletedRecord>persistent</deletedRecord>",
        f"<granularity>{SECONDS}</granularity>",
        *(xmltext.leaf("compression", c) for c in repo.compression),
        "<description>"
        f'<oai-identifier xmlns="{NS_OAI_ID}" '
        f'xsi:schemaLocation="{NS_OAI_ID} {OAI_ID_SCHEMA}">'
        "<scheme>oai</scheme>"
        f"{xmltext.leaf('repositoryIdentifier', repo.repository_identifier)}"
        "<delimiter>:</delimiter>"
        f"{xmltext.leaf('sampleIdentifier', sample)}"
        "</oai-identifier></description>",
    ]
    return f"<Identify>{''.join(parts)}</Identify>"


def list_metadata_formats(request: OAIRequest, ctx: Context) -> str:
    """ListMetadataFormats (OAI-PMH §4.4), for the repository or for one item."""
    prefixes = list(ctx.repo.formats)
    identifier = request.get("identifier")
    if identifier is not None:
        found = store.formats_of(ctx.conn, identifier)
        if found is None:
            raise IdDoesNotExist(f"no item has the identifier {identifier!r}")
        deleted, rendered = found
        # A deleted item is listed, header only, in every format, and GetRecord gives its
        # deleted header in every format (storage/list_sizes.py): so every format is available
        # for it, also those it was never rendered in (oai_openaire of a journal without an
        # access right, a format added after it was deleted).
        if not deleted:
            prefixes = [p for p in prefixes if p in rendered]
        if not prefixes:
            raise NoMetadataFormats(f"the item {identifier!r} is in no metadata format")
    body = "".join(
        "<metadataFormat>"
        f"{xmltext.leaf('metadataPrefix', fmt.prefix)}"
        f"{xmltext.leaf('schema', fmt.schema)}"
        f"{xmltext.leaf('metadataNamespace', fmt.namespace)}"
        "</metadataFormat>"
        for fmt in (ctx.repo.formats[p] for p in prefixes)
    )
    return f"<ListMetadataFormats>{body}</ListMetadataFormats>"


def list_sets(request: OAIRequest, ctx: Context) -> str:
    """ListSets (OAI-PMH §4.6), paged by setSpec."""
    token = request.get("resumptionToken")
    if token is not None:
        state = _resume(ctx, token, "ListSets")
    else:
        state = ListState("ListSets", total=store.count_sets(ctx.conn))
    size = ctx.repo.identifiers_page_size
    # Two rows past the page tell whether exactly one set would be left for a page of its
    # own: then it joins this one (decisions.md P10).
    rows = store.sets_page(ctx.conn, state.last[0] if state.last else None, size + 2)
    if not rows:
        # noRecordsMatch is no error of ListSets (OAI-PMH §4.6): the token's place is gone (a set
        # removed by hand), so the token is what is wrong. The root sets always exist, so a
        # first request always has rows.
        raise BadResumptionToken("the list of sets has changed; start ListSets again")
    more = len(rows) > size + 1
    shown = rows[:size] if more else rows
    body = "".join(
        f"<set>{xmltext.leaf('setSpec', spec)}{xmltext.leaf('setName', name)}"
        f"{f'<setDescription>{description}</setDescription>' if description else ''}</set>"
        for spec, name, description in shown
    )
    body += _token(ctx, state, (shown[-1][0],), len(shown), more, token is not None)
    return f"<ListSets>{body}</ListSets>"


def get_record(request: OAIRequest, ctx: Context) -> str:
    """GetRecord (OAI-PMH §4.1)."""
    identifier, prefix = request.args["identifier"], request.args["metadataPrefix"]
    errors: list[OAIError] = []
    if prefix not in ctx.repo.formats:
        errors.append(_unknown_format(prefix))
    found = store.get_record(ctx.conn, identifier, prefix)
    if found is None:
        errors.append(IdDoesNotExist(f"no item has the identifier {identifier!r}"))
    if errors or found is None:  # found is None only with an error listed
        raise OAIErrors(errors)
    header, deleted, xml = found
    if deleted:
        return f"<GetRecord><record>{header}</record></GetRecord>"
    if xml is None:
        raise CannotDisseminateFormat(f"the item {identifier!r} is not available as {prefix}")
    return f"<GetRecord><record>{header}<metadata>{xml}</metadata></record></GetRecord>"


def list_identifiers(request: OAIRequest, ctx: Context) -> list[bytes]:
    """ListIdentifiers (OAI-PMH §4.3)."""
    return _list(request, ctx, with_xml=False)


def list_records(request: OAIRequest, ctx: Context) -> list[bytes]:
    """ListRecords (OAI-PMH §4.5)."""
    return _list(request, ctx, with_xml=True)


def _list(request: OAIRequest, ctx: Context, with_xml: bool) -> list[bytes]:
    token = request.get("resumptionToken")
    if token is not None:
        state = _resume(ctx, token, request.verb)
    else:
        state = _first_state(request, ctx)
    selection = store.ListFilter(state.prefix or "", state.set_spec, state.from_ or "", state.until or "")
    if token is not None and state.prefix not in ctx.repo.formats:
        raise _unknown_format(state.prefix or "")
    size = ctx.repo.page_size if with_xml else ctx.repo.identifiers_page_size
    # Headers alone never come near the byte limit: only record pages are held to it.
    max_bytes = ctx.repo.page_max_bytes if with_xml else None
    items, more = store.page(ctx.conn, selection, state.last, size, with_xml, max_bytes)
    if not items:
        # Only a list whose remaining items all moved past the pinned until can end so.
        raise NoRecordsMatch("no records match the request")
    # Bytes from the store straight into the page: the stored UTF-8 is never decoded, and
    # the parts are joined once, with the envelope (envelope.document).
    parts = [f"<{request.verb}>".encode()]
    if with_xml:
        for i in items:
            if i.xml is None:
                parts += (b"<record>", i.header, b"</record>")
            else:
                parts += (b"<record>", i.header, b"<metadata>", i.xml, b"</metadata></record>")
    else:
        parts += [i.header for i in items]
    last = (items[-1].datestamp, items[-1].identifier)
    parts.append(_token(ctx, state, last, len(items), more, token is not None).encode())
    parts.append(f"</{request.verb}>".encode())
    return parts


def _first_state(request: OAIRequest, ctx: Context) -> ListState:
    prefix = request.args["metadataPrefix"]
    set_spec = request.get("set")
    errors: list[OAIError] = []
    if prefix not in ctx.repo.formats:
        errors.append(_unknown_format(prefix))
    if set_spec is not None and not store.set_exists(ctx.conn, set_spec):
        errors.append(NoRecordsMatch(f"there is no set {set_spec!r}"))
    if errors:
        raise OAIErrors(errors)
    from_ = lower_bound(request.args["from"]) if "from" in request.args else ""
    # Pin the list to this moment at the latest: records that change during the harvest are
    # left for the next incremental harvest instead of being chased, and a change stamped
    # ahead (the visibility delay, decisions.md P14) is not shown before its datestamp.
    now = format_datestamp(ctx.now)
    until = min(upper_bound(request.args["until"]), now) if "until" in request.args else now
    total = store.count(ctx.conn, store.ListFilter(prefix, set_spec, from_, until))
    if total == 0:
        raise NoRecordsMatch("no records match the request")
    return ListState(request.verb, prefix, set_spec, from_, until, total=total)


def _token(ctx: Context, state: ListState, last: tuple[str, ...], sent: int, more: bool,
           resumed: bool) -> str:
    # A page of `sent` items ending at position `last`; the token says where the next begins.
    if more:
        # A list never goes back in time: its next page needs a node at least as new as this one.
        token, expires = ctx.repo.codec.encode(
            replace(state.advance(last, sent), epoch=ctx.position.epoch, version=ctx.position.version))
        return envelope.resumption_token(token, state.cursor, state.total, expires)
    if resumed:
        return envelope.resumption_token("", state.cursor, state.total, None)
    return ""


def _unknown_format(prefix: str) -> CannotDisseminateFormat:
    return CannotDisseminateFormat(f"the metadata format {prefix!r} is not supported here")


VERBS: dict[str, t.Callable[[OAIRequest, Context], str | list[bytes]]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}
