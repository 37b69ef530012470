"""The GraphQL client: queries and mutations over HTTP, an Exchange back.

>>> mail = GraphQLClient(url, auth=ApiKey(Secret.from_env("MAIL_API_KEY")))  # doctest: +SKIP
>>> ex = mail.execute("query { lists { totalCount } }")                       # doctest: +SKIP
>>> ex.data, ex.errors                                                        # doctest: +SKIP
>>> for sub in mail.paginate(QUERY, "list.subscribers", {"id": "lst_1"}): ...  # doctest: +SKIP

Every call goes through the same send loop as the REST and SOAP clients
(auth, retries, history, size limit), so every GraphQL call, the introspection
query included, is an :class:`~apinotebook.Exchange` in the history.

Documents are parsed and validated locally with graphql-core before anything
is sent: a query that does not match the schema raises
:class:`~apinotebook.QueryValidationError` listing every problem with its
line and column, and no request leaves the machine. The schema comes from
``schema=`` (SDL, an introspection result, a file, a ``GraphQLSchema``) or is
fetched by introspection on first need. A response with ``errors`` is *not*
raised: ``.data`` keeps any partial result, ``.errors`` the errors, and
``.raise_for_status()`` raises :class:`~apinotebook.GraphQLResponseError`.

The sync methods are plain blocking calls, so they also work inside Jupyter's
running event loop; ``aexecute`` and ``apaginate`` are the async path.
(gql's own ``Client.execute`` is not used: with an async transport it refuses
to run inside a running loop, and its transports would bypass the history.)
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union

import httpx

from apinotebook._core.contracts import after_response, contract_mode
from apinotebook._core.http import DEFAULT_MAX_RESPONSE_SIZE, ClientBase, HistoryArg, HttpCore
from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._core.views import show
from apinotebook._exceptions import (
    ConfigError,
    QueryValidationError,
    ResponseError,
    SchemaError,
    SpecError,
)
from apinotebook._exchange import Exchange
from apinotebook.graphql._subscribe import SubscriptionsMixin
from apinotebook.retry import Retry

if TYPE_CHECKING:
    import os

    from graphql import DocumentNode, GraphQLSchema

    from apinotebook.graphql._documents import Prepared, RequestLike
    from apinotebook.graphql._relay import ConnectionWalk

__all__ = ["ACCEPT", "AsyncPages", "GraphQLClient", "Pages", "QueryInput", "SchemaSource"]

#: A document: text, a graphql-core ``DocumentNode`` or a gql ``GraphQLRequest``
#: (any object with ``document``/``variable_values``/``operation_name``: gql is optional).
QueryInput = Union["str", "DocumentNode", "RequestLike"]
#: SDL text or bytes, a schema file path, an introspection dict, or a ``GraphQLSchema``.
SchemaSource = Union["str", "bytes", "os.PathLike[str]", "Mapping[str, Any]", "GraphQLSchema"]

#: The ``Accept`` header of every request (GraphQL over HTTP, then plain JSON).
ACCEPT = "application/graphql-response+json, application/json"
#: Statuses after which a failed introspection is tried again on next need
#: (credentials being fixed, or a passing overload); other failures are final.
_RETRY_INTROSPECTION = frozenset({401, 403, 407, 408, 429, 502, 503, 504})


class GraphQLClient(SubscriptionsMixin, ClientBase):
    """A client for one GraphQL endpoint.

    Args:
        url: the endpoint (``https://api.example/graphql``); may be ``None``
            for a client that only validates against ``schema``.
        auth: ``Bearer``, ``Basic``, ``ApiKey`` (e.g.
            ``ApiKey(key, header="X-API-Key")``), ``OAuth2ClientCredentials`` or
            any ``httpx.Auth``.
        headers: default headers for every request.
        schema: SDL text; a path to a ``.graphql``/``.graphqls``/``.sdl`` file or
            to an introspection ``.json`` file; an introspection result dict
            (with or without its ``{"data": ...}`` wrapper); or a
            ``graphql.GraphQLSchema``. Loaded at once. A schema that breaks strict
            validation (as big public APIs' schemas do) loads anyway, with its
            problems in :attr:`schema_problems`; one that cannot be read raises
            :class:`~apinotebook.SpecError`.
        fetch_schema: without ``schema``, fetch it by introspection on first
            need (``.schema``, ``.validate()``, ``.execute()``). A server that
            refuses introspection does not stop queries: they are sent without
            local validation and the reason is kept in :attr:`schema_error`.
        timeout: seconds (or an ``httpx.Timeout``) per attempt.
        retry: a :class:`~apinotebook.retry.Retry`, ``False``, or a number of
            attempts. Queries are retried on 429/5xx and dropped connections;
            mutations only when the request carries an ``Idempotency-Key``.
        transport: an ``httpx`` transport, e.g. ``httpx.MockTransport`` in tests.
        history: ``True`` (the shared history), a ``History``, or ``None``.
        max_response_size: bytes; larger bodies raise ``ResponseTooLarge``.
        verify: TLS verification (on by default).
        strict: refuse a schema that breaks strict validation (SpecError).
        check_contracts: check each response's data against the query's result type
            (``True``: keep the result; ``"raise"``: raise ContractViolationError).
    """

    def __init__(
        self,
        url: str | httpx.URL | None = None,
        *,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        schema: SchemaSource | None = None,
        fetch_schema: bool = True,
        timeout: float | httpx.Timeout | None = 30.0,
        retry: Retry | bool | int | None = None,
        transport: httpx.BaseTransport | None = None,
        history: HistoryArg = True,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
        verify: Any = True,
        strict: bool = False,
        check_contracts: bool | str = False,
    ) -> None:
        self._contract_mode = contract_mode(check_contracts)
        merged = httpx.Headers({"Accept": ACCEPT})
        merged.update(dict(headers or {}))
        self._core = HttpCore(
            auth=auth,
            headers=dict(merged.items()),
            timeout=timeout,
            retry=retry,
            transport=transport,
            history=history,
            max_response_size=max_response_size,
            verify=verify,
        )
        self.url = str(url) if url else None
        self.fetch_schema = fetch_schema
        #: refuse a schema that breaks strict validation (by default it loads, listed
        #: in :attr:`schema_problems`)
        self.strict = strict
        #: Why the schema could not be fetched by introspection (``None`` if it was).
        self.schema_error: SchemaError | None = None
        self._schema: GraphQLSchema | None = None
        #: no (more) introspection to try: a schema is known, or fetching gave up
        self._settled = schema is not None or not fetch_schema or self.url is None
        if schema is not None:
            from apinotebook.graphql._schema import load_schema

            self._schema = load_schema(schema, strict=strict)

    # -- configuration -------------------------------------------------------

    @property
    def auth(self) -> httpx.Auth | None:
        """The auth flow applied to every request."""
        return self._core.auth

    # -- the schema ----------------------------------------------------------

    @property
    def schema(self) -> GraphQLSchema:
        """The schema (a ``graphql.GraphQLSchema``), fetched by introspection if needed.

        Raises:
            SchemaError: no schema was given and none could be fetched (the
                reason is in the message and in :attr:`schema_error`).
        """
        return self._require(self._ensure_schema())

    @property
    def schema_problems(self) -> list[str]:
        """What strict validation finds wrong with the schema (empty when it is valid).

        Schemas that real APIs publish often break a rule of the GraphQL spec (a
        field defined twice, deprecations that do not match between an interface
        and its implementations). They load anyway and queries are still
        validated against them; ``GraphQLClient(..., strict=True)`` refuses them.
        """
        from apinotebook.graphql._schema import schema_problems

        schema = self._schema
        return schema_problems(schema) if schema is not None else []

    def _require(self, schema: GraphQLSchema | None) -> GraphQLSchema:
        if schema is not None:
            return schema
        error = self.schema_error
        if error is not None:
            raise SchemaError(str(error)) from error.__cause__
        if self.url is None:
            how = "pass schema= (SDL text, a .graphql or introspection .json file, or a dict)"
        else:
            how = "pass schema=, or fetch_schema=True to introspect the server"
        raise SchemaError(f"This client has no schema: {how}.")

    def refresh_schema(self) -> GraphQLSchema:
        """Fetch the schema by introspection now (again), replacing the one held."""
        self._url()
        self._settled = False
        return self._require(self._ensure_schema())

    async def arefresh_schema(self) -> GraphQLSchema:
        """Async :meth:`refresh_schema`."""
        self._url()
        self._settled = False
        return self._require(await self._aensure_schema())

    def _ensure_schema(self) -> GraphQLSchema | None:
        if not self._settled:
            request, prepared = self._introspection()
            exchange = self._core.send(
                request, protocol="graphql", operation=prepared.label, idempotent=True
            )
            self._accept_schema(exchange)
        return self._schema

    async def _aensure_schema(self) -> GraphQLSchema | None:
        if not self._settled:
            request, prepared = self._introspection()
            exchange = await self._core.asend(
                request, protocol="graphql", operation=prepared.label, idempotent=True
            )
            self._accept_schema(exchange)
        return self._schema

    def _introspection(self) -> tuple[httpx.Request, Prepared]:
        from apinotebook.graphql._documents import prepare
        from apinotebook.graphql._schema import introspection_query

        prepared = prepare(introspection_query())
        return self._build(prepared, None, None), prepared

    def _accept_schema(self, exchange: Exchange) -> None:
        from apinotebook.graphql._schema import require_valid, schema_from_introspection

        url = mask_url(exchange.url)
        try:
            exchange.raise_for_status()
            origin = f"the introspection result from {url}"
            schema = schema_from_introspection(exchange.data, origin=origin)
            if self.strict:
                require_valid(schema, origin)
        except (ResponseError, SpecError) as exc:
            self._schema = None
            self._settled = exchange.status not in _RETRY_INTROSPECTION
            error = SchemaError(
                f"Could not load the schema of {url} by introspection (status "
                f"{exchange.status}): {mask_text(str(exc))} "
                "Queries are sent without local validation; pass schema= (SDL text, a .graphql "
                "file or an introspection .json file) to validate them locally."
            )
            error.__cause__ = exc
            self.schema_error = error
            return
        self._schema, self._settled, self.schema_error = schema, True, None

    # -- documents -------------------------------------------------------------

    def validate(
        self,
        query: QueryInput,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> list[str]:
        """Check ``query`` against the schema without sending it.

        Returns:
            One ``"line:column: message"`` string per problem (syntax errors
            included); empty when the query is valid. With ``variables``, their
            values are checked against the declared types too.

        Raises:
            SchemaError: no schema is known and none can be fetched.
        """
        from apinotebook.graphql._documents import (
            parse_document,
            prepare,
            unwrap,
            validation_errors,
        )

        query, variables, operation_name = unwrap(query, variables, operation_name)
        try:
            document, _ = parse_document(query)
        except QueryValidationError as exc:
            return list(exc.errors)
        schema = self.schema
        operation = None
        if variables is not None or operation_name is not None:
            operation = prepare(document, operation_name).operation
        return validation_errors(schema, document, operation, variables)

    def _prepare(
        self, query: Any, variables: Mapping[str, Any] | None, operation_name: str | None
    ) -> tuple[Prepared, Mapping[str, Any] | None]:
        from apinotebook.graphql._documents import prepare, unwrap

        query, variables, operation_name = unwrap(query, variables, operation_name)
        prepared = prepare(query, operation_name)
        if prepared.kind == "subscription":
            raise ConfigError(
                f"{prepared.label!r} is a subscription: start it with client.subscribe(...) "
                "and iterate the results (a WebSocket or SSE connection)."
            )
        if variables is not None and not isinstance(variables, Mapping):
            raise ConfigError(f"variables= takes a dict, not {type(variables).__name__}")
        self._url()
        return prepared, variables

    def _url(self) -> str:
        if self.url is None:
            raise ConfigError("This GraphQLClient has no url: create it with GraphQLClient(url).")
        return self.url

    def _check(self, prepared: Prepared, variables: Mapping[str, Any] | None, schema: Any) -> None:
        from apinotebook.graphql._documents import prepared_errors

        if schema is None:
            return
        problems = prepared_errors(schema, prepared, variables)
        if problems:
            shown = "\n".join(f"  {p}" for p in problems)
            raise QueryValidationError(
                f"{prepared.label} does not match the schema of {mask_url(self._url())} "
                f"({len(problems)} problem{'s' if len(problems) > 1 else ''}); nothing was "
                f"sent:\n{shown}\nFix the query, or pass validate=False if the schema is out "
                "of date (client.refresh_schema() fetches it again).",
                errors=problems,
            )

    def _build(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        payload: dict[str, Any] = {"query": prepared.text}
        if variables is not None:
            payload["variables"] = dict(variables)
        if prepared.operation_name:
            payload["operationName"] = prepared.operation_name
        try:
            body = json.dumps(payload, ensure_ascii=False, allow_nan=False).encode()
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"The variables of {prepared.label} cannot be sent as JSON: {exc}. Convert "
                "dates to ISO strings and decimals to str or float first."
            ) from exc
        return self._core.build_request(
            "POST",
            self._url(),
            content=body,
            headers={"Content-Type": "application/json", **dict(headers or {})},
        )

    # -- sync ------------------------------------------------------------------

    def execute(
        self,
        query: QueryInput,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        validate: bool = True,
    ) -> Exchange:
        """Run a query or mutation; return its :class:`~apinotebook.Exchange`.

        Args:
            query: the document: text, a ``graphql.DocumentNode``, or a gql
                ``GraphQLRequest`` (e.g. built with ``gql.dsl``).
            variables: the operation's variables.
            operation_name: which operation of a multi-operation document runs.
            headers: extra headers for this request (``Idempotency-Key`` lets
                the retry policy repeat a mutation).
            validate: check the document and variables against the schema
                first (when one is known).

        Returns:
            The exchange: ``.data`` (partial data kept), ``.errors``;
            ``.raise_for_status()`` raises ``GraphQLResponseError`` or ``HTTPStatusError``.

        Raises:
            QueryValidationError: the query does not parse or does not match
                the schema; nothing was sent.
            ConfigError: a subscription, an unknown ``operation_name``, or
                variables that are not JSON.
            TransportError: no response arrived (after the retries).
        """
        prepared, variables = self._prepare(query, variables, operation_name)
        if validate:
            self._check(prepared, variables, self._ensure_schema())
        return self._send(prepared, variables, headers)

    def _send(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> Exchange:
        exchange = self._core.send(self._build(prepared, variables, headers), protocol="graphql",
            operation=prepared.label, idempotent=prepared.kind == "query" or None)  # fmt: skip
        return after_response(exchange, self._schema, self._contract_mode)

    def paginate(
        self,
        query: QueryInput,
        connection_path: str,
        variables: Mapping[str, Any] | None = None,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        cursor_variable: str = "after",
        page_size_variable: str = "first",
        headers: Mapping[str, str] | None = None,
    ) -> Pages:
        """Walk a Relay connection page by page, yielding its nodes lazily.

        Args:
            query: a query that declares ``$after: String`` (see
                ``cursor_variable``), passes it to the connection, and selects
                ``pageInfo { hasNextPage endCursor }`` and ``edges { node }``
                (or ``nodes``) in it.
            connection_path: where the connection is in ``data``, by response
                key: ``"subscribers"``, ``"list.subscribers"``.
            variables: the other variables (not changed).
            page_size: sets ``$first`` (see ``page_size_variable``).
            max_items: stop after this many nodes.
            cursor_variable: the variable that receives each ``endCursor``.
            page_size_variable: the variable ``page_size`` sets.
            headers: extra headers for every page request.

        Returns:
            An iterator of nodes; its ``exchanges`` and ``errors`` list every
            page's exchange and the errors of pages that had partial data.

        Raises:
            ConfigError: (at once) the query cannot be paged: the message says
                what to add.
            GraphQLResponseError: (while iterating) a page came back with errors and
                without the connection.
        """
        return Pages(self, self._walk(query, connection_path, variables, page_size, max_items,
                                      cursor_variable, page_size_variable), headers)  # fmt: skip

    def _walk(
        self,
        query: QueryInput,
        path: str,
        variables: Mapping[str, Any] | None,
        page_size: int | None,
        max_items: int | None,
        cursor_variable: str,
        page_size_variable: str,
    ) -> ConnectionWalk:
        from apinotebook.graphql._relay import ConnectionWalk

        prepared, variables = self._prepare(query, variables, None)
        return ConnectionWalk(
            prepared, path, variables, page_size=page_size, max_items=max_items,
            cursor_variable=cursor_variable, page_size_variable=page_size_variable,
        )  # fmt: skip

    # -- async -------------------------------------------------------------------

    async def aexecute(
        self,
        query: QueryInput,
        variables: Mapping[str, Any] | None = None,
        operation_name: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        validate: bool = True,
    ) -> Exchange:
        """Async :meth:`execute`."""
        prepared, variables = self._prepare(query, variables, operation_name)
        if validate:
            self._check(prepared, variables, await self._aensure_schema())
        return await self._asend(prepared, variables, headers)

    async def _asend(
        self,
        prepared: Prepared,
        variables: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
    ) -> Exchange:
        exchange = await self._core.asend(self._build(prepared, variables, headers),
            protocol="graphql", operation=prepared.label,
            idempotent=True if prepared.kind == "query" else None)  # fmt: skip
        return after_response(exchange, self._schema, self._contract_mode)

    def apaginate(
        self,
        query: QueryInput,
        connection_path: str,
        variables: Mapping[str, Any] | None = None,
        *,
        page_size: int | None = None,
        max_items: int | None = None,
        cursor_variable: str = "after",
        page_size_variable: str = "first",
        headers: Mapping[str, str] | None = None,
    ) -> AsyncPages:
        """Async :meth:`paginate`: ``async for node in client.apaginate(...)``."""
        return AsyncPages(self, self._walk(query, connection_path, variables, page_size,
                                           max_items, cursor_variable, page_size_variable),
                          headers)  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------

    def explore(self, *, name: str = "client", query: str = "") -> Any:
        """A SchemaExplorer in a notebook (needs the ``notebook`` extra).

        Browse the schema, tick fields to build a query, see validation errors
        live, run it.

        Args:
            name: the client's variable in *Copy as code*.
            query: a query to start from.
        """
        return show(self, name=name, query=query)

    def __repr__(self) -> str:
        url = mask_url(self.url) if self.url else "(no url)"
        auth = f" auth={self.auth!r}" if self.auth is not None else ""
        if self._schema is not None:
            schema = f"{len(self._schema.type_map)} types"
        elif self.schema_error is not None:
            schema = "unavailable"
        else:
            schema = "not loaded" if not self._settled else "none"
        return f"<GraphQLClient {url}{auth} schema={schema}>"


class _PagesBase:
    """What the sync and async page iterators share."""

    def __init__(
        self, client: GraphQLClient, walk: ConnectionWalk, headers: Mapping[str, str] | None
    ) -> None:
        self._client = client
        self._walk = walk
        self._headers = dict(headers or {})
        self._buffer: deque[Any] = deque()
        #: one exchange per page fetched so far
        self.exchanges: list[Exchange] = []
        #: GraphQL errors of pages that still carried the connection (partial data)
        self.errors: list[dict[str, Any]] = []

    def _keep(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        self._buffer.extend(self._walk.feed(exchange, self.errors))

    def __repr__(self) -> str:
        walk = self._walk
        return (
            f"<{type(self).__name__} {'.'.join(walk.path)}: {walk.items} items, {walk.pages} pages>"
        )


class Pages(_PagesBase):
    """The nodes of a Relay connection, fetched page by page as you iterate.

    ``exchanges`` holds each page's exchange; ``errors`` the GraphQL errors of
    pages that still carried the connection (partial data: some fields null).
    """

    def __iter__(self) -> Pages:
        return self

    def __next__(self) -> Any:
        while not self._buffer:
            variables = self._walk.next_variables()
            if variables is None:
                raise StopIteration
            client, prepared = self._client, self._walk.prepared
            if not self.exchanges:
                client._check(prepared, variables, client._ensure_schema())
            self._keep(client._send(prepared, variables, self._headers))
        return self._buffer.popleft()


class AsyncPages(_PagesBase):
    """Async :class:`Pages`: ``async for node in client.apaginate(...)``."""

    def __aiter__(self) -> AsyncPages:
        return self

    async def __anext__(self) -> Any:
        while not self._buffer:
            variables = self._walk.next_variables()
            if variables is None:
                raise StopAsyncIteration
            client, prepared = self._client, self._walk.prepared
            if not self.exchanges:
                client._check(prepared, variables, await client._aensure_schema())
            self._keep(await client._asend(prepared, variables, self._headers))
        return self._buffer.popleft()
