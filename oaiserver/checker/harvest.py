"""Follow resumption tokens through a list, and check the list's pages against each other."""
from __future__ import annotations

import collections
from dataclasses import dataclass, field

from oaiserver.checker import responses
from oaiserver.checker.checks import Problem, Run
from oaiserver.checker.http import Params
from oaiserver.checker.responses import Header, Page, SetEntry, Token


@dataclass(frozen=True)
class PageInfo:
    """What the list checks need to know about one page."""

    url: str
    count: int
    token: Token | None
    response_date: str | None


@dataclass
class Harvest:
    """A list followed to its end, to the page limit, or to the first unusable response."""

    label: str
    verb: str
    pages: list[PageInfo] = field(default_factory=list)
    items: list[Header | SetEntry] = field(default_factory=list)
    origin: list[int] = field(default_factory=list)  # index of the page each item came from
    problem: tuple[str, str] | None = None  # (url, reason)
    empty: str = ""  # the error code when the first page said the list is empty
    truncated: bool = False
    reuse: tuple[bool, str, str] | None = None  # (worked, url, reason) of the token reuse probe
    first_token: str | None = None

    @property
    def complete(self) -> bool:
        """Did the harvest reach the end of the list?"""
        return self.problem is None and not self.truncated

    def url_of(self, item: Header | SetEntry) -> str:
        """Return the URL of the page an item came from."""
        return self.pages[self.origin[self.items.index(item)]].url

    @property
    def headers(self) -> list[Header]:
        """Return the items that are headers or records."""
        return [i for i in self.items if isinstance(i, Header)]

    @property
    def set_entries(self) -> list[SetEntry]:
        """Return the items that are sets."""
        return [i for i in self.items if isinstance(i, SetEntry)]


def harvest(run: Run, verb: str, params: Params, label: str, max_pages: int | None = None,
            reuse: bool = False, empty_codes: tuple[str, ...] = ("noRecordsMatch",)) -> Harvest:
    """Harvest a list; with ``reuse``, send the first token twice and compare the answers."""
    result = Harvest(label, verb)
    limit = max_pages or run.options.max_pages
    try:
        page = run.request([("verb", verb), *params])
        if page.errors:
            codes = page.error_codes
            if len(codes) == 1 and codes[0] in empty_codes:
                result.empty = codes[0]
            else:
                result.problem = (page.url, f"error {page.describe_errors()}")
            return result
        while True:
            if page.body(verb) is None:
                result.problem = (page.url, f"page {len(result.pages) + 1} has no <{verb}> element")
                return result
            _add_page(result, page, verb)
            token = result.pages[-1].token
            if token is None or not token.value:
                return result
            if len(result.pages) >= limit:
                result.truncated = True
                return result
            probe = reuse and result.first_token is None
            result.first_token = result.first_token or token.value
            following = _next_page(run, verb, token.value, result, probe)
            if following is None:
                return result
            page = following
    except Problem as problem:
        result.problem = (problem.url, problem.reason)
        return result


def _add_page(result: Harvest, page: Page, verb: str) -> None:
    found = responses.items(page, verb)
    result.items.extend(found)
    result.origin.extend([len(result.pages)] * len(found))
    result.pages.append(PageInfo(page.url, len(found), page.token(verb), page.response_date))


def _next_page(run: Run, verb: str, token: str, result: Harvest, probe: bool) -> Page | None:
    params = [("verb", verb), ("resumptionToken", token)]
    page = run.request(params)
    if page.errors:
        result.problem = (page.url, f"page {len(result.pages) + 1}: error {page.describe_errors()}")
        return None
    if probe:
        result.reuse = _reuse(run, params, page, verb)
    return page


def _reuse(run: Run, params: Params, first: Page, verb: str) -> tuple[bool, str, str]:
    # A harvester whose connection broke retries the same token: it must still work.
    try:
        again = run.request(params)
    except Problem as problem:
        return False, problem.url, f"the token failed when sent again: {problem.reason}"
    if again.errors:
        return False, again.url, f"the token failed when sent again: {again.describe_errors()}"
    before = [i.identifier for i in responses.items(first, verb)]
    after = [i.identifier for i in responses.items(again, verb)]
    if before != after:
        return False, again.url, "the token gave a different page when sent again"
    return True, again.url, ""


