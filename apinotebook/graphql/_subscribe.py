"""``GraphQLClient.subscribe``: a subscription validated here, carried by ``streams``.

The document is parsed and checked against the schema like any query (nothing
is sent when it does not match), then carried over a WebSocket
(``graphql-transport-ws`` or the legacy ``graphql-ws``, whichever the server
picks) or over Server-Sent Events. The client's auth and headers apply to the
WebSocket handshake and to the SSE request alike.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

import httpx

from apinotebook._core.http import HttpCore
from apinotebook._exceptions import ConfigError
from apinotebook.retry import Retry
from apinotebook.streams import (
    SUBPROTOCOLS,
    EventStream,
    SseSource,
    SseSubscription,
    Subscription,
    SubscriptionResult,
    WebSocketClient,
    http_twin,
)

if TYPE_CHECKING:
    from graphql import GraphQLSchema

    from apinotebook.graphql._documents import Prepared

__all__ = ["SubscriptionsMixin"]

Transport = Literal["ws", "sse"]


class _Client(Protocol):
    _core: HttpCore

    def _ensure_schema(self) -> GraphQLSchema | None: ...
    def _check(
        self, prepared: Prepared, variables: Mapping[str, Any] | None, schema: Any
    ) -> None: ...
    def _build(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request: ...
    def _url(self) -> str: ...


def _payload(prepared: Prepared, variables: Mapping[str, Any] | None) -> dict[str, Any]:
    payload: dict[str, Any] = {"query": prepared.text}
    if variables is not None:
        payload["variables"] = dict(variables)
    if prepared.operation_name:
        payload["operationName"] = prepared.operation_name
    return payload


class SubscriptionsMixin:
    """Adds :meth:`subscribe` to :class:`GraphQLClient`."""

    def subscribe(
        self: _Client,
        query: Any,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        transport: Transport = "ws",
        url: str | None = None,
        headers: Mapping[str, str] | None = None,
        connection_params: Mapping[str, Any] | None = None,
        subprotocols: Sequence[str] = SUBPROTOCOLS,
        validate: bool = True,
        reconnect: Retry | bool | int = False,
        resume: Callable[[SubscriptionResult | None], Mapping[str, Any]] | None = None,
    ) -> Subscription | SseSubscription:
        """Start a subscription; iterate the result (``for`` or ``async for``) for its results.

        Each result has ``.data`` and ``.errors``. Leaving the loop, ``close()`` or
        an interrupt stops the operation and closes the connection.

        Args:
            query: a ``subscription`` document (text, DocumentNode or gql request).
            variables: its variables.
            operation_name: which operation of a multi-operation document.
            transport: ``"ws"`` (default) or ``"sse"`` (GraphQL over SSE).
            url: the WebSocket (or SSE) URL when it is not the client's URL
                (by default ``http(s)`` becomes ``ws(s)``).
            headers: extra headers for the handshake or request.
            connection_params: the ``connection_init`` payload (WebSocket).
            subprotocols: offered, preferred first.
            validate: check the document and variables against the schema first.
            reconnect: reopen and subscribe again when the connection drops (WebSocket).
            resume: ``resume(last_result)`` returns variables to merge in when
                subscribing again (``lambda r: {"after": r.data[...]["offset"]}``).

        Raises:
            QueryValidationError: the document does not match the schema; nothing was sent.
            ConfigError: the operation is not a subscription, or a bad option.
        """
        from apinotebook.graphql._documents import prepare, unwrap

        query, variables, operation_name = unwrap(query, variables, operation_name)
        prepared = prepare(query, operation_name)
        if prepared.kind != "subscription":
            raise ConfigError(
                f"{prepared.label!r} is a {prepared.kind}, not a subscription: run it with "
                "client.execute()."
            )
        if variables is not None and not isinstance(variables, Mapping):
            raise ConfigError(f"variables= takes a dict, not {type(variables).__name__}")
        target = url or self._url()
        if validate:
            self._check(prepared, variables, self._ensure_schema())
        core = self._core
        if transport == "sse":
            return _over_sse(self, core, prepared, variables, headers, url)
        if transport != "ws":
            raise ConfigError.invalid_choice("transport", transport, ("ws", "sse"))
        skip = ("accept", "accept-encoding", "user-agent", "connection", "content-type")
        merged = {k: v for k, v in core.headers.items() if k.lower() not in skip}
        merged.update(headers or {})
        twin = str(http_twin(target))

        def connect() -> WebSocketClient:
            return WebSocketClient(
                twin,
                auth=core.auth,
                headers=merged,
                subprotocols=subprotocols,
                history=core.history,
                protocol="graphql",
                operation=prepared.label,
            )

        return Subscription(
            connect,
            _payload(prepared, variables),
            connection_params=connection_params,
            reconnect=reconnect,
            resume=resume,
        )


def _over_sse(
    client: _Client,
    core: HttpCore,
    prepared: Prepared,
    variables: Mapping[str, Any] | None,
    headers: Mapping[str, str] | None,
    url: str | None,
) -> SseSubscription:
    def build(extra: Mapping[str, str]) -> httpx.Request:
        request = client._build(prepared, variables, {**(headers or {}), **extra})
        return (
            request
            if url is None
            else core.build_request("POST", url, content=request.content, headers=request.headers)
        )

    source = SseSource.of(core, build, protocol="graphql", operation=prepared.label)
    return SseSubscription(EventStream(source, json=True, reconnect=False))
