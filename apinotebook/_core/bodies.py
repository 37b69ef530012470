"""Read a response body whole, within the size limit, and refuse one the server overran.

The send loop (:mod:`apinotebook._core.http`) hands every streamed response to
:func:`read_body` (or :func:`aread_body`), which:

- refuses a body whose ``Content-Length`` is over ``max_response_size`` before
  reading it, and counts a compressed or unsized body while it streams, gzip and
  deflate inflated in bounded steps (:mod:`apinotebook._core.inflate`);
- closes the response, whatever happens;
- refuses a body *longer* than its ``Content-Length``. h11 stops at the declared
  length and keeps the rest in its buffer, so httpx returns the body cut short
  without a word, and the *next* request on that connection fails with
  "illegal status line". Here the extra bytes are found (in h11's buffer, or
  waiting on the socket), the connection is retired (its socket shut down) so the
  pool never reuses it, and the exchange fails with a :class:`~apinotebook.ProtocolError`.
"""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

from apinotebook._core.inflate import Inflater, inflater_for
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ResponseTooLarge

__all__ = ["aread_body", "overrun", "read_body", "too_large"]

# how deep the wrappers (httpx's stream, httpcore's pool stream, a recorder) may nest
_MAX_WRAPPERS = 8


def too_large(response: httpx.Response, size: int | None, limit: int | None) -> ResponseTooLarge:
    """The error for a body over ``limit`` (``size`` when it was declared)."""
    url = mask_url(str(response.request.url))
    got = f"{size:,} bytes" if size is not None else "more"
    return ResponseTooLarge(
        f"The response from {url} is {got}, over the limit of {limit or 0:,} "
        "bytes. Pass max_response_size= to the client to raise it (or None to disable).",
        url=url,
    )


def _plan(response: httpx.Response, limit: int | None) -> Inflater | bool:
    """How to read the body: ``True`` whole, an :class:`Inflater`, or ``False`` counted.

    A body declared over the limit is refused before it is read. A plain body of
    declared (and so checked) length is read whole; a gzip or deflate one is
    inflated here in bounded steps; any other is streamed and counted.
    """
    declared = response.headers.get("content-length", "")
    if declared.isdigit():
        if limit is not None and int(declared) > limit:
            raise too_large(response, int(declared), limit)
        if "content-encoding" not in response.headers:
            return True
    inflater = inflater_for(response, limit, lambda: too_large(response, None, limit))
    return False if inflater is None else inflater


def _counted(response: httpx.Response, limit: int | None, size: int, chunk: bytes) -> int:
    size += len(chunk)
    if limit is not None and size > limit:
        raise too_large(response, None, limit)
    return size


def read_body(response: httpx.Response, limit: int | None) -> bytes:
    """Read, close and check a streamed response (see the module docstring)."""
    response.stream = _Guard(response)
    try:
        plan = _plan(response, limit)
        if plan is True:
            content = response.read()
        elif isinstance(plan, Inflater):
            for raw in response.iter_raw():
                plan.feed(raw)
            content = plan.finish()
        else:
            parts: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size = _counted(response, limit, size, chunk)
                parts.append(chunk)
            content = b"".join(parts)
    finally:
        response.close()
    return content


async def aread_body(response: httpx.Response, limit: int | None) -> bytes:
    """:func:`read_body` for an async response."""
    response.stream = _AsyncGuard(response)
    try:
        plan = _plan(response, limit)
        if plan is True:
            content = await response.aread()
        elif isinstance(plan, Inflater):
            async for raw in response.aiter_raw():
                plan.feed(raw)
            content = plan.finish()
        else:
            parts: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size = _counted(response, limit, size, chunk)
                parts.append(chunk)
            content = b"".join(parts)
    finally:
        await response.aclose()
    return content


