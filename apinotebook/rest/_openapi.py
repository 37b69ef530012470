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
operation, on demand, and memoised (see :mod:`apinotebook.openapi._refs`), so
a 10-15 MB document loads in about the time its JSON takes to parse. Every
call goes through :meth:`RestClient.request`, so auth, retries, redirects and
history work as for any other request, and each exchange is labelled with its
operation id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import httpx

from apinotebook._exchange import Exchange
from apinotebook.openapi import OpenAPIDocument, Operation, Operations, SpecFetcher
from apinotebook.rest._client import RestClient

__all__ = ["OpenAPIClient"]


class OpenAPIClient(RestClient, variant="openapi"):
    """A :class:`~apinotebook.RestClient` that knows the API's operations.

    Build it with :meth:`RestClient.from_openapi` (or :meth:`from_spec`).

    Args:
        spec: a URL, a file path, the document's JSON/YAML text, or a parsed dict.
        base_url: the API root; by default the spec's ``servers[0]`` (OpenAPI
            3) or ``schemes``/``host``/``basePath`` (Swagger 2).
        auth: the auth flow for the API's requests.
        spec_auth: an auth flow for fetching the spec itself (not sent by
            default); it goes only to the origin the spec is fetched from.
        remote_refs: which ``$ref`` URLs on other origins than the spec's may be
            fetched: ``False`` (default, none), ``True`` (any), or a list of
            origins (``["https://schemas.example.com"]``). Never with ``spec_auth``.
        ref_root: the folder a local spec's ``$ref`` may read files from
            (default: the spec's own folder and below).
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
        remote_refs: bool | Iterable[str] = False,
        ref_root: str | Path | None = None,
        server_variables: Mapping[str, str] | None = None,
        validate: bool = True,
        **kwargs: Any,
    ) -> None:
        fetcher = SpecFetcher(kwargs, spec_auth, remote_refs=remote_refs, ref_root=ref_root)
        self.document = OpenAPIDocument(spec, fetcher=fetcher)
        self.spec: Mapping[str, Any] = self.document.spec
        self.spec_url = self.document.url
        self.spec_version = self.document.version
        self.validate = validate
        if base_url is None:
            base_url = self.document.base_url(server_variables)
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
        return self.document.title

    @property
    def operations(self) -> Operations:
        """Every operation: a list, also indexable by operation id."""
        return self.document.operations

    @property
    def webhooks(self) -> Operations:
        """The OpenAPI 3.1 ``webhooks`` the API sends (described, not callable)."""
        return self.document.webhooks

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id.

        Raises:
            ConfigError: no such operation; the message lists close matches.
        """
        return self.document.operation(operation_id)

    def _contract_source(self) -> Any:
        """Responses are checked against this document."""
        return self.document

    # -- requests ------------------------------------------------------------------

    def _plan(self, operation_id: str, params: Mapping[str, Any]) -> tuple[
        Operation, str, dict[str, Any]
    ]:  # fmt: skip
        return self.document.plan(
            operation_id, params, base_url=self.base_url, validate=self.validate
        )

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
            f"<OpenAPIClient{title} ({self.spec_version}, {len(self.document)} operations) "
            f"{self.base_url}{auth}>"
        )
