"""paginate() with concurrent page fetches, and apaginate()."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from paginate_apis import (
    ITEMS,
    PAGES,
    arg,
    client,
    cursor_api,
    drf_api,
    github_api,
    offset_api,
    page_api,
    page_total_api,
    skip_api,
)

from apinotebook import HTTPStatusError
from apinotebook.paginate import (
    apaginate,
)

# -- concurrency ----------------------------------------------------------------------------


@pytest.mark.parametrize("handler", [offset_api, page_api, page_total_api, skip_api])
@pytest.mark.parametrize("concurrency", [2, 3, 8])
def test_concurrency_overlaps_requests_and_keeps_page_order(handler, concurrency):
    api, server = client(handler)
    pages = api.paginate("/items", concurrency=concurrency)
    assert [i["id"] for i in pages] == [i["id"] for i in ITEMS]
    assert len(server.requests) == PAGES  # each page exactly once
    assert server.async_calls == PAGES - 1  # the first page tells the total
    assert 1 < server.max_in_flight <= concurrency


def test_concurrency_works_inside_a_running_event_loop():
    api, server = client(offset_api)

    async def notebook_cell() -> list[Any]:
        return list(api.paginate("/items", concurrency=4))  # sync API, loop already running

    assert [i["id"] for i in asyncio.run(notebook_cell())] == [i["id"] for i in ITEMS]
    assert server.max_in_flight > 1


def test_large_concurrent_listing_is_fetched_in_windows():
    many = [{"id": i} for i in range(1000)]

    def api_(request: httpx.Request) -> httpx.Response:
        start = arg(request, "offset")
        return httpx.Response(200, json={"data": many[start : start + 10], "total": 1000,
                                         "offset": start, "limit": 10})  # fmt: skip

    api, server = client(api_)
    pages = api.paginate("/items", concurrency=2)
    first = [next(pages)["id"] for _ in range(25)]
    assert first == list(range(25))
    assert len(server.requests) <= 1 + 2 * 4  # one window of pages, not all 100
    assert [i["id"] for i in pages] == list(range(25, 1000))


@pytest.mark.parametrize("handler", [cursor_api, github_api, drf_api])
def test_chained_pages_stay_sequential_with_concurrency(handler):
    api, server = client(handler)
    assert len(list(api.paginate("/items", concurrency=4))) == len(ITEMS)
    assert server.async_calls == 0 and server.max_in_flight == 0


def test_concurrent_page_error_raises_after_earlier_items():
    def flaky(request: httpx.Request) -> httpx.Response:
        if arg(request, "offset") == 15:
            return httpx.Response(500, json={"error": "boom"})
        return offset_api(request)

    api, _ = client(flaky)
    got: list[int] = []
    with pytest.raises(HTTPStatusError) as info:
        for item in api.paginate("/items", concurrency=3):
            got.append(item["id"])
    assert got == list(range(15))
    assert info.value.status == 500


# -- async ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("handler", "concurrency"), [(cursor_api, 1), (offset_api, 3)])
def test_apaginate(handler, concurrency):
    api, server = client(handler)

    async def main() -> list[int]:
        pages = apaginate(api, "/items", concurrency=concurrency, max_items=21)
        out = [item["id"] async for item in pages]
        await api.aclose()
        return out

    assert asyncio.run(main()) == list(range(21))
    assert server.async_calls == len(server.requests)
    assert (server.max_in_flight > 1) is (concurrency > 1)


def test_apaginate_stops_early_with_aclose():
    api, server = client(cursor_api)

    async def main() -> None:
        pages = apaginate(api, "/items")
        assert (await pages.__anext__())["id"] == 0
        await pages.aclose()
        await api.aclose()

    asyncio.run(main())
    assert len(server.requests) == 1
