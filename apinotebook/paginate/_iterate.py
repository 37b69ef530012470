"""Pagination: every item of every page, one page at a time.

>>> crm = RestClient(url, auth=Bearer(Secret.from_env("CRM_TOKEN")))   # doctest: +SKIP
>>> for contact in crm.paginate("/contacts", params={"limit": 200}):   # doctest: +SKIP
...     ...

:func:`paginate` returns a lazy iterator: a page is fetched only when the
items before it have been consumed, and only one page (or, with
``concurrency``, one window of pages) is held at a time. How the API pages
is told by a *paginator* (see :mod:`apinotebook.paginate._base`), or detected
from the first response with ``paginator="auto"``:

=====================  ======================================================
name                   detected from the first page when
=====================  ======================================================
``"link"``             a ``Link`` header (``rel="next"``), as GitHub sends
``"header_cursor"``    an ``X-Next-Cursor`` / ``Next-Cursor`` header
``"json_link"``        a next-page URL in the body: ``next``, ``links.next``,
                       ``paging.next``, ``@odata.nextLink``, ``next_page_url``
``"cursor"``           a cursor in the body: ``next_cursor``,
                       ``response_metadata.next_cursor`` (Slack),
                       ``nextPageToken`` (sent back as ``pageToken``), ...
``"item_cursor"``      a Stripe list: ``object: "list"`` with ``has_more``
``"offset"``           ``total`` with ``offset`` (or ``skip``)
``"page_number"``      ``page`` with ``total_pages`` (or ``total`` and ``per_page``)
``"single"``           none of the above: one page
=====================  ======================================================

Paginators never do I/O; the two drivers here (sync and async) send the
requests through the client, so its auth, retry policy and history apply to
every page.
"""

from __future__ import annotations

import copy
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, cast

from apinotebook._core.aio import run_sync
from apinotebook._core.paths import JsonPath
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ConfigError
from apinotebook._exchange import Exchange
from apinotebook.paginate._auto import detect_paginator, extract_items, find_items
from apinotebook.paginate._base import (
    BasePaginator,
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    ItemCursorPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    PageRequest,
    SinglePagePaginator,
)
from apinotebook.paginate._range import OffsetPaginator, PageNumberPaginator


class PagedClient(Protocol):
    """What pagination needs of a client (a :class:`~apinotebook.RestClient` has it)."""

    def request(self, method: str, url: str, **kwargs: Any) -> Exchange:
        """Send one request."""

    async def arequest(self, method: str, url: str, **kwargs: Any) -> Exchange:
        """Send one request, async."""

    async def agather(
        self, calls: Iterable[Any], *, concurrency: int = 10, return_exceptions: bool = False
    ) -> list[Exchange | BaseException]:
        """Send many requests at once, in order."""


__all__ = [
    "PAGINATORS",
    "AsyncPageIterator",
    "BasePaginator",
    "HeaderCursorPaginator",
    "HeaderLinkPaginator",
    "ItemCursorPaginator",
    "JSONLinkPaginator",
    "JSONResponseCursorPaginator",
    "OffsetPaginator",
    "PageIterator",
    "PageNumberPaginator",
    "PageRequest",
    "SinglePagePaginator",
    "apaginate",
    "detect_paginator",
    "find_items",
    "paginate",
]

logger = logging.getLogger("apinotebook.paginate")

#: The names ``paginate(paginator="...")`` accepts, and the class each builds.
PAGINATORS: dict[str, type[BasePaginator]] = {
    cls.name: cls
    for cls in (
        JSONResponseCursorPaginator,
        HeaderCursorPaginator,
        HeaderLinkPaginator,
        JSONLinkPaginator,
        OffsetPaginator,
        PageNumberPaginator,
        ItemCursorPaginator,
        SinglePagePaginator,
    )
}

#: Request options passed through to every page's request.
_OPTIONS = frozenset(
    {"method", "headers", "json", "data", "content", "cookies", "timeout", "idempotent",
     "operation"}
)  # fmt: skip
#: How many pages a concurrent window holds, per unit of concurrency.
_WINDOW = 4

# -- the state machine both drivers share ---------------------------------------------


def _resolve(paginator: Any) -> BasePaginator | None:
    if isinstance(paginator, str):
        if paginator == "auto":
            return None
        if paginator in PAGINATORS:
            return PAGINATORS[paginator]()
    elif isinstance(paginator, BasePaginator):
        return copy.deepcopy(paginator)  # the caller's object stays reusable
    elif isinstance(paginator, type) and issubclass(paginator, BasePaginator):
        return paginator()
    raise ConfigError.invalid_choice("paginator", paginator, ["auto", *PAGINATORS])


