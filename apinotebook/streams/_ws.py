"""A WebSocket client on top of the ``websockets`` library, sync and async.

``websockets`` does the protocol (framing, ping/pong, the closing handshake,
compression, size limits); its threading client serves the sync API (which
therefore works inside Jupyter's running loop) and its asyncio client the
async one. This module adds what the rest of the package has for HTTP:

- the auth objects apply (see :mod:`._handshake`), and the URL, headers and
  messages are masked wherever they are shown;
- one :class:`~apinotebook.streams.StreamRecord` per client in the history,
  with every message sent and received, and the close code and reason;
- reconnecting with backoff when the connection drops abnormally (no close
  frame, 1001 going away, 1011-1014); ``resume()`` may add query parameters
  to each reconnect (an offset to resume from);
- leaving the ``with`` block, an exception or an interrupt closes the
  connection with a close frame (1000, or 1001 for an interrupt).

>>> with WebSocketClient("ws://127.0.0.1:8000/chat/events", auth=Bearer(token)) as ws:
...     for message in ws:                    # doctest: +SKIP
...         print(message.json())
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from typing import Any, Self

import httpx
from websockets.asyncio.client import ClientConnection as AsyncConnection
from websockets.asyncio.client import connect as aconnect
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)
from websockets.http11 import Response
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from apinotebook._core.http import HistoryArg, resolve_history
from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._exceptions import (
    ConfigError,
    ConnectError,
    HTTPStatusError,
    ProtocolError,
    TransportError,
)
from apinotebook._exchange import Exchange, ProtocolName, Request
from apinotebook.retry import Retry
from apinotebook.streams._handshake import handshake_request, ws_url
from apinotebook.streams._record import (
    BINARY,
    DEFAULT_MAX_MESSAGES,
    TEXT,
    StreamMessage,
    StreamRecord,
    open_record,
)
from apinotebook.streams._sse import resolve_reconnect

__all__ = ["RECONNECT_CODES", "WebSocketClient"]

#: close codes after which reconnecting may help (``None``: no close frame, 1006)
RECONNECT_CODES = frozenset({None, 1001, 1006, 1011, 1012, 1013, 1014})
GOING_AWAY = 1001


class WebSocketClient:
    """A WebSocket connection: send and receive text, binary and JSON; iterate; reconnect.

    Args:
        url: ``ws://`` or ``wss://`` (``http(s)://`` is accepted and converted).
        auth: ``Bearer``, ``ApiKey`` (header or query), ``Basic``, OAuth 2.0 flows or
            any ``httpx.Auth``: applied to the opening handshake.
        headers: extra handshake headers.
        params: query parameters.
        subprotocols: offered subprotocols, preferred first (``.subprotocol`` is the
            one the server chose).
        reconnect: ``False`` (default), ``True``, a number of consecutive attempts,
            or a :class:`~apinotebook.Retry` for the backoff.
        resume: called before each reconnect; returns query parameters to add
            (``lambda: {"since": last_offset}``).
        open_timeout: seconds for the handshake.
        ping_interval: seconds between keepalive pings (``None``: off).
        max_size: largest incoming message in bytes.
        history: ``True`` (the shared history), a ``History``, or ``None``.
        max_messages: messages the stream record keeps (the oldest are dropped).
        protocol: how the record is labelled: ``"rest"`` or ``"graphql"``.
        operation: a label for the record.
    """

    def __init__(
        self,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        subprotocols: Sequence[str] | None = None,
        reconnect: Retry | bool | int | None = False,
        resume: Callable[[], Mapping[str, Any]] | None = None,
        open_timeout: float | None = 10.0,
        ping_interval: float | None = 20.0,
        max_size: int | None = 2**20,
        history: HistoryArg = True,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        protocol: ProtocolName = "rest",
        operation: str | None = None,
    ) -> None:
        if auth is not None and not isinstance(auth, httpx.Auth):
            raise ConfigError(
                f"auth= takes an auth object such as Bearer(...) or ApiKey(...), not "
                f"{type(auth).__name__}"
            )
        handshake_request(url, auth=None, headers=None, params=None)  # check the URL now
        self.url = url
        self.auth = auth
        self.headers = dict(headers or {})
        self.params = dict(params or {})
        self.subprotocols = list(subprotocols or [])
        self.reconnect = resolve_reconnect(reconnect)
        self.resume = resume
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.max_size = max_size
        self.history = resolve_history(history)
        self.max_messages = max_messages
        self.protocol: ProtocolName = protocol
        self.operation = operation
        self.record: StreamRecord | None = None
        self._conn: ClientConnection | None = None
        self._aconn: AsyncConnection | None = None
        self._subprotocol: str | None = None

    # -- the handshake (no I/O of the connection's own) -----------------------------

    def _handshake(self, again: bool) -> tuple[httpx.Request, dict[str, Any]]:
        params = dict(self.params)
        if again and self.resume is not None:
            params.update(self.resume())
        request = handshake_request(self.url, auth=self.auth, headers=self.headers, params=params)
        skip = {"host", "user-agent", "content-length"}
        kwargs: dict[str, Any] = {
            "additional_headers": [(k, v) for k, v in request.headers.items() if k not in skip],
            "user_agent_header": request.headers.get("user-agent"),
            "subprotocols": [Subprotocol(p) for p in self.subprotocols] or None,
            "open_timeout": self.open_timeout,
            "ping_interval": self.ping_interval,
            "max_size": self.max_size,
            "proxy": None,
        }
        return request, kwargs

    def _opened(self, request: httpx.Request, response: Response | None) -> None:
        status = 101 if response is None else response.status_code
        pairs = [] if response is None else [(k, v) for k, v in response.headers.raw_items()]
        if self.record is None or self.record.closed:
            self.record = open_record(
                self.history,
                kind="websocket",
                protocol=self.protocol,
                request=Request("GET", ws_url(request.url), request.headers),
                status=status,
                headers=httpx.Headers(pairs),
                operation=self.operation,
                max_messages=self.max_messages,
            )
        else:
            self.record.reopened(status, httpx.Headers(pairs))

    def _refused(self, request: httpx.Request, exc: Exception) -> TransportError | HTTPStatusError:
        url = mask_url(str(request.url))
        if isinstance(exc, InvalidStatus):
            response = exc.response
            exchange = Exchange(
                protocol=self.protocol,
                request=Request.from_httpx(request),
                status=response.status_code,
                headers=httpx.Headers([(str(k), str(v)) for k, v in response.headers.raw_items()]),
                content=bytes(response.body or b""),
                operation=self.operation,
            )
            if self.history is not None:
                self.history.append(exchange)
            return HTTPStatusError(
                f"{url} refused the WebSocket: {response.status_code} {exchange.reason}. "
                "Check the URL and the credentials.",
                exchange=exchange,
            )
        if isinstance(exc, InvalidURI | InvalidHandshake):
            return ProtocolError(f"The WebSocket handshake with {url} failed: {exc}", url=url)
        return ConnectError(
            f"Could not open a WebSocket to {url}: {mask_text(str(exc)) or type(exc).__name__}. "
            "Is the server running and the URL right?",
            url=url,
        )

    def _open_failed(
        self, request: httpx.Request, exc: Exception, again: bool, failures: int
    ) -> float:
        """The wait before trying to open again, or raise (a refusal is final)."""
        error = self._refused(request, exc)
        final = not again or isinstance(error, HTTPStatusError)
        if final or not self._may_reconnect(None, failures):
            if self.record is not None:
                self.record.close(error=str(error))
            raise error from exc
        return self._delay(failures)

    def _lost(self, exc: ConnectionClosed, failures: int) -> float:
        """The wait before reconnecting after the connection closed, or raise."""
        code, reason = self._closed(exc)
        if not self._may_reconnect(code, failures):
            self._finish(code, reason)
            raise ProtocolError(
                f"The WebSocket to {mask_url(self.url)} closed: {code} {reason}".rstrip()
            ) from exc
        return self._delay(failures)

    def _send_failed(self, exc: ConnectionClosed) -> ProtocolError:
        """Sending never reconnects; receiving does, after the messages still queued.

        Reconnecting from ``send`` would throw away what the old connection had
        delivered but not yet been read, and resume from the wrong position.
        """
        code, reason = self._closed(exc)
        if not self._may_reconnect(code, 0):
            self._finish(code, reason)
        return ProtocolError(f"Cannot send: the WebSocket is closed ({code} {reason})".rstrip())

    def _closed(self, exc: ConnectionClosed) -> tuple[int | None, str]:
        frame = exc.rcvd or exc.sent
        if frame is None:
            return 1006, "the connection dropped without a close frame"
        return frame.code, frame.reason

    def _may_reconnect(self, code: int | None, failures: int) -> bool:
        return (
            self.reconnect is not None
            and code in RECONNECT_CODES
            and failures < self.reconnect.max_attempts
        )

    def _delay(self, failures: int) -> float:
        policy = self.reconnect or Retry()
        return policy.backoff_delay(max(1, failures))

    def _received(self, data: str | bytes) -> StreamMessage:
        message = StreamMessage(data, opcode=BINARY if isinstance(data, bytes) else TEXT)
        if self.record is not None:
            self.record.add(message)
        return message

    def _sent(self, data: str | bytes) -> None:
        if self.record is not None:
            opcode = BINARY if isinstance(data, bytes) else TEXT
            self.record.add(StreamMessage(data, direction="send", opcode=opcode))

    @staticmethod
    def _encode(value: Any) -> str:
        try:
            return json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"cannot send {type(value).__name__} as JSON: {exc}") from exc

    # -- state -----------------------------------------------------------------------

    @property
    def subprotocol(self) -> str | None:
        """The subprotocol the server chose."""
        return self._subprotocol

    @property
    def closed(self) -> bool:
        """Whether the connection is closed (or was never opened)."""
        return self.record is None or self.record.closed

    @property
    def close_code(self) -> int | None:
        """The close code, once closed."""
        return None if self.record is None else self.record.close_code

    @property
    def close_reason(self) -> str:
        """The close reason, once closed."""
        return "" if self.record is None else self.record.close_reason

    # -- sync ------------------------------------------------------------------------

    def connect(self) -> Self:
        """Open the connection (``with`` does it for you)."""
        self._connect(again=False)
        return self

    def _connect(self, *, again: bool) -> None:
        failures = 0
        while True:
            request, kwargs = self._handshake(again)
            try:
                conn = connect(ws_url(request.url), **kwargs)
                # entered: websockets 17 warns about a connection used outside `with` (we
                # close it ourselves); on 14-16 entering does nothing
                conn.__enter__()
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                failures += 1
                time.sleep(self._open_failed(request, exc, again, failures))
                continue
            self._conn, self._subprotocol = conn, conn.subprotocol
            self._opened(request, conn.response)
            return

    def _live(self) -> ClientConnection:
        if self._conn is None:
            self.connect()
        assert self._conn is not None  # noqa: S101 - connect() set it or raised
        return self._conn

    def send(self, message: str | bytes) -> None:
        """Send a text (``str``) or binary (``bytes``) message."""
        if not isinstance(message, str | bytes | bytearray):
            raise ConfigError(
                f"send() takes str or bytes, not {type(message).__name__}; use send_json()"
            )
        data = bytes(message) if isinstance(message, bytearray) else message
        try:
            self._live().send(data)
        except ConnectionClosed as exc:
            raise self._send_failed(exc) from exc
        self._sent(data)

    def send_json(self, value: Any) -> None:
        """Send ``value`` as a JSON text message."""
        self.send(self._encode(value))

    def recv(self, timeout: float | None = None) -> StreamMessage:
        """The next message; reconnects first if the connection dropped and may.

        Raises:
            ProtocolError: the connection is closed (``close_code`` says how).
            TimeoutError: nothing arrived within ``timeout`` seconds.
        """
        failures = 0
        while True:
            conn = self._live()
            try:
                return self._received(conn.recv(timeout=timeout))
            except ConnectionClosed as exc:
                failures += 1
                wait = self._lost(exc, failures)
            self._conn = None
            time.sleep(wait)
            self._connect(again=True)

    def recv_json(self, timeout: float | None = None) -> Any:
        """The next message parsed as JSON."""
        return self.recv(timeout).json()

    def ping(self, data: bytes = b"", timeout: float = 10.0) -> float:
        """Send a ping, wait for the pong; the round trip in seconds."""
        started = time.perf_counter()
        pong = self._live().ping(data)
        if not pong.wait(timeout):
            raise TimeoutError(f"no pong from {mask_url(self.url)} within {timeout} s")
        return time.perf_counter() - started

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Close the connection with ``code`` and ``reason`` (idempotent)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close(code, reason)
        self._finish(code, reason or ("interrupted" if code == GOING_AWAY else ""))

    def _finish(self, code: int | None, reason: str) -> None:
        if self.record is not None:
            self.record.close(code, reason)

    def __iter__(self) -> Iterator[StreamMessage]:
        """Messages until the server closes normally; Ctrl-C closes with 1001."""
        try:
            while True:
                try:
                    yield self.recv()
                except ProtocolError:
                    if self.close_code in (1000, GOING_AWAY):
                        return
                    raise
        except (KeyboardInterrupt, asyncio.CancelledError):
            self.close(GOING_AWAY, "interrupted")
            raise

    def __enter__(self) -> Self:
        return self.connect()

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        interrupted = kind is not None and issubclass(kind, KeyboardInterrupt)
        self.close(GOING_AWAY if interrupted else 1000, "interrupted" if interrupted else "")

    # -- async -----------------------------------------------------------------------

    async def aconnect(self) -> Self:
        """Async :meth:`connect`."""
        await self._aconnect(again=False)
        return self

    async def _aconnect(self, *, again: bool) -> None:
        failures = 0
        while True:
            request, kwargs = await asyncio.to_thread(self._handshake, again)
            try:
                conn = await aconnect(ws_url(request.url), **kwargs)
            except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
                failures += 1
                await asyncio.sleep(self._open_failed(request, exc, again, failures))
                continue
            self._aconn, self._subprotocol = conn, conn.subprotocol
            self._opened(request, conn.response)
            return

    async def _alive(self) -> AsyncConnection:
        if self._aconn is None:
            await self.aconnect()
        assert self._aconn is not None  # noqa: S101 - aconnect() set it or raised
        return self._aconn

    async def asend(self, message: str | bytes) -> None:
        """Async :meth:`send`."""
        if not isinstance(message, str | bytes):
            raise ConfigError(
                f"asend() takes str or bytes, not {type(message).__name__}; use asend_json()"
            )
        try:
            await (await self._alive()).send(message)
        except ConnectionClosed as exc:
            raise self._send_failed(exc) from exc
        self._sent(message)

    async def asend_json(self, value: Any) -> None:
        """Async :meth:`send_json`."""
        await self.asend(self._encode(value))

    async def arecv(self) -> StreamMessage:
        """Async :meth:`recv` (wrap it in ``asyncio.wait_for`` for a timeout)."""
        failures = 0
        while True:
            conn = await self._alive()
            try:
                return self._received(await conn.recv())
            except ConnectionClosed as exc:
                failures += 1
                wait = self._lost(exc, failures)
            self._aconn = None
            await asyncio.sleep(wait)
            await self._aconnect(again=True)

    async def arecv_json(self) -> Any:
        """Async :meth:`recv_json`."""
        return (await self.arecv()).json()

    async def aping(self, data: bytes = b"") -> float:
        """Async :meth:`ping`: the round trip in seconds."""
        started = time.perf_counter()
        await (await (await self._alive()).ping(data))
        return time.perf_counter() - started

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Async :meth:`close`."""
        conn, self._aconn = self._aconn, None
        if conn is not None:
            await conn.close(code, reason)
        self._finish(code, reason)

    def __aiter__(self) -> AsyncIterator[StreamMessage]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[StreamMessage]:
        try:
            while True:
                try:
                    yield await self.arecv()
                except ProtocolError:
                    if self.close_code in (1000, GOING_AWAY):
                        return
                    raise
        except (KeyboardInterrupt, asyncio.CancelledError):
            await self.aclose(GOING_AWAY, "interrupted")
            raise

    async def __aenter__(self) -> Self:
        return await self.aconnect()

    async def __aexit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        interrupted = kind is not None and issubclass(
            kind, KeyboardInterrupt | asyncio.CancelledError
        )
        await self.aclose(GOING_AWAY if interrupted else 1000, "interrupted" if interrupted else "")

    def __repr__(self) -> str:
        if self.record is None:
            return f"<WebSocketClient {mask_url(self.url)} not connected>"
        return f"<WebSocketClient {self.record.summary()}>"
