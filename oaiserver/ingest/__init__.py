"""Ingest: issue files in, database rows out; the only writer."""
