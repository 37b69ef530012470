"""Offset and page-number paginators: a counter that steps until a stop.

Their pages are independent of each other, so when the first page tells the
total, :meth:`~apinotebook.paginate._base.BasePaginator.remaining_requests` can
list every request still to send and the driver may fetch them concurrently.
"""

from __future__ import annotations

import math
from typing import Any

from apinotebook._core.paths import MISSING, JsonPath, describe_path, keys_of, lookup
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ConfigError, DecodeError
from apinotebook._exchange import Exchange
from apinotebook.paginate._base import (
    BasePaginator,
    PageRequest,
    as_int,
    json_body,
    truthy,
)

__all__ = ["OffsetPaginator", "PageNumberPaginator"]


def _param(request: PageRequest, name: str) -> int:
    """A whole-number query parameter the caller already set (where paging starts)."""
    value = request.params[name]
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"query parameter {name}={value!r} should be a whole number") from None


class _RangePaginator(BasePaginator):
    """Shared by offset and page-number paging: a counter that steps until a stop."""

    def __init__(
        self,
        *,
        total_path: JsonPath | None,
        stop_after_empty_page: bool,
        has_more_path: JsonPath | None,
    ) -> None:
        super().__init__()
        self.total_path = total_path
        self.stop_after_empty_page = stop_after_empty_page
        self.has_more_path = has_more_path
        self._total: int | None = None

    def _read_total(self, body: Any, exchange: Exchange, *, other_stop: bool) -> int | None:
        if self.total_path is None:
            return None
        value = lookup(body, self.total_path)
        if value is MISSING or value is None:
            if other_stop or self.stop_after_empty_page or self.has_more_path is not None:
                return None
            raise DecodeError(
                f"{type(self).__name__} found no total at {describe_path(self.total_path)!r} "
                f"in the response to {exchange.method} {mask_url(exchange.url)}; keys present: "
                f"{keys_of(body)}. Pass total_path= with the right path, or total_path=None with "
                "stop_after_empty_page=True.",
                exchange=exchange,
            )
        return as_int(value, "The total", self.total_path, exchange)

    def _stop_for(self, body: Any, items: list[Any] | None) -> bool:
        if self.stop_after_empty_page and items is not None and not items:
            return True
        if self.has_more_path is not None:
            more = lookup(body, self.has_more_path)
            if more is not MISSING and not truthy(more):
                return True
        return False


