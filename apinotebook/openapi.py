"""A REST client built from an OpenAPI 3.0/3.1 or Swagger 2.0 document.

>>> crm = RestClient.from_openapi(                                   # doctest: +SKIP
...     "http://127.0.0.1:8000/crm/openapi.json", auth=Bearer(Secret.from_env("CRM_TOKEN"))
... )
>>> crm.operations                                                  # doctest: +SKIP
<Operations (20): listContacts, createContact, upsertContactByEmail, ...>
>>> crm.operation("getContact").signature()                         # doctest: +SKIP
'getContact(contact_id: str)'
>>> crm.call("getContact", contact_id="c_0001").json()              # doctest: +SKIP

The spec is parsed once and resolved lazily: ``$ref``s are followed per
operation, on demand, and memoised (see :mod:`apinotebook._openapi_refs`), so
a 10-15 MB document loads in about the time its JSON takes to parse. Every
call goes through :meth:`RestClient.request`, so auth, retries, redirects and
history work as for any other request, and each exchange is labelled with its
operation id.
"""

from __future__ import annotations

from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from apinotebook._exceptions import ConfigError, SpecError
from apinotebook._exchange import Exchange
from apinotebook._http import map_httpx_error
from apinotebook._openapi_build import (
    Entry,
    base_url_from_spec,
    build_operation,
    check_version,
    index_operations,
)
from apinotebook._openapi_model import Operation, Operations, Parameter, RequestBody, Response
from apinotebook._openapi_refs import RefResolver, parse_document, read_file
from apinotebook._openapi_request import plan_request
from apinotebook._secrets import mask_url
from apinotebook.rest import RestClient

__all__ = ["OpenAPIClient", "Operation", "Operations", "Parameter", "RequestBody", "Response"]


class _Borrowed(httpx.BaseTransport):
    """The caller's transport, used without closing it (the client keeps using it)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the wrapped transport."""
        return self._inner.handle_request(request)


