"""GraphQL subscriptions over a WebSocket: ``graphql-transport-ws`` and legacy ``graphql-ws``.

Both subprotocols are a handful of JSON messages, so they are spoken here on
top of :class:`~apinotebook.streams.WebSocketClient` (gql's transports would
bring a second WebSocket stack and their own event loop handling):

================================  ==========================  =====================
step                              ``graphql-transport-ws``    ``graphql-ws`` (legacy)
================================  ==========================  =====================
open, with ``connection_params``  ``connection_init``         ``connection_init``
server accepts                    ``connection_ack``          ``connection_ack``
start the operation               ``subscribe``               ``start``
a result                          ``next``                    ``data``
an operation error                ``error``                   ``error``
the server is done                ``complete``                ``complete``
keepalive                         ``ping`` / ``pong``         ``ka``
the client stops                  ``complete``                ``stop``
================================  ==========================  =====================

The client offers both subprotocols and speaks the one the server picks. If
the connection drops abnormally and reconnecting is allowed, it opens a new
connection and subscribes again, with ``resume(last_result)`` merged into the
variables (so a server that takes a position can resume from it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from apinotebook._exceptions import GraphQLResponseError, ProtocolError
from apinotebook.retry import Retry
from apinotebook.streams._sse import resolve_reconnect
from apinotebook.streams._ws import RECONNECT_CODES, WebSocketClient

__all__ = ["SUBPROTOCOLS", "Subscription", "SubscriptionResult"]

TRANSPORT_WS, LEGACY_WS = "graphql-transport-ws", "graphql-ws"
SUBPROTOCOLS = (TRANSPORT_WS, LEGACY_WS)
_KEEPALIVE = frozenset({"ka", "pong", "connection_ack"})


@dataclass(frozen=True)
class SubscriptionResult:
    """One result of a subscription: ``data``, ``errors`` (a list), ``extensions``."""

    data: Any
    errors: list[dict[str, Any]] = field(default_factory=list)
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the result carries no errors."""
        return not self.errors

    def raise_for_errors(self) -> SubscriptionResult:
        """Raise :class:`~apinotebook.GraphQLResponseError` if the result has errors."""
        if self.errors:
            first = str(self.errors[0].get("message", self.errors[0]))
            raise GraphQLResponseError(
                f"The subscription result has {len(self.errors)} error(s): {first}",
                errors=self.errors,
                data=self.data,
                extensions=self.extensions,
            )
        return self

    @classmethod
    def from_payload(cls, payload: Any) -> SubscriptionResult:
        """Read a ``{"data", "errors", "extensions"}`` payload (an error list too)."""
        if isinstance(payload, list):  # graphql-transport-ws "error": a list of errors
            return cls(None, [e if isinstance(e, dict) else {"message": str(e)} for e in payload])
        if not isinstance(payload, dict):
            return cls(None, [{"message": f"malformed subscription payload: {payload!r}"}])
        errors = payload.get("errors") or []
        if not isinstance(errors, list):
            errors = [errors]
        errors = [e if isinstance(e, dict) else {"message": str(e)} for e in errors]
        if "message" in payload and "data" not in payload:  # legacy "error": one error object
            errors = [payload]
        return cls(payload.get("data"), errors, dict(payload.get("extensions") or {}))


