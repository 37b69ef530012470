"""Fake GraphQL endpoints for httpx.MockTransport, the mail schema and a client built on them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from apinotebook import (
    History,
    Retry,
)
from apinotebook.graphql import GraphQLClient

FIXTURES = Path(__file__).parents[1] / "fixtures" / "graphql"
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


def introspecting(query_answer: Any = None, *, introspection: Any = MAIL_INTROSPECTION):
    def handler(body: dict[str, Any]) -> Any:
        if body.get("operationName") == "IntrospectionQuery":
            return introspection
        return query_answer or {"data": {"lists": {"totalCount": 3}}}

    return FakeServer(handler=handler)


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