class _Fetcher:
    """Fetches the spec and the documents it refers to, over the client's transport."""

    def __init__(self, kwargs: Mapping[str, Any], auth: httpx.Auth | None) -> None:
        transport = kwargs.get("transport")
        self._settings: dict[str, Any] = {
            "transport": _Borrowed(transport) if transport is not None else None,
            "timeout": kwargs.get("timeout", 30.0),
            "verify": kwargs.get("verify", True),
            "follow_redirects": True,
            "auth": auth,
            "headers": {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.5"},
        }

    def __call__(self, url: str) -> Any:
        shown = mask_url(url)
        with httpx.Client(**self._settings) as client:
            request = client.build_request("GET", url)
            try:
                response = client.send(request)
            except httpx.HTTPError as exc:
                raise map_httpx_error(exc, request) from exc
        if response.status_code >= 400:
            hint = " Pass spec_auth= if it needs credentials." if response.status_code in (
                401, 403) else ""  # fmt: skip
            raise SpecError(
                f"fetching the OpenAPI document {shown} answered HTTP {response.status_code}.{hint}"
            )
        return parse_document(response.content, source=f"the document at {shown}")


def _looks_like_text(spec: str) -> bool:
    head = spec.lstrip("\ufeff \t\r\n")[:200]
    return "\n" in spec.strip() or head.startswith(("{", "[", "openapi", "swagger"))


def _load(spec: Any, fetch: _Fetcher) -> tuple[Any, str | None, str]:
    """The parsed document, its URI (``None`` for text/dicts) and a name for messages."""
    if isinstance(spec, Mapping):
        return spec, None, "the given dict"
    if isinstance(spec, bytes):
        return parse_document(spec, source="the given text"), None, "the given text"
    if isinstance(spec, Path):
        path = spec.expanduser().resolve()
        return read_file(path), path.as_uri(), f"file {spec.name!r}"
    if not isinstance(spec, str):
        raise SpecError(
            f"spec= takes a URL, a file path, JSON/YAML text or a parsed dict, "
            f"not {type(spec).__name__}"
        )
    if not spec.strip():
        raise SpecError(
            "spec= is empty: pass a URL, a path to a JSON/YAML file, the document's text or a dict"
        )
    scheme = urlsplit(spec.strip()).scheme.lower() if "\n" not in spec.strip() else ""
    if scheme in ("http", "https"):
        url = spec.strip()
        return fetch(url), url, f"the document at {mask_url(url)}"
    if scheme == "file":
        return _load(Path(url2pathname(urlsplit(spec.strip()).path)), fetch)
    if _looks_like_text(spec):
        return parse_document(spec, source="the given text"), None, "the given text"
    path = Path(spec).expanduser()
    if path.exists() or path.suffix.lower() in (".json", ".yaml", ".yml"):
        return _load(path, fetch)
    parsed = parse_document(spec, source="the given text")
    if not isinstance(parsed, Mapping):
        raise SpecError(
            f"spec {spec[:80]!r} is not an existing file, a URL or an OpenAPI document: pass a "
            "URL (https://...), a path to a JSON/YAML file, the document's text, or a dict"
        )
    return parsed, None, "the given text"


class OpenAPIClient(RestClient):
    """A :class:`~apinotebook.RestClient` that knows the API's operations.

    Build it with :meth:`RestClient.from_openapi` (or :meth:`from_spec`).

    Args:
        spec: a URL, a file path, the document's JSON/YAML text, or a parsed dict.
        base_url: the API root; by default the spec's ``servers[0]`` (OpenAPI
            3) or ``schemes``/``host``/``basePath`` (Swagger 2).
        auth: the auth flow for the API's requests.
        spec_auth: an auth flow for fetching the spec itself (not sent by default).
        server_variables: values for the variables of ``servers[0].url``.
        validate: check simple argument types and enums before sending.
        **kwargs: any other :class:`RestClient` option (``transport``,
            ``headers``, ``retry``, ``timeout``, ...); ``transport`` is also used
            to fetch the spec.

    Raises:
        SpecError: the document cannot be read or is not OpenAPI 3.x / Swagger 2.0.
        ConfigError: no base URL can be found; pass ``base_url=``.
    """

    def __init__(
        self,
        spec: str | Path | bytes | Mapping[str, Any],
        *,
        base_url: str | None = None,
        auth: httpx.Auth | None = None,
        spec_auth: httpx.Auth | None = None,
        server_variables: Mapping[str, str] | None = None,
        validate: bool = True,
        **kwargs: Any,
    ) -> None:
        fetch = _Fetcher(kwargs, spec_auth)
        document, uri, source = _load(spec, fetch)
        major, version = check_version(document, source=source)
        self._resolver = RefResolver(document, base_uri=uri, loader=fetch)
        self._entries = index_operations(document, self._resolver)
        self._hook_entries = index_operations(document, self._resolver, section="webhooks")
        self.spec: Mapping[str, Any] = document
        self.spec_url = uri
        self.spec_version = version
        self._major = major
        self.validate = validate
        self._built: dict[str, Operation] = {}
        if base_url is None:
            base_url = base_url_from_spec(
                document, major=major, spec_url=uri, variables=server_variables
            )
        super().__init__(base_url, auth=auth, **kwargs)

    @classmethod
    def from_spec(
        cls,
        spec: str | Path | bytes | Mapping[str, Any],
        *,
        base_url: str | None = None,
        auth: httpx.Auth | None = None,
        **kwargs: Any,
    ) -> OpenAPIClient:
        """Build a client from a spec; see the class for the arguments."""
        return cls(spec, base_url=base_url, auth=auth, **kwargs)

    # -- the document ------------------------------------------------------------

    @property
    def title(self) -> str:
        """``info.title``."""
        info = self.spec.get("info")
        return str(info.get("title") or "") if isinstance(info, Mapping) else ""

    @property
    def operations(self) -> Operations:
        """Every operation: a list, also indexable by operation id."""
        return Operations(list(self._entries), self.operation)

    @property
    def webhooks(self) -> Operations:
        """The OpenAPI 3.1 ``webhooks`` the API sends (described, not callable)."""
        return Operations(list(self._hook_entries), self._webhook)

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id.

        Raises:
            ConfigError: no such operation; the message lists close matches.
        """
        built = self._built.get(operation_id)
        if built is not None:
            return built
        entry = self._entries.get(operation_id)
        if entry is None:
            raise self._unknown(operation_id)
        return self._build(entry, self._built)

    def _webhook(self, name: str) -> Operation:
        entry = self._hook_entries.get(name)
        if entry is None:
            raise ConfigError.invalid_choice("webhook", name, self._hook_entries)
        return build_operation(entry, self.spec, self._resolver, major=self._major)

    def _build(self, entry: Entry, cache: dict[str, Operation]) -> Operation:
        op = build_operation(entry, self.spec, self._resolver, major=self._major)
        cache[entry.id] = op
        return op

    def _unknown(self, operation_id: str) -> ConfigError:
        ids = list(self._entries)
        folded = {i.lower().replace("_", "").replace("-", ""): i for i in ids}
        key = str(operation_id).lower().replace("_", "").replace("-", "")
        close = ([folded[key]] if key in folded else []) + get_close_matches(
            str(operation_id), ids, n=5, cutoff=0.6
        )
        close = list(dict.fromkeys(close))[:5]
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        listed = ", ".join(ids[:15]) + (f", ... ({len(ids) - 15} more)" if len(ids) > 15 else "")
        return ConfigError(
            f"Unknown operation {operation_id!r}.{hint} The spec has {len(ids)} operations: "
            f"{listed or 'none'}. Search them with client.operations.search('...')."
        )

    # -- requests ------------------------------------------------------------------

    def _plan(self, operation_id: str, params: Mapping[str, Any]) -> tuple[
        Operation, str, dict[str, Any]
    ]:  # fmt: skip
        op = self.operation(operation_id)
        url, kwargs = plan_request(op, params, base_url=self.base_url, validate=self.validate)
        return op, url, kwargs

    def prepare(self, operation_id: str, /, **params: Any) -> httpx.Request:
        """The ``httpx.Request`` that :meth:`call` would send (no I/O, no auth applied).

        Takes the same arguments as :meth:`call`.
        """
        op, url, kwargs = self._plan(operation_id, params)
        return self.build_request(op.method, url, **kwargs)

    def call(self, operation_id: str, /, **params: Any) -> Exchange:
        """Call an operation by id; return its :class:`~apinotebook.Exchange`.

        Pass every parameter by keyword: its name in the spec, or the keyword
        form shown by ``operation.signature()`` (``X-Request-ID`` ->
        ``x_request_id``). Path parameters are percent-encoded into the path,
        query lists follow the spec's ``style``/``explode``, and the request
        body is ``body=`` (or ``json=``); Swagger 2 form fields are keywords
        too. ``headers=``, ``timeout=`` and ``content_type=`` (which declared
        body type to send) are also accepted. ``None`` means "not given".

        Raises:
            ConfigError: unknown operation, unknown or missing parameters, or a
                value of the wrong simple type; the message shows the signature.
        """
        op, url, kwargs = self._plan(operation_id, params)
        return self.request(op.method, url, operation=op.id, **kwargs)

    async def acall(self, operation_id: str, /, **params: Any) -> Exchange:
        """Async :meth:`call`."""
        op, url, kwargs = self._plan(operation_id, params)
        return await self.arequest(op.method, url, operation=op.id, **kwargs)

    def __repr__(self) -> str:
        title = f" {self.title!r}" if self.title else ""
        auth = f" auth={self.auth!r}" if self.auth is not None else ""
        return (
            f"<OpenAPIClient{title} ({self.spec_version}, {len(self._entries)} operations) "
            f"{self.base_url}{auth}>"
        )
