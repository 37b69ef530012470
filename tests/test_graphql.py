"""GraphQLClient: execute, validation, schemas, introspection, retries, pagination."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, build_schema

from apinotebook import (
    ApiKey,
    ConfigError,
    DecodeError,
    GraphQLResponseError,
    History,
    HTTPStatusError,
    QueryValidationError,
    Retry,
    SchemaError,
    SpecError,
)
from apinotebook.graphql import ACCEPT, GraphQLClient

FIXTURES = Path(__file__).parent / "fixtures" / "graphql"
MAIL_SDL = (FIXTURES / "mail.graphql").read_text()
MAIL_INTROSPECTION = json.loads((FIXTURES / "mail_introspection.json").read_text())
URL = "https://mail.example/graphql"
FAST = Retry(backoff=0, jitter=False)

SUBSCRIBERS = """
query Subscribers($listId: ID!, $first: Int, $after: String) {
  subscribers(listId: $listId, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { email status } }
  }
}
"""


class FakeServer:
    """A GraphQL endpoint for httpx.MockTransport: records requests, answers from a script."""

    def __init__(self, *responses: Any, handler: Callable[[dict[str, Any]], Any] | None = None):
        self.requests: list[httpx.Request] = []
        self.responses = list(responses)
        self.handler = handler

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = json.loads(request.content)
        if self.handler is not None:
            answer = self.handler(body)
        else:
            answer = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)


def client_for(server: FakeServer, **kwargs: Any) -> GraphQLClient:
    kwargs.setdefault("schema", MAIL_SDL)
    kwargs.setdefault("history", History())
    kwargs.setdefault("retry", FAST)
    return GraphQLClient(URL, transport=httpx.MockTransport(server), **kwargs)


# -- execute ------------------------------------------------------------------------


def test_execute_posts_query_variables_and_operation_name():
    server = FakeServer({"data": {"subscribers": {"totalCount": 0}}})
    client = client_for(server, headers={"X-Trace": "t-1"})
    ex = client.execute(
        "query Count($id: ID!) { subscribers(listId: $id) { totalCount } }", {"id": "lst_1"}
    )
    (request,) = server.requests
    assert request.method == "POST" and str(request.url) == URL
    assert request.headers["accept"] == ACCEPT
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-trace"] == "t-1"
    assert server.bodies[0] == {
        "query": "query Count($id: ID!) { subscribers(listId: $id) { totalCount } }",
        "variables": {"id": "lst_1"},
        "operationName": "Count",
    }
    assert ex.protocol == "graphql" and ex.operation == "Count"
    assert ex.data == {"subscribers": {"totalCount": 0}} and ex.errors == [] and ex.ok
    assert client.history.last is ex


@pytest.mark.parametrize(
    ("query", "label"),
    [
        ("{ lists { totalCount } }", "query lists"),
        ("query { list(id: 1) { name } lists { totalCount } }", "query list"),
        ("query Named { lists { totalCount } }", "Named"),
        ('mutation { createList(name: "x") { id } }', "mutation createList"),
        ('mutation Make { createList(name: "x") { id } }', "Make"),
    ],
)
def test_exchanges_are_labelled_by_operation(query, label):
    server = FakeServer({"data": {}})
    ex = client_for(server).execute(query)
    assert ex.operation == label
    assert "variables" not in server.bodies[0]


def test_operation_name_picks_one_of_several_operations():
    doc = "query Lists { lists { totalCount } } query B { list(id: 1) { name } }"
    server = FakeServer({"data": {}})
    client = client_for(server)
    assert client.execute(doc, operation_name="B").operation == "B"
    assert server.bodies[0]["operationName"] == "B"
    with pytest.raises(ConfigError, match="2 operations"):
        client.execute(doc)
    with pytest.raises(ConfigError, match="Did you mean 'Lists'"):
        client.execute(doc, operation_name="lists")
    assert len(server.requests) == 1


def test_gql_requests_and_documents_are_accepted():
    from gql import GraphQLRequest
    from graphql import parse

    server = FakeServer({"data": {"list": None}})
    client = client_for(server)
    document = parse("query One($id: ID!) { list(id: $id) { name } }")
    client.execute(GraphQLRequest(document, variable_values={"id": "lst_9"}))  # gql 3.5 and 4
    client.execute(parse("{ lists { totalCount } }"))
    assert server.bodies[0]["variables"] == {"id": "lst_9"}
    assert server.bodies[0]["operationName"] == "One"
    assert "lists" in server.bodies[1]["query"]


def test_per_call_headers_and_variables_not_mutated():
    server = FakeServer({"data": {}})
    variables = {"id": "lst_1"}
    client_for(server).execute(
        "query Q($id: ID!) { list(id: $id) { name } }", variables, headers={"X-Req": "1"}
    )
    assert server.requests[0].headers["x-req"] == "1"
    assert variables == {"id": "lst_1"}


def test_subscriptions_are_refused_without_sending():
    server = FakeServer({"data": {}})
    sdl = MAIL_SDL + "\ntype Subscription { ticks: Int! }\n"
    client = client_for(server, schema=sdl)
    with pytest.raises(ConfigError, match="subscription.*WebSocket"):
        client.execute("subscription { ticks }")
    assert server.requests == []


def test_variables_that_are_not_json_raise_config_error():
    from datetime import datetime

    server = FakeServer({"data": {}})
    with pytest.raises(ConfigError, match="cannot be sent as JSON"):
        client_for(server, schema=None, fetch_schema=False).execute(
            "query Q($s: String) { subscribers(listId: 1, updatedSince: $s) { totalCount } }",
            {"s": datetime(2025, 1, 1)},
        )
    assert server.requests == []


def test_no_url_means_no_execute():
    client = GraphQLClient(schema=MAIL_SDL)
    assert client.validate("{ lists { totalCount } }") == []
    with pytest.raises(ConfigError, match="no url"):
        client.execute("{ lists { totalCount } }")


def test_repr_is_short_and_masks_secrets():
    client = GraphQLClient(
        URL + "?api_key=abcdef123456", auth=ApiKey("k-secret-987654"), schema=MAIL_SDL
    )
    text = repr(client)
    assert "abcdef123456" not in text and "k-secret-987654" not in text
    assert "26 types" in text and len(text) < 200


def test_context_manager_closes_the_pool():
    with client_for(FakeServer({"data": {}})) as client:
        client.execute("{ lists { totalCount } }")
    assert client._core._client.is_closed


# -- local validation -----------------------------------------------------------------


# (line:column, a part of the message): the wording differs across graphql-core versions
INVALID_QUERIES = [
    ("unknown field", "{ lists { nope } }", None, [("1:11", "'nope'")]),
    (
        "two problems",
        "{\n  lists { totalCount }\n  list { name owner }\n}",
        None,
        [("3:15", "'owner'"), ("3:3", "'ID!' is required")],
    ),
    ("syntax", "{ lists { totalCount }", None, [("1:23", "Syntax Error")]),
    (
        "missing variable",
        "query Q($id: ID!) { list(id: $id) { name } }",
        {},
        [("1:9", "'$id'")],
    ),
]


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [case[1:] for case in INVALID_QUERIES],
    ids=[case[0] for case in INVALID_QUERIES],
)
def test_invalid_queries_raise_with_every_problem_and_send_nothing(query, variables, expected):
    server = FakeServer({"data": {}})
    client = client_for(server)
    with pytest.raises(QueryValidationError) as info:
        client.execute(query, variables)
    errors = [e.replace('"', "'") for e in info.value.errors]
    assert len(errors) == len(expected)
    for where, part in expected:  # in any order
        assert any(e.startswith(f"{where}: ") and part in e for e in errors), (where, errors)
    assert info.value.errors[0] in str(info.value)
    assert server.requests == []
    assert len(client.validate(query, variables)) == len(info.value.errors)


def test_variable_values_are_checked_fully_by_validate_and_by_the_server_on_execute():
    # execute() only checks that required variables are there (cheap, every call);
    # validate(query, variables) coerces every value against its type.
    query = "query Q($s: SubscriptionStatus) { subscribers(listId: 1, status: $s) { totalCount } }"
    server = FakeServer({"data": None, "errors": [{"message": "bad enum"}]})
    client = client_for(server)
    problems = client.validate(query, {"s": "GONE"})
    assert len(problems) == 1 and "'GONE' does not exist" in problems[0].replace('"', "'")
    assert server.requests == []
    assert client.execute(query, {"s": "GONE"}).errors[0]["message"] == "bad enum"


def test_validate_accepts_valid_queries_and_sends_nothing():
    server = FakeServer({"data": {}})
    client = client_for(server)
    assert client.validate(SUBSCRIBERS) == []
    assert client.validate(SUBSCRIBERS, {"listId": "l"}, "Subscribers") == []
    (error,) = client.validate("query A { lists { totalCount } } query B { lists { x } }")
    assert error.startswith("1:52: ") and "'x'" in error.replace('"', "'")
    assert server.requests == []


def test_validate_false_sends_anyway():
    server = FakeServer({"data": None, "errors": [{"message": "Cannot query field 'nope'"}]})
    ex = client_for(server).execute("{ lists { nope } }", validate=False)
    assert len(server.requests) == 1 and ex.errors[0]["message"].startswith("Cannot query")


# -- schemas ---------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SCHEMA_SOURCES: dict[str, Callable[[Path], Any]] = {
    "sdl text": lambda tmp: MAIL_SDL,
    "sdl bytes": lambda tmp: MAIL_SDL.encode(),
    ".graphql path str": lambda tmp: str(_write(tmp, "s.graphql", MAIL_SDL)),
    ".graphqls Path": lambda tmp: _write(tmp, "s.graphqls", MAIL_SDL),
    ".sdl Path": lambda tmp: _write(tmp, "s.sdl", MAIL_SDL),
    "sdl in .txt": lambda tmp: _write(tmp, "s.txt", MAIL_SDL),
    "introspection file wrapped": lambda tmp: FIXTURES / "mail_introspection.json",
    "introspection file bare": lambda tmp: _write(
        tmp, "bare.json", json.dumps(MAIL_INTROSPECTION["data"])
    ),
    "introspection dict wrapped": lambda tmp: MAIL_INTROSPECTION,
    "introspection dict bare": lambda tmp: MAIL_INTROSPECTION["data"],
    "introspection JSON text": lambda tmp: json.dumps(MAIL_INTROSPECTION),
    "GraphQLSchema": lambda tmp: build_schema(MAIL_SDL),
}


@pytest.mark.parametrize("kind", list(SCHEMA_SOURCES))
def test_schema_sources(kind, tmp_path):
    source = SCHEMA_SOURCES[kind](tmp_path)
    original = json.dumps(source) if isinstance(source, dict) else None
    server = FakeServer({"data": {}})
    client = client_for(server, schema=source)
    assert isinstance(client.schema, GraphQLSchema)
    assert {"Subscriber", "SubscriberConnection", "Mutation"} <= set(client.schema.type_map)
    assert client.validate("{ lists { nope } }") != []
    assert server.requests == []  # a given schema is never fetched
    if original is not None:
        assert json.dumps(source) == original  # the caller's dict is untouched


INVALID_SCHEMAS: list[tuple[str, Any, type[Exception], str]] = [
    ("syntax", "type Query { a: }", SpecError, r"1:17: Syntax Error"),
    ("unknown type", "type Query {\n  a: Foo\n}", SpecError, r"2:6: Unknown type 'Foo'"),
    (
        "interface not implemented",
        "type Query { a: T }\ninterface I { x: Int }\ntype T implements I { y: Int }",
        SpecError,
        r"Interface field I.x expected but T does not provide it",
    ),
    ("no query type", "type Foo { a: Int }", SpecError, r"Query root type must be provided"),
    ("dict without __schema", {"types": []}, SpecError, r"not an introspection result"),
    (
        "wrapped errors",
        {"data": None, "errors": [{"message": "introspection is disabled"}]},
        SpecError,
        r"introspection is disabled",
    ),
    ("broken __schema", {"__schema": {"types": "x"}}, SpecError, r"not a valid introspection"),
    ("bad JSON text", '{"data": ', SpecError, r"not valid JSON"),
    ("missing file", "/nonexistent/schema.graphql", ConfigError, r"There is no schema file"),
    ("wrong kind", 42, ConfigError, r"schema= takes SDL text"),
]


@pytest.mark.parametrize(
    ("source", "error", "match"),
    [case[1:] for case in INVALID_SCHEMAS],
    ids=[case[0] for case in INVALID_SCHEMAS],
)
def test_invalid_schemas(source, error, match):
    with pytest.raises(error, match=match):
        GraphQLClient(URL, schema=source, strict=True)


def test_invalid_introspection_file_names_the_file(tmp_path):
    path = _write(tmp_path, "broken.json", '{"data": {"nope": 1}}')
    with pytest.raises(SpecError, match="broken.json"):
        GraphQLClient(schema=path)


def test_a_generated_schema_with_a_thousand_types_loads():
    spec = importlib.util.spec_from_file_location(
        "bench_graphql_schema",
        Path(__file__).parents[1] / "benchmarks" / "bench_graphql_schema.py",
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sdl = bench.generate_sdl(150, seed=3)
    assert bench.generate_sdl(150, seed=3) == sdl  # deterministic
    introspection = bench.generate_introspection(sdl)
    query = bench.sample_query(sdl)
    for source in (sdl, introspection):
        client = GraphQLClient(schema=source, history=False)
        assert len(client.schema.type_map) >= 1000
        assert client.validate(query) == []
        assert client.validate(query.replace("totalCount", "total")) != []


# -- introspection ---------------------------------------------------------------------


def introspecting(query_answer: Any = None, *, introspection: Any = MAIL_INTROSPECTION):
    def handler(body: dict[str, Any]) -> Any:
        if body.get("operationName") == "IntrospectionQuery":
            return introspection
        return query_answer or {"data": {"lists": {"totalCount": 3}}}

    return FakeServer(handler=handler)


def test_schema_is_fetched_lazily_once_and_recorded():
    server = introspecting()
    history = History()
    client = client_for(server, schema=None, history=history)
    assert server.requests == [] and "not loaded" in repr(client)
    assert "Subscriber" in client.schema.type_map
    assert [b["operationName"] for b in server.bodies] == ["IntrospectionQuery"]
    assert history.last is not None and history.last.operation == "IntrospectionQuery"
    client.execute("{ lists { totalCount } }")
    with pytest.raises(QueryValidationError):
        client.execute("{ lists { nope } }")
    assert len(server.requests) == 2 and "26 types" in repr(client)


def test_first_execute_fetches_the_schema_and_validates():
    server = introspecting()
    client = client_for(server, schema=None)
    with pytest.raises(QueryValidationError):
        client.execute("{ lists { nope } }")
    assert [b.get("operationName") for b in server.bodies] == ["IntrospectionQuery"]


@pytest.mark.parametrize(
    ("answer", "retried"),
    [
        ({"errors": [{"message": "GraphQL introspection is not allowed"}]}, False),
        (httpx.Response(400, json={"errors": [{"message": "introspection disabled"}]}), False),
        (httpx.Response(200, text="<html>proxy</html>"), False),
        ({"data": {"__schema": None}}, False),
        (httpx.Response(401, json={"errors": [{"message": "Missing X-API-Key"}]}), True),
        (httpx.Response(503, text="maintenance"), True),
    ],
)
def test_refused_introspection_does_not_stop_queries(answer, retried):
    server = introspecting(introspection=answer)
    client = client_for(server, schema=None, retry=False)
    ex = client.execute("{ lists { nope } }")  # not validated: no schema
    assert ex.data == {"lists": {"totalCount": 3}}
    assert isinstance(client.schema_error, SchemaError)
    assert "without local validation" in str(client.schema_error)
    with pytest.raises(SchemaError, match="introspection"):
        _ = client.schema
    with pytest.raises(SchemaError):
        client.validate("{ lists { totalCount } }")
    client.execute("{ lists { totalCount } }")
    names = [b.get("operationName") for b in server.bodies]
    assert names.count("IntrospectionQuery") == (4 if retried else 1)
    assert "unavailable" in repr(client)


def test_refresh_schema_fetches_again():
    server = introspecting()
    client = client_for(server, schema=None)
    first = client.schema
    assert client.refresh_schema() is not first
    assert len(server.requests) == 2


def test_fetch_schema_false_sends_only_the_query():
    server = introspecting()
    client = client_for(server, schema=None, fetch_schema=False)
    client.execute("{ lists { nope } }")
    assert [b.get("operationName") for b in server.bodies] == [None]
    with pytest.raises(SchemaError, match="no schema"):
        _ = client.schema


# -- retries -----------------------------------------------------------------------------


def _flaky(status: int = 503) -> FakeServer:
    return FakeServer(httpx.Response(status, text="busy"), {"data": {"ok": True}})


@pytest.mark.parametrize(
    ("query", "headers", "attempts"),
    [
        ("{ lists { totalCount } }", None, 2),
        ('mutation { createList(name: "x") { id } }', None, 1),
        ('mutation { createList(name: "x") { id } }', {"Idempotency-Key": "k-1"}, 2),
    ],
    ids=["query retried", "mutation not retried", "mutation with Idempotency-Key retried"],
)
def test_retry_follows_idempotency(query, headers, attempts):
    server = _flaky()
    ex = client_for(server).execute(query, headers=headers)
    assert len(server.requests) == attempts and len(ex.attempts) == attempts
    assert ex.status == (200 if attempts == 2 else 503)


# -- responses -------------------------------------------------------------------------


def test_partial_data_and_errors_are_kept_and_raise_for_status_raises():
    body = {
        "data": {"lists": {"totalCount": 3}, "list": None},
        "errors": [
            {"message": "engagement timed out", "path": ["list"],
             "extensions": {"code": "UPSTREAM_TIMEOUT"}},
        ],
        "extensions": {"cost": 3},
    }  # fmt: skip
    ex = client_for(FakeServer(body)).execute("{ lists { totalCount } list(id: 1) { name } }")
    assert ex.data == body["data"] and ex.errors == body["errors"] and not ex.ok
    with pytest.raises(GraphQLResponseError, match="engagement timed out") as info:
        ex.raise_for_status()
    assert info.value.data == body["data"] and info.value.errors == body["errors"]
    assert info.value.extensions == {"cost": 3} and info.value.exchange is ex


def test_html_error_page_is_a_typed_error():
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    server = FakeServer(httpx.Response(502, text=page, headers={"content-type": "text/html"}))
    ex = client_for(server, retry=False).execute("{ lists { totalCount } }")
    with pytest.raises(DecodeError, match="HTML or XML, not JSON"):
        _ = ex.data
    with pytest.raises(HTTPStatusError, match="502"):
        ex.raise_for_status()


def test_html_page_with_200_is_a_decode_error():
    server = FakeServer(httpx.Response(200, text="<html>login</html>"))
    ex = client_for(server).execute("{ lists { totalCount } }")
    with pytest.raises(DecodeError, match="login page"):
        _ = ex.data


def test_json_without_data_or_errors_is_a_decode_error():
    ex = client_for(FakeServer({"result": 1})).execute("{ lists { totalCount } }")
    with pytest.raises(DecodeError, match="Is this the GraphQL endpoint"):
        _ = ex.data
    with pytest.raises(DecodeError):
        ex.raise_for_status()


def test_html_200_is_not_ok_for_graphql():
    ex = client_for(FakeServer(httpx.Response(200, text="<html>login</html>"))).execute(
        "{ lists { totalCount } }"
    )
    with pytest.raises(DecodeError, match="HTML"):
        ex.raise_for_status()


def test_401_with_graphql_errors_is_an_http_status_error():
    body = {"errors": [{"message": "missing API key", "extensions": {"code": "UNAUTHENTICATED"}}]}
    ex = client_for(FakeServer(httpx.Response(401, json=body))).execute("{ lists { totalCount } }")
    with pytest.raises(HTTPStatusError, match="401 Unauthorized.*missing API key"):
        ex.raise_for_status()


# -- pagination ----------------------------------------------------------------------------


def connection_server(
    total: int = 7,
    per_page: int = 3,
    *,
    key: str = "subscribers",
    nodes: bool = False,
    cursor: str = "after",
    parent: str | None = None,
    edges: str = "edges",
    node: str = "node",
) -> FakeServer:
    def handler(body: dict[str, Any]) -> Any:
        variables = body.get("variables") or {}
        start = int(variables.get(cursor) or 0)
        first = variables.get("first") or per_page
        rows = [{"email": f"p{i}@x.io", "status": "SUBSCRIBED"} for i in range(total)]
        page = rows[start : start + first]
        end = start + len(page)
        conn: dict[str, Any] = {
            "totalCount": total,
            "pageInfo": {"hasNextPage": end < total, "endCursor": str(end) if page else None},
        }
        if nodes:
            conn["nodes"] = page
        else:
            conn[edges] = [{node: n} for n in page]
        data = {key: conn}
        return {"data": {parent: data} if parent else data}

    return FakeServer(handler=handler)


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


# -- async and running event loops ---------------------------------------------------------


def test_sync_execute_inside_a_running_event_loop():
    server = introspecting()
    client = client_for(server, schema=None)

    async def notebook_cell() -> Any:
        asyncio.get_running_loop()  # like Jupyter: a loop is running
        ex = client.execute("{ lists { totalCount } }")
        nodes = list(client.paginate(SUBSCRIBERS, "subscribers", {"listId": "l"}, max_items=0))
        return ex, nodes

    ex, nodes = asyncio.run(notebook_cell())
    assert ex.data == {"lists": {"totalCount": 3}} and nodes == []
    assert [b.get("operationName") for b in server.bodies] == ["IntrospectionQuery", None]


def test_aexecute_and_apaginate():
    server = connection_server(total=5, per_page=2)
    client = client_for(server)

    async def main() -> tuple[Any, list[Any]]:
        async with client:
            with pytest.raises(QueryValidationError):
                await client.aexecute("{ lists { nope } }")
            ex = await client.aexecute(SUBSCRIBERS, {"listId": "l"})
            nodes = [n async for n in client.apaginate(SUBSCRIBERS, "subscribers",
                                                       {"listId": "l"})]  # fmt: skip
            return ex, nodes

    ex, nodes = asyncio.run(main())
    assert ex.data["subscribers"]["totalCount"] == 5
    assert len(nodes) == 5 and len(server.requests) == 4


def test_async_lazy_introspection():
    server = introspecting()
    client = client_for(server, schema=None)

    async def main() -> None:
        with pytest.raises(QueryValidationError):
            await client.aexecute("{ lists { nope } }")
        await client.arefresh_schema()

    asyncio.run(main())
    assert [b.get("operationName") for b in server.bodies] == ["IntrospectionQuery"] * 2


# -- against the sandbox's mail service -------------------------------------------------

LIST_SUBSCRIBERS = """
query ListSubscribers($id: ID!, $first: Int, $after: String) {
  list(id: $id) {
    subscribers(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { email status } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def mail():
    pytest.importorskip("strawberry")
    from apinotebook.sandbox import SERVICES, Sandbox

    if "mail" in SERVICES:
        box = Sandbox(services=["mail"], contacts=400)
    else:  # the runner does not list it yet: mount the service by hand
        from apinotebook.sandbox import SandboxContext
        from apinotebook.sandbox import mail as service
        from apinotebook.sandbox._context import credentials
        from apinotebook.sandbox._webhooks import WebhookDispatcher

        ctx = SandboxContext(base_url="", seed=0, contacts=400, companies=20,
                             credentials=credentials(0), webhooks=WebhookDispatcher())  # fmt: skip
        box = Sandbox(services=(), contacts=400, companies=20, extra_mounts=service.build(ctx))
    with box as sb:
        yield sb


@pytest.fixture
def mail_client(mail):
    made: list[GraphQLClient] = []

    def make(**kwargs: Any) -> GraphQLClient:
        kwargs.setdefault("auth", ApiKey(mail.env["MAIL_API_KEY"], header="X-API-Key"))
        kwargs.setdefault("history", History())
        made.append(GraphQLClient(mail.urls["mail"], **kwargs))
        return made[-1]

    yield make
    for client in made:
        client.close()


def newsletter(client: GraphQLClient) -> dict[str, Any]:
    ex = client.execute("{ lists { edges { node { id name subscriberCount } } } }")
    return next(e["node"] for e in ex.data["lists"]["edges"] if e["node"]["name"] == "Newsletter")


@pytest.mark.sandbox
def test_sandbox_introspection_matches_the_fixture(mail, mail_client):
    from graphql import lexicographic_sort_schema, print_schema

    client = mail_client()
    fetched = print_schema(lexicographic_sort_schema(client.schema))
    assert fetched == print_schema(lexicographic_sort_schema(build_schema(MAIL_SDL)))
    assert client.history.last.operation == "IntrospectionQuery"


@pytest.mark.sandbox
def test_sandbox_paginate_subscribers(mail, mail_client):
    client = mail_client()
    lst = newsletter(client)
    pages = client.paginate(LIST_SUBSCRIBERS, "list.subscribers", {"id": lst["id"]}, page_size=25)
    emails = [node["email"] for node in pages]
    total = pages.exchanges[0].data["list"]["subscribers"]["totalCount"]
    assert len(emails) == total == len(set(emails)) and total > 50
    assert len(pages.exchanges) == -(-total // 25) and pages.errors == []
    assert all(ex.operation == "ListSubscribers" for ex in pages.exchanges)


@pytest.mark.sandbox
def test_sandbox_upsert_is_idempotent_and_not_retried(mail, mail_client):
    client = mail_client(retry=Retry(backoff=0))
    lst = newsletter(client)
    upsert = """mutation Upsert($list: ID!, $input: [SubscriberInput!]!) {
      upsertSubscribers(listId: $list, input: $input) {
        created updated unchanged userErrors { index field message } } }"""
    people = [{"email": "Ada@Example.com", "name": "Ada", "tags": ["vip"]},
              {"email": "not-an-email"}]  # fmt: skip
    first = client.execute(upsert, {"list": lst["id"], "input": people}).raise_for_status()
    second = client.execute(upsert, {"list": lst["id"], "input": people}).raise_for_status()
    assert first.data["upsertSubscribers"]["created"] == 1
    assert second.data["upsertSubscribers"] == {
        "created": 0, "updated": 0, "unchanged": 1,
        "userErrors": first.data["upsertSubscribers"]["userErrors"],
    }  # fmt: skip
    assert first.data["upsertSubscribers"]["userErrors"][0]["index"] == 1
    assert first.operation == "Upsert"
    mail.set_faults("mail", error_rate=1.0)
    try:
        failed = client.execute(upsert, {"list": lst["id"], "input": people[:1]})
        query = client.execute("{ lists { totalCount } }")
    finally:
        mail.set_faults("mail")
    assert failed.status >= 500 and len(failed.attempts) == 1
    assert query.status >= 500 and len(query.attempts) == client.retry.max_attempts


@pytest.mark.sandbox
def test_sandbox_partial_data_on_engagement(mail, mail_client):
    client = mail_client()
    lst = newsletter(client)
    query = """query Engagement($id: ID!) { list(id: $id) { subscribers(first: 200) {
      edges { node { email engagement { opens } } } } } }"""
    ex = client.execute(query, {"id": lst["id"]})
    edges = ex.data["list"]["subscribers"]["edges"]
    failed = {tuple(e["path"]) for e in ex.errors}
    assert ex.status == 200 and edges and ex.errors
    assert all(p[-1] == "engagement" and p[:3] == ("list", "subscribers", "edges") for p in failed)
    assert all(edges[p[3]]["node"]["engagement"] is None for p in failed)
    assert ex.errors[0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    with pytest.raises(GraphQLResponseError, match="engagement service timed out") as info:
        ex.raise_for_status()
    assert info.value.data == ex.data


@pytest.mark.sandbox
def test_sandbox_without_the_api_key(mail, mail_client):
    client = mail_client(auth=None)
    ex = client.execute("{ lists { totalCount } }")
    assert ex.status == 401 and "X-API-Key" in ex.errors[0]["message"]
    assert client.schema_error is not None and "401" in str(client.schema_error)
    with pytest.raises(HTTPStatusError, match="401.*MAIL_API_KEY"):
        ex.raise_for_status()


@pytest.mark.sandbox
def test_sandbox_sync_calls_inside_a_running_loop(mail, mail_client):
    client = mail_client()

    async def cell() -> Any:
        sync = client.execute("{ lists { totalCount } }")
        async with client:
            return sync, await client.aexecute("{ lists { totalCount } }")

    sync, async_ = asyncio.run(cell())
    assert sync.data == async_.data == {"lists": {"totalCount": 3}}
