"""An article's access right, licence and publisher, from the configuration only.

Nothing here is read from the issue files: they carry no rights. Every value is the journal's
own setting (``OAI_JOURNALS``) when it has one, else the repository-wide key (``OAI_RIGHTS``,
``OAI_LICENSE_URL``, ``OAI_PUBLISHER``), else nothing (decisions.md D14).
Every format reads them through these functions, so all formats, and the ``openaire`` set,
say the same thing about one article.
"""
from __future__ import annotations

import functools
import re
import typing as t
from dataclasses import dataclass

from metadata_formats import common as c
from oaiserver import identifiers

if t.TYPE_CHECKING:
    from metadata_formats import CrosswalkSettings
    from oaiserver.model import Article

EU_REPO = "info:eu-repo/semantics/"
COAR_ACCESS = "http://purl.org/coar/access_right/"

#: access right -> (COAR access right URI, its label, the OpenAIRE v3 info:eu-repo term)
_VOCABULARY = {
    "open": (COAR_ACCESS + "c_abf2", "open access", EU_REPO + "openAccess"),
    "embargoed": (COAR_ACCESS + "c_f1cf", "embargoed access", EU_REPO + "embargoedAccess"),
    "restricted": (COAR_ACCESS + "c_16ec", "restricted access", EU_REPO + "restrictedAccess"),
    "metadata-only": (COAR_ACCESS + "c_14cb", "metadata only access", EU_REPO + "closedAccess"),
}
# OAI_RIGHTS values that state an access right for every journal. embargoedAccess is not one:
# an embargo needs its end date, which only a journal's own entry can give.
_GLOBAL_TERMS = {term: right for right, (_, _, term) in _VOCABULARY.items() if right != "embargoed"}

_CC = re.compile(r"creativecommons\.org/(?:licenses/([a-z-]+)|publicdomain/(zero))/(\d\.\d)", re.IGNORECASE)
# Only a bare Creative Commons licence URL (no jurisdiction port) has an SPDX identifier we can
# be sure of: "…/licenses/by-nc/4.0/" -> "cc-by-nc-4.0", "…/publicdomain/zero/1.0/" -> "cc0-1.0".
_CC_SPDX = re.compile(
    r"https?://creativecommons\.org/(?:licenses/(by(?:-nc)?(?:-nd|-sa)?)|publicdomain/(zero))"
    r"/(1\.0|2\.0|2\.5|3\.0|4\.0)/?", re.IGNORECASE)


@dataclass(frozen=True)
class Access:
    """A configured access right, with its end date when it is an embargo."""

    right: str  # one of metadata_formats.journals.ACCESS_RIGHTS
    embargo_end: str | None = None  # YYYY-MM-DD

    @property
    def coar_uri(self) -> str:
        """The COAR access right URI (``http://purl.org/coar/access_right/c_abf2``)."""
        return _VOCABULARY[self.right][0]

    @property
    def coar_label(self) -> str:
        """The COAR label ("open access")."""
        return _VOCABULARY[self.right][1]

    @property
    def eu_repo_term(self) -> str:
        """The OpenAIRE v3 term for ``dc:rights`` (``info:eu-repo/semantics/openAccess``)."""
        return _VOCABULARY[self.right][2]


@dataclass(frozen=True)
class Licence:
    """A configured licence."""

    url: str  # as configured (cleaned): what text content carries
    uri: str | None  # the same as a valid http(s) xs:anyURI, or None when it is not one
    label: str  # the configured label, else a name made from the URL ("CC BY-NC 4.0")
    spdx: str | None  # SPDX identifier in DataCite's lower-case form ("cc-by-nc-4.0"), if certain


def access(article: Article, settings: CrosswalkSettings) -> Access | None:
    """The article's access right: its journal's, else a recognised ``OAI_RIGHTS`` term, else None."""
    return journal_access(article.journal.key, settings)


def journal_access(journal_key: str, settings: CrosswalkSettings) -> Access | None:
    """:func:`access` for every article of the journal ``journal_key``."""
    own = settings.journal(journal_key)
    if own.access_right:
        return Access(own.access_right, own.embargo_end)
    right = _GLOBAL_TERMS.get(c.clean(settings.rights) or "")
    return Access(right) if right else None


def rights_statement(article: Article, settings: CrosswalkSettings) -> str | None:
    """The ``dc:rights`` access statement: the journal's info:eu-repo term, else ``OAI_RIGHTS`` as given."""
    return journal_rights_statement(article.journal.key, settings)


def journal_rights_statement(journal_key: str, settings: CrosswalkSettings) -> str | None:
    """:func:`rights_statement` for every article of the journal ``journal_key``."""
    own = settings.journal(journal_key)
    if own.access_right:
        return _VOCABULARY[own.access_right][2]
    return c.clean(settings.rights)


def licence(article: Article, settings: CrosswalkSettings) -> Licence | None:
    """The article's licence: its journal's, else ``OAI_LICENSE_URL``, else None."""
    return journal_licence(article.journal.key, settings)


def journal_licence(journal_key: str, settings: CrosswalkSettings) -> Licence | None:
    """:func:`licence` for every article of the journal ``journal_key``."""
    own = settings.journal(journal_key)
    if own.license_url:
        return make_licence(own.license_url, own.license_label)
    url = c.clean(settings.license_url)
    return make_licence(url, None) if url else None


@functools.lru_cache(maxsize=64)  # a few licences, asked for by every format of every article
def make_licence(url: str, label: str | None) -> Licence:
    """Build a :class:`Licence` from a configured URL and optional label."""
    return Licence(url, identifiers.web_uri(url), label or licence_name(url), spdx_identifier(url))


def publisher(article: Article, settings: CrosswalkSettings) -> str | None:
    """The configured publisher: the journal's, else ``OAI_PUBLISHER``, else None."""
    return journal_publisher(article.journal.key, settings)


def journal_publisher(journal_key: str, settings: CrosswalkSettings) -> str | None:
    """:func:`publisher` for every article of the journal ``journal_key``."""
    return settings.journal(journal_key).publisher or c.clean(settings.publisher)


def licence_name(url: str) -> str:
    """Return "CC BY-NC 4.0" for a Creative Commons URL, else the URL itself."""
    match = _CC.search(url)
    if not match:
        return url
    licence_code, zero, version = match.groups()
    return f"CC0 {version}" if zero else f"CC {licence_code.upper()} {version}"


def spdx_identifier(url: str) -> str | None:
    """Return the SPDX identifier of a bare Creative Commons licence URL, else None."""
    match = _CC_SPDX.fullmatch(url)
    if not match:
        return None
    licence_code, zero, version = match.groups()
    if zero:
        return "cc0-1.0" if version == "1.0" else None  # CC0 has only version 1.0
    return f"cc-{licence_code.lower()}-{version}"