class Subscription:
    """The results of one subscription: iterate with ``for`` or ``async for``.

    Made by :meth:`GraphQLClient.subscribe`. ``close()`` (or leaving the loop)
    stops the operation and closes the connection; ``socket`` is the current
    :class:`WebSocketClient` (its ``record`` holds the messages).
    """

    def __init__(
        self,
        connect: Callable[[], WebSocketClient],
        payload: Mapping[str, Any],
        *,
        connection_params: Mapping[str, Any] | None = None,
        reconnect: Retry | bool | int | None = False,
        resume: Callable[[SubscriptionResult | None], Mapping[str, Any]] | None = None,
        ack_timeout: float = 10.0,
    ) -> None:
        self._connect = connect
        self.payload = dict(payload)
        self.connection_params = dict(connection_params or {})
        self.reconnect = resolve_reconnect(reconnect)
        self.resume = resume
        self.ack_timeout = ack_timeout
        self.socket: WebSocketClient | None = None
        self.last: SubscriptionResult | None = None
        self._serial = 0
        self._id = "1"

    # -- sans I/O -----------------------------------------------------------------------

    def _legacy(self, ws: WebSocketClient) -> bool:
        return ws.subprotocol == LEGACY_WS

    def _start(self, ws: WebSocketClient, again: bool) -> dict[str, Any]:
        self._serial += 1
        self._id = str(self._serial)
        payload = dict(self.payload)
        if again and self.resume is not None:
            payload["variables"] = {**(payload.get("variables") or {}), **self.resume(self.last)}
        kind = "start" if self._legacy(ws) else "subscribe"
        return {"id": self._id, "type": kind, "payload": payload}

    def _init(self) -> dict[str, Any]:
        return {"type": "connection_init", "payload": self.connection_params}

    def _handle(self, ws: WebSocketClient, message: Any) -> tuple[str, Any]:
        """``("result", r)``, ``("done", None)``, ``("reply", msg)`` or ``("skip", None)``."""
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            raise ProtocolError(
                f"The server sent a message that is not GraphQL over WS: {message!r}"
            )
        kind = message["type"]
        if kind == "ping":
            return "reply", {"type": "pong"}
        if kind in _KEEPALIVE:
            return "skip", None
        if message.get("id") not in (None, self._id):
            return "skip", None  # an operation of an earlier connection
        if kind in ("next", "data"):
            self.last = SubscriptionResult.from_payload(message.get("payload"))
            return "result", self.last
        if kind == "error":
            return "result", SubscriptionResult.from_payload(message.get("payload"))
        if kind == "complete":
            return "done", None
        if kind == "connection_error":
            raise ProtocolError(f"The server refused the subscription: {message.get('payload')}")
        return "skip", None

    def _wait_ack(self, message: Any) -> bool:
        if isinstance(message, dict) and message.get("type") == "connection_ack":
            return True
        if isinstance(message, dict) and message.get("type") in ("connection_error", "error"):
            raise ProtocolError(f"The server refused connection_init: {message.get('payload')}")
        return False

    def _may_reconnect(self, ws: WebSocketClient, failures: int) -> bool:
        return (
            self.reconnect is not None
            and ws.close_code in RECONNECT_CODES
            and failures <= self.reconnect.max_attempts
        )

    def _stop(self, ws: WebSocketClient) -> dict[str, Any]:
        return {"id": self._id, "type": "stop" if self._legacy(ws) else "complete"}

    # -- sync ---------------------------------------------------------------------------

    def _open(self, again: bool) -> WebSocketClient:
        ws = self.socket = self._connect().connect()
        ws.send_json(self._init())
        deadline = time.monotonic() + self.ack_timeout
        while not self._wait_ack(ws.recv(timeout=max(0.0, deadline - time.monotonic())).json()):
            pass
        ws.send_json(self._start(ws, again))
        return ws

    def __iter__(self) -> Iterator[SubscriptionResult]:
        ws = self._open(again=False)
        failures = 0
        try:
            while True:
                try:
                    message = ws.recv().json()
                except ProtocolError:
                    failures += 1
                    if not self._may_reconnect(ws, failures):
                        raise
                    assert self.reconnect is not None  # noqa: S101 - checked just above
                    time.sleep(self.reconnect.backoff_delay(failures))
                    ws = self._open(again=True)
                    continue
                action, value = self._handle(ws, message)
                if action == "reply":
                    ws.send_json(value)
                elif action == "result":
                    failures = 0
                    yield value
                elif action == "done":
                    return
        except (KeyboardInterrupt, asyncio.CancelledError):
            ws.close(1001, "interrupted")
            raise
        finally:
            self.close()

    def close(self) -> None:
        """Stop the operation and close the connection."""
        ws = self.socket
        if ws is not None and not ws.closed:
            try:
                ws.send_json(self._stop(ws))
            except ProtocolError:
                pass
            ws.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- async --------------------------------------------------------------------------

    async def _aopen(self, again: bool) -> WebSocketClient:
        ws = self.socket = await self._connect().aconnect()
        await ws.asend_json(self._init())
        async with asyncio.timeout(self.ack_timeout):
            while not self._wait_ack((await ws.arecv()).json()):
                pass
        await ws.asend_json(self._start(ws, again))
        return ws

    def __aiter__(self) -> AsyncIterator[SubscriptionResult]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[SubscriptionResult]:
        ws = await self._aopen(again=False)
        failures = 0
        try:
            while True:
                try:
                    message = (await ws.arecv()).json()
                except ProtocolError:
                    failures += 1
                    if not self._may_reconnect(ws, failures):
                        raise
                    assert self.reconnect is not None  # noqa: S101 - checked just above
                    await asyncio.sleep(self.reconnect.backoff_delay(failures))
                    ws = await self._aopen(again=True)
                    continue
                action, value = self._handle(ws, message)
                if action == "reply":
                    await ws.asend_json(value)
                elif action == "result":
                    failures = 0
                    yield value
                elif action == "done":
                    return
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Async :meth:`close`."""
        ws = self.socket
        if ws is not None and not ws.closed:
            try:
                await ws.asend_json(self._stop(ws))
            except ProtocolError:
                pass
            await ws.aclose()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        where = self.socket.record.summary() if self.socket and self.socket.record else "not open"
        return f"<Subscription {where}>"
