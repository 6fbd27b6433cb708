"""Replication on Litestream: the primary's replicator and heartbeat, followers, restores (decisions.md P14).

Litestream copies every commit of the primary's file to a replica (a folder or S3-compatible
storage) and restores it, once or following it, on other hosts. This package runs it the way
oaiserver needs: ``primary`` replicates and beats, ``follower`` keeps a replica that web nodes
can serve safely (rollback mode, one generation after another), ``restore`` builds a new primary.
It knows files and processes, not the protocol: the web layer reads what it leaves behind.
"""
from __future__ import annotations

from oaiserver.replica.follower import Follower
from oaiserver.replica.litestream import Litestream, LitestreamError
from oaiserver.replica.primary import Primary
from oaiserver.replica.restore import restore_primary

__all__ = ["Follower", "Litestream", "LitestreamError", "Primary", "restore_primary"]
