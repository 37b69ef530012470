"""Auto-detection: where a page's records are, and how the API pages.

Both look at the first response only; the choice is then fixed for the
remaining pages. See the table in :mod:`apinotebook.paginate`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, cast

from apinotebook._core.paths import (
    MISSING,
    JsonPath,
    describe_path,
    find_records,
    keys_of,
    lookup,
    pick,
)
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ConfigError, DecodeError
from apinotebook._exchange import Exchange
from apinotebook.paginate._base import (
    BasePaginator,
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    ItemCursorPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    PageRequest,
    SinglePagePaginator,
    parse_link_header,
)
from apinotebook.paginate._range import OffsetPaginator, PageNumberPaginator

__all__ = ["WHOLE", "detect_paginator", "extract_items", "find_items"]

logger = logging.getLogger("apinotebook.paginate")

# -- finding the items in a page ------------------------------------------------------

#: ``find_items`` path meaning "the page is the record".
WHOLE: tuple[str, ...] = ()


def _as_path(steps: tuple[Any, ...]) -> JsonPath:
    """Dotted text when every step is a plain key (``"data.items"``), else the steps."""
    if steps and all(isinstance(s, str) and s and "." not in s for s in steps):
        return ".".join(steps)
    return steps


def find_items(body: Any) -> tuple[JsonPath, list[Any]]:
    """Where the records of a page are, and the records.

    The same rule as ``to_frame()`` (:func:`apinotebook._core.paths.find_records`):
    a list is the records; in an object, the list under a usual name (``data``,
    ``results``, ``items``, ``messages``, ...) or the one list of objects, also
    inside wrappers (``{"data": {"items": [...]}}``); an object with no list of
    records is a single record.

    Raises:
        ConfigError: the page holds several lists and none is clearly the
            records (pass ``items=``).
    """
    steps, value = find_records(body)
    if value is None:
        return _as_path(steps), []
    return _as_path(steps), list(value) if isinstance(value, list) else [value]


def extract_items(body: Any, path: JsonPath, exchange: Exchange, page: int) -> list[Any]:
    """The records at ``path`` in page number ``page``; an error names the keys present."""
    if path == WHOLE:
        return body if isinstance(body, list) else [] if body is None else [body]
    try:
        value = pick(body, path)
    except ConfigError as exc:
        raise DecodeError(
            f"Page {page} ({exchange.method} {mask_url(exchange.url)}) has no items at "
            f"{describe_path(path)!r}: {exc}. Keys present: {keys_of(body)}. Pass items= with "
            "the path to the records.",
            exchange=exchange,
        ) from None
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, Mapping):
        return [value]
    raise DecodeError(
        f"The items at {describe_path(path)!r} of page {page} should be a list of records; "
        f"got {type(value).__name__}. Pass items= with the path to the records.",
        exchange=exchange,
    )


# -- auto-detection -------------------------------------------------------------------

_PREFIXES = ("", "meta.", "pagination.", "paging.", "page_info.")
_LINK_HEADER_RELS = frozenset({"next", "prev", "previous", "first", "last"})
_CURSOR_HEADERS = ("X-Next-Cursor", "Next-Cursor", "X-Cursor-Next", "X-Next-Page-Token")
_LINK_PATHS: tuple[JsonPath, ...] = (
    "next", "next_url", "nextUrl", "next_page_url", "nextPageUrl", "links.next",
    "_links.next", "paging.next", ("@odata.nextLink",), "nextLink", "pagination.next_url",
    "pagination.next", "meta.next", "meta.links.next",
)  # fmt: skip
_CURSOR_PATHS: tuple[tuple[JsonPath, str], ...] = (
    ("next_cursor", "cursor"),
    ("response_metadata.next_cursor", "cursor"),
    ("nextPageToken", "pageToken"),
    ("next_page_token", "page_token"),
    ("nextCursor", "cursor"),
    ("meta.next_cursor", "cursor"),
    ("pagination.next_cursor", "cursor"),
    ("meta.next_token", "pagination_token"),
    ("paging.cursors.after", "after"),
    ("next_token", "next_token"),
    ("cursor", "cursor"),
)
_TOTAL_KEYS = ("total", "total_count", "totalCount", "total_results", "totalResults", "count")
_OFFSET_KEYS = ("offset", "skip", "start")
_PAGE_KEYS = {"page": "page", "current_page": "page", "currentPage": "page",
              "page_number": "page_number", "pageNumber": "pageNumber"}  # fmt: skip
_PAGES_KEYS = ("total_pages", "totalPages", "pages", "last_page", "page_count", "pageCount",
               "num_pages")  # fmt: skip
_SIZE_KEYS = ("per_page", "page_size", "pageSize", "limit", "size")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _first(body: Any, keys: Sequence[str], prefix: str) -> tuple[str, Any] | None:
    for key in keys:
        value = lookup(body, prefix + key)
        if value is not MISSING:
            return prefix + key, value
    return None


def _looks_like_url(value: Any) -> bool:
    if isinstance(value, Mapping):
        value = value.get("href")
    return isinstance(value, str) and value.startswith(("http://", "https://", "/", "?"))


def _body_link(body: Any) -> BasePaginator | None:
    for path in _LINK_PATHS:
        value = lookup(body, path)
        if value is None and path in ("next", "next_page_url", ("@odata.nextLink",)):
            return JSONLinkPaginator(path)
        if value is not MISSING and _looks_like_url(value):
            return JSONLinkPaginator(path)
    return None


def _body_cursor(body: Any, request: PageRequest) -> BasePaginator | None:
    in_body = request.method == "POST" and isinstance(request.json, Mapping)
    for path, param in _CURSOR_PATHS:
        value = lookup(body, path)
        if value is MISSING or isinstance(value, bool | Mapping | list | float):
            continue
        has_more = "has_more" if "has_more" in body else None
        if body.get("object") == "list" and path == "next_cursor":
            param = "start_cursor"  # Notion
        return JSONResponseCursorPaginator(
            path, param, cursor_body_path=param if in_body else None, has_more_path=has_more
        )
    airtable = body.get("offset")
    if isinstance(airtable, str) and not airtable.isdigit() and "total" not in body:
        return JSONResponseCursorPaginator("offset", "offset")
    return None


def _offset(body: Any, request: PageRequest) -> BasePaginator | None:
    for prefix in _PREFIXES:
        total = _first(body, _TOTAL_KEYS, prefix)
        offset = _first(body, _OFFSET_KEYS, prefix)
        if total is None or offset is None or _int(total[1]) is None:
            continue
        start = _int(offset[1])
        if start is None:
            continue
        size = _first(body, ("limit",), prefix)
        limit = _int(size[1]) if size is not None else _int(request.params.get("limit"))
        return OffsetPaginator(
            limit or None,
            offset=start,
            offset_param=offset[0].removeprefix(prefix),
            total_path=total[0],
        )
    return None


def _page_number(body: Any, request: PageRequest) -> BasePaginator | None:
    for prefix in _PREFIXES:
        found = _first(body, tuple(_PAGE_KEYS), prefix)
        if found is None or _int(found[1]) is None:
            continue
        current = cast(int, _int(found[1]))
        param = _PAGE_KEYS[found[0].removeprefix(prefix)]
        base = current if param not in request.params else (0 if current == 0 else 1)
        pages = _first(body, _PAGES_KEYS, prefix)
        if pages is not None and _int(pages[1]) is not None:
            return PageNumberPaginator(
                base_page=base, page=current, page_param=param, total_path=pages[0]
            )
        total = _first(body, _TOTAL_KEYS, prefix)
        size = _first(body, _SIZE_KEYS, prefix)
        if total is not None and size is not None and _int(total[1]) is not None:
            return PageNumberPaginator(
                base_page=base,
                page=current,
                page_param=param,
                total_path=None,
                total_items_path=total[0],
                page_size=_int(size[1]) or None,
            )
    return None


def detect_paginator(exchange: Exchange, items: list[Any], request: PageRequest) -> BasePaginator:
    """The paginator the first page's response calls for (see the module's table).

    The result is ready for ``update_state(exchange, items)`` on that page.
    """
    links = parse_link_header(exchange.headers.get_list("link"))
    if _LINK_HEADER_RELS & set(links):
        return HeaderLinkPaginator()
    for header in _CURSOR_HEADERS:
        if header in exchange.headers:
            return HeaderCursorPaginator(header, "cursor")
    body = exchange.json() if exchange.content.strip() else None
    if not isinstance(body, Mapping):
        return SinglePagePaginator()
    found = _body_link(body) or _body_cursor(body, request)
    if found is not None:
        return found
    if (
        body.get("object") == "list"
        and "has_more" in body
        and all(isinstance(i, Mapping) and "id" in i for i in items)
    ):
        return ItemCursorPaginator()
    found = _offset(body, request) or _page_number(body, request)
    if found is not None:
        return found
    totals = [_int(body.get(k)) for k in _TOTAL_KEYS]
    more = any(body.get(k) is True for k in ("has_more", "hasMore", "more"))
    if more or any(t is not None and t > len(items) for t in totals):
        logger.warning(
            "%s %s says more items exist than the first page holds, but how to ask for them "
            "is not clear; reading one page. Pass paginator= to page through it.",
            exchange.method,
            mask_url(exchange.url),
        )
    return SinglePagePaginator()
