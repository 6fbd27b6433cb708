"""`oaiserver check`: an OAI-PMH 2.0 conformance checker for any endpoint, speaking only HTTP.

It never imports the server's store or verbs, so it judges this repository exactly as it
judges anyone else's. ``run_checks(Options(base_url, ...))`` returns a ``Report``. Profiles
(``Options.profiles``) choose what is checked: the protocol (``oai-pmh``) and the OpenAIRE
guidelines v4 and v3 (``openaire4``, ``openaire3``: rules per record, with levels).
"""
from __future__ import annotations

from oaiserver.checker.checks import Options, Result, Unreachable
from oaiserver.checker.report import Report
from oaiserver.checker.runner import run_checks

__all__ = ["Options", "Report", "Result", "Unreachable", "run_checks"]