class _Pager:
    """What to fetch next and what each page yields; no I/O (the drivers do that)."""

    def __init__(
        self,
        client: PagedClient,
        path: str,
        *,
        params: Mapping[str, Any] | None,
        items: JsonPath | None,
        paginator: Any,
        max_items: int | None,
        concurrency: int,
        options: dict[str, Any],
    ) -> None:
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ConfigError(f"concurrency must be a whole number >= 1, not {concurrency!r}")
        if max_items is not None and (isinstance(max_items, bool) or max_items < 0):
            raise ConfigError(f"max_items must be None or >= 0, not {max_items!r}")
        if items is not None and not isinstance(items, str | Sequence):
            raise ConfigError(f"items= takes a dotted path or a list of keys, not {items!r}")
        unknown = set(options) - _OPTIONS
        if unknown:
            raise ConfigError.invalid_choice("request option", sorted(unknown)[0], _OPTIONS)
        options = dict(options)
        self.client = client
        self.paginator = _resolve(paginator)
        self.items_path: JsonPath | None = items
        self.max_items = max_items
        self.concurrency = concurrency
        self.request = PageRequest.build(
            str(options.pop("method", "GET")),
            path,
            params=params,
            headers=options.pop("headers", None),
            json=options.pop("json", None),
        )
        self.options = options
        self.pages = 0
        self.count = 0
        self.last_exchange: Exchange | None = None
        self._planned: deque[PageRequest] | None = None
        self._per_page = 0

    def call(self, request: PageRequest) -> tuple[str, str, dict[str, Any]]:
        """``(method, url, kwargs)`` for the client."""
        kwargs: dict[str, Any] = dict(self.options)
        if request.params:
            kwargs["params"] = request.params
        if request.headers:
            kwargs["headers"] = request.headers
        if request.json is not None:
            kwargs["json"] = request.json
        return request.method, request.url, kwargs

    def next_requests(self) -> list[PageRequest]:
        """The next page's request, a window of planned ones, or ``[]`` when done."""
        if self.max_items is not None and self.count >= self.max_items:
            return []
        if self.pages == 0:
            if self.paginator is not None:
                self.paginator.init_request(self.request)
            return [self.request.copy()]
        paginator = self.paginator
        assert paginator is not None  # set by feed() on the first page
        if self._planned is None and self.concurrency > 1 and paginator.has_next_page:
            planned = paginator.remaining_requests(self.request)
            if planned is not None:
                self._planned = deque(planned)
        if self._planned is not None:
            take = min(len(self._planned), self.concurrency * _WINDOW, self._pages_needed())
            return [self._planned.popleft() for _ in range(take)]
        if not paginator.has_next_page:
            return []
        paginator.update_request(self.request)
        return [self.request.copy()]

    def _pages_needed(self) -> int:
        if self.max_items is None:
            return 1 << 30
        return math.ceil((self.max_items - self.count) / max(1, self._per_page))

    def feed(self, exchange: Exchange) -> list[Any]:
        """The items of one page (in page order); updates the paginator."""
        exchange.raise_for_status()
        self.pages += 1
        self.last_exchange = exchange
        content = exchange.content
        body = exchange.json() if content and not content.isspace() else None
        if self.items_path is None:
            if body is None:
                items: list[Any] = []
            else:
                self.items_path, items = find_items(body)
        else:
            items = extract_items(body, self.items_path, exchange, self.pages)
        if self.pages == 1:
            self._per_page = len(items)
            if self.paginator is None:
                self.paginator = detect_paginator(exchange, items, self.request)
                logger.debug(
                    "paginate %s %s: detected %r from the first page",
                    exchange.method,
                    mask_url(exchange.url),
                    self.paginator,
                )
        if self._planned is None:
            assert self.paginator is not None
            self.paginator.update_state(exchange, items)
        if self.max_items is not None:
            items = items[: self.max_items - self.count]
        self.count += len(items)
        return items

    def describe(self) -> str:
        name = self.paginator.name if self.paginator is not None else "auto"
        return (
            f"{self.request.method} {mask_url(self.request.url)} paginator={name} "
            f"pages={self.pages} items={self.count}"
        )


async def _release_async_pool(client: PagedClient) -> None:
    # The sync driver runs each window in a fresh event loop (run_sync); the
    # client's AsyncClient for that loop must close before the loop does, or
    # its sockets leak.
    core = getattr(client, "_core", None)
    if core is not None:
        await core.arelease()


async def _fetch_window(pager: _Pager, batch: list[PageRequest], *, release: bool) -> list[Any]:
    try:
        results = await pager.client.agather(
            [pager.call(r) for r in batch], concurrency=pager.concurrency
        )
    finally:
        if release:
            await _release_async_pool(pager.client)
    return results


