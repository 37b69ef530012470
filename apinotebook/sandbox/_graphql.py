"""The GraphQL endpoint the sandbox's GraphQL services share (mail, BlueJet).

:class:`GraphQLEndpoint` is strawberry's ASGI app with the credential checked
before anything runs and every HTTP-level problem rendered as GraphQL
``errors`` JSON instead of strawberry's plain text. :func:`make_schema` adds
depth and alias limits and cached parsing and validation; :func:`api_key` and
:func:`bearer` are the two credential checks; :class:`Connection` and its
helpers make Relay-style cursor pages.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext

from apinotebook.sandbox._context import Receive, Scope, Send
from apinotebook.sandbox._stream_faults import stream_faults

try:
    from cross_web import HTTPException as _HTTPError
except ModuleNotFoundError:  # strawberry-graphql before it moved to cross-web
    from strawberry.http.exceptions import (  # type: ignore[attr-defined,no-redef]
        HTTPException as _HTTPError,
    )

__all__ = [
    "Connection",
    "Edge",
    "GraphQLEndpoint",
    "PageInfo",
    "api_key",
    "bearer",
    "check_first",
    "connection",
    "cursor",
    "make_schema",
    "service_error",
    "start_after",
]

#: Deepest selection any sandbox GraphQL service accepts.
MAX_DEPTH = 10
MAX_ALIASES = 30

T = TypeVar("T")
Authorize = Callable[[Headers], str | None]

# -- the endpoint ----------------------------------------------------------------------

_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}
_HINTS = {
    "Unsupported content type": "Unsupported content type: POST the query as JSON "
    '(Content-Type: application/json) like {"query": "{ __typename }"}.',
    "Not Found": "There is no GraphiQL page here (the sandbox runs offline): POST a JSON "
    'body like {"query": "{ __typename }"} to this URL.',
}


def service_error(message: str, code: str, **extensions: Any) -> GraphQLError:
    """A GraphQL error a resolver raises on purpose, with ``extensions.code``."""
    return GraphQLError(message, extensions={"code": code, **extensions})


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> Response:
    """A GraphQL-shaped error body: ``{"errors": [{"message", "extensions": {"code"}}]}``."""
    payload = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return JSONResponse(payload, status_code=status, headers=headers)


def api_key(header: str, expected: str, env_name: str) -> Authorize:
    """Accept requests whose ``header`` equals ``expected``."""

    def check(headers: Headers) -> str | None:
        given = headers.get(header)
        if not given:
            return f"Missing {header} header: send the value of {env_name}."
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return f"Invalid {header}: it does not match {env_name}."
        return None

    return check


def bearer(expected: str, env_name: str) -> Authorize:
    """Accept requests with ``Authorization: Bearer <expected>``."""

    def check(headers: Headers) -> str | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return f"Missing bearer token: send 'Authorization: Bearer <{env_name}>'."
        if not hmac.compare_digest(token.strip().encode(), expected.encode()):
            return f"Invalid bearer token: it does not match {env_name}."
        return None

    return check


class QuietSchema(strawberry.Schema):
    """A schema that logs only unexpected errors.

    Validation errors and the errors resolvers raise on purpose (a
    :class:`GraphQLError`) are the client's business; logging a traceback for
    each would flood a notebook.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log errors whose cause is not a GraphQL error (bugs)."""
        unexpected = [
            e
            for e in errors
            if e.original_error is not None and not isinstance(e.original_error, GraphQLError)
        ]
        if unexpected:
            super().process_errors(unexpected, execution_context)


def make_schema(
    query: type, mutation: type | None = None, subscription: type | None = None
) -> strawberry.Schema:
    """A schema with depth and alias limits and cached parsing and validation."""
    rules = [
        *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]

    def limits() -> AddValidationRules:
        return AddValidationRules(rules)  # the same rule classes keep the cache warm

    def parser_cache() -> ParserCache:
        return ParserCache(maxsize=256)

    def validation_cache() -> ValidationCache:
        return ValidationCache(maxsize=256)

    return QuietSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=[limits, parser_cache, validation_cache],
    )


class GraphQLEndpoint(GraphQL[dict[str, Any], None]):
    """strawberry's ASGI app with the sandbox's conventions.

    Serves one path under the mount; checks the credential before anything
    else (401 with a GraphQL-shaped body); waits the provider's latency; and
    turns what strawberry would answer in plain text (bad JSON, no query,
    wrong method, unsupported content type) into GraphQL ``errors`` JSON with
    the same status. The GraphiQL page is off: it loads from a CDN.

    Args:
        schema: the strawberry schema.
        authorize: returns ``None`` for acceptable headers, else the 401 message.
        context: merged into every resolver's ``info.context``.
        latency: seconds to wait before handling each authorized request.
        path: the one path served, relative to the mount.
        challenge: the ``WWW-Authenticate`` value sent with a 401.
    """

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        authorize: Authorize,
        context: Mapping[str, Any],
        latency: float = 0.0,
        path: str = "/graphql",
        challenge: str | None = None,
    ) -> None:
        super().__init__(schema, graphql_ide=None)
        self._authorize = authorize
        self._context = dict(context)
        self._latency = latency
        self._path = path
        self._challenge = challenge

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request, or a subscriptions socket (graphql-transport-ws, graphql-ws)."""
        if scope["type"] == "websocket":
            await self._socket(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        response = await self._respond(Request(scope, receive))
        await response(scope, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the credential, then let strawberry speak the subscription protocol."""
        problem = self._authorize(Headers(scope=scope))
        if problem is not None:
            await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
            return
        await super().__call__(scope, receive, stream_faults(scope, send))

    async def _respond(self, request: Request) -> Response:
        root: str = request.scope.get("root_path", "")
        path: str = request.scope["path"]
        route = path[len(root) :] if root and path.startswith(root) else path
        if route.rstrip("/") != self._path:
            message = f"No endpoint at {path}. The GraphQL endpoint is {root}{self._path}."
            return error_response(404, message, "NOT_FOUND")
        problem = self._authorize(request.headers)
        if problem is not None:
            challenge = {"WWW-Authenticate": self._challenge} if self._challenge else None
            return error_response(401, problem, "UNAUTHENTICATED", challenge)
        if self._latency > 0:
            await asyncio.sleep(self._latency)
        try:
            return await self.run(request)
        except _HTTPError as exc:
            status = int(exc.status_code)
            message = _HINTS.get(exc.reason, exc.reason)
            extra = {"Allow": "GET, POST"} if status == 405 else None
            return error_response(status, message, _CODES.get(status, "BAD_REQUEST"), extra)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> dict[str, Any]:
        """What resolvers see as ``info.context``."""
        return {"request": request, "response": response, **self._context}

    def parse_json(self, data: str | bytes) -> Any:
        """Parse a JSON body, which must be one object (no batches)."""
        try:
            value = self.decode_json(data)
        except (ValueError, RecursionError) as exc:  # also bad UTF-8 and absurd nesting
            raise _HTTPError(400, "Unable to parse request body as JSON") from exc
        if not isinstance(value, dict):
            raise _HTTPError(
                400,
                'The body must be one JSON object like {"query": "...", "variables": {}}; '
                "batches are not supported.",
            )
        return value


# -- Relay-style connections ----------------------------------------------------------


@strawberry.type
class Edge(Generic[T]):
    """A node and its cursor."""

    cursor: str
    node: T


@strawberry.type
class PageInfo:
    """Relay page info: pass ``endCursor`` as ``after`` while ``hasNextPage``."""

    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Connection(Generic[T]):
    """A page of nodes (``SubscriberConnection``, ...)."""

    total_count: int = strawberry.field(description="Matches across all pages.")
    edges: list[Edge[T]]
    page_info: PageInfo


def cursor(kind: str, index: int) -> str:
    """An opaque cursor for position ``index`` of a ``kind`` of connection."""
    return base64.urlsafe_b64encode(f"{kind}:{index}".encode()).decode()


def start_after(after: str | None, kind: str) -> int:
    """Index to start from after the cursor ``after`` (which must come from ``kind``)."""
    if after is None:
        return 0
    try:
        text = base64.urlsafe_b64decode(after.encode()).decode()
        found, _, index = text.rpartition(":")
        if found == kind and index.isdigit():
            return int(index) + 1
    except (binascii.Error, UnicodeError, ValueError):
        pass
    raise service_error(
        f"after={after!r} is not a cursor from this connection; pass pageInfo.endCursor.",
        "BAD_USER_INPUT",
    )


def check_first(first: int, limit: int) -> None:
    """Refuse a page size outside ``0..limit`` (BAD_USER_INPUT)."""
    if not 0 <= first <= limit:
        raise service_error(f"first must be between 0 and {limit}, got {first}.", "BAD_USER_INPUT")


def connection(
    rows: list[T],
    kind: str,
    start: int,
    first: int,
    *,
    picked: list[int] | None = None,
    total: int | None = None,
    has_next: bool | None = None,
) -> Connection[T]:
    """A page of ``rows`` (all of them, or the ``picked`` indices)."""
    if picked is None:
        picked = list(range(start, min(start + first, len(rows))))
        total, has_next = len(rows), start + first < len(rows)
    edges = [Edge(cursor=cursor(kind, i), node=rows[i]) for i in picked]
    end = edges[-1].cursor if edges else None
    return Connection(
        total_count=len(rows) if total is None else total,
        edges=edges,
        page_info=PageInfo(has_next_page=bool(has_next), end_cursor=end),
    )
