"""Pagination: paginators (pure), auto-detection, the sync and async drivers, concurrency."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import logging
import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from apinotebook import ConfigError, DecodeError, Exchange, HTTPStatusError, Request, RestClient
from apinotebook.paginate import (
    PAGINATORS,
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    ItemCursorPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageRequest,
    SinglePagePaginator,
    apaginate,
    find_items,
)

BASE = "http://api.test"
ITEMS = [{"id": i, "name": f"item {i}"} for i in range(23)]
SIZE = 5
PAGES = math.ceil(len(ITEMS) / SIZE)  # 5

Handler = Callable[[httpx.Request], httpx.Response]


class Server(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A fake API for sync and async calls that records requests and in-flight counts."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.async_calls = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        return self.handler(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        self.async_calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            for _ in range(20):  # let every other started request reach this point too
                await asyncio.sleep(0)
            return self.handler(request)
        finally:
            self.in_flight -= 1

    def params(self, name: str) -> list[str | None]:
        return [r.url.params.get(name) for r in self.requests]


def client(handler: Handler, **kwargs: Any) -> tuple[RestClient, Server]:
    server = Server(handler)
    kwargs.setdefault("retry", False)
    return RestClient(BASE, transport=server, history=None, **kwargs), server


def window(start: int, size: int = SIZE) -> list[dict[str, Any]]:
    return ITEMS[start : start + size]


def following(start: int, size: int = SIZE) -> int | None:
    return start + size if start + size < len(ITEMS) else None


def arg(request: httpx.Request, name: str, default: int = 0) -> int:
    return int(request.url.params.get(name, default))


# -- one fake API per paging style --------------------------------------------------------


def cursor_api(request: httpx.Request) -> httpx.Response:
    start = int(request.url.params.get("cursor", "c0")[1:])
    nxt = following(start)
    return httpx.Response(
        200, json={"data": window(start), "next_cursor": None if nxt is None else f"c{nxt}"}
    )


def slack_api(request: httpx.Request) -> httpx.Response:
    start = int(request.url.params.get("cursor", "c0")[1:])
    nxt = following(start)
    return httpx.Response(200, json={
        "ok": True, "messages": window(start), "has_more": nxt is not None,
        "response_metadata": {"next_cursor": "" if nxt is None else f"c{nxt}"},
    })  # fmt: skip


def google_api(request: httpx.Request) -> httpx.Response:
    start = int(request.url.params.get("pageToken", "t0")[1:])
    nxt = following(start)
    body: dict[str, Any] = {"kind": "list", "items": window(start)}
    if nxt is not None:
        body["nextPageToken"] = f"t{nxt}"
    return httpx.Response(200, json=body)


def header_cursor_api(request: httpx.Request) -> httpx.Response:
    start = int(request.url.params.get("cursor", "0"))
    nxt = following(start)
    headers = {"X-Next-Cursor": str(nxt)} if nxt is not None else {}
    return httpx.Response(200, json=window(start), headers=headers)


def github_api(request: httpx.Request) -> httpx.Response:
    page = arg(request, "page", 1)
    links = [f'<{BASE}/items?page={page + 1}&per_page={SIZE}>; rel="next"'] if page < PAGES else []
    links.append(f'<{BASE}/items?page={PAGES}&per_page={SIZE}>; rel="last"')
    return httpx.Response(200, json=window((page - 1) * SIZE), headers={"Link": ", ".join(links)})


def relative_link_api(request: httpx.Request) -> httpx.Response:
    start = arg(request, "from")
    nxt = following(start)
    headers = {"Link": f'</items?from={nxt}>; rel="next"'} if nxt is not None else {}
    return httpx.Response(200, json={"items": window(start)}, headers=headers)


def drf_api(request: httpx.Request) -> httpx.Response:
    page = arg(request, "page", 1)
    nxt = f"{BASE}/items?page={page + 1}" if page < PAGES else None
    return httpx.Response(
        200, json={"count": len(ITEMS), "next": nxt, "results": window((page - 1) * SIZE)}
    )


def json_link_relative_api(request: httpx.Request) -> httpx.Response:
    start = arg(request, "start")
    nxt = following(start)
    links = {"next": f"/items?start={nxt}" if nxt is not None else None}
    return httpx.Response(200, json={"data": window(start), "links": links})


def odata_api(request: httpx.Request) -> httpx.Response:
    start = arg(request, "$skiptoken")
    nxt = following(start)
    body: dict[str, Any] = {"value": window(start)}
    if nxt is not None:
        body["@odata.nextLink"] = f"{BASE}/items?$skiptoken={nxt}"
    return httpx.Response(200, json=body)


def offset_api(request: httpx.Request) -> httpx.Response:
    start, limit = arg(request, "offset"), arg(request, "limit", SIZE)
    body = {"results": window(start, limit), "total": len(ITEMS), "offset": start, "limit": limit}
    return httpx.Response(200, json=body)


def skip_api(request: httpx.Request) -> httpx.Response:
    start, limit = arg(request, "skip"), arg(request, "limit", SIZE)
    body = {"products": window(start, limit), "total": len(ITEMS), "skip": start, "limit": limit}
    return httpx.Response(200, json=body)


def page_api(request: httpx.Request) -> httpx.Response:
    page = arg(request, "page", 1)
    body = {"data": window((page - 1) * SIZE), "page": page, "total_pages": PAGES}
    return httpx.Response(200, json=body)


def page_total_api(request: httpx.Request) -> httpx.Response:
    page = arg(request, "page", 1)
    body = {"data": window((page - 1) * SIZE), "page": page, "per_page": SIZE,
            "total": len(ITEMS)}  # fmt: skip
    return httpx.Response(200, json=body)


def stripe_api(request: httpx.Request) -> httpx.Response:
    after = request.url.params.get("starting_after")
    start = 0 if after is None else int(after) + 1
    return httpx.Response(200, json={
        "object": "list", "url": "/v1/customers", "data": window(start),
        "has_more": following(start) is not None,
    })  # fmt: skip


def airtable_api(request: httpx.Request) -> httpx.Response:
    start = int(request.url.params.get("offset", "itr0/rec").split("/")[0][3:])
    nxt = following(start)
    body: dict[str, Any] = {"records": window(start)}
    if nxt is not None:
        body["offset"] = f"itr{nxt}/rec"
    return httpx.Response(200, json=body)


def single_api(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"data": ITEMS})


STYLES = [
    # (handler, name auto-detection must give, explicit paginator, requests)
    (cursor_api, "cursor", JSONResponseCursorPaginator(), PAGES),
    (slack_api, "cursor", JSONResponseCursorPaginator("response_metadata.next_cursor"), PAGES),
    (google_api, "cursor", JSONResponseCursorPaginator("nextPageToken", "pageToken"), PAGES),
    (header_cursor_api, "header_cursor", HeaderCursorPaginator("X-Next-Cursor", "cursor"), PAGES),
    (github_api, "link", HeaderLinkPaginator(), PAGES),
    (relative_link_api, "link", HeaderLinkPaginator(), PAGES),
    (drf_api, "json_link", JSONLinkPaginator("next"), PAGES),
    (json_link_relative_api, "json_link", JSONLinkPaginator("links.next"), PAGES),
    (odata_api, "json_link", JSONLinkPaginator(("@odata.nextLink",)), PAGES),
    (offset_api, "offset", OffsetPaginator(SIZE), PAGES),
    (skip_api, "offset", OffsetPaginator(SIZE, offset_param="skip"), PAGES),
    (page_api, "page_number", PageNumberPaginator(), PAGES),
    (page_total_api, "page_number",
     PageNumberPaginator(total_path=None, total_items_path="total", page_size=SIZE), PAGES),
    (stripe_api, "item_cursor", ItemCursorPaginator(), PAGES),
    (airtable_api, "cursor", JSONResponseCursorPaginator("offset", "offset"), PAGES),
    (single_api, "single", SinglePagePaginator(), 1),
]  # fmt: skip
STYLE_IDS = [s[0].__name__ for s in STYLES]


@pytest.mark.parametrize(("handler", "name", "explicit", "requests"), STYLES, ids=STYLE_IDS)
def test_auto_detects_the_style_and_reads_every_item_once(handler, name, explicit, requests):
    api, server = client(handler)
    pages = api.paginate("/items")
    assert [item["id"] for item in pages] == [item["id"] for item in ITEMS]
    assert pages.paginator_name == name
    assert len(server.requests) == requests == pages.pages


@pytest.mark.parametrize(("handler", "name", "explicit", "requests"), STYLES, ids=STYLE_IDS)
def test_explicit_paginator_reads_every_item_once(handler, name, explicit, requests):
    api, server = client(handler)
    pages = api.paginate("/items", paginator=explicit)
    assert [item["id"] for item in pages] == [item["id"] for item in ITEMS]
    assert len(server.requests) == requests
    assert explicit.has_next_page  # the caller's object was copied, not used up


@pytest.mark.parametrize(
    ("handler", "name"),
    [(cursor_api, "cursor"), (github_api, "link"), (drf_api, "json_link"),
     (offset_api, "offset"), (page_api, "page_number"), (header_cursor_api, "header_cursor"),
     (stripe_api, "item_cursor"), (single_api, "single")],
)  # fmt: skip
def test_paginator_by_name(handler, name):
    api, _ = client(handler)
    pages = api.paginate("/items", paginator=name)
    assert len(list(pages)) == len(ITEMS)
    assert pages.paginator_name == name
    assert isinstance(pages.paginator, PAGINATORS[name])


def test_detection_is_recorded_and_logged(caplog):
    api, _ = client(slack_api)
    pages = api.paginate("/items")
    assert pages.paginator is None and pages.paginator_name is None  # nothing fetched yet
    with caplog.at_level(logging.DEBUG, logger="apinotebook.paginate"):
        next(pages)
    assert "response_metadata.next_cursor" in repr(pages.paginator)
    assert "detected JSONResponseCursorPaginator" in caplog.text
    assert "paginator=cursor" in repr(pages)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"paginator": "cursorr"}, "Did you mean 'cursor'"),
        ({"paginator": "nope"}, "'auto', 'cursor', 'header_cursor', 'item_cursor', 'json_link'"),
        ({"paginator": 42}, "Unknown paginator 42"),
        ({"concurrency": 0}, "concurrency must be"),
        ({"concurrency": 2.5}, "concurrency must be"),
        ({"max_items": -1}, "max_items must be"),
        ({"items": 3}, "items= takes"),
        ({"fields": "id"}, "Unknown request option 'fields'"),
    ],
)
def test_bad_arguments_fail_at_once_without_a_request(kwargs, message):
    api, server = client(cursor_api)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        api.paginate("/items", **kwargs)
    assert server.requests == []


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: OffsetPaginator(0), "limit must be at least 1"),
        (lambda: OffsetPaginator(5, total_path=None, stop_after_empty_page=False), "way to stop"),
        (lambda: PageNumberPaginator(total_path=None, stop_after_empty_page=False), "way to stop"),
    ],
)
def test_invalid_paginator_configs(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_lazy_one_page_at_a_time():
    api, server = client(cursor_api)
    pages = api.paginate("/items")
    assert server.requests == []
    for _ in range(SIZE):
        next(pages)
    assert len(server.requests) == 1
    next(pages)
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("max_items", "requests"), [(0, 0), (1, 1), (SIZE, 1), (SIZE + 1, 2), (7, 2), (100, PAGES)]
)
@pytest.mark.parametrize("concurrency", [1, 3])
def test_max_items_stops_without_an_extra_request(max_items, requests, concurrency):
    api, server = client(offset_api)
    got = list(api.paginate("/items", max_items=max_items, concurrency=concurrency))
    assert [i["id"] for i in got] == list(range(min(max_items, len(ITEMS))))
    assert len(server.requests) == requests


def test_params_and_query_string_are_kept_on_every_page():
    api, server = client(cursor_api, params={"api_version": "2"})
    list(api.paginate("/items?sort=name", params={"filter": "x"}))
    for request in server.requests:
        assert request.url.params["sort"] == "name"
        assert request.url.params["filter"] == "x"
        assert request.url.params["api_version"] == "2"
    assert server.params("cursor") == [None, "c5", "c10", "c15", "c20"]


def test_next_links_keep_their_query_with_client_default_params():
    api, server = client(drf_api, params={"api_version": "2"})
    assert len(list(api.paginate("/items"))) == len(ITEMS)
    assert server.params("page") == [None, "2", "3", "4", "5"]
    assert all(r.url.params["api_version"] == "2" for r in server.requests)


def test_explicit_offset_and_page_paginators_send_their_parameters():
    api, server = client(offset_api)
    list(api.paginate("/items", paginator=OffsetPaginator(10)))
    assert server.params("offset") == ["0", "10", "20"]
    assert server.params("limit") == ["10", "10", "10"]
    api, server = client(page_api)
    list(
        api.paginate(
            "/items", paginator=PageNumberPaginator(page_size=SIZE, page_size_param="per_page")
        )
    )
    assert server.params("page") == ["1", "2", "3", "4", "5"]
    assert set(server.params("per_page")) == {"5"}


def test_starting_parameter_must_be_a_number():
    api, server = client(offset_api)
    with pytest.raises(ConfigError, match="offset='ten' should be a whole number"):
        next(api.paginate("/items", params={"offset": "ten"}, paginator=OffsetPaginator(5)))
    assert server.requests == []


def test_offset_without_total_stops_after_an_empty_page():
    def no_total(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"data": window(arg(request, "offset"), 10)})

    api, server = client(no_total)
    got = list(api.paginate("/items", paginator=OffsetPaginator(10, total_path=None)))
    assert len(got) == len(ITEMS)
    assert server.params("offset") == ["0", "10", "20", "30"]


def test_missing_total_is_an_error_when_nothing_else_stops():
    api, _ = client(lambda r: httpx.Response(200, json={"data": [1], "count": 9}))
    paginator = OffsetPaginator(1, stop_after_empty_page=False, has_more_path=None)
    with pytest.raises(DecodeError, match=r"no total at 'total'.*keys present: 'data', 'count'"):
        list(api.paginate("/items", paginator=paginator))


def test_post_search_sends_the_cursor_in_the_json_body():
    def search(request: httpx.Request) -> httpx.Response:
        import json

        body = json.loads(request.content)
        start = int(body.get("start_cursor") or 0)
        nxt = following(start)
        return httpx.Response(200, json={"object": "list", "results": window(start),
                                         "next_cursor": None if nxt is None else str(nxt),
                                         "has_more": nxt is not None})  # fmt: skip

    api, server = client(search)
    query = {"query": "x"}
    pages = api.paginate("/search", method="POST", json=query)
    assert len(list(pages)) == len(ITEMS)
    assert pages.paginator_name == "cursor" and "start_cursor" in repr(pages.paginator)
    assert all(r.method == "POST" for r in server.requests)
    assert query == {"query": "x"}  # the caller's body is not changed
    assert b'"query": "x"' in server.requests[-1].content or b'"query":"x"' in (
        server.requests[-1].content
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


# -- errors ---------------------------------------------------------------------------------


def test_non_2xx_page_raises_with_the_exchange():
    def second_fails(request: httpx.Request) -> httpx.Response:
        if "cursor" in request.url.params:
            return httpx.Response(403, json={"error": {"code": "forbidden"}})
        return cursor_api(request)

    api, _ = client(second_fails)
    pages = api.paginate("/items")
    got = [next(pages) for _ in range(SIZE)]
    with pytest.raises(HTTPStatusError, match="Client error 403") as info:
        next(pages)
    assert len(got) == SIZE
    assert info.value.exchange is not None and info.value.exchange.status == 403
    assert "cursor=c5" in info.value.exchange.url


def test_repeating_cursor_stops_with_a_clear_error():
    api, server = client(lambda r: httpx.Response(200, json={"data": [1], "next_cursor": "same"}))
    with pytest.raises(DecodeError, match="already returned .'same'.*loop forever"):
        list(api.paginate("/items"))
    assert len(server.requests) == 2


def test_cycling_next_link_stops_with_a_clear_error():
    def loop(request: httpx.Request) -> httpx.Response:
        page = arg(request, "page", 1)
        return httpx.Response(200, json={"results": [page], "next": f"/items?page={3 - page}"})

    api, server = client(loop)
    with pytest.raises(DecodeError, match="already returned"):
        list(api.paginate("/items?page=1"))
    assert server.params("page") == ["1", "2"]


def test_next_link_to_another_origin_is_not_followed():
    def elsewhere(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [1], "next": "http://evil.test/items?p=2"})

    api, server = client(elsewhere)
    with pytest.raises(DecodeError, match="another origin"):
        list(api.paginate("/items"))
    assert len(server.requests) == 1


@pytest.mark.parametrize("items", ["records", "data.rows", ["data", 0, "x"]])
def test_missing_items_path_names_the_path_and_the_keys(items):
    api, _ = client(cursor_api)
    with pytest.raises(DecodeError, match=r"no items at .*Keys present: 'data', 'next_cursor'"):
        list(api.paginate("/items", items=items))


def test_items_path_that_is_not_a_list_is_an_error():
    api, _ = client(lambda r: httpx.Response(200, json={"data": "text"}))
    with pytest.raises(DecodeError, match="should be a list of records"):
        list(api.paginate("/items", items="data"))


def test_non_json_page_is_a_decode_error():
    api, _ = client(lambda r: httpx.Response(200, text="<html>login</html>"))
    with pytest.raises(DecodeError, match="HTML or XML, not JSON"):
        list(api.paginate("/items"))


@pytest.mark.parametrize(
    ("body", "warns"),
    [
        ({"data": [1, 2], "has_more": True}, True),
        ({"data": [1, 2], "total": 40, "limit": 2}, True),
        ({"data": [1, 2], "total": 2}, False),
        ({"data": [1, 2], "has_more": False}, False),
    ],
)
def test_single_page_fallback_warns_when_more_exist(caplog, body, warns):
    api, server = client(lambda r: httpx.Response(200, json=body))
    with caplog.at_level(logging.WARNING, logger="apinotebook.paginate"):
        assert list(api.paginate("/items")) == [1, 2]
    assert ("more items exist" in caplog.text) is warns
    assert len(server.requests) == 1


# -- items ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path", "items"),
    [
        ([1, 2], (), [1, 2]),
        ({"data": [1], "next_cursor": None}, "data", [1]),
        ({"ok": True, "messages": [{"ts": "1"}], "warnings": []}, "messages", [{"ts": "1"}]),
        ({"results": [], "errors": []}, "results", []),
        ({"a": [{"id": 1}], "b": [2]}, "a", [{"id": 1}]),
        ({"data": {"items": [3], "total": 1}}, "data.items", [3]),
        ({"id": 7, "name": "one"}, (), [{"id": 7, "name": "one"}]),
        (None, (), []),
    ],
)
def test_find_items(body, path, items):
    assert find_items(body) == (path, items)


def test_find_items_refuses_to_guess_between_lists():
    with pytest.raises(ConfigError, match="several lists .'left', 'right'.*items="):
        find_items({"left": [1], "right": [2]})


def test_items_path_picks_nested_records():
    api, _ = client(lambda r: httpx.Response(200, json={"response": {"rows": [{"id": 1}]}}))
    assert list(api.paginate("/items", items="response.rows")) == [{"id": 1}]


# -- paginators without I/O -----------------------------------------------------------------


def exchange(body: Any = None, *, url: str = f"{BASE}/items", headers: Any = None) -> Exchange:
    import json

    content = b"" if body is None else json.dumps(body).encode()
    return Exchange(protocol="rest", request=Request("GET", url), status=200,
                    headers={"content-type": "application/json", **(headers or {})},
                    content=content)  # fmt: skip


def test_offset_paginator_state_machine():
    paginator = OffsetPaginator(10, total_path="meta.total")
    request = PageRequest.build("GET", "/items", params={"q": "x"})
    paginator.init_request(request)
    assert request.params == {"q": "x", "offset": 0, "limit": 10}
    paginator.update_state(exchange({"meta": {"total": 25}}), [0] * 10)
    assert paginator.has_next_page
    planned = paginator.remaining_requests(request)
    assert planned is not None
    assert [p.params["offset"] for p in planned] == [10, 20]
    assert not paginator.has_next_page
    assert request.params["offset"] == 0  # planning does not touch the request


def test_page_number_paginator_from_total_items_and_base_zero():
    paginator = PageNumberPaginator(base_page=0, total_path=None, total_items_path="total")
    request = PageRequest.build("GET", "/items")
    paginator.init_request(request)
    assert request.params == {"page": 0}
    paginator.update_state(exchange({"total": 11}), [0] * 4)
    planned = paginator.remaining_requests(request)
    assert planned is not None and [p.params["page"] for p in planned] == [1, 2]


def test_cursor_paginator_empty_string_and_has_more():
    paginator = JSONResponseCursorPaginator("response_metadata.next_cursor")
    paginator.update_state(exchange({"response_metadata": {"next_cursor": ""}}))
    assert not paginator.has_next_page
    paginator = JSONResponseCursorPaginator(has_more_path="has_more")
    paginator.update_state(exchange({"next_cursor": "abc", "has_more": False}))
    assert not paginator.has_next_page
    paginator = JSONResponseCursorPaginator()
    paginator.update_state(exchange({"next_cursor": "abc"}))
    request = PageRequest.build("GET", "/items?limit=3")
    paginator.update_request(request)
    assert request.params == {"limit": "3", "cursor": "abc"}


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f'<{BASE}/i?page=2>; rel="next", <{BASE}/i?page=9>; rel="last"', f"{BASE}/i?page=2"),
        (f"<{BASE}/i?page=2>; rel=next", f"{BASE}/i?page=2"),
        ('</a?x=1,2>; title="a, b; c"; rel="prev next"', f"{BASE}/a?x=1,2"),
        ('<?page=3>; rel="next"', f"{BASE}/items?page=3"),
        (f'<{BASE}/i?page=1>; rel="prev"', None),
        ("", None),
    ],
)
def test_header_link_paginator_reads_rfc8288(header, expected):
    paginator = HeaderLinkPaginator()
    paginator.update_state(exchange([], headers={"Link": header} if header else {}))
    assert paginator.has_next_page is (expected is not None)
    if expected:
        request = PageRequest.build("GET", "/items", params={"page": 1, "other": "x"})
        paginator.update_request(request)
        sent = httpx.URL(request.url).copy_merge_params(request.params)
        assert sent.copy_with(query=None) == httpx.URL(expected).copy_with(query=None)
        assert sent.params == httpx.URL(expected).params  # the link's query replaces the old one


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


# -- the sandbox services ---------------------------------------------------------------


def _sandbox_services(monkeypatch: pytest.MonkeyPatch, *wanted: str) -> tuple[str, ...]:
    """The wanted services; registers ones whose module exists but is not in SERVICES yet."""
    if importlib.util.find_spec("fastapi") is None:
        pytest.skip("needs the sandbox extra")
    from apinotebook.sandbox import _runner

    present = tuple(s for s in wanted if importlib.util.find_spec(f"apinotebook.sandbox.{s}"))
    if not present:
        pytest.skip(f"sandbox services {wanted} are not there yet")
    missing = [s for s in present if s not in _runner.SERVICES]
    if missing:
        monkeypatch.setattr(_runner, "SERVICES", (*_runner.SERVICES, *missing))
    return present


@pytest.mark.sandbox
def test_sandbox_crm_1234_contacts_each_exactly_once(monkeypatch):
    if "crm" not in _sandbox_services(monkeypatch, "crm"):
        pytest.skip("no CRM service")
    from apinotebook import Bearer, Secret
    from apinotebook.sandbox import Sandbox

    with Sandbox(contacts=1234, services=("crm",)) as sb:
        crm = RestClient(sb.urls["crm"], auth=Bearer(Secret(sb.env["CRM_TOKEN"])), history=None)
        pages = crm.paginate("/contacts", params={"limit": 100})
        ids = [contact["id"] for contact in pages]
        crm.close()
    assert len(ids) == len(set(ids)) == 1234
    assert pages.paginator_name == "cursor" and pages.pages == 13


@pytest.mark.sandbox
def test_sandbox_chat_slack_cursor(monkeypatch):
    if "chat" not in _sandbox_services(monkeypatch, "chat"):
        pytest.skip("no chat service")
    from apinotebook import Bearer, Secret
    from apinotebook.sandbox import Sandbox

    with Sandbox(services=("chat",)) as sb:
        chat = RestClient(sb.urls["chat"], auth=Bearer(Secret(sb.env["CHAT_TOKEN"])), history=None)
        channel = chat.get("/channels").json()["channels"][0]["id"]
        for n in range(12):
            chat.post(
                f"/channels/{channel}/messages", json={"text": f"note {n}"}
            ).raise_for_status()
        expected = chat.get(f"/channels/{channel}/messages", params={"limit": 1000}).json()
        pages = chat.paginate(f"/channels/{channel}/messages", params={"limit": 4})
        got = [m["ts"] for m in pages]
        chat.close()
    assert got == [m["ts"] for m in expected["messages"]]  # newest first, none repeated
    assert len(got) >= 12 and len(set(got)) == len(got)
    assert "response_metadata.next_cursor" in repr(pages.paginator)
    assert pages.pages == math.ceil(len(got) / 4)


@pytest.mark.sandbox
def test_concurrent_pages_over_real_sockets_leave_nothing_open():
    """Each concurrent window runs in its own event loop; its connections must close with it."""
    if importlib.util.find_spec("starlette") is None:
        pytest.skip("needs the sandbox extra")
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from apinotebook.sandbox import Mount, Sandbox

    rows = [{"id": i} for i in range(95)]

    async def listing(request: StarletteRequest) -> JSONResponse:
        offset = int(request.query_params.get("offset", 0))
        limit = int(request.query_params.get("limit", 10))
        return JSONResponse({"data": rows[offset : offset + limit], "total": len(rows),
                             "offset": offset, "limit": limit})  # fmt: skip

    app = Starlette(routes=[Route("/rows", listing)])
    mounts = [Mount(prefix="/demo", app=app, service="demo", urls={"demo": "/demo"})]
    with Sandbox(services=(), extra_mounts=mounts) as sb:
        api = RestClient(sb.urls["demo"], history=None)
        pages = api.paginate("/rows", concurrency=2)  # windows of 8 pages: two event loops
        ids = [row["id"] for row in pages]
        api.close()
    gc.collect()  # a leaked socket warns here, inside the test (warnings are errors)
    assert ids == list(range(95))
    assert pages.pages == 10
