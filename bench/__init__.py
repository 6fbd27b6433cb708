"""Benchmarks: corpus generator, ingest and harvest benchmarks, the pyoai peer and the ceiling."""
