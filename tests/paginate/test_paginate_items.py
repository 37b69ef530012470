"""Where the items are in a page, and the paginators' state machines without I/O."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from paginate_apis import (
    BASE,
    client,
)

from apinotebook import ConfigError, Exchange, Request
from apinotebook.paginate import (
    HeaderLinkPaginator,
    JSONResponseCursorPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    PageRequest,
    find_items,
)

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
