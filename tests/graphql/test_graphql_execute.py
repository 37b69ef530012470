"""GraphQLClient.execute: requests, retries, responses and errors, sync and async."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from graphql_fakes import (
    MAIL_SDL,
    SUBSCRIBERS,
    URL,
    FakeServer,
    client_for,
    connection_server,
    introspecting,
)

from apinotebook import (
    ApiKey,
    ConfigError,
    DecodeError,
    GraphQLResponseError,
    HTTPStatusError,
    QueryValidationError,
)
from apinotebook.graphql import ACCEPT, GraphQLClient

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
    client = client_for(server, schema=MAIL_SDL)
    with pytest.raises(ConfigError, match=r"subscription.*client\.subscribe"):
        client.execute("subscription { listChanged { offset } }")
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
    assert "29 types" in text and len(text) < 200


def test_context_manager_closes_the_pool():
    with client_for(FakeServer({"data": {}})) as client:
        client.execute("{ lists { totalCount } }")
    assert client._core._client.is_closed


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