def _h11_connection(stream: Any) -> Any:
    """The HTTP/1.1 connection (httpcore's) under ``stream`` (None for HTTP/2, mocks, ...)."""
    for _ in range(_MAX_WRAPPERS):
        connection = getattr(stream, "_connection", None)
        if hasattr(connection, "_h11_state"):
            return connection
        stream = getattr(stream, "_stream", None) or getattr(stream, "_httpcore_stream", None)
        if stream is None:
            return None
    return None


@contextlib.contextmanager
def _socket(connection: Any) -> Iterator[socket.socket | None]:
    """The connection's TCP socket (a duplicate for asyncio's wrapper), or None."""
    network = getattr(connection, "_network_stream", None)
    sock = network.get_extra_info("socket") if network is not None else None
    if sock is None:
        yield None
    elif isinstance(sock, socket.socket):
        yield sock
    else:  # asyncio's TransportSocket: work on a duplicate of its descriptor
        try:
            duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
        except (OSError, AttributeError, ValueError):
            yield None
            return
        with duplicate:
            yield duplicate


def _waiting_on_socket(connection: Any) -> int:
    """Bytes already waiting on the connection's socket (0 if none, closed, or TLS)."""
    network = getattr(connection, "_network_stream", None)
    if network is None or network.get_extra_info("ssl_object") is not None:
        return 0  # encrypted bytes on the socket say nothing about the body
    with _socket(connection) as sock:
        if sock is None:
            return 0
        try:
            # a socket with a timeout waits even with MSG_DONTWAIT: ask select first
            if not select.select([sock], [], [], 0)[0]:
                return 0
            return len(sock.recv(65536, socket.MSG_PEEK))
        except (OSError, ValueError):
            return 0


def overrun(response: httpx.Response, stream: Any = None) -> int:
    """How many bytes the server sent past the body's declared ``Content-Length``.

    0 when there is no declared length, no HTTP/1.1 connection underneath, or
    nothing extra arrived by the time the body was read. Only meaningful while the
    response still holds its connection (before it is closed and pooled again).
    """
    if not response.headers.get("content-length", "").isdigit():
        return 0
    if "chunked" in response.headers.get("transfer-encoding", "").lower():
        return 0
    connection = _h11_connection(response.stream if stream is None else stream)
    if connection is None:
        return 0
    trailing, _closed = connection._h11_state.trailing_data
    return len(trailing) or _waiting_on_socket(connection)


def _refusal(response: httpx.Response, stream: Any) -> httpx.RemoteProtocolError | None:
    """The error for an overrun body, its connection retired; ``None`` if none.

    Called when the body's last byte was read and before httpx closes the response:
    once closed, the connection goes back to the pool, where another thread or task
    may at once start reading its own response into the same buffer.
    """
    extra = overrun(response, stream)
    if not extra:
        return None
    with _socket(_h11_connection(stream)) as sock, contextlib.suppress(OSError):
        # the pool sees a shut-down socket as readable, so it closes the connection
        # instead of parsing the rest as the next response
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
    return httpx.RemoteProtocolError(
        f"the server sent at least {extra:,} bytes past the declared Content-Length of "
        f"{int(response.headers['content-length']):,}; the body was cut at the declared "
        "length, so it is refused rather than returned short. The server (or a proxy in "
        "between) is broken: report it, or retry",
        request=response.request,
    )


class _Guard(httpx.SyncByteStream):
    """The response's stream, checked for an overrun as its last byte is read."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._stream: Any = response.stream

    def __iter__(self) -> Iterator[bytes]:
        yield from self._stream
        error = _refusal(self._response, self._stream)
        if error is not None:
            raise error

    def close(self) -> None:
        self._stream.close()


class _AsyncGuard(httpx.AsyncByteStream):
    """:class:`_Guard` for an async response."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self._stream: Any = response.stream

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk
        error = _refusal(self._response, self._stream)
        if error is not None:
            raise error

    async def aclose(self) -> None:
        await self._stream.aclose()