class PageIterator(Iterator[Any]):
    """The items of every page, fetched as they are consumed.

    Attributes:
        paginator: the paginator in use; with ``"auto"`` it is ``None``
            until the first page arrives, then the detected one.
        pages: pages fetched so far.
        count: items yielded so far.
        last_exchange: the last page's :class:`~apinotebook.Exchange`.
    """

    def __init__(self, pager: _Pager) -> None:
        self._pager = pager
        self._items = self._run()

    def _run(self) -> Iterator[Any]:
        pager = self._pager
        while batch := pager.next_requests():
            if len(batch) == 1:
                method, url, kwargs = pager.call(batch[0])
                exchanges = [pager.client.request(method, url, **kwargs)]
            else:
                exchanges = run_sync(_fetch_window(pager, batch, release=True))
            for exchange in exchanges:
                yield from pager.feed(exchange)

    def __next__(self) -> Any:
        return next(self._items)

    def __iter__(self) -> Iterator[Any]:
        # ``for`` loops get the generator itself: no extra call per item
        return self._items

    @property
    def paginator(self) -> BasePaginator | None:
        """The paginator in use (``None`` before the first page with ``"auto"``)."""
        return self._pager.paginator

    @property
    def paginator_name(self) -> str | None:
        """Its name: ``"cursor"``, ``"link"``, ``"offset"``, ... (``None`` before detection)."""
        return self._pager.paginator.name if self._pager.paginator is not None else None

    @property
    def pages(self) -> int:
        """Pages fetched so far."""
        return self._pager.pages

    @property
    def count(self) -> int:
        """Items yielded so far."""
        return self._pager.count

    @property
    def last_exchange(self) -> Exchange | None:
        """The last page's exchange."""
        return self._pager.last_exchange

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._pager.describe()}>"


class AsyncPageIterator(AsyncIterator[Any]):
    """Async :class:`PageIterator`: ``async for item in apaginate(...)``."""

    def __init__(self, pager: _Pager) -> None:
        self._pager = pager
        self._items = self._run()

    async def _run(self) -> AsyncIterator[Any]:
        pager = self._pager
        while batch := pager.next_requests():
            if len(batch) == 1:
                method, url, kwargs = pager.call(batch[0])
                exchanges = [await pager.client.arequest(method, url, **kwargs)]
            else:
                exchanges = await _fetch_window(pager, batch, release=False)
            for exchange in exchanges:
                for item in pager.feed(exchange):
                    yield item

    async def __anext__(self) -> Any:
        return await self._items.__anext__()

    def __aiter__(self) -> AsyncPageIterator:
        return self

    async def aclose(self) -> None:
        """Stop early: no more pages are fetched."""
        await cast(Any, self._items).aclose()

    paginator = PageIterator.paginator
    paginator_name = PageIterator.paginator_name
    pages = PageIterator.pages
    count = PageIterator.count
    last_exchange = PageIterator.last_exchange
    __repr__ = PageIterator.__repr__


def paginate(
    client: PagedClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    items: JsonPath | None = None,
    paginator: str | BasePaginator | type[BasePaginator] = "auto",
    max_items: int | None = None,
    concurrency: int = 1,
    **kwargs: Any,
) -> PageIterator:
    """Iterate over the items of every page of ``path`` (what ``RestClient.paginate`` does).

    Args:
        client: the client that sends every page's request.
        path: the first page's path (or URL); a query string in it is kept.
        params: query parameters for the first page (paginators add theirs).
        items: where the records are in each page (``"data"``,
            ``"response.items"``); found automatically when omitted.
        paginator: ``"auto"`` (detect from the first response), a name from
            :data:`PAGINATORS`, or a paginator object (copied, so it can be
            reused).
        max_items: stop after this many items; no further page is requested.
        concurrency: with offset or page-number paging and a total in the
            first response, fetch the remaining pages this many at a time
            (items still come in page order). Cursor and link paging is
            sequential by nature and ignores it.
        **kwargs: request options for every page: ``method`` (default
            ``"GET"``), ``headers``, ``json``, ``timeout``, ``cookies``, ...

    Raises:
        ConfigError: an unknown paginator name or option (raised at once).
        HTTPStatusError: a page answered 4xx/5xx (after the client's retries).
        DecodeError: a page is not JSON, has no items at ``items``, or the
            server repeats a cursor (which would loop forever).
    """
    return PageIterator(
        _Pager(client, path, params=params, items=items, paginator=paginator,
               max_items=max_items, concurrency=concurrency, options=kwargs)
    )  # fmt: skip


def apaginate(
    client: PagedClient,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    items: JsonPath | None = None,
    paginator: str | BasePaginator | type[BasePaginator] = "auto",
    max_items: int | None = None,
    concurrency: int = 1,
    **kwargs: Any,
) -> AsyncPageIterator:
    """Iterate over every page's items from async code (``async for``).

    Same arguments as :func:`paginate`; concurrent windows use ``client.agather``.
    """
    return AsyncPageIterator(
        _Pager(client, path, params=params, items=items, paginator=paginator,
               max_items=max_items, concurrency=concurrency, options=kwargs)
    )  # fmt: skip
