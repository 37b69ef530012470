"""IPython magics: ``%%rest``, ``%%graphql`` and ``%%soap`` cells.

Load them with ``%load_ext apinotebook``::

    %%rest crm --out contacts
    GET /contacts?limit={{n}}
    Accept: application/json

    %%graphql mail --variables vars --out inbox
    query Inbox($first: Int) { messages(first: $first) { edges { node { subject } } } }

    %%soap billing GetInvoice
    invoiceId: INV-000123

The syntax is :mod:`apinotebook._core.cellsyntax` (shared with the exporter, so a
cell means the same in a notebook and in an exported script). ``{{name}}``
templates read a notebook variable, else an environment variable. Each cell
runs through the named client from the notebook (``client.request``,
``client.execute``, ``client.call``), binds the :class:`~apinotebook.Exchange`
to ``_`` (and to ``--out NAME``) and shows the Inspector.

A mistake — bad syntax, an unknown or wrong client, a transport error, a
query that does not match the schema, a SOAP Fault — is reported as one
paragraph (IPython's ``UsageError``), never as a traceback into this module.
When the error carries an exchange (a Fault, an error status) the exchange is
still bound and shown first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, cast

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class

from apinotebook._core.cellsyntax import (
    GraphQLCell,
    MagicKind,
    RestCell,
    SoapCell,
    namespace_resolver,
    parse_cell,
    substitute,
)
from apinotebook._core.secrets import mask_text
from apinotebook._core.views import in_kernel, show
from apinotebook._exceptions import ApiNotebookError
from apinotebook._exchange import Exchange
from apinotebook.magics._streams import (
    DEFAULT_LIMIT,
    collect,
    is_subscription,
    parse_stream_cell,
    resolve_lines,
)

__all__ = ["ApiMagics", "load_ipython_extension"]

#: magic -> (module, class, what the client is called in messages, the method the magic calls)
_CLIENTS: dict[str, tuple[str, str, str]] = {
    "rest": ("apinotebook.rest", "RestClient", "request"),
    "graphql": ("apinotebook.graphql", "GraphQLClient", "execute"),
    "soap": ("apinotebook.soap", "SoapClient", "call"),
}


def _client_class(kind: str) -> type | None:
    import importlib

    module, name, _ = _CLIENTS[kind]
    try:
        cls: type = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None
    return cls


def _one_paragraph(exc: BaseException) -> str:
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return mask_text(text or type(exc).__name__)


@magics_class
class ApiMagics(Magics):
    """The ``%%rest``, ``%%graphql`` and ``%%soap`` cell magics."""

    # -- helpers ---------------------------------------------------------------------------

    @property
    def _ns(self) -> dict[str, Any]:
        shell = self.shell
        if shell is None:
            raise UsageError("the apinotebook magics need a running IPython shell")
        namespace: dict[str, Any] = shell.user_ns
        return namespace

    def _parse(self, kind: MagicKind, line: str, cell: str) -> RestCell | GraphQLCell | SoapCell:
        try:
            return parse_cell(kind, line, cell or "")
        except ApiNotebookError as exc:
            raise UsageError(f"%%{kind}: {_one_paragraph(exc)}") from None

    def _client(self, kind: str, name: str) -> Any:
        module, cls_name, method = _CLIENTS[kind]
        if name not in self._ns:
            raise UsageError(
                f"%%{kind}: there is no variable {name!r} in the notebook. Create the client "
                f"first, e.g. {name} = {cls_name}(...), then run this cell again."
            )
        client = self._ns[name]
        cls = _client_class(kind)
        wrong = (
            not isinstance(client, cls)
            if cls is not None
            else not callable(getattr(client, method, None))
        )
        if wrong:
            raise UsageError(
                f"%%{kind}: {name!r} is a {type(client).__name__}, not a {cls_name}. "
                f"%%{kind} sends through a {cls_name} ({module}); use the magic that matches "
                "the client, or point this one at another variable."
            )
        return client

    def _resolver(self) -> Callable[[str], Any]:
        return namespace_resolver(self._ns, os.environ)

    def _run(self, kind: str, call: Callable[[], Exchange], out: str | None) -> None:
        try:
            exchange = call()
        except ApiNotebookError as exc:
            carried = getattr(exc, "exchange", None)
            if isinstance(carried, Exchange):
                self._bind(carried, out)
            raise UsageError(f"%%{kind}: {_one_paragraph(exc)}") from None
        except UsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - a magic reports, it never dumps a traceback
            raise UsageError(
                f"%%{kind}: the call failed with {type(exc).__name__}: {_one_paragraph(exc)}"
            ) from None
        self._bind(exchange, out)

    def _bind(self, exchange: Exchange, out: str | None) -> None:
        self._ns["_"] = exchange
        if out:
            self._ns[out] = exchange
        _show(exchange, name=out or "_")

    # -- the magics ------------------------------------------------------------------------

    @cell_magic
    def rest(self, line: str, cell: str) -> None:
        """``%%rest [CLIENT] [--out NAME]``: send an HTTP-file style request."""
        parsed = cast(RestCell, self._parse("rest", line, cell))
        client = self._client("rest", parsed.client) if parsed.client else None
        resolve = self._resolver()
        try:
            url = substitute(parsed.url, resolve)
            headers = [(k, substitute(v, resolve)) for k, v in parsed.headers]
            body = substitute(parsed.body, resolve) if parsed.body is not None else None
        except ApiNotebookError as exc:
            raise UsageError(f"%%rest: {_one_paragraph(exc)}") from None
        if client is None and "://" not in url:
            raise UsageError(
                f"%%rest: {url!r} is relative: name a client (%%rest crm) or write an absolute URL"
            )

        def call() -> Exchange:
            kwargs: dict[str, Any] = {"headers": headers}
            if body is not None:
                kwargs["content"] = body.encode("utf-8")
            if client is not None:
                result: Exchange = client.request(parsed.method, url, **kwargs)
                return result
            from apinotebook.rest import RestClient

            with RestClient() as temporary:
                return temporary.request(parsed.method, url, **kwargs)

        self._run("rest", call, parsed.out)

    @cell_magic
    def graphql(self, line: str, cell: str) -> None:
        """``%%graphql CLIENT [--variables NAME] [--operation NAME] [--out NAME] [--limit N]``.

        A ``subscription`` streams its results until ``--limit`` (default 100) or
        until the cell is stopped.
        """
        parsed = cast(GraphQLCell, self._parse("graphql", line, cell))
        client = self._client("graphql", parsed.client)
        variables: Mapping[str, Any] | None = None
        if parsed.variables:
            if parsed.variables not in self._ns:
                raise UsageError(
                    f"%%graphql: --variables {parsed.variables}: there is no such variable in "
                    f"the notebook; set it first, e.g. {parsed.variables} = {{'first': 10}}"
                )
            variables = self._ns[parsed.variables]
            if not isinstance(variables, Mapping):
                raise UsageError(
                    f"%%graphql: --variables {parsed.variables} must be a dict of variable "
                    f"values, not a {type(variables).__name__}"
                )
        try:
            query = substitute(parsed.query, self._resolver())
        except ApiNotebookError as exc:
            raise UsageError(f"%%graphql: {_one_paragraph(exc)}") from None

        if is_subscription(query, parsed.operation_name):
            try:
                sub = client.subscribe(query, variables, parsed.operation_name)
            except ApiNotebookError as exc:
                raise UsageError(f"%%graphql: {_one_paragraph(exc)}") from None
            results = collect("graphql", sub, parsed.limit or DEFAULT_LIMIT, print)
            self._bind_stream(results, parsed.out)
            return

        def call() -> Exchange:
            result: Exchange = client.execute(query, variables, parsed.operation_name)
            return result

        self._run("graphql", call, parsed.out)

    @cell_magic
    def soap(self, line: str, cell: str) -> None:
        """``%%soap CLIENT OPERATION [--out NAME]``: arguments as YAML or JSON."""
        parsed = cast(SoapCell, self._parse("soap", line, cell))
        client = self._client("soap", parsed.client)
        try:
            arguments = parsed.parsed_arguments(self._resolver())
        except ApiNotebookError as exc:
            raise UsageError(f"%%soap: {_one_paragraph(exc)}") from None

        def call() -> Exchange:
            result: Exchange = client.call(parsed.operation, arguments)
            return result

        self._run("soap", call, parsed.out)

    # -- streams ---------------------------------------------------------------------------

    @cell_magic
    def sse(self, line: str, cell: str) -> None:
        """``%%sse CLIENT [--limit N] [--json] [--out NAME]``: read an event stream."""
        parsed = parse_stream_cell("sse", line, cell)
        client = self._client("rest", parsed.client)
        first, *headers = resolve_lines(parsed.lines, self._ns)
        method, _, path = first.partition(" ") if " " in first else ("GET", "", first)
        pairs = dict(h.split(":", 1) for h in headers if ":" in h)
        stream = client.events(
            path.strip(),
            method=method.upper(),
            json=parsed.json,
            headers={k.strip(): v.strip() for k, v in pairs.items()},
        )
        events = collect("sse", stream, parsed.limit, _print_event)
        self._bind_stream(events, parsed.out)

    @cell_magic
    def ws(self, line: str, cell: str) -> None:
        """``%%ws CLIENT [--limit N] [--json] [--out NAME]``: path, then messages to send."""
        parsed = parse_stream_cell("ws", line, cell)
        client = self._client("rest", parsed.client)
        path, *outgoing = resolve_lines(parsed.lines, self._ns)
        socket = client.websocket(path)
        try:
            socket.connect()
            for text in outgoing:
                socket.send(text)
        except ApiNotebookError as exc:
            socket.close()
            raise UsageError(f"%%ws: {_one_paragraph(exc)}") from None
        messages = collect("ws", socket, parsed.limit, _print_message)  # closes it
        if parsed.json:
            messages = [m.json() for m in messages]
        self._bind_stream(messages, parsed.out)

    def _bind_stream(self, items: list[Any], out: str | None) -> None:
        self._ns["_"] = items
        if out:
            self._ns[out] = items


def _print_event(event: Any) -> None:
    label = f"{event.event} {event.id}".strip()
    print(f"[{label}] {mask_text(event.text[:200])}")


def _print_message(message: Any) -> None:
    print(repr(message))


def _show(exchange: Exchange, *, name: str) -> None:
    """The Inspector in a live kernel, the exchange's own text/HTML elsewhere."""
    from IPython.display import display

    if in_kernel():
        try:
            widget = show(exchange, name=name)
        except Exception:  # noqa: BLE001 - no widget: the exchange's own HTML still shows
            pass
        else:
            display(widget)  # type: ignore[no-untyped-call]
            return
    display(exchange)  # type: ignore[no-untyped-call]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext apinotebook``)."""
    ipython.register_magics(ApiMagics)
