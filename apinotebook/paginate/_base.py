"""Paginators: objects that know how an API pages, and never do I/O.

A paginator is a small state machine in the style of dlt's ``rest_api``
paginators. The driver in :mod:`apinotebook.paginate` sends requests; the
paginator only looks at what came back and says what to send next:

1. ``init_request(request)`` prepares the first request (say, ``offset=0``);
2. after each page, ``update_state(exchange, items)`` reads the response
   (a cursor, a ``Link`` header, a total) and sets ``has_next_page``;
3. ``update_request(request)`` changes the request for the next page.

Paginators whose pages are independent and whose total is known after the
first page (offset and page-number styles) also answer
``remaining_requests(request)``: every request still to send, so the driver
can fetch them at once. Cursors and next links chain each page to the one
before, so those pages are fetched one after the other.

Everything here is pure: each class can be tested with hand-built
:class:`~apinotebook.Exchange` values and no network.
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import httpx

from apinotebook._core.paths import MISSING, JsonPath, describe_path, keys_of, lookup
from apinotebook._core.secrets import mask_url
from apinotebook._core.urls import same_origin
from apinotebook._exceptions import DecodeError
from apinotebook._exchange import Exchange

__all__ = [
    "BasePaginator",
    "HeaderCursorPaginator",
    "HeaderLinkPaginator",
    "ItemCursorPaginator",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "PageRequest",
    "SinglePagePaginator",
    "lookup",
    "parse_link_header",
]


def _query_dict(query: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


@dataclass
class PageRequest:
    """The request for one page: paginators change it, the driver sends it.

    ``url`` never carries a query string: the query lives in ``params``, so a
    paginator can set ``params["cursor"]`` without caring where the other
    parameters came from.
    """

    method: str = "GET"
    url: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None

    @classmethod
    def build(
        cls,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> PageRequest:
        """A request whose ``url`` query string is moved into ``params`` (``params`` win)."""
        request = cls(method=method.upper(), headers=dict(headers or {}), json=copy.deepcopy(json))
        request.set_url(url)
        request.params.update(params or {})
        return request

    def set_url(self, url: str) -> None:
        """Point at ``url``; its query string replaces ``params``."""
        parts = urlsplit(url)
        self.url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.params = _query_dict(parts.query)

    def copy(self) -> PageRequest:
        """A copy for the driver to send (never the paginator's own).

        Containers are copied; the JSON body is deep-copied, since a paginator
        may edit it (Notion's cursor in the body).
        """
        body = copy.deepcopy(self.json) if self.json is not None else None
        return PageRequest(self.method, self.url, dict(self.params), dict(self.headers), body)


def parse_link_header(values: Sequence[str]) -> dict[str, str]:
    """``rel`` -> URL from RFC 8288 ``Link`` header values (first link wins per rel).

    >>> parse_link_header(['<https://x/?page=2>; rel="next", <https://x/?page=5>; rel="last"'])
    {'next': 'https://x/?page=2', 'last': 'https://x/?page=5'}
    """
    links: dict[str, str] = {}
    for value in values:
        for url, params in _links(value):
            rel = params.get("rel", "")
            for name in rel.split():
                links.setdefault(name.lower(), url)
    return links


def _links(value: str) -> list[tuple[str, dict[str, str]]]:
    """``(url, params)`` for each ``<url>; name="value"`` link, quotes and commas respected."""
    out: list[tuple[str, dict[str, str]]] = []
    i, n = 0, len(value)
    while i < n:
        start = value.find("<", i)
        if start < 0:
            break
        end = value.find(">", start)
        if end < 0:
            break
        url = value[start + 1 : end].strip()
        i = end + 1
        params: dict[str, str] = {}
        part: list[str] = []
        quoted = False
        while i < n:
            char = value[i]
            if char == '"':
                quoted = not quoted
            elif not quoted and char in ";,":
                _link_param("".join(part), params)
                part = []
                if char == ",":
                    break
                i += 1
                continue
            elif char == "\\" and quoted and i + 1 < n:
                i += 1
                char = value[i]
                part.append("\\")
            part.append(char)
            i += 1
        _link_param("".join(part), params)
        out.append((url, params))
        i += 1
    return out


def _link_param(text: str, params: dict[str, str]) -> None:
    name, eq, raw = text.partition("=")
    name = name.strip().lower()
    if not name or not eq:
        return
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        raw = raw[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    params.setdefault(name, raw)


def as_int(value: Any, what: str, path: JsonPath, exchange: Exchange) -> int:
    """``value`` as an int, or a :class:`DecodeError` naming ``what`` and ``path``."""
    if isinstance(value, bool):
        raise DecodeError(
            f"{what} at {describe_path(path)!r} is a boolean, not a number", exchange=exchange
        )
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DecodeError(
            f"{what} at {describe_path(path)!r} should be a whole number; got {value!r}",
            exchange=exchange,
        ) from None


def truthy(value: Any) -> bool:
    """Whether a ``has_more``-style flag says yes (``"false"`` and ``"0"`` say no)."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false", "0", "no")
    return bool(value)


def json_body(exchange: Exchange) -> Any:
    """The parsed JSON body, or ``None`` when the body is empty."""
    return exchange.json() if exchange.content.strip() else None


class BasePaginator(ABC):
    """Base of every paginator: holds ``has_next_page``; subclasses read and write pages.

    Subclass it for an API none of the built-in paginators fits: implement
    :meth:`update_state` and :meth:`update_request` (and optionally
    :meth:`init_request`), and never do I/O in them.
    """

    #: The name ``paginate(paginator=...)`` knows this paginator by.
    name: ClassVar[str] = "custom"

    def __init__(self) -> None:
        self._has_next_page = True

    @property
    def has_next_page(self) -> bool:
        """Whether another page should be requested."""
        return self._has_next_page

    def init_request(self, request: PageRequest) -> None:  # noqa: B027 - optional hook
        """Prepare the first request (default: leave it alone)."""

    @abstractmethod
    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Read a page's response (and its items) and decide whether more follow."""

    @abstractmethod
    def update_request(self, request: PageRequest) -> None:
        """Change ``request`` so that it asks for the next page."""

    def remaining_requests(self, request: PageRequest) -> list[PageRequest] | None:
        """Every request still to send, when they can be known now; else ``None``.

        Only paginators whose pages are independent and whose total is known
        answer this; afterwards ``has_next_page`` is false.
        """
        return None

    def _settings(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._settings().items())
        return f"{type(self).__name__}({args})"


class SinglePagePaginator(BasePaginator):
    """One page and done: for endpoints that do not page."""

    name = "single"

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """There is never a next page."""
        self._has_next_page = False

    def update_request(self, request: PageRequest) -> None:
        """Nothing to change."""


class _ReferencePaginator(BasePaginator):
    """A paginator that follows a reference (cursor or URL) the server hands out."""

    what = "cursor"

    def __init__(self) -> None:
        super().__init__()
        self._next: Any = None
        self._seen: set[str] = set()

    def _advance(self, reference: Any, exchange: Exchange) -> None:
        if reference is None or reference is MISSING or reference == "":
            self._next = None
            self._has_next_page = False
            return
        if isinstance(reference, bool | dict | list):
            raise DecodeError(
                f"The next-page {self.what} should be a string; got {reference!r}. Configure "
                "the paginator with the path to the right field.",
                exchange=exchange,
            )
        key = str(reference)
        if key in self._seen:
            shown = mask_url(key) if self.what == "link" else (key[:60] + "…" * (len(key) > 60))
            raise DecodeError(
                f"The server returned a {self.what} it had already returned ({shown!r}) in the "
                f"response to {exchange.method} {mask_url(exchange.url)}: following it would "
                "loop forever, so pagination stopped. This is a bug in the API, or the "
                "paginator reads the wrong field.",
                exchange=exchange,
            )
        self._seen.add(key)
        self._next = reference
        self._has_next_page = True


class JSONResponseCursorPaginator(_ReferencePaginator):
    """A cursor in the JSON body, sent back as a query parameter (or in a JSON body).

    Covers ``{"next_cursor": "abc"}`` (CRM style), Slack's
    ``{"response_metadata": {"next_cursor": ""}}`` (an empty cursor means
    done) and Google's ``nextPageToken`` / ``pageToken``.

    Args:
        cursor_path: where the next cursor is in the body.
        cursor_param: the query parameter that carries it back.
        cursor_body_path: put the cursor in the JSON request body at this
            path instead (search endpoints that page by POST, e.g. Notion's
            ``start_cursor``).
        has_more_path: a boolean that must be true for another page
            (``has_more``); when absent only the cursor decides.
    """

    name = "cursor"

    def __init__(
        self,
        cursor_path: JsonPath = "next_cursor",
        cursor_param: str = "cursor",
        *,
        cursor_body_path: JsonPath | None = None,
        has_more_path: JsonPath | None = None,
    ) -> None:
        super().__init__()
        self.cursor_path = cursor_path
        self.cursor_param = cursor_param
        self.cursor_body_path = cursor_body_path
        self.has_more_path = has_more_path

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Read the cursor; ``None``, empty or missing ends the pages."""
        body = json_body(exchange)
        cursor = lookup(body, self.cursor_path)
        if self.has_more_path is not None:
            more = lookup(body, self.has_more_path)
            if more is not MISSING and not truthy(more):
                cursor = None
        self._advance(cursor, exchange)

    def update_request(self, request: PageRequest) -> None:
        """Send the cursor back."""
        if self.cursor_body_path is None:
            request.params[self.cursor_param] = self._next
            return
        body = request.json if isinstance(request.json, dict) else {}
        keys = (
            self.cursor_body_path.split(".")
            if isinstance(self.cursor_body_path, str)
            else [str(k) for k in self.cursor_body_path]
        )
        node = body
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = self._next
        request.json = body

    def _settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cursor_path": self.cursor_path, "cursor_param": self.cursor_param}
        if self.cursor_body_path is not None:
            out["cursor_body_path"] = self.cursor_body_path
        if self.has_more_path is not None:
            out["has_more_path"] = self.has_more_path
        return out


class HeaderCursorPaginator(_ReferencePaginator):
    """A cursor in a response header, sent back as a query parameter.

    Args:
        cursor_header: the response header holding the next cursor.
        cursor_param: the query parameter that carries it back.
    """

    name = "header_cursor"

    def __init__(self, cursor_header: str = "X-Next-Cursor", cursor_param: str = "cursor") -> None:
        super().__init__()
        self.cursor_header = cursor_header
        self.cursor_param = cursor_param

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Read the header; absent or empty ends the pages."""
        self._advance(exchange.headers.get(self.cursor_header), exchange)

    def update_request(self, request: PageRequest) -> None:
        """Send the cursor back."""
        request.params[self.cursor_param] = self._next

    def _settings(self) -> dict[str, Any]:
        return {"cursor_header": self.cursor_header, "cursor_param": self.cursor_param}


class _NextUrlPaginator(_ReferencePaginator):
    """Follows a next-page URL; relative URLs resolve against the page's URL."""

    what = "link"

    def __init__(self) -> None:
        super().__init__()
        self._first_url: str | None = None

    def _follow(self, reference: Any, exchange: Exchange) -> None:
        if self._first_url is None:
            self._first_url = exchange.url
            self._seen.add(str(httpx.URL(exchange.url)))
        if isinstance(reference, str) and reference:
            try:
                absolute = str(httpx.URL(exchange.url).join(reference))
            except httpx.InvalidURL as exc:
                raise DecodeError(
                    f"The next-page link {mask_url(reference)!r} is not a valid URL: {exc}",
                    exchange=exchange,
                ) from exc
            if not same_origin(absolute, self._first_url):
                raise DecodeError(
                    f"The next-page link points to {mask_url(absolute)}, another origin than "
                    f"the first page ({mask_url(exchange.url)}). It is not followed, because "
                    "the client's credentials would be sent there; page that host with its "
                    "own client.",
                    exchange=exchange,
                )
            reference = absolute
        self._advance(reference, exchange)

    def update_request(self, request: PageRequest) -> None:
        """Point the request at the next URL (its query replaces the parameters)."""
        request.set_url(str(self._next))


class HeaderLinkPaginator(_NextUrlPaginator):
    """The ``Link: <...>; rel="next"`` response header (RFC 8288), as GitHub sends.

    Args:
        rel: the relation that names the next page.
    """

    name = "link"

    def __init__(self, rel: str = "next") -> None:
        super().__init__()
        self.rel = rel.lower()

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Find the ``rel="next"`` link; none ends the pages."""
        links = parse_link_header(exchange.headers.get_list("link"))
        self._follow(links.get(self.rel), exchange)

    def _settings(self) -> dict[str, Any]:
        return {"rel": self.rel} if self.rel != "next" else {}


class JSONLinkPaginator(_NextUrlPaginator):
    """A next-page URL in the JSON body: ``{"next": "https://...?page=2"}``.

    Relative URLs resolve against the page's URL; HAL-style
    ``{"href": ...}`` objects are unwrapped.

    Args:
        next_url_path: where the URL is (``"next"``, ``"links.next"``,
            ``("@odata.nextLink",)`` for keys that contain dots).
    """

    name = "json_link"

    def __init__(self, next_url_path: JsonPath = "next") -> None:
        super().__init__()
        self.next_url_path = next_url_path

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Read the next URL; ``None``, empty or missing ends the pages."""
        value = lookup(json_body(exchange), self.next_url_path)
        if isinstance(value, Mapping):
            value = value.get("href")
        self._follow(value, exchange)

    def _settings(self) -> dict[str, Any]:
        return {"next_url_path": self.next_url_path}


class ItemCursorPaginator(_ReferencePaginator):
    """The last item's id, sent back as a cursor: Stripe's ``starting_after``.

    Args:
        id_field: the field of each item that identifies it.
        cursor_param: the query parameter that carries the last id.
        has_more_path: the boolean that says whether more pages follow
            (when ``None``, an empty page ends the pages).
    """

    name = "item_cursor"

    def __init__(
        self,
        id_field: str = "id",
        cursor_param: str = "starting_after",
        *,
        has_more_path: JsonPath | None = "has_more",
    ) -> None:
        super().__init__()
        self.id_field = id_field
        self.cursor_param = cursor_param
        self.has_more_path = has_more_path

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Take the last item's id; no items, or ``has_more`` false, ends the pages."""
        if self.has_more_path is not None:
            more = lookup(json_body(exchange), self.has_more_path)
            if more is MISSING or not truthy(more):
                self._advance(None, exchange)
                return
        if not items:
            self._advance(None, exchange)
            return
        last = items[-1]
        if not isinstance(last, Mapping) or self.id_field not in last:
            raise DecodeError(
                f"ItemCursorPaginator needs an {self.id_field!r} field in every item; the last "
                f"item of the page has keys {keys_of(last)}.",
                exchange=exchange,
            )
        self._advance(last[self.id_field], exchange)

    def update_request(self, request: PageRequest) -> None:
        """Send the last id back."""
        request.params[self.cursor_param] = self._next

    def _settings(self) -> dict[str, Any]:
        return {
            "id_field": self.id_field,
            "cursor_param": self.cursor_param,
            "has_more_path": self.has_more_path,
        }
