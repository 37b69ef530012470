"""GraphQL schemas and documents for :class:`~apinotebook.graphql.GraphQLClient`.

Everything here is pure (no network): loading a schema from SDL, an
introspection result or a file; parsing and checking documents; and the
sans-I/O part of Relay pagination (:class:`ConnectionWalk`). graphql-core does
the real work (``build_schema``, ``build_client_schema``, ``validate``); this
module maps its errors to apinotebook's and adds the messages.

Big schemas: building a schema allocates hundreds of thousands of small
objects, which makes Python's cyclic garbage collector run over and over for
nothing (none of them is garbage yet). Loading pauses the collector, which
halves the time for a schema with thousands of types; the most recent
schemas built from text are also kept (keyed by a hash of the text), so
re-running a notebook cell does not rebuild them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    build_client_schema,
    build_schema,
    get_introspection_query,
    parse,
    print_ast,
    validate,
    validate_schema,
)

from apinotebook._core import json as _json
from apinotebook._core.gcpause import gc_paused
from apinotebook._core.paths import PathError, split_path, walk
from apinotebook._exceptions import (
    ConfigError,
    DecodeError,
    GraphQLResponseError,
    QueryValidationError,
    SpecError,
)

if TYPE_CHECKING:
    from apinotebook._exchange import Exchange

__all__ = [
    "SDL_SUFFIXES",
    "ConnectionWalk",
    "Prepared",
    "format_errors",
    "introspection_query",
    "load_schema",
    "require_valid",
    "schema_problems",
    "parse_document",
    "prepare",
    "schema_from_introspection",
    "schema_from_sdl",
    "unwrap",
    "validation_errors",
]

SDL_SUFFIXES = (".graphql", ".graphqls", ".sdl", ".gql")
_CACHE_SIZE = 4
_cache: OrderedDict[str, GraphQLSchema] = OrderedDict()
_MAX_LISTED = 10


def format_errors(errors: Sequence[GraphQLError]) -> list[str]:
    """``"3:5: Cannot query field 'x' on type 'Query'."`` for each error."""
    out = []
    for error in errors:
        where = ", ".join(f"{loc.line}:{loc.column}" for loc in error.locations or ())
        out.append(f"{where}: {error.message}" if where else error.message)
    return out


def _listing(problems: Sequence[str]) -> str:
    shown = "\n".join(f"  {p}" for p in problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    return shown + (f"\n  ... and {more} more" if more > 0 else "")


# -- loading schemas ----------------------------------------------------------------


#: the problems strict validation finds in a schema, computed when first asked for
_PROBLEMS: weakref.WeakKeyDictionary[GraphQLSchema, Callable[[], list[str]]] = (
    weakref.WeakKeyDictionary()
)


def _tolerate(schema: GraphQLSchema, problems: Callable[[], list[str]]) -> GraphQLSchema:
    """Accept ``schema`` as it is: queries validate against it, its problems are listed."""
    _PROBLEMS[schema] = functools.cache(problems)
    schema._validation_errors = []  # validate() would refuse an unchecked schema
    return schema


def schema_problems(schema: GraphQLSchema) -> list[str]:
    """What strict validation finds wrong with ``schema`` (empty for a valid one).

    Real-world schemas often break a rule (a field defined twice, an interface
    field's deprecation not matching an implementation's): they load anyway,
    and these are the problems, with line and column where the SDL has them.
    """
    compute = _PROBLEMS.get(schema)
    return list(compute()) if compute is not None else []


def require_valid(schema: GraphQLSchema, origin: str) -> GraphQLSchema:
    """``schema`` if strict validation passes; otherwise a SpecError listing the problems."""
    problems = schema_problems(schema)
    if problems:
        raise SpecError(
            f"{origin} describes an invalid GraphQL schema ({len(problems)} problems):\n"
            f"{_listing(problems)}\nPass strict=False to load it anyway and list the problems."
        )
    return schema


def _checked(schema: GraphQLSchema, origin: str) -> GraphQLSchema:
    """Record the problems of a schema built from introspection (or given built)."""
    errors = schema._validation_errors
    if errors is None:  # not validated yet
        errors = validate_schema(schema)
    problems = format_errors(errors)
    return _tolerate(schema, lambda: problems) if problems else schema


def _cached(key: str) -> GraphQLSchema | None:
    schema = _cache.get(key)
    if schema is not None:
        _cache.move_to_end(key)
    return schema


def _remember(key: str, schema: GraphQLSchema) -> GraphQLSchema:
    _cache[key] = schema
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return schema


def _sdl_problems(text: str) -> list[str]:
    """The problems of invalid SDL, with line:column (built again, with locations)."""
    from graphql import build_ast_schema
    from graphql.validation.validate import validate_sdl

    document = parse(text)
    problems = format_errors(validate_sdl(document))
    if not problems:
        problems = format_errors(validate_schema(build_ast_schema(document, assume_valid_sdl=True)))
    return problems


def schema_from_sdl(text: str, *, origin: str = "the SDL") -> GraphQLSchema:
    """Build (and check) a schema from SDL text.

    The schema is built as fast as graphql-core can (no locations, no validation);
    :func:`schema_problems` validates it strictly, with line and column, when asked.

    Raises:
        SpecError: the SDL does not parse, or names types it does not define.
    """
    key = "sdl:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    cached = _cached(key)
    if cached is not None:
        return cached
    try:
        with gc_paused():
            # graphql-core's fastest build: no locations, no validation. What strict
            # validation would say is computed when first asked for (schema_problems).
            schema = build_schema(text, no_location=True, assume_valid_sdl=True, assume_valid=True)
    except GraphQLError as exc:  # a syntax error: it has its location already
        (problem,) = format_errors([exc])
        raise SpecError(f"{origin} is not valid GraphQL SDL: {problem}") from exc
    except TypeError as exc:  # unknown types and the like: nothing can be built
        problems = _sdl_problems(text)
        raise SpecError(
            f"{origin} cannot be built as a GraphQL schema ({len(problems) or 1} problems):\n"
            f"{_listing(problems or [str(exc)])}"
        ) from exc
    schema = _tolerate(schema, lambda: _sdl_problems(text))
    return _remember(key, schema)


def schema_from_introspection(data: Any, *, origin: str = "the introspection result") -> (
    GraphQLSchema
):  # fmt: skip
    """Build (and check) a schema from an introspection result, with or without ``data``.

    Raises:
        SpecError: ``data`` is not an introspection result.
    """
    if isinstance(data, Mapping) and "__schema" not in data and "data" in data:
        errors = data.get("errors")
        data = data["data"]
        if data is None and errors:
            messages = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
            raise SpecError(f"{origin} holds errors instead of a schema: {messages}")
    if not isinstance(data, Mapping) or not isinstance(data.get("__schema"), Mapping):
        keys = ", ".join(map(repr, list(data)[:8])) if isinstance(data, Mapping) else ""
        got = f"keys {keys}" if keys else type(data).__name__
        raise SpecError(
            f"{origin} is not an introspection result: expected {{'__schema': ...}} or "
            f"{{'data': {{'__schema': ...}}}}, got {got}."
        )
    try:
        with gc_paused():
            schema = build_client_schema(dict(data), assume_valid=False)  # type: ignore[arg-type]
    except (TypeError, KeyError, ValueError, AttributeError, GraphQLError) as exc:
        raise SpecError(f"{origin} is not a valid introspection result: {exc}") from exc
    return _checked(schema, origin)


def _introspection_text(text: str, origin: str) -> GraphQLSchema:
    key = "json:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    schema = _cached(key)
    if schema is not None:
        return schema
    try:
        with gc_paused():
            data = _json.loads(text)
    except ValueError as exc:
        raise SpecError(f"{origin} is not valid JSON: {exc}") from exc
    return _remember(key, schema_from_introspection(data, origin=origin))


def _looks_like_path(text: str) -> bool:
    if "\n" in text or "{" in text or len(text) > 4096:
        return False
    if text.lower().endswith((*SDL_SUFFIXES, ".json")):
        return True
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError):
        return False


def _load_file(path: Path) -> GraphQLSchema:
    origin = f"schema file {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise ConfigError(
            f"There is no {origin}. Pass SDL text, an introspection dict, or the path of an "
            f"existing {', '.join(SDL_SUFFIXES)} or .json file."
        ) from exc
    except (OSError, UnicodeError) as exc:
        raise SpecError(f"cannot read {origin}: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix not in SDL_SUFFIXES and text.lstrip().startswith("{")):
        return _introspection_text(text, origin)
    return schema_from_sdl(text, origin=origin)


def load_schema(source: Any, *, strict: bool = False) -> GraphQLSchema:
    """A schema from SDL text, a file path, an introspection dict or a ``GraphQLSchema``.

    A schema that breaks strict validation loads anyway (see :func:`schema_problems`);
    ``strict=True`` refuses it.

    Raises:
        SpecError: the source cannot be read as a schema (or, with ``strict``, is invalid).
        ConfigError: the source is of an unknown kind, or a named file is missing.
    """
    schema = _load_any(source)
    return require_valid(schema, "the schema") if strict else schema


def _load_any(source: Any) -> GraphQLSchema:
    if isinstance(source, GraphQLSchema):
        return _checked(source, "the GraphQLSchema given")
    if isinstance(source, Mapping):
        return schema_from_introspection(source, origin="the introspection dict")
    if isinstance(source, os.PathLike):
        return _load_file(Path(os.fspath(source)))
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    if isinstance(source, str):
        if _looks_like_path(source):
            return _load_file(Path(source).expanduser())
        if source.lstrip().startswith("{"):
            return _introspection_text(source, "the introspection JSON text")
        return schema_from_sdl(source)
    raise ConfigError(
        "schema= takes SDL text, the path of a .graphql/.graphqls/.sdl or .json "
        "(introspection) file, an introspection result dict, or a graphql.GraphQLSchema; "
        f"got {type(source).__name__}"
    )


def introspection_query() -> str:
    """The introspection query the client sends to fetch a schema."""
    return get_introspection_query(descriptions=True)


# -- documents ----------------------------------------------------------------------


class Prepared:
    """A parsed document, the operation to run, and what to send.

    Attributes:
        document: the parsed document.
        operation: the operation that runs.
        text: the query text to send (the caller's own text when given as a string).
        operation_name: the name sent as ``operationName`` (``None`` when anonymous).
        label: how the exchange is labelled: the name, or ``"query lists"``.
        kind: ``"query"``, ``"mutation"`` or ``"subscription"``.
    """

    __slots__ = ("checked", "document", "kind", "label", "operation", "operation_name", "text")

    def __init__(
        self, document: DocumentNode, operation: OperationDefinitionNode, text: str
    ) -> None:
        self.document = document
        self.operation = operation
        self.text = text
        #: document problems per schema already checked: id -> (schema, problems)
        self.checked: dict[int, tuple[GraphQLSchema, list[str]]] = {}
        self.operation_name = operation.name.value if operation.name else None
        self.kind: str = operation.operation.value
        self.label = self.operation_name or _anonymous_label(operation)

    @property
    def variable_names(self) -> list[str]:
        """The variables the operation declares."""
        return [v.variable.name.value for v in self.operation.variable_definitions or ()]


def _anonymous_label(operation: OperationDefinitionNode) -> str:
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode):
            return f"{operation.operation.value} {selection.name.value}"
    return operation.operation.value


def parse_document(query: Any) -> tuple[DocumentNode, str]:
    """Parse ``query`` (text or ``DocumentNode``); return it and the text to send.

    Raises:
        QueryValidationError: the text does not parse.
        ConfigError: ``query`` is neither text nor a document.
    """
    if isinstance(query, DocumentNode):
        return query, print_ast(query)
    if isinstance(query, str):
        try:
            return parse(query), query
        except GraphQLError as exc:
            problems = format_errors([exc])
            raise QueryValidationError(
                f"The query does not parse: {problems[0]}. Nothing was sent.", errors=problems
            ) from exc
    raise ConfigError(
        "a GraphQL query is a string, a graphql DocumentNode or a gql GraphQLRequest; "
        f"got {type(query).__name__}"
    )


def prepare(query: Any, operation_name: str | None = None) -> Prepared:
    """Parse ``query`` (text or ``DocumentNode``) and pick the operation to run.

    Text is parsed once: the same query sent again (the common case, in a loop
    or a paginator) reuses the parsed document and its validation result.

    Raises:
        QueryValidationError: the text does not parse (no request is sent).
        ConfigError: no operation, several without ``operation_name``, or an
            unknown ``operation_name``.
    """
    if isinstance(query, str):
        return _prepare_text(query, operation_name)
    return _prepare(query, operation_name)


@functools.lru_cache(maxsize=256)
def _prepare_text(query: str, operation_name: str | None) -> Prepared:
    return _prepare(query, operation_name)


def _prepare(query: Any, operation_name: str | None) -> Prepared:
    document, text = parse_document(query)
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if not operations:
        raise ConfigError("The document has no operation: write a query { ... } or mutation.")
    names = [op.name.value for op in operations if op.name]
    if operation_name is not None:
        for op in operations:
            if op.name and op.name.value == operation_name:
                return Prepared(document, op, text)
        raise ConfigError.invalid_choice("operation", operation_name, names)
    if len(operations) > 1:
        raise ConfigError(
            f"The document has {len(operations)} operations ({', '.join(names) or 'anonymous'});"
            " pass operation_name= to pick one."
        )
    return Prepared(document, operations[0], text)


def unwrap(
    query: Any, variables: Mapping[str, Any] | None, operation_name: str | None
) -> tuple[Any, Mapping[str, Any] | None, str | None]:
    """Accept a gql ``GraphQLRequest``: its document, variables and operation name."""
    document = getattr(query, "document", None)
    if document is not None and hasattr(query, "variable_values"):
        if variables is None:
            variables = query.variable_values
        if operation_name is None:
            operation_name = getattr(query, "operation_name", None)
        query = document
    return query, variables, operation_name


def prepared_errors(
    schema: GraphQLSchema, prepared: Prepared, variables: Mapping[str, Any] | None
) -> list[str]:
    """:func:`validation_errors`, with the document part remembered per schema."""
    seen = prepared.checked.get(id(schema))
    if seen is None or seen[0] is not schema:
        seen = prepared.checked[id(schema)] = (
            schema,
            format_errors(validate(schema, prepared.document)),
        )
    problems = seen[1]
    return problems if problems else missing_variables(prepared.operation, variables)


def missing_variables(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> list[str]:
    """Required variables (non-null, no default) that are missing or null.

    This is the cheap check :meth:`GraphQLClient.execute` runs on every call;
    coercing every value against its type costs milliseconds for a batch of
    inputs and the server checks them anyway (``validate(query, variables)``
    does the full check locally).
    """
    from graphql import NonNullTypeNode

    values = variables or {}
    problems = []
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if (
            isinstance(definition.type, NonNullTypeNode)
            and definition.default_value is None
            and values.get(name) is None
        ):
            loc = definition.loc
            where = f"{loc.source.get_location(loc.start).line}:" if loc and loc.source else ""
            column = f"{loc.source.get_location(loc.start).column}: " if loc and loc.source else ""
            problems.append(
                f"{where}{column}Variable '${name}' of required type "
                f"'{print_ast(definition.type)}' was not provided."
            )
    return problems


def validation_errors(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode | None = None,
    variables: Mapping[str, Any] | None = None,
) -> list[str]:
    """Problems of ``document`` against ``schema``, then of the operation's variables.

    Variables are checked (required ones present, values of the declared
    types) only when the document itself is valid and ``operation`` is given.
    """
    problems = format_errors(validate(schema, document))
    return problems + variable_errors(schema, operation, variables) if not problems else problems


def variable_errors(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode | None,
    variables: Mapping[str, Any] | None,
) -> list[str]:
    """Problems of the variable values against the operation's declarations."""
    from graphql.execution.values import get_variable_values

    problems: list[str] = []
    if operation is None or not operation.variable_definitions:
        return problems
    coerced = get_variable_values(schema, operation.variable_definitions, dict(variables or {}))
    if isinstance(coerced, list):  # a list of errors in graphql-core 3.2 and 3.3
        problems = format_errors(coerced)
    return problems


# -- Relay pagination (sans I/O) --------------------------------------------------


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