def check_list(run: Run, h: Harvest) -> None:
    """Record the list checks of a full harvest: harvest, cursor, sizes, tokens, pages."""
    if h.problem:
        run.fail(f"{h.label}.harvest", *h.problem)
    elif h.truncated:
        run.skip(f"{h.label}.harvest", f"stopped after {len(h.pages)} pages (--max-pages)")
    else:
        run.ok(f"{h.label}.harvest", f"{len(h.items)} items in {len(h.pages)} pages"
               if not h.empty else f"empty list ({h.empty})")
    checks = (("cursor", _cursor), ("complete-list-size", _sizes), ("duplicates", _duplicates),
              ("last-token", _last_token), ("empty-page", _empty_page), ("expiration", _expiration),
              ("token-reuse", _token_reuse))
    for suffix, check in checks:
        name = f"{h.label}.{suffix}"
        if not h.pages:
            run.skip(name, "the list is empty" if h.empty else "no page could be read")
            continue
        outcome = check(h)
        if outcome is None:
            run.ok(name)
        elif outcome[0] == "SKIP":
            run.skip(name, outcome[1])
        else:
            run.fail(name, outcome[0], outcome[1])


Outcome = tuple[str, str] | None  # None: PASS; ("SKIP", reason); (url, reason): FAIL


def _cursor(h: Harvest) -> Outcome:
    sent, seen = 0, False
    for number, page in enumerate(h.pages, 1):
        if page.token is not None and page.token.cursor is not None:
            seen = True
            if page.token.cursor != str(sent):
                return page.url, f"cursor {page.token.cursor} on page {number}, expected {sent}"
        sent += page.count
    return None if seen else ("SKIP", "no page carries a cursor")


def _sizes(h: Harvest) -> Outcome:
    sizes = [(n, p.url, p.token.size) for n, p in enumerate(h.pages, 1)
             if p.token is not None and p.token.size is not None]
    if not sizes:
        return "SKIP", "no page carries a completeListSize"
    first = sizes[0][2]
    for number, url, size in sizes:
        if size != first:
            return url, (f"completeListSize {size} on page {number}, "
                         f"{first} on page {sizes[0][0]}")
    if h.complete and first != str(len(h.items)):
        return h.pages[-1].url, f"completeListSize {first}, but the list had {len(h.items)} items"
    return None


def _duplicates(h: Harvest) -> Outcome:
    counts = collections.Counter(i.identifier for i in h.items)
    repeated = [key for key, n in counts.items() if n > 1]
    if not repeated:
        return None
    return h.pages[-1].url, f"{len(repeated)} repeated, e.g. {repeated[0]!r} {counts[repeated[0]]} times"


def _last_token(h: Harvest) -> Outcome:
    if not h.complete:
        return "SKIP", "the harvest did not reach the end of the list"
    last = h.pages[-1]
    if len(h.pages) == 1:
        return None  # a complete list in one response needs no token
    if last.token is None:
        return last.url, f"the last page ({len(h.pages)}) has no resumptionToken element"
    return None


def _empty_page(h: Harvest) -> Outcome:
    for number, page in enumerate(h.pages, 1):
        if page.count == 0:
            last = number == len(h.pages) and page.token is not None and not page.token.value
            what = "extra empty page" if last else "empty page"
            return page.url, f"{what}: page {number} has no items"
    return None


def _expiration(h: Harvest) -> Outcome:
    seen = False
    for number, page in enumerate(h.pages, 1):
        token = page.token
        if token is None or not token.value or token.expiration is None:
            continue
        seen = True
        expires = responses.parse_moment(token.expiration)
        if expires is None or "T" not in token.expiration:
            return page.url, f"expirationDate {token.expiration!r} on page {number} is not a UTC datetime"
        now = responses.parse_moment(page.response_date or "")
        if now is not None and expires <= now:
            return page.url, (f"expirationDate {token.expiration} on page {number} is not after "
                              f"the responseDate {page.response_date}")
    return None if seen else ("SKIP", "no token carries an expirationDate")


def _token_reuse(h: Harvest) -> Outcome:
    if h.reuse is None:
        return "SKIP", "no resumption token to send again"
    worked, url, reason = h.reuse
    return None if worked else (url, reason)
