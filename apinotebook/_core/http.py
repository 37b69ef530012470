"""The send loop every client shares: auth, redirects, retries, limits, history.

:class:`HttpCore` wraps one ``httpx.Client`` (and, on demand, one
``httpx.AsyncClient``). The loop itself is written once, *sans I/O*, as a
generator (:meth:`HttpCore._flow`) that yields "send this" and "sleep this
long" steps; a sync driver and an async driver perform the steps. So the
REST, GraphQL and SOAP clients, sync and async, share exactly one
implementation of:

- redirects, followed by hand so credentials never cross origins: a hop to
  another scheme, host or port drops the auth flow and sensitive headers;
- the :class:`~apinotebook.retry.Retry` policy, with every attempt recorded in
  the history and summarised on the final exchange;
- a response-size limit (``max_response_size``, default 100 MB), checked
  against ``Content-Length`` first and while streaming;
- mapping httpx's exceptions to apinotebook's at the boundary
  (:mod:`apinotebook._core.errors`).
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import weakref
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Self

import httpx

from apinotebook.__about__ import __version__
from apinotebook._core.bodies import aread_body, read_body
from apinotebook._core.cassette import Raw as _Raw
from apinotebook._core.cassette import through
from apinotebook._core.errors import error_kind, map_httpx_error
from apinotebook._core.logmask import install as _install_log_masking
from apinotebook._core.ratelimit import warn_lifecycle
from apinotebook._core.redirects import next_hop
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ConfigError, ProtocolError, TransportError
from apinotebook._exchange import Attempt, Exchange, ProtocolName, Request
from apinotebook._history import History
from apinotebook._history import history as default_history
from apinotebook.retry import NO_RETRY, Retry

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "ClientBase", "HistoryArg", "HttpCore", "USER_AGENT"]

_install_log_masking()  # httpx's INFO line carries the URL, query secrets included

DEFAULT_MAX_RESPONSE_SIZE = 100 * 1024 * 1024
USER_AGENT = f"apinotebook/{__version__} httpx/{httpx.__version__}"
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_JOIN_CACHE = 256  # paths whose joined URL a client keeps

#: ``True`` (the shared history), a :class:`History`, or ``None``/``False`` (off).
HistoryArg = History | bool | None
Decoder = Callable[[Exchange], Exchange]
AuthArg = httpx.Auth | None | Literal["default"]


@dataclass(slots=True)
class _Send:
    request: httpx.Request
    auth: httpx.Auth | None


@dataclass(slots=True)
class _Sleep:
    seconds: float


_Step = _Send | _Sleep


@functools.cache
def default_tls() -> ssl.SSLContext:
    """One verifying TLS context shared by every client (building one costs ~40 ms)."""
    return httpx.create_ssl_context()


def resolve_history(value: HistoryArg) -> History | None:
    """Turn a ``history=`` argument into a :class:`History` or ``None``."""
    if value is True:
        return default_history
    if value is None or value is False:
        return None
    if isinstance(value, History):
        return value
    raise ConfigError(f"history= takes True, False, None or a History, not {type(value).__name__}")


def resolve_retry(value: Retry | bool | int | None) -> Retry:
    """Turn a ``retry=`` argument into a policy: ``False``/``0`` disable, an int sets attempts."""
    if value is None or value is True:
        return Retry()
    if value is False:
        return NO_RETRY
    if isinstance(value, Retry):
        return value
    if isinstance(value, int):
        return Retry(max_attempts=max(1, value))
    raise ConfigError(f"retry= takes a Retry, True/False or a number of attempts, not {value!r}")


class HttpCore:
    """The shared HTTP machinery behind the REST, GraphQL and SOAP clients.

    Args:
        base_url: prefix for relative URLs.
        auth: an ``httpx.Auth`` (see :mod:`apinotebook.auth`) applied to every
            request on the same origin.
        headers: default headers.
        params: default query parameters.
        timeout: seconds, or an ``httpx.Timeout``.
        retry: a :class:`Retry`, ``False`` to disable, or a number of attempts.
        transport: an ``httpx`` transport (``httpx.MockTransport`` in tests);
            used for async calls too when it supports them.
        async_transport: a separate transport for async calls.
        history: where exchanges are recorded (default: the shared history).
        max_response_size: bodies larger than this many bytes raise
            :class:`ResponseTooLarge` (``None`` disables the limit).
        verify: TLS verification (on by default), or an ``ssl.SSLContext``.
        follow_redirects: follow 3xx responses (credentials stay on-origin).
        max_redirects: redirects followed before giving up.
    """

    def __init__(
        self,
        *,
        base_url: str | httpx.URL = "",
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        retry: Retry | bool | int | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        history: HistoryArg = True,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        verify: Any = True,
        follow_redirects: bool = True,
        max_redirects: int = 20,
    ) -> None:
        if auth is not None and not isinstance(auth, httpx.Auth):
            raise ConfigError(
                f"auth= takes an auth object such as Bearer(...), Basic(...) or ApiKey(...), "
                f"not {type(auth).__name__}"
            )
        self.auth = auth
        self.retry = resolve_retry(retry)
        self.history = resolve_history(history)
        self.max_response_size = max_response_size
        self.follow_redirects = follow_redirects
        self.max_redirects = max_redirects
        if verify is True:
            verify = default_tls()  # shared: a new client costs microseconds, not 40 ms
        self._settings: dict[str, Any] = {
            "base_url": base_url,
            "headers": {"User-Agent": USER_AGENT, **dict(headers or {})},
            "params": params,
            "timeout": timeout,
            "verify": verify,
            "follow_redirects": False,
        }
        self._client = httpx.Client(transport=transport, **self._settings)
        if async_transport is None and isinstance(transport, httpx.AsyncBaseTransport):
            async_transport = transport
        self._async_transport = async_transport
        # an AsyncClient's pool belongs to one event loop: one client per loop
        self._aclients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._aclients = weakref.WeakKeyDictionary()
        self._joins: dict[str, tuple[httpx.URL, httpx.URL]] = {}  # see _join
        self._warned: set[tuple[str, str]] = set()  # endpoints whose deprecation was said

    # -- configuration -------------------------------------------------------

    @property
    def base_url(self) -> httpx.URL:
        """The base URL relative paths are joined to."""
        return self._client.base_url

    @property
    def headers(self) -> httpx.Headers:
        """Default headers (mutable)."""
        return self._client.headers

    def build_request(self, method: str, url: str | httpx.URL, **kwargs: Any) -> httpx.Request:
        """An ``httpx.Request`` with the defaults merged in (no I/O).

        A query string in ``url`` is merged with ``params=`` (httpx 0.28 would
        drop one of them: encode/httpx#3433).
        """
        params = kwargs.pop("params", None)
        try:
            target = httpx.URL(url) if "?" in str(url) else None
            if target is not None and target.query:
                merged = httpx.QueryParams(target.query)
                if params is not None:
                    merged = merged.merge(params)
                kwargs["params"] = merged
                url = target.copy_with(query=None)
            elif params is not None:
                kwargs["params"] = params
            joined = self._join(url) if isinstance(url, str) else url
            request = self._client.build_request(method, joined, **kwargs)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, TypeError) as exc:
            raise ConfigError(f"cannot build {method} {mask_url(str(url))}: {exc}") from exc
        if request.url.scheme not in ("http", "https"):
            raise ConfigError(
                f"URL {mask_url(str(request.url))} must be absolute http(s), or relative to a "
                "base_url (set base_url= on the client)"
            )
        return request

    def _join(self, url: str) -> httpx.URL:
        """``url`` joined to the base URL exactly as ``httpx.Client`` joins it, remembered.

        httpx parses the base URL and the path again on every request, which
        costs more than the rest of our per-call work; a client calls the same
        few paths over and over. The cache is keyed on the path and checked
        against the base URL it was joined to.
        """
        base = self._client.base_url
        hit = self._joins.get(url)
        if hit is not None and hit[0] is base:
            return hit[1]
        target = httpx.URL(url)
        if target.is_relative_url:  # as httpx.Client._merge_url: append to the base path
            target = base.copy_with(raw_path=base.raw_path + target.raw_path.lstrip(b"/"))
        if len(self._joins) >= _JOIN_CACHE:
            self._joins.clear()
        self._joins[url] = (base, target)
        return target

    # -- the loop (sans I/O) ---------------------------------------------------

    def _flow(
        self,
        request: httpx.Request,
        *,
        protocol: ProtocolName,
        operation: str | None,
        idempotent: bool | None,
        auth: AuthArg,
        decode: Decoder | None,
    ) -> Generator[_Step, _Raw | TransportError | None, Exchange]:
        retry = self.retry
        is_idempotent = retry.is_idempotent(request.method, request.headers, idempotent)
        first_auth = self.auth if auth == "default" else auth
        # Bearer and header API keys are plain headers: set them here instead of running
        # httpx's auth-flow machinery on every request; they are dropped on a redirect to
        # another origin exactly like the flow would be
        static = getattr(first_auth, "static_headers", None)
        static_headers: dict[str, str] = static() if callable(static) else {}
        if static_headers:
            headers = request.headers
            for name, value in static_headers.items():  # Headers.update builds a Headers first
                headers[name] = value
            first_auth = None
        attempts: list[Attempt] = []
        first = time.monotonic()
        number = 0
        while True:
            number += 1
            current, hop_auth = request, first_auth
            redirects: list[str] = []
            while True:
                outcome = yield from through(_Send(current, hop_auth), protocol, operation)
                if not isinstance(outcome, _Raw) or not self.follow_redirects:
                    break
                if outcome.status not in _REDIRECTS or "location" not in outcome.headers:
                    break
                if len(redirects) >= self.max_redirects:
                    origin = mask_url(str(request.url))
                    raise ProtocolError(f"more than {self.max_redirects} redirects from {origin}")
                current, cross = next_hop(current, outcome.status, outcome.headers)
                if cross:
                    hop_auth = None
                    for name in static_headers:
                        current.headers.pop(name, None)
                redirects.append(str(current.url))
            assert outcome is not None  # the drivers always answer a _Send
            spent = time.monotonic() - first
            sent = Request.from_httpx(current)
            meta = {"redirects": redirects} if redirects else None
            if isinstance(outcome, TransportError):
                wait = retry.next_wait(
                    attempt=number,
                    elapsed=spent,
                    idempotent=is_idempotent,
                    error=error_kind(outcome),
                )
                attempts.append(Attempt(number, None, str(outcome), 0.0, wait or 0.0))
                failed = Exchange(
                    protocol=protocol,
                    request=sent,
                    operation=operation,
                    error=str(outcome),
                    attempts=attempts,
                    meta=meta,
                )
                self._record(failed)
                if wait is None:
                    outcome.attempts = number
                    raise outcome
                yield _Sleep(wait)
                continue
            exchange = Exchange(
                protocol=protocol,
                request=sent,
                status=outcome.status,
                headers=outcome.headers,
                content=outcome.content,
                elapsed=outcome.elapsed,
                started_at=outcome.started_at,
                operation=operation,
                meta=meta,
            )
            if decode is not None:
                exchange = decode(exchange)
            # a decoder may veto (False) or ask for (True) a retry: a SOAP Client Fault is
            # final, a Server Fault on a read-only operation is worth another try
            retryable = exchange.meta.get("retryable")
            wait = None
            if retryable is not False:
                status = 503 if retryable is True else outcome.status
                # Retry-After counts on a 429 or a 503 only: skip the header lookup otherwise
                retry_after = outcome.headers.get("retry-after") if status in (429, 503) else None
                wait = retry.next_wait(
                    attempt=number,
                    elapsed=spent,
                    idempotent=is_idempotent,
                    status=status,
                    retry_after=retry_after,
                )
            attempts.append(Attempt(number, outcome.status, None, outcome.elapsed, wait or 0.0))
            exchange.attempts = tuple(attempts)
            self._record(exchange)
            if wait is None:
                return exchange
            yield _Sleep(wait)

    def _record(self, exchange: Exchange) -> None:
        if self.history is not None:
            self.history.append(exchange)
        warn_lifecycle(exchange.method, exchange.url, exchange.headers, self._warned)

    # -- sync driver -------------------------------------------------------------

    def send(
        self,
        request: httpx.Request,
        *,
        protocol: ProtocolName = "rest",
        operation: str | None = None,
        idempotent: bool | None = None,
        auth: AuthArg = "default",
        decode: Decoder | None = None,
    ) -> Exchange:
        """Send ``request`` with redirects and retries; return the final exchange.

        Raises:
            TransportError: no response arrived after the retries (its
                subclasses say why); every attempt is in the history.
            ResponseTooLarge: the body exceeded ``max_response_size``.
        """
        request.read()
        flow = self._flow(
            request,
            protocol=protocol,
            operation=operation,
            idempotent=idempotent,
            auth=auth,
            decode=decode,
        )
        result: _Raw | TransportError | None = None  # a cassette may answer without a step
        while True:
            try:
                step = flow.send(result)
            except StopIteration as stop:
                exchange: Exchange = stop.value
                return exchange
            if isinstance(step, _Sleep):
                time.sleep(step.seconds)
                result = None
            else:
                result = self._send_once(step)

    def _send_once(self, step: _Send) -> _Raw | TransportError:
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        try:
            response = self._client.send(step.request, auth=step.auth, stream=True)
            content = read_body(response, self.max_response_size)
        except httpx.HTTPError as exc:
            return map_httpx_error(exc, step.request)
        return _Raw(
            response.status_code, response.headers, content, time.perf_counter() - t0, started
        )

    # -- async driver ----------------------------------------------------------

    def _async_client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._aclients.get(loop)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(transport=self._async_transport, **self._settings)
            client.headers = self._client.headers
            self._aclients[loop] = client
        return client

    async def arelease(self) -> None:
        """Close the async pool of the running loop (call before a private loop ends)."""
        client = self._aclients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    async def asend(
        self,
        request: httpx.Request,
        *,
        protocol: ProtocolName = "rest",
        operation: str | None = None,
        idempotent: bool | None = None,
        auth: AuthArg = "default",
        decode: Decoder | None = None,
    ) -> Exchange:
        """Async :meth:`send`."""
        await request.aread()
        client = self._async_client()
        flow = self._flow(
            request,
            protocol=protocol,
            operation=operation,
            idempotent=idempotent,
            auth=auth,
            decode=decode,
        )
        result: _Raw | TransportError | None = None  # a cassette may answer without a step
        while True:
            try:
                step = flow.send(result)
            except StopIteration as stop:
                exchange: Exchange = stop.value
                return exchange
            if isinstance(step, _Sleep):
                await asyncio.sleep(step.seconds)
                result = None
            else:
                result = await self._asend_once(client, step)

    async def _asend_once(self, client: httpx.AsyncClient, step: _Send) -> _Raw | TransportError:
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        try:
            response = await client.send(step.request, auth=step.auth, stream=True)
            content = await aread_body(response, self.max_response_size)
        except httpx.HTTPError as exc:
            return map_httpx_error(exc, step.request)
        return _Raw(
            response.status_code,
            response.headers,
            content,
            time.perf_counter() - t0,
            started,
        )

    # -- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        """Close the sync pool; async pools close with their loop or :meth:`aclose`."""
        self._client.close()

    async def aclose(self) -> None:
        """Close the sync pool and the running loop's async pool."""
        self._client.close()
        await self.arelease()


class ClientBase:
    """What every client shares: its :class:`HttpCore` settings and its lifecycle."""

    _core: HttpCore

    @property
    def headers(self) -> httpx.Headers:
        """Default headers (mutable)."""
        return self._core.headers

    @property
    def retry(self) -> Retry:
        """The retry policy."""
        return self._core.retry

    @property
    def history(self) -> History | None:
        """Where exchanges are recorded (``None`` when off)."""
        return self._core.history

    def close(self) -> None:
        """Close the connection pools."""
        self._core.close()

    async def aclose(self) -> None:
        """Close the connection pools from async code."""
        await self._core.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
