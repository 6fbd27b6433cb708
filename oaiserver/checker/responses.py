"""Read OAI-PMH response documents: errors, headers, records, sets and resumption tokens."""
from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from lxml import etree

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"
DAY = "YYYY-MM-DD"
_SECONDS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DAY_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
SET_SPEC_RE = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")

# Responses come from any server: no DTDs, no entity expansion, no network.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def q(name: str) -> str:
    """Return the Clark name of an element in the OAI-PMH namespace."""
    return f"{{{OAI_NS}}}{name}"


def text_of(element: etree._Element | None, name: str) -> str | None:
    """Return the stripped text of the first OAI child ``name`` of ``element``, or None."""
    if element is None:
        return None
    child = element.find(q(name))
    return None if child is None else (child.text or "").strip()


@dataclass(frozen=True)
class Token:
    """A resumptionToken element: its value and raw attributes."""

    value: str
    cursor: str | None
    size: str | None
    expiration: str | None


@dataclass(frozen=True)
class Header:
    """An item's header, plus what the record around it carried (ListRecords, GetRecord)."""

    identifier: str
    datestamp: str
    deleted: bool
    sets: tuple[str, ...]
    metadata: int = 0  # element children of <metadata>; -1 when there was no <metadata>
    namespace: str | None = None  # namespace of the metadata's root element
    digest: str | None = None  # sha256 of the canonical form of the metadata's root element

    def same_header(self, other: Header) -> bool:
        """Compare identifier, datestamp, status and (unordered) setSpecs."""
        return (self.identifier, self.datestamp, self.deleted, sorted(self.sets)) == (
            other.identifier, other.datestamp, other.deleted, sorted(other.sets))


@dataclass(frozen=True)
class SetEntry:
    """A set of ListSets."""

    identifier: str  # the setSpec; named so lists of sets and headers share one duplicate check
    name: str | None


@dataclass
class Page:
    """One parsed OAI-PMH response."""

    url: str
    root: etree._Element

    @property
    def errors(self) -> list[tuple[str, str]]:
        """Return (code, message) of each <error>."""
        return [(e.get("code", ""), (e.text or "").strip()) for e in self.root.findall(q("error"))]

    @property
    def error_codes(self) -> list[str]:
        """Return the codes of the <error> elements."""
        return [code for code, _ in self.errors]

    def body(self, verb: str) -> etree._Element | None:
        """Return the verb's element (e.g. <ListRecords>), or None."""
        return self.root.find(q(verb))

    def token(self, verb: str) -> Token | None:
        """Return the resumptionToken of a list response, or None."""
        body = self.body(verb)
        element = None if body is None else body.find(q("resumptionToken"))
        if element is None:
            return None
        return Token((element.text or "").strip(), element.get("cursor"),
                     element.get("completeListSize"), element.get("expirationDate"))

    @property
    def response_date(self) -> str | None:
        """Return the responseDate text."""
        return text_of(self.root, "responseDate")

    def describe_errors(self) -> str:
        """Summarise the errors for a failure message."""
        return "; ".join(f"{code}: {message[:120]}" for code, message in self.errors)


def parse(url: str, body: bytes) -> Page:
    """Parse a response body (raises etree.XMLSyntaxError)."""
    return Page(url, etree.fromstring(body, PARSER))


def items(page: Page, verb: str) -> list[Header | SetEntry]:
    """Return the headers, records or sets of a list (or GetRecord) response, in order."""
    if verb != "ListSets":
        return [*headers(page, verb)]
    body = page.body(verb)
    if body is None:
        return []
    return [SetEntry(text_of(s, "setSpec") or "", text_of(s, "setName")) for s in body.findall(q("set"))]


def headers(page: Page, verb: str) -> list[Header]:
    """Return the headers (ListIdentifiers) or records (ListRecords, GetRecord) of a response."""
    body = page.body(verb)
    if body is None:
        return []
    if verb == "ListIdentifiers":
        return [parse_header(h) for h in body.findall(q("header"))]
    return [parse_record(r) for r in body.findall(q("record"))]


def parse_header(element: etree._Element, **extra) -> Header:
    """Read a <header> element."""
    return Header(
        identifier=text_of(element, "identifier") or "",
        datestamp=text_of(element, "datestamp") or "",
        deleted=element.get("status") == "deleted",
        sets=tuple((s.text or "").strip() for s in element.findall(q("setSpec"))),
        **extra,
    )


def parse_record(element: etree._Element) -> Header:
    """Read a <record>: its header and a summary of its metadata."""
    header = element.find(q("header"))
    metadata = element.find(q("metadata"))
    if metadata is None:
        extra: dict = {"metadata": -1}
    else:
        children = [c for c in metadata if isinstance(c.tag, str)]
        extra = {"metadata": len(children)}
        if children:
            extra["namespace"] = etree.QName(children[0]).namespace or ""
            extra["digest"] = hashlib.sha256(etree.tostring(children[0], method="c14n")).hexdigest()
    if header is None:
        return Header("", "", False, (), **extra)
    return parse_header(header, **extra)


def datestamp_syntax(value: str, granularity: str | None) -> bool:
    """Is ``value`` a real UTC datestamp in ``granularity`` (either one when None)?"""
    patterns = {SECONDS: (_SECONDS_RE,), DAY: (_DAY_RE,)}.get(granularity or "", (_SECONDS_RE, _DAY_RE))
    return any(p.fullmatch(value) for p in patterns) and parse_moment(value) is not None


def parse_moment(value: str) -> dt.datetime | None:
    """Parse a day or seconds datestamp as an aware UTC datetime (day: its first second)."""
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(value, fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


def day_bounds(value: str) -> tuple[dt.datetime, dt.datetime] | None:
    """Return the first and last second a datestamp covers (a whole day for day granularity)."""
    moment = parse_moment(value)
    if moment is None:
        return None
    if "T" in value:
        return moment, moment
    return moment, moment + dt.timedelta(days=1, seconds=-1)
