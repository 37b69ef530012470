"""One fake API per paging style, served over a transport that counts requests."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import httpx

from apinotebook import RestClient
from apinotebook.paginate import (
    HeaderCursorPaginator,
    HeaderLinkPaginator,
    ItemCursorPaginator,
    JSONLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    SinglePagePaginator,
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
