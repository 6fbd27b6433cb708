"""Storage: one SQLite file, one writer, many read-only readers.

``db`` opens it (the writer creates the schema, schema.sql), ``queries`` and ``stats`` read it,
``list_sizes`` keeps the completeListSize cache exact. Nothing here imports ingest, protocol
or web.
"""
from __future__ import annotations

from oaiserver.storage import db, list_sizes, queries, stats
from oaiserver.storage.db import cached_reader, connect_reader, connect_writer, create_schema
from oaiserver.storage.list_sizes import ListSizeKeeper
from oaiserver.storage.queries import Item, ListFilter

__all__ = [
    "Item",
    "ListFilter",
    "ListSizeKeeper",
    "cached_reader",
    "connect_reader",
    "connect_writer",
    "create_schema",
    "db",
    "list_sizes",
    "queries",
    "stats",
]
