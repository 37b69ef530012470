"""Relay pagination without I/O: the state of walking one connection.

:class:`ConnectionWalk` checks the operation up front (``$after`` declared and
passed, ``pageInfo { hasNextPage endCursor }`` and the nodes selected), then
says which variables to send next and takes each page's nodes; the client
does the sending (:meth:`~apinotebook.graphql.GraphQLClient.paginate`). The
connection is found with the one path walker, :func:`apinotebook._core.paths.walk`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)

from apinotebook._core.paths import PathError, split_path, walk
from apinotebook._exceptions import ConfigError, DecodeError, GraphQLResponseError
from apinotebook.graphql._documents import Prepared

if TYPE_CHECKING:
    from apinotebook._exchange import Exchange

__all__ = ["ConnectionWalk"]


def _fields(selection_set: SelectionSetNode | None, fragments: Mapping[str, Any]) -> list[
    FieldNode
]:  # fmt: skip
    out: list[FieldNode] = []
    for selection in selection_set.selections if selection_set else ():
        if isinstance(selection, FieldNode):
            out.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            out.extend(_fields(selection.selection_set, fragments))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:
                out.extend(_fields(fragment.selection_set, fragments))
    return out


def _key(field: FieldNode) -> str:
    return field.alias.value if field.alias else field.name.value


class ConnectionWalk:
    """The state of walking one Relay connection: which variables next, which nodes.

    Checks the operation up front (it must declare ``$after`` and select
    ``pageInfo { hasNextPage endCursor }`` and ``edges { node }`` or ``nodes``);
    then :meth:`next_variables` and :meth:`take` alternate, with the client
    doing the sending in between.
    """

    def __init__(
        self,
        prepared: Prepared,
        path: str,
        variables: Mapping[str, Any] | None,
        *,
        page_size: int | None,
        max_items: int | None,
        cursor_variable: str,
        page_size_variable: str,
    ) -> None:
        if prepared.kind != OperationType.QUERY.value:
            raise ConfigError(f"paginate() runs queries; this operation is a {prepared.kind}.")
        if max_items is not None and max_items < 0:
            raise ConfigError("max_items must be 0 or more")
        if page_size is not None and page_size < 1:
            raise ConfigError("page_size must be 1 or more")
        self.path = [str(step) for step in split_path(path)]
        if not self.path:
            raise ConfigError("connection_path names the connection in data, e.g. 'list.members'")
        self.prepared = prepared
        self.cursor_variable = cursor_variable
        self.max_items = max_items
        self._vars = dict(variables or {})
        self._check(prepared, page_size, page_size_variable)
        if page_size is not None:
            self._vars[page_size_variable] = page_size
        self.items = 0
        self.pages = 0
        self.done = max_items == 0
        #: the cursor sent next: the caller's own ``$after``, if given, to start there
        self._cursor: str | None = self._vars.get(cursor_variable)

    def _check(self, prepared: Prepared, page_size: int | None, size_var: str) -> None:
        fragments = {
            d.name.value: d
            for d in prepared.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        declared = prepared.variable_names
        where = "data"
        field: FieldNode | None = None
        selection: SelectionSetNode | None = prepared.operation.selection_set
        for part in self.path:
            by_key = {_key(f): f for f in _fields(selection, fragments)}
            field = by_key.get(part)
            if field is None:
                raise ConfigError(
                    f"connection_path {'.'.join(self.path)!r}: {where} has no field {part!r} in "
                    f"the query (it selects {', '.join(map(repr, by_key)) or 'nothing'})."
                )
            where, selection = f"{where}.{part}", field.selection_set
        if field is None:  # pragma: no cover - the path is never empty here
            raise ConfigError("connection_path is empty")
        name = field.name.value
        by_name = {f.name.value: f for f in _fields(selection, fragments)}
        page_info = by_name.get("pageInfo")
        info_set = page_info.selection_set if page_info is not None else None
        info = {f.name.value: _key(f) for f in _fields(info_set, fragments)}
        if page_info is None or not {"hasNextPage", "endCursor"} <= set(info):
            raise ConfigError(
                f"paginate() needs pageInfo {{ hasNextPage endCursor }} inside {name!r}: "
                f"add it to the selection, e.g. {name}(after: ${self.cursor_variable}) "
                "{ pageInfo { hasNextPage endCursor } edges { node { id } } }."
            )
        #: response keys of pageInfo, hasNextPage, endCursor, then of nodes or edges/node
        self._keys = (_key(page_info), info["hasNextPage"], info["endCursor"])
        edges = by_name.get("edges")
        edge_set = edges.selection_set if edges is not None else None
        node = {f.name.value: f for f in _fields(edge_set, fragments)}
        if "nodes" in by_name:
            self._items: tuple[str, ...] = (_key(by_name["nodes"]),)
        elif edges is not None and "node" in node:
            self._items = (_key(edges), _key(node["node"]))
        else:
            raise ConfigError(
                f"paginate() yields the nodes of {name!r}: select edges {{ node {{ ... }} }} "
                "or nodes { ... } in it."
            )
        cursor = self.cursor_variable
        passed = {
            arg.name.value: arg.value.name.value
            for arg in field.arguments or ()
            if isinstance(arg.value, VariableNode)
        }
        if cursor not in declared or cursor not in passed.values():
            raise ConfigError(
                f"paginate() sends each page's endCursor as ${cursor}: declare it on the "
                f"operation (query Name(${cursor}: String) ...) and pass it to the connection: "
                f"{name}(after: ${cursor}). Use cursor_variable= for another name."
            )
        if page_size is not None and size_var not in declared:
            raise ConfigError(
                f"page_size= sets ${size_var}: declare it (query Name(${size_var}: Int, ...)) "
                f"and pass it to the connection ({name}(first: ${size_var}, ...)), or leave "
                "page_size unset. Use page_size_variable= for another name."
            )

    def next_variables(self) -> dict[str, Any] | None:
        """Variables for the next page, or ``None`` when the walk is over."""
        if self.done:
            return None
        variables = dict(self._vars)
        variables[self.cursor_variable] = self._cursor
        return variables

    def _connection(self, data: Any) -> Any:
        """The connection object in ``data`` (``None`` where the path meets a null or a gap)."""
        try:
            return walk(data, self.path)
        except PathError as exc:
            if exc.found is None or isinstance(exc.found, Mapping):
                return None
            raise ConfigError(
                f"connection_path {'.'.join(self.path)!r} runs through a "
                f"{type(exc.found).__name__} at {exc.key!r}; it must lead through objects only."
            ) from None

    def take(self, data: Any, *, has_errors: bool) -> list[Any] | None:
        """The nodes of one page's ``data`` (``None``: the connection is missing).

        Raises:
            DecodeError: the page info is inconsistent (more pages without a
                cursor, or a cursor that does not move).
        """
        self.pages += 1
        connection = self._connection(data) if isinstance(data, Mapping) else None
        if connection is None:
            self.done = True
            return None if has_errors else []
        if not isinstance(connection, Mapping):
            raise DecodeError(
                f"{'.'.join(self.path)} in the response is a {type(connection).__name__}, "
                "not a connection object."
            )
        if len(self._items) == 1:
            rows = connection.get(self._items[0]) or []
        else:
            edges, node = self._items
            rows = [e.get(node) for e in connection.get(edges) or [] if e is not None]
        if self.max_items is not None:
            rows = rows[: self.max_items - self.items]
        self.items += len(rows)
        page_info, has_next, end_cursor = self._keys
        info = connection.get(page_info) or {}
        cursor = info.get(end_cursor)
        if self.max_items is not None and self.items >= self.max_items:
            self.done = True
        elif not info.get(has_next):
            self.done = True
        elif cursor is None:
            raise DecodeError(
                f"page {self.pages} of {'.'.join(self.path)} says hasNextPage but its endCursor "
                "is null; the server cannot be paged further."
            )
        elif cursor == self._cursor:
            raise DecodeError(
                f"page {self.pages} of {'.'.join(self.path)} returned the same endCursor as the "
                f"page before ({cursor!r}); stopping instead of looping forever."
            )
        self._cursor = cursor
        return list(rows)

    def feed(self, exchange: Exchange, errors: list[dict[str, Any]]) -> list[Any]:
        """The nodes of one page's exchange; its errors (partial data) go to ``errors``.

        Raises:
            HTTPStatusError, GraphQLError: the page failed (no connection in it).
            DecodeError: the body is not a GraphQL response.
        """
        if exchange.status >= 400:
            exchange.raise_for_status()
        page_errors = exchange.errors
        data = exchange.data  # DecodeError for a body that is not JSON
        if data is None and not page_errors:
            raise DecodeError(
                f"page {self.pages + 1} of {exchange.operation}: the response has neither data "
                f"nor errors (status {exchange.status}); it is not a GraphQL response.",
                exchange=exchange,
            )
        nodes = self.take(data, has_errors=bool(page_errors))
        if nodes is None:
            exchange.raise_for_status()
            raise GraphQLResponseError(  # pragma: no cover - raise_for_status raised already
                "the connection is missing", errors=page_errors, exchange=exchange
            )
        errors.extend(page_errors)
        return nodes
