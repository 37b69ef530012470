"""Server-Sent Events: a sync and an async iterator that reconnects and resumes.

httpx-sse parses the ``text/event-stream`` format; this module adds what an
``EventSource`` does in a browser and what a notebook needs on top:

- the request is the client's own (base URL, default headers, auth flow), so
  a ``RestClient``'s credentials apply and are masked like everywhere else;
- when the connection breaks mid-stream (a dropped connection, a truncated
  chunk, a read timeout) it reconnects after the server's ``retry:`` delay
  (else the policy's backoff) and sends ``Last-Event-ID`` with the id of the
  last event it delivered, so a server that honours it resumes exactly there;
- a clean end of the response ends the iteration (a browser would reconnect;
  in a notebook a finished stream should finish the loop), as does ``204``;
- every event is recorded in one :class:`~apinotebook.streams.StreamRecord`,
  reconnects included; leaving the loop early, an exception or an interrupt
  (Ctrl-C, the notebook's stop button) closes the connection at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from httpx_sse import EventSource, SSEError
from httpx_sse import ServerSentEvent as _RawEvent

from apinotebook._core import json as _json
from apinotebook._core.errors import map_httpx_error
from apinotebook._core.http import HttpCore
from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._exceptions import (
    ConfigError,
    DecodeError,
    HTTPStatusError,
    ProtocolError,
    TransportError,
)
from apinotebook._exchange import Exchange, ProtocolName, Request
from apinotebook._history import History
from apinotebook.retry import Retry
from apinotebook.streams._record import (
    DEFAULT_MAX_MESSAGES,
    StreamMessage,
    StreamRecord,
    open_record,
)

__all__ = ["EventStream", "ServerSentEvent", "SseSource", "resolve_reconnect"]

#: how long to wait before reconnecting when neither the server nor the policy says
DEFAULT_RETRY = Retry(max_attempts=5, backoff=0.5, backoff_max=10.0, deadline=None)
_ERROR_BODY = 2000

Malformed = Literal["raise", "skip"]


def resolve_reconnect(value: Retry | bool | int | None) -> Retry | None:
    """``True``: the default policy; a number: that many consecutive attempts; ``False``: none."""
    if value is None or value is False:
        return None
    if value is True:
        return DEFAULT_RETRY
    if isinstance(value, Retry):
        return value
    if isinstance(value, int):
        return Retry(max_attempts=max(1, value), backoff=0.5, backoff_max=10.0, deadline=None)
    raise ConfigError(f"reconnect= takes True, False, a number or a Retry, not {value!r}")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event: ``event`` type, ``data`` (decoded JSON with ``json=True``), ``id``, ``retry``.

    ``text`` is always the data as it arrived.
    """

    event: str
    data: Any
    id: str
    retry: int | None
    text: str

    def json(self) -> Any:
        """The data parsed as JSON (raises :class:`~apinotebook.DecodeError` if it is not)."""
        return StreamMessage(self.text).json()


@dataclass
class SseSource:
    """What a client lends an event stream: how to build the request and send it.

    Attributes:
        build: ``build(extra_headers)`` returns the request to send (the client's
            base URL, default headers and parameters applied).
        client: the sync ``httpx.Client`` to send it with.
        aclient: returns the ``httpx.AsyncClient`` of the running loop.
        auth: the auth flow to apply (``None``: none).
        history: where the stream record goes.
        protocol: ``"rest"`` or ``"graphql"`` (how the record is labelled).
        operation: a label for the record (the GraphQL operation).
    """

    build: Callable[[Mapping[str, str]], httpx.Request]
    client: httpx.Client
    aclient: Callable[[], httpx.AsyncClient]
    auth: httpx.Auth | None = None
    history: History | None = None
    protocol: ProtocolName = "rest"
    operation: str | None = None

    @classmethod
    def of(
        cls,
        core: HttpCore,
        build: Callable[[Mapping[str, str]], httpx.Request],
        *,
        protocol: ProtocolName = "rest",
        operation: str | None = None,
    ) -> SseSource:
        """The source for a client's :class:`HttpCore`: its pools, auth and history."""
        return cls(
            build=build,
            client=core._client,  # the client's own connection pool and settings
            aclient=core._async_client,
            auth=core.auth,
            history=core.history,
            protocol=protocol,
            operation=operation,
        )


