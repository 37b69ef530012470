"""paginate() errors: failed pages, cycles, other origins, missing or non-JSON items."""

from __future__ import annotations

import logging

import httpx
import pytest
from paginate_apis import (
    SIZE,
    arg,
    client,
    cursor_api,
)

from apinotebook import DecodeError, HTTPStatusError

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
