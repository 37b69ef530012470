"""The Exchange: one request/response record for REST, GraphQL and SOAP.

Every call of every client returns an :class:`Exchange`. It is a pure value:
it holds the request that was sent, the response that came back (status,
headers, raw bytes), timing, the retry attempts, and the protocol's decoded
payload; it does no I/O and can be built in a test by hand::

    ex = Exchange(
        protocol="rest",
        request=Request("GET", "https://api.example/contacts"),
        status=200,
        headers={"content-type": "application/json"},
        content=b'{"data": [{"id": 1}]}',
    )
    ex.json()["data"][0]["id"]   # 1
    ex.to_frame("data")          # a DataFrame

Decoding is lazy and cached: the body is parsed the first time ``.json()``,
``.data`` or ``.errors`` needs it. Renderings (``repr``, HTML, ``to_dict``,
curl) mask secrets; ``reveal_secrets=True`` is the explicit way around that.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

import httpx

from apinotebook._core import json as _json
from apinotebook._core.cassette import ReplayedHeaders
from apinotebook._core.contracts import ContractMethods
from apinotebook._core.curlfmt import format_curl
from apinotebook._core.ratelimit import ApiLifecycle, RateLimit, parse_lifecycle, parse_rate_limit
from apinotebook._core.render import exchange_html, exchange_mimebundle, human_size
from apinotebook._core.secrets import mask_body, mask_headers, mask_text, mask_url
from apinotebook._exceptions import DecodeError, GraphQLResponseError, HTTPStatusError, SoapFault
from apinotebook.frames import to_frame

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Attempt", "Exchange", "Protocol", "ProtocolName", "Request"]

ProtocolName = Literal["rest", "graphql", "soap"]
#: the 0.1 name of :data:`ProtocolName` (it shadowed ``typing.Protocol``)
Protocol = ProtocolName
PROTOCOLS: tuple[ProtocolName, ...] = ("rest", "graphql", "soap")

_UNSET: Any = object()
_SNIPPET = 300


def _headers(
    value: Mapping[str, str] | Iterable[tuple[str, str]] | httpx.Headers | None,
) -> httpx.Headers:
    if isinstance(value, httpx.Headers):
        return value
    if value is None or isinstance(value, Mapping):
        return httpx.Headers(value)
    return httpx.Headers(list(value))


def _charset(headers: httpx.Headers) -> str:
    ctype = str(headers.get("content-type", ""))
    for part in ctype.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            name = value.strip("\"' ")
            try:
                codecs.lookup(name)
            except LookupError:
                return "utf-8"
            return name
    return "utf-8"


class Request:
    """The request as it was sent: method, URL, headers, body bytes."""

    __slots__ = ("content", "headers", "method", "url")

    def __init__(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | httpx.Headers | None = None,
        content: bytes = b"",
    ) -> None:
        self.method = method.upper()
        self.url = str(url)
        self.headers = _headers(headers)
        self.content = content

    @classmethod
    def from_httpx(cls, request: httpx.Request) -> Request:
        """Copy an ``httpx.Request`` (its body must have been read)."""
        try:
            content = request.content
        except httpx.RequestNotRead:
            content = b"<streamed body>"
        return cls(request.method, str(request.url), request.headers.copy(), content)

    @property
    def text(self) -> str:
        """The body as text (undecodable bytes replaced)."""
        return str(self.content.decode(_charset(self.headers), errors="replace"))

    def to_dict(self, *, reveal_secrets: bool = False) -> dict[str, Any]:
        """JSON-ready form; secrets masked unless revealed."""
        headers = list(self.headers.multi_items())
        text = self.text
        if not reveal_secrets:
            return {
                "method": self.method,
                "url": mask_url(self.url),
                "headers": mask_headers(headers),
                "body": mask_body(text, self.headers.get("content-type")),
            }
        return {"method": self.method, "url": self.url, "headers": headers, "body": text}

    def to_curl(self, *, reveal_secrets: bool = False) -> str:
        """The request as a ``curl`` command line (secrets masked by default)."""
        return format_curl(
            self.method, self.url, self.headers, self.content, reveal_secrets=reveal_secrets
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (self.method, self.url, list(self.headers.multi_items()), self.content) == (
            other.method,
            other.url,
            list(other.headers.multi_items()),
            other.content,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Request {self.method} {mask_url(self.url)}>"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a request: what came back and how long it took."""

    number: int
    status: int | None
    error: str | None
    elapsed: float
    #: seconds waited after this attempt before the next one (0 for the last)
    wait: float = 0.0


