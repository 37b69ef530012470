"""Stream records: one history entry per SSE or WebSocket connection.

A :class:`StreamRecord` is an :class:`~apinotebook.Exchange` (the opening
request and its response: ``101 Switching Protocols`` for a WebSocket, ``200``
for an event stream) that goes on growing while the stream is open: every
message sent or received is appended as a :class:`StreamMessage` with its time
and size, into a bounded buffer (the oldest dropped first, counted in
``dropped``); closing sets the close code and reason. The record is appended
to the history when the stream opens, so the history shows live streams.

HAR export writes WebSocket messages the way browsers do, as
``_webSocketMessages`` (``type`` send/receive, ``time`` in epoch seconds,
``opcode`` 1 text / 2 binary, ``data``), and an event stream's events as the
response's ``text/event-stream`` body; secrets are masked in both.
"""

from __future__ import annotations

import base64
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from apinotebook._core import json as _json
from apinotebook._core.render import human_size
from apinotebook._core.secrets import mask_headers, mask_text, mask_url
from apinotebook._exceptions import DecodeError
from apinotebook._exchange import Exchange, ProtocolName, Request
from apinotebook._history import History, register_har_fields

__all__ = ["StreamKind", "StreamMessage", "StreamRecord"]

StreamKind = Literal["sse", "websocket"]
Direction = Literal["send", "receive"]
#: how many messages a record keeps by default (older ones are dropped, and counted)
DEFAULT_MAX_MESSAGES = 1000

TEXT, BINARY = 1, 2