class OffsetPaginator(_RangePaginator):
    """``?offset=0&limit=100``, then ``offset=100``, ... until the total or an empty page.

    Args:
        limit: page size sent as ``limit_param``; ``None`` sends no limit and
            steps the offset by the number of items each page returned.
        offset: the first offset.
        offset_param: the offset's query parameter (``"skip"`` for some APIs).
        limit_param: the limit's query parameter.
        total_path: where the total number of items is, or ``None``.
        maximum_offset: never request an offset at or past this.
        stop_after_empty_page: an empty page ends the pages.
        has_more_path: a boolean that must be true for another page.
    """

    name = "offset"

    def __init__(
        self,
        limit: int | None = None,
        *,
        offset: int = 0,
        offset_param: str = "offset",
        limit_param: str = "limit",
        total_path: JsonPath | None = "total",
        maximum_offset: int | None = None,
        stop_after_empty_page: bool = True,
        has_more_path: JsonPath | None = None,
    ) -> None:
        super().__init__(
            total_path=total_path,
            stop_after_empty_page=stop_after_empty_page,
            has_more_path=has_more_path,
        )
        if limit is not None and limit < 1:
            raise ConfigError(f"OffsetPaginator limit must be at least 1, not {limit}")
        if (
            total_path is None
            and not stop_after_empty_page
            and maximum_offset is None
            and (has_more_path is None)
        ):
            raise ConfigError(
                "OffsetPaginator needs a way to stop: a total_path, maximum_offset, "
                "has_more_path or stop_after_empty_page=True"
            )
        self.limit = limit
        self.offset = offset
        self.offset_param = offset_param
        self.limit_param = limit_param
        self.maximum_offset = maximum_offset
        self._step: int | None = limit

    def init_request(self, request: PageRequest) -> None:
        """Send the first offset (and limit); ones already in the parameters are kept."""
        if self.offset_param in request.params:
            self.offset = _param(request, self.offset_param)
        else:
            request.params[self.offset_param] = self.offset
        if self.limit_param in request.params:
            self.limit = self._step = _param(request, self.limit_param)
        elif self.limit is not None:
            request.params[self.limit_param] = self.limit

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Advance the offset; stop at the total, an empty page, or the maximum."""
        body = json_body(exchange)
        step = self.limit if self.limit is not None else (len(items) if items else 0)
        if self._step is None and step:
            self._step = step
        self.offset += step
        stop = self._stop_for(body, items) or step == 0
        if self.maximum_offset is not None and self.offset >= self.maximum_offset:
            stop = True
        total = self._read_total(body, exchange, other_stop=stop)
        if total is not None:
            self._total = total
            stop = stop or self.offset >= total
        self._has_next_page = not stop

    def update_request(self, request: PageRequest) -> None:
        """Ask for the next offset."""
        request.params[self.offset_param] = self.offset
        if self.limit is not None:
            request.params[self.limit_param] = self.limit

    def remaining_requests(self, request: PageRequest) -> list[PageRequest] | None:
        """With a known total, the request for every offset still to fetch."""
        if not self._has_next_page or self._total is None or not self._step:
            return None
        end = self._total
        if self.maximum_offset is not None:
            end = min(end, self.maximum_offset)
        out = []
        for offset in range(self.offset, end, self._step):
            page = request.copy()
            page.params[self.offset_param] = offset
            if self.limit is not None:
                page.params[self.limit_param] = self.limit
            out.append(page)
        self.offset = max(self.offset, end)
        self._has_next_page = False
        return out

    def _settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {"limit": self.limit}
        if self.offset_param != "offset":
            out["offset_param"] = self.offset_param
        if self.limit_param != "limit":
            out["limit_param"] = self.limit_param
        out["total_path"] = self.total_path
        return out


class PageNumberPaginator(_RangePaginator):
    """``?page=1``, ``?page=2``, ... until the last page or an empty one.

    Args:
        base_page: the number of the first page (1, or 0 for some APIs).
        page: the page to start from (default ``base_page``).
        page_param: the page's query parameter.
        total_path: where the total number of *pages* is, or ``None``.
        total_items_path: where the total number of *items* is, as an
            alternative; the page count is then worked out from ``page_size``
            (or the size of the first page).
        page_size: the page size: sent as ``page_size_param`` when that is
            given, and used to count pages from ``total_items_path``.
        page_size_param: the page size's query parameter (``per_page``).
        maximum_page: never request a page past this one.
        stop_after_empty_page: an empty page ends the pages.
        has_more_path: a boolean that must be true for another page.
    """

    name = "page_number"

    def __init__(
        self,
        *,
        base_page: int = 1,
        page: int | None = None,
        page_param: str = "page",
        total_path: JsonPath | None = "total_pages",
        total_items_path: JsonPath | None = None,
        page_size: int | None = None,
        page_size_param: str | None = None,
        maximum_page: int | None = None,
        stop_after_empty_page: bool = True,
        has_more_path: JsonPath | None = None,
    ) -> None:
        super().__init__(
            total_path=total_path,
            stop_after_empty_page=stop_after_empty_page,
            has_more_path=has_more_path,
        )
        if (
            total_path is None
            and total_items_path is None
            and not stop_after_empty_page
            and maximum_page is None
            and has_more_path is None
        ):
            raise ConfigError(
                "PageNumberPaginator needs a way to stop: a total_path, total_items_path, "
                "maximum_page, has_more_path or stop_after_empty_page=True"
            )
        self.base_page = base_page
        self.page = base_page if page is None else page
        self.page_param = page_param
        self.total_items_path = total_items_path
        self.page_size = page_size
        self.page_size_param = page_size_param
        self.maximum_page = maximum_page
        self._last: int | None = None

    def init_request(self, request: PageRequest) -> None:
        """Send the first page number (and size); ones already in the parameters are kept."""
        if self.page_param in request.params:
            self.page = _param(request, self.page_param)
        else:
            request.params[self.page_param] = self.page
        if self.page_size_param is not None:
            if self.page_size_param in request.params:
                self.page_size = _param(request, self.page_size_param)
            elif self.page_size is not None:
                request.params[self.page_size_param] = self.page_size

    def _last_page(self, body: Any, items: list[Any] | None, exchange: Exchange) -> int | None:
        if self.total_items_path is not None:
            value = lookup(body, self.total_items_path)
            if value is not MISSING and value is not None:
                total = as_int(value, "The total item count", self.total_items_path, exchange)
                size = self.page_size or (len(items) if items else 0)
                if not size:
                    return self.page - 1
                self.page_size = size
                return self.base_page + math.ceil(total / size) - 1
        total_pages = self._read_total(
            body, exchange, other_stop=self.maximum_page is not None or bool(self.total_items_path)
        )
        if total_pages is None:
            return None
        return self.base_page + total_pages - 1

    def update_state(self, exchange: Exchange, items: list[Any] | None = None) -> None:
        """Advance the page; stop after the last page, an empty page, or the maximum."""
        body = json_body(exchange)
        stop = self._stop_for(body, items)
        last = self._last_page(body, items, exchange)
        if last is not None:
            self._last = last
        self.page += 1
        if self._last is not None and self.page > self._last:
            stop = True
        if self.maximum_page is not None and self.page > self.maximum_page:
            stop = True
        self._has_next_page = not stop

    def update_request(self, request: PageRequest) -> None:
        """Ask for the next page."""
        request.params[self.page_param] = self.page
        if self.page_size_param is not None and self.page_size is not None:
            request.params.setdefault(self.page_size_param, self.page_size)

    def remaining_requests(self, request: PageRequest) -> list[PageRequest] | None:
        """With a known last page, the request for every page still to fetch."""
        if not self._has_next_page or self._last is None:
            return None
        last = self._last if self.maximum_page is None else min(self._last, self.maximum_page)
        out = []
        for number in range(self.page, last + 1):
            page = request.copy()
            self.page = number
            self.update_request(page)
            out.append(page)
        self.page = last + 1
        self._has_next_page = False
        return out

    def _settings(self) -> dict[str, Any]:
        out: dict[str, Any] = {"base_page": self.base_page}
        if self.page_param != "page":
            out["page_param"] = self.page_param
        if self.total_items_path is not None:
            out["total_items_path"] = self.total_items_path
        else:
            out["total_path"] = self.total_path
        return out