class Exchange(ContractMethods):
    """One request and its response, for any protocol.

    Args:
        protocol: ``"rest"``, ``"graphql"`` or ``"soap"``.
        request: what was sent.
        status: HTTP status; 0 when no response arrived (see ``error``).
        headers: response headers.
        content: response body bytes.
        elapsed: seconds from sending to the last body byte.
        started_at: when the request was sent (UTC).
        attempts: every try, when the request was retried.
        operation: the operation name (GraphQL, SOAP, OpenAPI operation id).
        payload: the decoded protocol payload when the client decoded it
            (SOAP results as plain Python); otherwise decoded from ``content``.
        error: why no response arrived (``status`` is then 0).
        meta: protocol extras: SOAP ``fault``, redirects, ...
    """

    __slots__ = (
        "_cache",
        "attempts",
        "content",
        "elapsed",
        "error",
        "headers",
        "meta",
        "operation",
        "payload",
        "protocol",
        "request",
        "started_at",
        "status",
    )

    def __init__(
        self,
        *,
        protocol: ProtocolName,
        request: Request,
        status: int = 0,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | httpx.Headers | None = None,
        content: bytes = b"",
        elapsed: float = 0.0,
        started_at: datetime | None = None,
        attempts: Iterable[Attempt] = (),
        operation: str | None = None,
        payload: Any = _UNSET,
        error: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            from apinotebook._exceptions import ConfigError

            raise ConfigError.invalid_choice("protocol", protocol, PROTOCOLS)
        self.protocol: ProtocolName = protocol
        self.request = request
        self.status = status
        self.headers = _headers(headers)
        self.content = content
        self.elapsed = elapsed
        self.started_at = started_at or datetime.now(UTC)
        self.attempts = tuple(attempts)
        self.operation = operation
        self.payload = payload
        self.error = error
        self.meta: dict[str, Any] = dict(meta or {})
        self._cache: dict[str, Any] = {}

    # -- response basics -----------------------------------------------------

    @property
    def method(self) -> str:
        """The request method."""
        return self.request.method

    @property
    def url(self) -> str:
        """The request URL."""
        return self.request.url

    @property
    def reason(self) -> str:
        """The reason phrase for ``status`` (``"OK"``, ``"Not Found"``)."""
        if self.status == 0:
            return "no response"
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return ""

    @property
    def size(self) -> int:
        """Response body size in bytes (kept in ``meta`` when a history dropped the body)."""
        return len(self.content) or int(self.meta.get("response_bytes", 0))

    @property
    def content_type(self) -> str:
        """The media type of the response, without parameters."""
        return str(self.headers.get("content-type", "")).split(";")[0].strip().lower()

    @property
    def retries(self) -> int:
        """How many times the request was retried."""
        return max(0, len(self.attempts) - 1)

    @property
    def replayed(self) -> bool:
        """True when the response was served from a cassette (``apinotebook.replay``)."""
        return isinstance(self.headers, ReplayedHeaders)

    @property
    def fault(self) -> dict[str, Any] | None:
        """The SOAP Fault (code, message, detail), if the response is one."""
        fault: dict[str, Any] | None = self.meta.get("fault")
        return fault

    @property
    def rate_limit(self) -> RateLimit | None:
        """The rate-limit budget the response reports; ``None`` if it says nothing.

        Read from ``RateLimit-*`` (IETF draft), ``X-RateLimit-*`` and ``Retry-After``:
        ``ex.rate_limit.remaining``, ``.reset`` (seconds), ``.reset_at``.
        """
        if "rate_limit" not in self._cache:
            now = self.started_at + timedelta(seconds=self.elapsed)
            self._cache["rate_limit"] = parse_rate_limit(self.headers, now=now)
        limit: RateLimit | None = self._cache["rate_limit"]
        return limit

    @property
    def from_cache(self) -> bool:
        """The body was served from a cache: a ``304`` revalidated it, or the HTTP cache held it.

        ``meta["cache"]`` says which (``"revalidated"`` or ``"hit"``); a
        revalidated exchange has the remembered status and body and the 304's
        fresh headers (``meta["wire_status"]`` is 304).
        """
        return bool(self.meta.get("cache"))

    @property
    def lifecycle(self) -> ApiLifecycle | None:
        """``Deprecation`` and ``Sunset`` as the response states them (``None`` if neither)."""
        if "lifecycle" not in self._cache:
            self._cache["lifecycle"] = parse_lifecycle(self.headers)
        lifecycle: ApiLifecycle | None = self._cache["lifecycle"]
        return lifecycle

    @property
    def ok(self) -> bool:
        """True for a 1xx-3xx response without GraphQL errors or a SOAP Fault."""
        if self.status == 0 or self.status >= 400 or self.fault is not None:
            return False
        return not (self.protocol == "graphql" and self._graphql_errors(strict=False))

    @property
    def text(self) -> str:
        """The body as text, decoded with the declared charset (bad bytes replaced)."""
        return str(self.content.decode(_charset(self.headers), errors="replace"))

    # -- decoding ------------------------------------------------------------

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            DecodeError: the body is empty, not JSON (say, an HTML error
                page), or not valid UTF-8; the message says which and shows
                the start of the body.
        """
        cache = self._cache
        if "json" in cache:
            return cache["json"]
        if not self.content or self.content.isspace():
            raise DecodeError(
                f"Expected a JSON body but the response to {self.method} "
                f"{mask_url(self.url)} is empty (status {self.status}).",
                exchange=self,
            )
        try:
            value = _json.loads(self.content)
        except UnicodeDecodeError as exc:
            raise DecodeError(
                f"The response body is not valid UTF-8 (bad byte at position {exc.start}); "
                f"content-type is {self.content_type or 'missing'}. Use .content for the "
                "raw bytes.",
                exchange=self,
            ) from exc
        except ValueError as exc:
            raise DecodeError(self._not_json_message(exc), exchange=self) from exc
        except RecursionError as exc:
            raise DecodeError(
                f"The JSON body of {self.method} {mask_url(self.url)} is nested too deeply to "
                f"parse ({len(self.content):,} bytes); use .content or .text for the raw body.",
                exchange=self,
            ) from exc
        cache["json"] = value
        return value

    def _not_json_message(self, exc: ValueError) -> str:
        head = mask_body(self.text[:_SNIPPET].strip(), self.content_type)
        ctype = self.content_type or "no content-type"
        what = "malformed JSON"
        hint = ""
        if head.lstrip().startswith("<"):
            what = "HTML or XML, not JSON"
            hint = " It looks like an error or login page; check the URL and status."
        elif "json" not in ctype:
            what = f"{ctype}, not JSON"
        return (
            f"Expected JSON from {self.method} {mask_url(self.url)} (status {self.status}) "
            f"but got {what}: {exc}.{hint} Body starts with: {head!r}"
        )

    def _graphql_errors(self, *, strict: bool) -> list[dict[str, Any]]:
        try:
            body = self.json()
        except DecodeError:
            if strict:
                raise
            return []
        if not isinstance(body, dict):
            if strict:
                raise DecodeError(
                    "A GraphQL response must be a JSON object with 'data' and/or 'errors'; "
                    f"got {type(body).__name__}.",
                    exchange=self,
                )
            return []
        errors = body.get("errors") or []
        if not isinstance(errors, list):  # "errors": "boom" is one error, not four
            if strict:
                raise DecodeError(
                    "A GraphQL response's 'errors' must be a list of error objects; got "
                    f"{type(errors).__name__} {mask_text(repr(errors))[:120]}.",
                    exchange=self,
                )
            errors = [errors]
        return [e if isinstance(e, dict) else {"message": str(e)} for e in errors]

    @property
    def data(self) -> Any:
        """The protocol's payload.

        REST: the parsed JSON body (text for non-JSON bodies, ``None`` when
        empty). GraphQL: the response's ``data`` (partial data is kept when
        there are errors). SOAP: the operation's result as plain Python.
        """
        if self.payload is not _UNSET:
            return self.payload
        if self.protocol == "graphql":
            body = self.json()
            if not isinstance(body, dict):
                self._graphql_errors(strict=True)
            self._check_graphql_shape(body)
            return body.get("data")
        if not self.content:
            return None
        if "json" in self.content_type or self.content_type == "":
            try:
                return self.json()
            except DecodeError:
                if "json" in self.content_type:
                    raise
        return self.text

    def _check_graphql_shape(self, body: dict[str, Any]) -> None:
        if "data" not in body and "errors" not in body:
            keys = ", ".join(map(repr, list(body)[:5])) or "none"
            raise DecodeError(
                f"Expected a GraphQL response from {self.method} {mask_url(self.url)} "
                f"(status {self.status}): a JSON object with 'data' and/or 'errors', but its "
                f"keys are {keys}. Is this the GraphQL endpoint?",
                exchange=self,
            )

    @property
    def errors(self) -> list[dict[str, Any]]:
        """GraphQL ``errors`` (empty for other protocols and clean responses)."""
        if self.protocol != "graphql":
            return []
        return self._graphql_errors(strict=False)

    def raise_for_status(self) -> Exchange:
        """Raise the right error if this exchange failed; return ``self`` otherwise.

        Raises:
            SoapFault: the SOAP response is a Fault.
            HTTPStatusError: the status is 4xx or 5xx (for GraphQL too: a 401
                with GraphQL ``errors`` is an authentication failure first).
            GraphQLResponseError: a 2xx GraphQL response carries ``errors``.
            DecodeError: a 2xx GraphQL response is not a GraphQL response.
        """
        fault = self.fault
        if fault is not None:
            code, message = fault.get("code"), fault.get("message")
            said = ": ".join(mask_text(str(part)) for part in (code, message) if part)
            raise SoapFault(
                f"SOAP Fault from {self.operation or mask_url(self.url)}: "
                f"{said or f'no faultcode or faultstring (status {self.status}); see .detail'}",
                code=fault.get("code"),
                detail=fault.get("detail"),
                actor=fault.get("actor"),
                exchange=self,
            )
        if self.protocol == "graphql" and self.status < 400:
            errors = self._graphql_errors(strict=True)
            body = self.json()
            if isinstance(body, dict):
                self._check_graphql_shape(body)
            if errors:
                first = errors[0].get("message", "unknown error")
                more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
                raise GraphQLResponseError(
                    f"GraphQL errors from {self.operation or mask_url(self.url)}: {first}{more}",
                    errors=errors,
                    data=body.get("data") if isinstance(body, dict) else None,
                    extensions=body.get("extensions") if isinstance(body, dict) else None,
                    exchange=self,
                )
        if self.status >= 400:
            kind = "Client error" if self.status < 500 else "Server error"
            detail = mask_body(self.text[:_SNIPPET].strip(), self.content_type)
            if self.protocol == "graphql":
                graphql_errors = self._graphql_errors(strict=False)
                if graphql_errors:
                    detail = str(graphql_errors[0].get("message", detail))
            raise HTTPStatusError(
                f"{kind} {self.status} {self.reason} for {self.method} {mask_url(self.url)}"
                + (f": {detail}" if detail else ""),
                exchange=self,
            )
        return self

    # -- conversions ---------------------------------------------------------

    def to_frame(self, path: str | Iterable[str] | None = None, **kwargs: Any) -> pd.DataFrame:
        """The payload as a DataFrame; ``path`` picks the records (``"data.items"``).

        See :func:`apinotebook.frames.to_frame` for the rules.
        """
        return to_frame(self.data, path, **kwargs)

    def to_curl(self, *, reveal_secrets: bool = False) -> str:
        """The request as a ``curl`` command line (secrets masked by default)."""
        return self.request.to_curl(reveal_secrets=reveal_secrets)

    def to_dict(self, *, reveal_secrets: bool = False) -> dict[str, Any]:
        """JSON-ready form of the whole exchange; secrets masked unless revealed."""
        headers = list(self.headers.multi_items())
        body = self.text
        if not reveal_secrets:
            headers = mask_headers(headers)
            body = mask_body(body, self.content_type)
        out: dict[str, Any] = {
            "protocol": self.protocol,
            "operation": self.operation,
            "started_at": self.started_at.isoformat(),
            "elapsed": self.elapsed,
            "request": self.request.to_dict(reveal_secrets=reveal_secrets),
            "response": {
                "status": self.status,
                "reason": self.reason,
                "headers": headers,
                "body": body,
                "size": self.size,
            },
            "attempts": [
                {
                    "number": a.number,
                    "status": a.status,
                    "error": a.error,
                    "elapsed": a.elapsed,
                    "wait": a.wait,
                }
                for a in self.attempts
            ],
            "error": self.error,
        }
        if self.fault is not None:
            out["fault"] = self.fault
        return out

    def replace(self, **changes: Any) -> Exchange:
        """A copy with some fields changed."""
        values = {name: getattr(self, name) for name in self.__slots__ if name != "_cache"}
        values.update(changes)
        return Exchange(**values)

    # -- display ---------------------------------------------------------------

    def summary(self) -> str:
        """One line: protocol, method, URL, status, time, size."""
        what = self.operation or ""
        target = f"{what} " if what else ""
        outcome = f"{self.status} {self.reason}" if self.status else f"failed: {self.error}"
        retries = f" · {self.retries} retries" if self.retries else ""
        cached = self.meta.get("cache")
        if cached:
            retries += (
                " · from cache (304 Not Modified)" if cached == "revalidated" else " · cached"
            )
        replayed = " · replayed" if self.replayed else ""
        return (
            f"{self.protocol} {self.method} {target}{mask_url(self.url)} → {outcome} · "
            f"{self.elapsed * 1000:.1f} ms · {human_size(self.size)}{retries}{replayed}"
        )

    def __repr__(self) -> str:
        return f"<Exchange {self.summary()}>"

    def _repr_html_(self) -> str:
        """Static HTML for notebook viewers that cannot run widgets."""
        return exchange_html(self)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        """The inspector widget in a live kernel; HTML and text elsewhere."""
        return exchange_mimebundle(self)
