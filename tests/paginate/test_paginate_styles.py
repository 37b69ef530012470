"""paginate(): every paging style detected or named, read once, lazily, with its parameters."""

from __future__ import annotations

import logging

import httpx
import pytest
from paginate_apis import (
    ITEMS,
    PAGES,
    SIZE,
    STYLE_IDS,
    STYLES,
    arg,
    client,
    cursor_api,
    drf_api,
    following,
    github_api,
    header_cursor_api,
    offset_api,
    page_api,
    single_api,
    slack_api,
    stripe_api,
    window,
)

from apinotebook import ConfigError, DecodeError
from apinotebook.paginate import (
    PAGINATORS,
    OffsetPaginator,
    PageNumberPaginator,
)


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
