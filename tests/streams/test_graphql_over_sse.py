"""GraphQL over SSE ("distinct connections" mode), served by graphql-core over the mail schema."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import uvicorn
from graphql import parse, subscribe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from apinotebook import GraphQLClient, History, QueryValidationError
from apinotebook.sandbox._mail_store import MailStore
from apinotebook.sandbox.mail import schema

QUERY = "subscription ($after: Int) { listChanged(after: $after) { offset change list { name } } }"


@pytest.fixture(scope="module")
def sse_server():
    """graphql-core's ``subscribe`` executing the mail schema, each result a ``next`` event."""
    store = MailStore(seed=1, contacts=10, companies=2)
    for name in ("alpha", "beta", "gamma"):
        store.create_list(name)

    async def endpoint(request: Request) -> StreamingResponse:
        body = await request.json()
        result = await subscribe(
            schema()._schema,
            parse(body["query"]),
            variable_values=body.get("variables"),
            context_value={"store": store, "request": request},
        )

        async def events():
            seen = 0
            async for item in result:
                yield f"event: next\ndata: {json.dumps(item.formatted)}\n\n"
                seen += 1
                if seen == 3:
                    break
            yield "event: complete\ndata:\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    app = Starlette(routes=[Route("/graphql/stream", endpoint, methods=["POST"])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/graphql/stream"
    server.should_exit = True
    thread.join(5)
    sock.close()


def test_results_arrive_as_next_events_and_complete_ends_them(sse_server):
    hist = History()
    client = GraphQLClient(sse_server, schema=schema().as_str(), history=hist)
    sub = client.subscribe(QUERY, {"after": 0}, transport="sse")
    results = list(sub)
    assert [r.data["listChanged"]["list"]["name"] for r in results] == ["alpha", "beta", "gamma"]
    assert all(r.ok for r in results)
    record = hist.last
    assert record.kind == "sse" and record.protocol == "graphql" and record.closed
    assert (
        record.request.method == "POST" and record.request.headers["accept"] == "text/event-stream"
    )
    client.close()


def test_the_document_is_validated_before_anything_is_sent(sse_server):
    hist = History()
    client = GraphQLClient(sse_server, schema=schema().as_str(), history=hist)
    with pytest.raises(QueryValidationError, match="Cannot query field 'nope'"):
        client.subscribe("subscription { nope }", transport="sse")
    assert len(hist) == 0
    client.close()
