"""The REST client: httpx underneath, an :class:`~apinotebook.Exchange` back.

>>> crm = RestClient("http://127.0.0.1:8000/crm", auth=Bearer(Secret.from_env("CRM_TOKEN")))
>>> crm.get("/contacts", params={"limit": 5}).json()["data"]           # doctest: +SKIP
>>> for contact in crm.paginate("/contacts"): ...                      # doctest: +SKIP
>>> exchanges = crm.gather([("GET", f"/contacts/{i}") for i in ids])   # doctest: +SKIP

Sync methods work in scripts and inside Jupyter's running event loop alike;
``aget``/``apost``/... and :meth:`RestClient.agather` are the async path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from apinotebook._core.budget import RateBudget, resolve_budget, spending
from apinotebook._core.conditional import Validators
from apinotebook._core.contracts import after_response, contract_mode
from apinotebook._core.http import DEFAULT_MAX_RESPONSE_SIZE, ClientBase, HistoryArg, HttpCore
from apinotebook._core.secrets import mask_url
from apinotebook._core.views import show
from apinotebook._exceptions import ConfigError
from apinotebook._exchange import Exchange
from apinotebook.paginate import apaginate, paginate
from apinotebook.rest._conventions import (
    CACHE_META,
    cache_state,
    cache_transports,
    version_header,
)
from apinotebook.retry import Retry
from apinotebook.streams import EventStream, SseSource, WebSocketClient, http_twin

__all__ = ["Call", "RestClient"]

#: One request for :meth:`RestClient.gather`: ``("GET", "/path")``,
#: ``("POST", "/path", {"json": {...}})`` or ``{"method": ..., "url": ..., ...}``.
Call = tuple[str, str] | tuple[str, str, Mapping[str, Any]] | Mapping[str, Any]

_REQUEST_KEYS = frozenset(
    {
        "params",
        "headers",
        "json",
        "data",
        "files",
        "content",
        "cookies",
        "timeout",
        "idempotent",
        "operation",
    }
)


def _split_call(call: Call) -> tuple[str, str, dict[str, Any]]:
    if isinstance(call, Mapping):
        kwargs = dict(call)
        try:
            method, url = kwargs.pop("method"), kwargs.pop("url")
        except KeyError:
            raise ConfigError("a call given as a mapping needs 'method' and 'url' keys") from None
        return str(method), str(url), kwargs
    if isinstance(call, tuple) and len(call) in (2, 3):
        extra = dict(call[2]) if len(call) == 3 else {}
        return str(call[0]), str(call[1]), extra
    raise ConfigError(
        f"cannot read call {call!r}: use ('GET', '/path'), ('POST', '/path', {{'json': ...}}) "
        "or a mapping with method and url"
    )


#: The clients made from a description (``"openapi"``, ``"curl"``): subclasses
#: register themselves with ``class OpenAPIClient(RestClient, variant="openapi")``.
_VARIANTS: dict[str, type[RestClient]] = {}


def _variant(name: str) -> Any:
    return _VARIANTS[name]


class RestClient(ClientBase):
    """A client for one REST API.

    Args:
        base_url: the API's root; request paths are joined to it.
        auth: ``Bearer``, ``Basic``, ``ApiKey``, ``OAuth2ClientCredentials`` or
            any ``httpx.Auth``; never sent to another origin on redirects.
        headers: default headers for every request.
        params: default query parameters for every request.
        timeout: seconds (or an ``httpx.Timeout``) per attempt.
        retry: a :class:`~apinotebook.retry.Retry`, ``False``, or a number of attempts.
        transport: an ``httpx`` transport, e.g. ``httpx.MockTransport`` in tests.
        history: ``True`` (the shared history), a ``History``, or ``None``.
        raise_for_status: raise :class:`~apinotebook.HTTPStatusError` for 4xx/5xx
            instead of returning the exchange.
        max_response_size: bytes; larger bodies raise ``ResponseTooLarge``.
        verify: TLS verification (on by default).
        follow_redirects: follow 3xx responses.
        version: the API version every request asks for, as ``(header, value)``
            or ``"Header: value"`` (``("X-GitHub-Api-Version", "2022-11-28")``);
            shown in the Inspector.
        conditional: revalidate ``GET`` answers that carried an ``ETag`` or
            ``Last-Modified`` (``If-None-Match`` / ``If-Modified-Since``); a
            ``304`` returns the remembered body with ``ex.from_cache`` set.
        rate_budget: slow down before the API's rate limit is spent (a
            :class:`~apinotebook.rest.RateBudget`, ``True`` or ``False``).
        cache: an on-disk HTTP cache for exploration (``True``, a path, or a
            :class:`~apinotebook.rest.HttpCache`; needs the ``cache`` extra):
            re-running a notebook reads stored ``GET`` answers instead of
            spending the rate limit again.
        check_contracts: check every response against the API description
            (clients built with :meth:`from_openapi`): ``True`` keeps the
            result on the exchange (``ex.check_contract()``, the Inspector),
            ``"raise"`` raises :class:`~apinotebook.ContractViolationError`.
    """

    def __init_subclass__(cls, *, variant: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if variant is not None:
            _VARIANTS[variant] = cls

    def __init__(
        self,
        base_url: str = "",
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        timeout: float | httpx.Timeout | None = 30.0,
        retry: Retry | bool | int | None = None,
        transport: httpx.BaseTransport | None = None,
        history: HistoryArg = True,
        raise_for_status: bool = False,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        verify: Any = True,
        follow_redirects: bool = True,
        version: tuple[str, str] | str | None = None,
        conditional: bool = True,
        rate_budget: RateBudget | bool = True,
        cache: Any = None,
        check_contracts: bool | str = False,
    ) -> None:
        self._contract_mode = contract_mode(check_contracts)
        if self._contract_mode != "off" and self._contract_source() is None:
            raise ConfigError(
                "check_contracts needs an API description: build the client with "
                "RestClient.from_openapi(spec, check_contracts=True)"
            )
        if base_url and not str(base_url).endswith("/"):
            base_url = f"{base_url}/"  # so "contacts" and "/contacts" both stay under it
        self.version = version_header(version)
        if self.version is not None:
            headers = {**dict(headers or {}), self.version[0]: self.version[1]}
        transports = cache_transports(cache, transport, verify)
        self._core = HttpCore(
            base_url=base_url,
            auth=auth,
            headers=headers,
            params=params,
            timeout=timeout,
            retry=retry,
            transport=transports[0],
            async_transport=transports[1],
            history=history,
            max_response_size=max_response_size,
            verify=verify,
            follow_redirects=follow_redirects,
        )
        self.raise_for_status = raise_for_status
        #: the remembered GET answers conditional requests revalidate (``None``: off)
        self.validators = Validators() if conditional else None
        #: the rate-limit budget requests wait for (``None``: off)
        self.rate_budget = resolve_budget(rate_budget)
        self._cached = transports[0] is not transport

    # -- configuration -------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API root."""
        return str(self._core.base_url)

    @property
    def auth(self) -> httpx.Auth | None:
        """The auth flow applied to every request."""
        return self._core.auth

    def _contract_source(self) -> Any:
        """The description responses are checked against (``None``: none known)."""
        return None

    def _url(self, url: str) -> str:
        # httpx joins "/contacts" onto "http://h/crm/" as "http://h/crm/contacts": keep that,
        # but strip the slash so the merge stays under the base path
        if self._core.base_url and url.startswith("/") and not url.startswith("//"):
            return url[1:]
        return url

    def build_request(self, method: str, url: str, **kwargs: Any) -> httpx.Request:
        """The ``httpx.Request`` a call would send (no I/O)."""
        if not _REQUEST_KEYS.issuperset(kwargs):
            unknown = sorted(set(kwargs) - _REQUEST_KEYS)[0]
            raise ConfigError.invalid_choice("request option", unknown, _REQUEST_KEYS)
        # kwargs is this call's own dict (**kwargs): dropping keys from it is safe
        kwargs.pop("idempotent", None)
        kwargs.pop("operation", None)
        if "timeout" in kwargs:
            kwargs["extensions"] = {"timeout": httpx.Timeout(kwargs.pop("timeout")).as_dict()}
        return self._core.build_request(method, self._url(url), **kwargs)

    # -- sync ------------------------------------------------------------------

    def request(self, method: str, url: str, **kwargs: Any) -> Exchange:
        """Send one request; return its :class:`~apinotebook.Exchange`.

        Keyword arguments: ``params``, ``headers``, ``json``, ``data``,
        ``files``, ``content``, ``cookies``, ``timeout``; ``idempotent=True``
        lets the retry policy repeat a POST; ``operation`` labels the exchange.
        """
        request, options = self._prepare(method, url, kwargs)
        budget = self.rate_budget
        if budget is not None:
            budget.wait()
        with spending(budget) as sent:
            sent.append(self._core.send(request, **options))
        exchange = sent[0]
        after_response(exchange, self._contract_source(), self._contract_mode)
        return exchange.raise_for_status() if self.raise_for_status else exchange

    def _prepare(
        self, method: str, url: str, kwargs: dict[str, Any]
    ) -> tuple[httpx.Request, dict[str, Any]]:
        """The request and the send options of one call."""
        options = {"protocol": "rest", "idempotent": kwargs.get("idempotent")}
        options["operation"] = kwargs.get("operation")
        request = self.build_request(method, url, **kwargs)
        options["decode"] = self._conditional(request)
        return request, options

    def _conditional(self, request: httpx.Request) -> Callable[[Exchange], Exchange] | None:
        """The decoder that answers a 304 from memory and marks HTTP-cache hits."""
        validators = self.validators
        revalidate = None
        if validators is not None:
            revalidate = validators.prepare(request, identity=f"{id(self.auth)}")
        if not self._cached:
            return revalidate

        def decode(exchange: Exchange) -> Exchange:
            if cache_state(exchange.headers):
                exchange.meta[CACHE_META] = "hit"
            return revalidate(exchange) if revalidate is not None else exchange

        return decode

    def get(self, url: str, **kwargs: Any) -> Exchange:
        """GET ``url``."""
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Exchange:
        """POST to ``url``."""
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> Exchange:
        """PUT ``url``."""
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> Exchange:
        """PATCH ``url``."""
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Exchange:
        """DELETE ``url``."""
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> Exchange:
        """HEAD ``url``."""
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> Exchange:
        """OPTIONS ``url``."""
        return self.request("OPTIONS", url, **kwargs)

    # -- async -------------------------------------------------------------------

    async def arequest(self, method: str, url: str, **kwargs: Any) -> Exchange:
        """Async :meth:`request`."""
        request, options = self._prepare(method, url, kwargs)
        budget = self.rate_budget
        if budget is not None:
            await budget.await_turn()
        with spending(budget) as sent:
            sent.append(await self._core.asend(request, **options))
        exchange = sent[0]
        after_response(exchange, self._contract_source(), self._contract_mode)
        return exchange.raise_for_status() if self.raise_for_status else exchange

    async def aget(self, url: str, **kwargs: Any) -> Exchange:
        """Async GET."""
        return await self.arequest("GET", url, **kwargs)

    async def apost(self, url: str, **kwargs: Any) -> Exchange:
        """Async POST."""
        return await self.arequest("POST", url, **kwargs)

    async def aput(self, url: str, **kwargs: Any) -> Exchange:
        """Async PUT."""
        return await self.arequest("PUT", url, **kwargs)

    async def apatch(self, url: str, **kwargs: Any) -> Exchange:
        """Async PATCH."""
        return await self.arequest("PATCH", url, **kwargs)

    async def adelete(self, url: str, **kwargs: Any) -> Exchange:
        """Async DELETE."""
        return await self.arequest("DELETE", url, **kwargs)

    async def agather(
        self, calls: Iterable[Call], *, concurrency: int = 10, return_exceptions: bool = False
    ) -> list[Exchange | BaseException]:
        """Run many requests at once, at most ``concurrency`` in flight.

        Returns the exchanges in the order of ``calls``. With
        ``return_exceptions=True`` a failed call leaves its exception in its
        place; otherwise the first failure is raised (as ``asyncio.gather``
        does, the other calls are not cancelled).
        """
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        parsed = [_split_call(c) for c in calls]
        limit = asyncio.Semaphore(concurrency)

        async def one(method: str, url: str, kwargs: dict[str, Any]) -> Exchange:
            async with limit:
                return await self.arequest(method, url, **kwargs)

        results = await asyncio.gather(
            *(one(m, u, k) for m, u, k in parsed), return_exceptions=return_exceptions
        )
        return list(results)

    def gather(
        self, calls: Iterable[Call], *, concurrency: int = 10, return_exceptions: bool = False
    ) -> list[Exchange | BaseException]:
        """Run many requests at once, at most ``concurrency`` in flight.

        Returns the exchanges in the order of ``calls``. With
        ``return_exceptions=True`` a failed call leaves its exception in its
        place; otherwise the first failure (in call order) is raised and the
        calls not yet started are cancelled.

        The calls run on worker threads through the client's own connection
        pool, so keep-alive connections carry over from one ``gather`` to the
        next, and it works the same in a script and inside a notebook's
        running event loop. With many calls in flight it holds up better than
        :meth:`agather` (docs/benchmarks.md, *fanout*); use :meth:`agather`
        from async code.
        """
        if concurrency < 1:
            raise ConfigError("concurrency must be at least 1")
        parsed = [_split_call(c) for c in calls]
        if not parsed:
            return []
        results: list[Exchange | BaseException] = []
        pool = ThreadPoolExecutor(
            min(concurrency, len(parsed)), thread_name_prefix="apinotebook-gather"
        )
        try:
            futures = [pool.submit(self.request, m, u, **k) for m, u, k in parsed]
            for future in futures:
                try:
                    results.append(future.result())
                except Exception as exc:
                    if not return_exceptions:
                        raise
                    results.append(exc)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return results

    # -- pagination, OpenAPI, curl (implemented beside their helpers) -----------

    def paginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        items: str | None = None,
        paginator: Any = "auto",
        max_items: int | None = None,
        concurrency: int = 1,
        **kwargs: Any,
    ) -> Iterator[Any]:
        """Yield the items of every page of ``path``.

        See :mod:`apinotebook.paginate` for the paginators (``"auto"`` detects
        cursors in the body or headers, ``Link`` headers, next links,
        offset/limit and page numbers). ``items`` is the path to the records
        in each page (found automatically when omitted). With a known total,
        ``concurrency > 1`` fetches independent pages at once.
        """
        return paginate(
            self,
            path,
            params=params,
            items=items,
            paginator=paginator,
            max_items=max_items,
            concurrency=concurrency,
            **kwargs,
        )

    def apaginate(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        items: str | None = None,
        paginator: Any = "auto",
        max_items: int | None = None,
        concurrency: int = 1,
        **kwargs: Any,
    ) -> AsyncIterator[Any]:
        """Async :meth:`paginate`: ``async for item in client.apaginate("/contacts")``.

        Same arguments; with ``concurrency > 1`` the remaining pages of an
        offset or page-number listing are fetched with :meth:`agather`.
        """
        return apaginate(
            self,
            path,
            params=params,
            items=items,
            paginator=paginator,
            max_items=max_items,
            concurrency=concurrency,
            **kwargs,
        )

    @classmethod
    def from_openapi(
        cls,
        spec: str | Path | bytes | Mapping[str, Any],
        *,
        base_url: str | None = None,
        auth: httpx.Auth | None = None,
        **kwargs: Any,
    ) -> Any:
        """A client built from an OpenAPI 3.x / Swagger 2.0 document (URL, path or dict).

        The result is an :class:`apinotebook.rest.OpenAPIClient`: a
        ``RestClient`` with ``.operations`` and ``.call(operation_id, **params)``.
        """
        return _variant("openapi").from_spec(spec, base_url=base_url, auth=auth, **kwargs)

    @classmethod
    def from_curl(cls, command: str, **kwargs: Any) -> Any:
        """A client configured from a ``curl`` command line; ``.replay()`` sends it.

        The result is an :class:`apinotebook.rest.CurlClient`. See :mod:`apinotebook.curl`.
        """
        return _variant("curl").from_command(command, **kwargs)

    # -- streams -------------------------------------------------------------------

    def events(
        self,
        url: str,
        *,
        method: str = "GET",
        json: bool = False,
        last_event_id: str | None = None,
        reconnect: Retry | bool | int = True,
        malformed: str = "raise",
        max_messages: int = 1000,
        **kwargs: Any,
    ) -> EventStream:
        """Server-Sent Events from ``url``: iterate with ``for`` (or ``async for``).

        Each item is a :class:`~apinotebook.streams.ServerSentEvent` (``event``,
        ``data``, ``id``, ``retry``). The client's auth, headers and parameters
        apply. A dropped connection is reopened after the server's ``retry``
        delay (else backoff) with ``Last-Event-ID``; a clean end stops the loop.

        Args:
            url: the path (joined to ``base_url``) or an absolute URL.
            method: ``GET`` (the default) or ``POST`` for APIs that stream a reply.
            json: decode each event's data as JSON.
            last_event_id: resume after this event id.
            reconnect: ``True``, ``False``, a number of consecutive attempts, or a Retry.
            malformed: with ``json=True``, ``"raise"`` (default) or ``"skip"`` events
                whose data is not JSON (they stay in the stream record).
            max_messages: events kept in the history's stream record.
            kwargs: ``params``, ``headers``, ``json_body``, ``content``, ``timeout``.
        """
        if "json_body" in kwargs:
            kwargs["json"] = kwargs.pop("json_body")
        extra = dict(kwargs.pop("headers", None) or {})
        self.build_request(method, url, headers=extra, **kwargs)  # bad options fail now

        def build(headers: Mapping[str, str]) -> httpx.Request:
            return self.build_request(method, url, headers={**extra, **headers}, **dict(kwargs))

        return EventStream(
            SseSource.of(self._core, build),
            json=json,
            last_event_id=last_event_id,
            reconnect=reconnect,
            malformed=malformed,  # type: ignore[arg-type]
            max_messages=max_messages,
        )

    def aevents(self, url: str, **kwargs: Any) -> EventStream:
        """:meth:`events` for ``async for`` (the same stream object serves both)."""
        return self.events(url, **kwargs)

    def websocket(self, url: str, **kwargs: Any) -> WebSocketClient:
        """A :class:`~apinotebook.WebSocketClient` for ``url`` under this API, with its auth.

        ``http(s)`` becomes ``ws(s)``; the client's default headers (but not its
        ``Accept``/``User-Agent``) and auth apply. Keyword arguments are
        WebSocketClient's (``subprotocols``, ``params``, ``reconnect``, ...).
        """
        target = self.build_request("GET", url).url
        headers = {
            k: v
            for k, v in self.headers.items()
            if k.lower() not in ("accept", "accept-encoding", "user-agent", "connection")
        }
        headers.update(kwargs.pop("headers", None) or {})
        kwargs.setdefault("auth", self.auth)
        kwargs.setdefault("history", self.history)
        return WebSocketClient(str(http_twin(str(target))), headers=headers, **kwargs)

    # -- lifecycle ---------------------------------------------------------------

    def explore(self, *, name: str = "client", operation: str | None = None) -> Any:
        """A RequestBuilder for this API in a notebook (needs the ``notebook`` extra).

        A form for method, path, query, headers and a JSON body; for a client
        built from OpenAPI, a searchable operation picker fills it. *Send*
        shows the exchange in an Inspector; *Copy as code* writes the call.

        Args:
            name: the client's variable in *Copy as code*.
            operation: an operation id to open the form with (OpenAPI clients).
        """
        return show(self, name=name, operation=operation)

    def __repr__(self) -> str:
        auth = f" auth={self.auth!r}" if self.auth is not None else ""
        return f"<RestClient {mask_url(self.base_url)}{auth}>"