class EventStream:
    """An SSE stream: iterate it (``for``/``async for``); it reconnects and resumes.

    Made by :meth:`RestClient.events` / :meth:`RestClient.aevents`. Attributes:
    ``record`` (the :class:`StreamRecord` once open), ``last_event_id``,
    ``retry`` (the server's reconnection delay in ms, if it sent one).
    """

    def __init__(
        self,
        source: SseSource,
        *,
        json: bool = False,
        last_event_id: str | None = None,
        reconnect: Retry | bool | int | None = True,
        malformed: Malformed = "raise",
        max_messages: int = DEFAULT_MAX_MESSAGES,
    ) -> None:
        if malformed not in ("raise", "skip"):
            raise ConfigError.invalid_choice("malformed", malformed, ("raise", "skip"))
        self.source = source
        self.decode_json = json
        self.last_event_id = last_event_id or ""
        self.reconnect = resolve_reconnect(reconnect)
        self.malformed = malformed
        self.max_messages = max_messages
        self.retry: int | None = None
        self.record: StreamRecord | None = None
        self._response: httpx.Response | None = None

    # -- sans I/O ------------------------------------------------------------------

    def _request(self) -> httpx.Request:
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-store"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        return self.source.build(headers)

    def _opened(self, request: httpx.Request, response: httpx.Response) -> None:
        """Record a successful (re)connection."""
        if self.record is None:
            self.record = open_record(
                self.source.history,
                kind="sse",
                protocol=self.source.protocol,
                request=Request.from_httpx(request),
                status=response.status_code,
                headers=response.headers,
                operation=self.source.operation,
                max_messages=self.max_messages,
            )
        else:
            self.record.reopened(response.status_code, response.headers)

    def _refusal(self, request: httpx.Request, response: httpx.Response, body: bytes) -> Exception:
        exchange = Exchange(
            protocol=self.source.protocol,
            request=Request.from_httpx(request),
            status=response.status_code,
            headers=response.headers,
            content=body,
            operation=self.source.operation,
        )
        if self.source.history is not None:
            self.source.history.append(exchange)
        url = mask_url(str(request.url))
        ctype = response.headers.get("content-type", "none")
        if response.status_code == 200:
            return DecodeError(
                f"{url} answered 200 with content-type {ctype}, not text/event-stream: it is "
                "not an event stream. Check the path (and the Accept header the API wants).",
                exchange=exchange,
            )
        return HTTPStatusError(
            f"{url} refused the event stream: {response.status_code} {exchange.reason}. "
            f"Body starts with: {mask_text(exchange.text[:200])!r}",
            exchange=exchange,
        )

    @staticmethod
    def _is_stream(response: httpx.Response) -> bool:
        ctype = response.headers.get("content-type", "").partition(";")[0].strip().lower()
        return response.status_code == 200 and ctype == "text/event-stream"

    def _event(self, raw: _RawEvent) -> ServerSentEvent | None:
        """Record one event; the event to yield, or ``None`` for a skipped one."""
        text, kind, event_id, retry = raw.data, raw.event, raw.id, raw.retry
        if retry is not None:
            self.retry = retry
        if not text:  # the spec dispatches no event with an empty data buffer
            if event_id:
                self.last_event_id = event_id
            return None
        data: Any = text
        note = ""
        if self.decode_json:
            try:
                data = _json.loads(text)
            except (ValueError, RecursionError):
                note = "malformed"
        record = self.record
        if record is not None:
            record.add(StreamMessage(text, "receive", time.time(), 1, kind, event_id, retry, note))
        if note:
            if self.malformed == "raise":
                raise DecodeError(
                    f"Event {kind!r} (id {event_id or 'none'}) from "
                    f"{mask_url(record.url if record else '')} is not JSON: "
                    f"{mask_text(text[:120])!r}. Pass malformed='skip' to skip such events "
                    "(they stay in the stream record), or json=False for the raw text."
                )
            return None
        if event_id:
            self.last_event_id = event_id
        return ServerSentEvent(kind, data, event_id, retry, text)

    def _failed(self, exc: Exception, request: httpx.Request, attempt: int) -> float:
        """The wait before reconnecting after ``attempt`` consecutive failures, or raise."""
        error = _broken(exc, request)
        policy = self.reconnect
        if policy is None or self.record is None or attempt >= policy.max_attempts:
            if self.record is not None:
                self.record.close(error=str(error))
            raise error from exc
        return self.retry / 1000 if self.retry is not None else policy.backoff_delay(attempt)

    def _check(self, request: httpx.Request, response: httpx.Response, head: bytes) -> None:
        if not self._is_stream(response):
            raise self._refusal(request, response, head)
        self._opened(request, response)

    def _finish(self, reason: str) -> None:
        if self.record is not None:
            self.record.close(reason=reason)

    # -- sync ------------------------------------------------------------------------

    def __iter__(self) -> Iterator[ServerSentEvent]:
        reason = "closed by the client"
        try:
            yield from self._run()
            reason = "the server ended the stream"
        except (KeyboardInterrupt, asyncio.CancelledError):
            reason = "interrupted"
            raise
        finally:
            self.close()
            self._finish(reason)

    def _run(self) -> Iterator[ServerSentEvent]:
        failures = 0
        while True:
            request = self._request()
            try:
                response = self.source.client.send(request, auth=self.source.auth, stream=True)
                self._response = response
            except httpx.HTTPError as exc:
                failures += 1
                time.sleep(self._failed(exc, request, failures))
                continue
            try:
                if response.status_code == 204:
                    return
                self._check(
                    request, response, b"" if self._is_stream(response) else _head(response)
                )
                failures = 0
                yield from filter(None, map(self._event, EventSource(response).iter_sse()))
                return
            except (httpx.HTTPError, SSEError) as exc:
                failures += 1
                wait = self._failed(exc, request, failures)
            finally:
                response.close()
                self._response = None
            time.sleep(wait)

    def close(self) -> None:
        """Close the connection (iteration stops)."""
        response = self._response
        if response is not None:
            response.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
        self._finish("closed by the client")

    # -- async -----------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[ServerSentEvent]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[ServerSentEvent]:
        reason = "closed by the client"
        try:
            async for event in self._arun():
                yield event
            reason = "the server ended the stream"
        except (KeyboardInterrupt, asyncio.CancelledError):
            reason = "interrupted"
            raise
        finally:
            self._finish(reason)

    async def _arun(self) -> AsyncIterator[ServerSentEvent]:
        failures = 0
        client = self.source.aclient()
        while True:
            request = self._request()
            try:
                response = await client.send(request, auth=self.source.auth, stream=True)
            except httpx.HTTPError as exc:
                failures += 1
                await asyncio.sleep(self._failed(exc, request, failures))
                continue
            try:
                if response.status_code == 204:
                    return
                head = b"" if self._is_stream(response) else await _ahead(response)
                self._check(request, response, head)
                failures = 0
                async for raw in EventSource(response).aiter_sse():
                    if (event := self._event(raw)) is not None:
                        yield event
                return
            except (httpx.HTTPError, SSEError) as exc:
                wait = self._failed(exc, request, failures := failures + 1)
            finally:
                await response.aclose()
            await asyncio.sleep(wait)

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._finish("closed by the client")

    def __repr__(self) -> str:
        if self.record is None:
            return "<EventStream not opened yet>"
        return f"<EventStream {self.record.summary()}>"


def _broken(exc: Exception, request: httpx.Request) -> TransportError:
    if isinstance(exc, httpx.HTTPError):
        return map_httpx_error(exc, request)
    return ProtocolError(f"The event stream from {mask_url(str(request.url))} broke: {exc}")


def _head(response: httpx.Response) -> bytes:
    body = b""
    for chunk in response.iter_bytes():
        body += chunk
        if len(body) >= _ERROR_BODY:
            break
    return body[:_ERROR_BODY]


async def _ahead(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) >= _ERROR_BODY:
            break
    return body[:_ERROR_BODY]
