"""GraphQL documents: parsing, picking the operation, checking it against a schema.

Pure (no network). A query is text, a graphql-core ``DocumentNode`` or
anything shaped like gql's ``GraphQLRequest`` (:class:`RequestLike`: gql itself
is not needed); :func:`prepare` parses it once and caches the result, and
:func:`prepared_errors` remembers the document's problems per schema, so a
query sent in a loop is parsed and validated once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Protocol

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    print_ast,
    validate,
)

from apinotebook._exceptions import ConfigError, QueryValidationError
from apinotebook.graphql._schema import format_errors

__all__ = [
    "Prepared",
    "RequestLike",
    "missing_variables",
    "parse_document",
    "prepare",
    "prepared_errors",
    "unwrap",
    "validation_errors",
    "variable_errors",
]


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


class RequestLike(Protocol):
    """What is read from a gql ``GraphQLRequest`` (``gql`` itself is not a dependency).

    Any object with these attributes is accepted as a query: gql's
    ``GraphQLRequest`` (gql 3.5 and 4), or one of your own.
    """

    @property
    def document(self) -> DocumentNode:
        """The parsed document."""

    @property
    def variable_values(self) -> Mapping[str, Any] | None:
        """The variables, if any."""

    @property
    def operation_name(self) -> str | None:
        """The operation to run, when the document holds several."""


def unwrap(
    query: Any, variables: Mapping[str, Any] | None, operation_name: str | None
) -> tuple[Any, Mapping[str, Any] | None, str | None]:
    """Accept a :class:`RequestLike` (gql's ``GraphQLRequest``): its document, variables, name."""
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
