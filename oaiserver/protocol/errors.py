"""OAI-PMH protocol errors: one class per error code of the OAI-PMH specification (§3.6)."""
from __future__ import annotations


class OAIError(Exception):
    """A protocol error, rendered as ``<error code="…">message</error>`` with HTTP 200."""

    code = ""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadArgument(OAIError):
    code = "badArgument"


class BadResumptionToken(OAIError):
    code = "badResumptionToken"


class BadVerb(OAIError):
    code = "badVerb"


class CannotDisseminateFormat(OAIError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    code = "idDoesNotExist"


class NoRecordsMatch(OAIError):
    code = "noRecordsMatch"


class NoMetadataFormats(OAIError):
    code = "noMetadataFormats"


class NoSetHierarchy(OAIError):
    code = "noSetHierarchy"


class OAIErrors(Exception):
    """Several protocol errors found in one request, reported together."""

    def __init__(self, errors: list[OAIError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


class Unavailable(Exception):
    """This node cannot answer correctly now (behind the primary, or behind a page already sent).

    Not a protocol error: the HTTP edge answers 503 with ``Retry-After``, and the harvester
    asks again (decisions.md P14).
    """

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
