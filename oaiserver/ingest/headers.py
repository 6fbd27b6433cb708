"""The pre-rendered OAI ``<header>`` of a record, made by the writer when it sets the datestamp.

Only the writer knows a record's datestamp (the time of its commit), so the header is the
one piece of a record not made ahead by prepare.py: a short template of the identifier, the
datestamp and the set specs, which the writer fills in.
"""
from __future__ import annotations

import functools
import typing as t

from oaiserver import xmltext


def render_header(identifier: str, datestamp: str, specs: t.Iterable[str], deleted: bool) -> str:
    """Return the pre-rendered ``<header>`` element of a record."""
    status = ' status="deleted"' if deleted else ""
    return (
        f"<header{status}>{xmltext.leaf('identifier', identifier)}"
        f"<datestamp>{datestamp}</datestamp>{_spec_xml(tuple(specs))}</header>"
    )


@functools.lru_cache(maxsize=4096)
def _spec_xml(specs: tuple[str, ...]) -> str:
    # Articles share lists of sets, and lists share sets: each escaped and ordered once.
    return "".join(map(_spec_element, _ordered(specs)))


@functools.lru_cache(maxsize=4096)
def _spec_element(spec: str) -> str:
    return xmltext.leaf("setSpec", spec)


def _ordered(specs: t.Iterable[str]) -> list[str]:
    # One stable order for live and deleted headers: by root, then depth, then name.
    return sorted(specs, key=_spec_order)


@functools.lru_cache(maxsize=4096)
def _spec_order(spec: str) -> tuple[str, int, str]:
    return (spec.split(":")[0], spec.count(":"), spec)
