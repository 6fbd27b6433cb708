"""Ingest: issue files in, database rows out; the only writer.

One way through: the CLI hands files to :class:`Ingester` (pipeline.py), which has them
prepared (prepare.py: parse, render, serialise, hash; in process or in worker processes)
and gives the prepared issues to the :class:`Writer` (writer.py), which writes them.
"""
from oaiserver.ingest.parsing import IngestError, parse_issue
from oaiserver.ingest.pipeline import Ingester, default_workers
from oaiserver.ingest.prepare import PrepareConfig, Prepared, PreparedIssue, prepare_issue, prepare_stored
from oaiserver.ingest.writer import Counts, Writer

__all__ = [
    "Counts",
    "IngestError",
    "Ingester",
    "PrepareConfig",
    "Prepared",
    "PreparedIssue",
    "Writer",
    "default_workers",
    "parse_issue",
    "prepare_issue",
    "prepare_stored",
]
