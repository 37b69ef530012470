"""GraphQLClient.paginate: Relay connections walked lazily, and what a query must have."""

from __future__ import annotations

import httpx
import pytest
from graphql_fakes import (
    SUBSCRIBERS,
    FakeServer,
    client_for,
    connection_server,
)

from apinotebook import (
    ConfigError,
    DecodeError,
    GraphQLResponseError,
    HTTPStatusError,
    QueryValidationError,
)

# -- pagination ----------------------------------------------------------------------------


def test_paginate_walks_every_page_lazily():
    server = connection_server(total=7, per_page=3)
    client = client_for(server)
    pages = client.paginate(SUBSCRIBERS, "subscribers", {"listId": "lst_1"})
    assert server.requests == []  # lazy
    first = next(pages)
    assert first["email"] == "p0@x.io" and len(server.requests) == 1
    rest = list(pages)
    assert [n["email"] for n in [first, *rest]] == [f"p{i}@x.io" for i in range(7)]
    assert [b["variables"].get("after") for b in server.bodies] == [None, "3", "6"]
    assert all(b["variables"]["listId"] == "lst_1" for b in server.bodies)
    assert len(pages.exchanges) == 3 and pages.errors == []
    assert "7 items, 3 pages" in repr(pages)


def test_paginate_starts_at_a_given_cursor():
    server = connection_server(total=7, per_page=3)
    got = list(
        client_for(server).paginate(SUBSCRIBERS, "subscribers", {"listId": "l", "after": "5"})
    )
    assert [n["email"] for n in got] == ["p5@x.io", "p6@x.io"]
    assert server.bodies[0]["variables"]["after"] == "5"


def test_paginate_max_items_and_page_size():
    server = connection_server(total=50)
    client = client_for(server)
    got = list(client.paginate(SUBSCRIBERS, "subscribers", {"listId": "l"}, page_size=4,
                               max_items=6))  # fmt: skip
    assert len(got) == 6 and len(server.requests) == 2
    assert [b["variables"]["first"] for b in server.bodies] == [4, 4]
    assert list(client.paginate(SUBSCRIBERS, "subscribers", {"listId": "l"}, max_items=0)) == []
    assert len(server.requests) == 2


def test_paginate_nested_path_and_nodes_and_aliases():
    query = """query ($id: ID!, $cursor: String) {
      list(id: $id) { members: subscribers(after: $cursor) {
        pageInfo { hasNextPage endCursor } rows: edges { item: node { email } } } } }"""
    server = connection_server(
        total=5, per_page=2, key="members", cursor="cursor", parent="list", edges="rows",
        node="item",
    )  # fmt: skip
    client = client_for(server, schema=None, fetch_schema=False)
    with pytest.raises(ConfigError, match=r"\$after"):
        client.paginate(query, "list.members", {"id": "l"})
    got = list(client.paginate(query, "list.members", {"id": "l"}, cursor_variable="cursor"))
    assert len(got) == 5 and [b["variables"]["cursor"] for b in server.bodies] == [None, "2", "4"]


def test_paginate_nodes_field():
    query = """query ($after: String) { items(after: $after) {
      pageInfo { hasNextPage endCursor } nodes { email } } }"""
    server = connection_server(total=4, per_page=3, key="items", nodes=True)
    client = client_for(server, schema=None, fetch_schema=False)
    assert [n["email"] for n in client.paginate(query, "items")][-1] == "p3@x.io"