@dataclass(frozen=True, slots=True)
class StreamMessage:
    """One message of a stream, sent or received.

    Attributes:
        data: the text or bytes as they went over the wire (an SSE event's data).
        direction: ``"send"`` or ``"receive"``.
        time: when it was sent or received (epoch seconds).
        opcode: 1 for text, 2 for binary (the WebSocket opcodes; SSE is text).
        event: the SSE event type (``"message"`` by default); for a WebSocket, ``""``.
        id: the SSE event id (``""`` when the event had none).
        retry: the SSE ``retry`` field in milliseconds, if the event set one.
        note: why the message is special: ``"malformed"``, ``"ping"``, ...
    """

    data: str | bytes
    direction: Direction = "receive"
    time: float = field(default_factory=time.time)
    opcode: int = TEXT
    event: str = ""
    id: str = ""
    retry: int | None = None
    note: str = ""

    @property
    def size(self) -> int:
        """Bytes on the wire (UTF-8 for text)."""
        data = self.data
        if isinstance(data, bytes) or data.isascii():
            return len(data)
        return len(data.encode("utf-8", "surrogatepass"))

    @property
    def text(self) -> str:
        """The data as text (bytes decoded as UTF-8, bad bytes replaced)."""
        data = self.data
        return data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data

    @property
    def is_binary(self) -> bool:
        """Whether this is a binary message."""
        return self.opcode == BINARY

    def json(self) -> Any:
        """The data parsed as JSON.

        Raises:
            DecodeError: the data is not JSON; the message shows its start.
        """
        try:
            return _json.loads(self.data)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            head = mask_text(self.text[:120])
            raise DecodeError(
                f"Expected a JSON message but got {head!r} ({self.size} bytes): {exc}. "
                "Use .text or .data for the raw message."
            ) from exc

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (text masked; binary as base64)."""
        data = self.data
        out: dict[str, Any] = {
            "type": self.direction,
            "time": self.time,
            "opcode": self.opcode,
            "data": (
                base64.b64encode(data).decode("ascii")
                if isinstance(data, bytes)
                else mask_text(data)
            ),
            "size": self.size,
        }
        for key in ("event", "id", "note"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.retry is not None:
            out["retry"] = self.retry
        return out

    def __repr__(self) -> str:
        head = f"<{human_size(self.size)} binary>" if self.is_binary else self.text[:80]
        extra = "".join(f" {k}={getattr(self, k)!r}" for k in ("event", "id") if getattr(self, k))
        arrow = "→" if self.direction == "send" else "←"
        return f"<StreamMessage {arrow}{extra} {mask_text(head)!r}>"


Listener = Callable[["StreamRecord", StreamMessage | None], None]


class StreamRecord(Exchange):
    """An open or closed stream in the history: its handshake and its messages.

    Built by the stream clients; read ``messages`` (the last ``max_messages``),
    ``count`` and ``bytes`` (all of them), ``closed``, ``close_code`` and
    ``close_reason``, ``reconnects``. ``subscribe(listener)`` calls
    ``listener(record, message)`` after each message and
    ``listener(record, None)`` when the stream closes (the live view uses it).
    """

    __slots__ = (
        "_listeners",
        "_lock",
        "bytes",
        "close_code",
        "close_reason",
        "closed_at",
        "count",
        "dropped",
        "kind",
        "messages",
        "reconnects",
    )

    def __init__(
        self,
        *,
        kind: StreamKind,
        protocol: ProtocolName,
        request: Request,
        status: int = 0,
        headers: Mapping[str, str] | httpx.Headers | None = None,
        operation: str | None = None,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            protocol=protocol,
            request=request,
            status=status,
            headers=headers,
            operation=operation,
            meta=meta,
        )
        self.kind: StreamKind = kind
        self.messages: deque[StreamMessage] = deque(maxlen=max(1, max_messages))
        self.count = 0
        self.bytes = 0
        self.dropped = 0
        self.reconnects = 0
        self.closed_at: datetime | None = None
        self.close_code: int | None = None
        self.close_reason = ""
        self._lock = threading.Lock()
        self._listeners: tuple[Listener, ...] = ()  # replaced, never changed in place

    # -- recording -------------------------------------------------------------

    def add(self, message: StreamMessage) -> StreamMessage:
        """Record ``message`` (sent or received) and tell the listeners."""
        with self._lock:
            if len(self.messages) == self.messages.maxlen:
                self.dropped += 1
            self.messages.append(message)
            self.count += 1
            self.bytes += message.size
        self._tell(message)
        return message

    def reopened(self, status: int, headers: httpx.Headers | Mapping[str, str]) -> None:
        """A reconnect succeeded: keep counting in the same record."""
        with self._lock:
            self.reconnects += 1
            self.status = status
            self.headers = httpx.Headers(headers)

    def close(self, code: int | None = None, reason: str = "", *, error: str | None = None) -> None:
        """Mark the stream closed (the first call wins) and tell the listeners."""
        with self._lock:
            if self.closed_at is not None:
                return
            self.closed_at = datetime.now(UTC)
            self.elapsed = (self.closed_at - self.started_at).total_seconds()
            self.close_code, self.close_reason = code, mask_text(reason)
            if error is not None:
                self.error = mask_text(error)
        self._tell(None)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(record, message)`` per message, ``(record, None)`` on close."""
        self._listeners = (*self._listeners, listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        self._listeners = tuple(x for x in self._listeners if x is not listener)

    def _tell(self, message: StreamMessage | None) -> None:
        for listener in self._listeners:
            try:
                listener(self, message)
            except Exception:  # noqa: BLE001 - a broken view must not break the stream
                self.unsubscribe(listener)

    # -- reading ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the stream has closed."""
        return self.closed_at is not None

    def __iter__(self) -> Iterator[StreamMessage]:
        with self._lock:
            return iter(list(self.messages))

    def __len__(self) -> int:
        return len(self.messages)

    @property
    def size(self) -> int:
        """Bytes of every message so far (sent and received)."""
        return self.bytes

    def summary(self) -> str:
        """One line: kind, URL, state, message count and bytes."""
        state = "open"
        if self.closed:
            state = " ".join(
                str(part) for part in ("closed", self.close_code, self.close_reason) if part
            )
            if self.error:
                state += f" ({self.error})"
        again = f" · {self.reconnects} reconnects" if self.reconnects else ""
        label = f" {self.operation}" if self.operation else ""
        return (
            f"{self.kind}{label} {mask_url(self.url)} · {state} · {self.count} messages · "
            f"{human_size(self.bytes)}{again}"
        )

    def to_dict(self, *, reveal_secrets: bool = False) -> dict[str, Any]:
        """The exchange's fields plus the stream's messages and close state."""
        out = super().to_dict(reveal_secrets=reveal_secrets)
        out.update(
            kind=self.kind,
            messages=[m.to_dict() for m in self],
            count=self.count,
            dropped=self.dropped,
            reconnects=self.reconnects,
            close_code=self.close_code,
            close_reason=self.close_reason,
        )
        return out

    def replace(self, **changes: Any) -> Exchange:
        """Stream records are live: a copy is a plain :class:`Exchange` of the handshake."""
        values = {name: getattr(self, name) for name in Exchange.__slots__ if name != "_cache"}
        values.update(changes)
        return Exchange(**values)

    def __repr__(self) -> str:
        return f"<StreamRecord {self.summary()}>"


def open_record(history: History | None, **kwargs: Any) -> StreamRecord:
    """A new record, appended to ``history`` at once (so live streams show there)."""
    record = StreamRecord(**kwargs)
    if history is not None:
        history.append(record)
    return record


def _event_text(message: StreamMessage) -> str:
    lines = [f"event: {message.event}"] if message.event and message.event != "message" else []
    if message.id:
        lines.append(f"id: {message.id}")
    if message.retry is not None:
        lines.append(f"retry: {message.retry}")
    lines += [f"data: {line}" for line in message.text.split("\n")]
    return "\n".join(lines) + "\n\n"


def har_fields(exchange: Exchange) -> dict[str, Any]:
    """What a stream record adds to its HAR entry (see the module docstring)."""
    if not isinstance(exchange, StreamRecord):
        return {}
    messages = list(exchange)
    if exchange.kind == "websocket":
        return {
            "_resourceType": "websocket",
            "_webSocketMessages": [
                {k: v for k, v in m.to_dict().items() if k in ("type", "time", "opcode", "data")}
                for m in messages
            ],
        }
    text = "".join(_event_text(m) for m in messages if m.direction == "receive")
    masked = mask_text(text)
    return {
        "_resourceType": "eventsource",
        "response": {
            **_har_response_base(exchange),
            "content": {
                "size": len(masked.encode()),
                "mimeType": "text/event-stream",
                "text": masked,
            },
            "bodySize": exchange.bytes,
        },
    }


def _har_response_base(exchange: Exchange) -> dict[str, Any]:
    return {
        "status": exchange.status,
        "statusText": exchange.reason,
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": [{"name": k, "value": v} for k, v in mask_headers(exchange.headers.items())],
        "redirectURL": "",
        "headersSize": -1,
    }


register_har_fields(har_fields)