PAGINATE_CONFIG_ERRORS = [
    (
        "no pageInfo",
        "query ($after: String) { subscribers(listId: 1, after: $after) "
        "{ edges { node { id } } } }",
        "subscribers",
        {},
        r"pageInfo \{ hasNextPage endCursor \}",
    ),
    (
        "no endCursor",
        "query ($after: String) { subscribers(listId: 1, after: $after) "
        "{ pageInfo { hasNextPage } edges { node { id } } } }",
        "subscribers",
        {},
        r"pageInfo \{ hasNextPage endCursor \}",
    ),
    (
        "no $after declared",
        "{ subscribers(listId: 1) { pageInfo { hasNextPage endCursor } edges { node { id } } } }",
        "subscribers",
        {},
        r"declare it on the operation",
    ),
    (
        "$after not passed",
        "query ($after: String) { subscribers(listId: 1) "
        "{ pageInfo { hasNextPage endCursor } edges { node { id } } } }",
        "subscribers",
        {},
        r"subscribers\(after: \$after\)",
    ),
    (
        "no edges or nodes",
        "query ($after: String) { subscribers(listId: 1, after: $after) "
        "{ pageInfo { hasNextPage endCursor } totalCount } }",
        "subscribers",
        {},
        r"edges \{ node",
    ),
    ("wrong path", SUBSCRIBERS, "list.subscribers", {}, r"data has no field 'list'.*'subscribers'"),
    ("empty path", SUBSCRIBERS, "", {}, r"connection_path names"),
    ("page_size without $first", SUBSCRIBERS.replace("$first: Int, ", "").replace(
        "first: $first, ", ""), "subscribers", {"page_size": 5}, r"declare it"),
    ("mutation", 'mutation { createList(name: "x") { id } }', "createList", {}, r"runs queries"),
    ("negative max_items", SUBSCRIBERS, "subscribers", {"max_items": -1}, r"max_items"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "path", "options", "match"),
    [case[1:] for case in PAGINATE_CONFIG_ERRORS],
    ids=[case[0] for case in PAGINATE_CONFIG_ERRORS],
)
def test_paginate_explains_what_the_query_lacks(query, path, options, match):
    server = connection_server()
    client = client_for(server, schema=None, fetch_schema=False)
    with pytest.raises(ConfigError, match=match):
        client.paginate(query, path, **options)
    assert server.requests == []


def test_paginate_raises_when_a_page_has_errors_and_no_data():
    answers = iter([
        {"data": {"subscribers": {"totalCount": 9, "edges": [{"node": {"email": "a"}}],
                                  "pageInfo": {"hasNextPage": True, "endCursor": "1"}}}},
        {"data": None, "errors": [{"message": "list was deleted"}]},
    ])  # fmt: skip
    client = client_for(FakeServer(handler=lambda body: next(answers)))
    pages = client.paginate(SUBSCRIBERS, "subscribers", {"listId": "l"})
    assert next(pages) == {"email": "a"}
    with pytest.raises(GraphQLResponseError, match="list was deleted") as info:
        next(pages)
    assert info.value.data is None


def test_paginate_keeps_partial_errors():
    body = {
        "data": {"subscribers": {"edges": [{"node": {"email": "a", "engagement": None}}],
                                 "pageInfo": {"hasNextPage": False, "endCursor": "1"}}},
        "errors": [{"message": "timeout", "path": ["subscribers", "edges", 0, "node",
                                                    "engagement"]}],
    }  # fmt: skip
    client = client_for(FakeServer(body))
    pages = client.paginate(SUBSCRIBERS, "subscribers", {"listId": "l"})
    assert list(pages) == [{"email": "a", "engagement": None}]
    assert pages.errors == body["errors"]


@pytest.mark.parametrize(
    ("page_info", "match"),
    [
        ({"hasNextPage": True, "endCursor": None}, "endCursor is null"),
        ({"hasNextPage": True, "endCursor": "same"}, "same endCursor"),
    ],
)
def test_paginate_stops_on_broken_page_info(page_info, match):
    body = {"data": {"subscribers": {"edges": [{"node": {"email": "a"}}], "pageInfo": page_info}}}
    client = client_for(FakeServer(body))
    with pytest.raises(DecodeError, match=match):
        list(client.paginate(SUBSCRIBERS, "subscribers", {"listId": "l"}))


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ({"weird": True}, DecodeError),
        (httpx.Response(500, text="boom"), HTTPStatusError),
    ],
)
def test_paginate_raises_on_unusable_pages(answer, error):
    client = client_for(FakeServer(answer), retry=False)
    with pytest.raises(error):
        list(client.paginate(SUBSCRIBERS, "subscribers", {"listId": "l"}))


def test_paginate_validates_the_first_page_against_the_schema():
    server = connection_server()
    client = client_for(server)
    bad = SUBSCRIBERS.replace("status", "mood")
    with pytest.raises(QueryValidationError, match="mood"):
        list(client.paginate(bad, "subscribers", {"listId": "l"}))
    assert server.requests == []
