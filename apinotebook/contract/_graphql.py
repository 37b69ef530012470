"""GraphQL: a response's ``data`` against the query's result type.

The query is read back from the request, parsed, and walked once with
graphql-core's :class:`~graphql.TypeInfo`, which gives the schema type of
every field node (fragments and type conditions included); the result is
cached per schema and query. The data is then walked along the selection
sets: a ``null`` where the type is non-null (unless an error was reported at
that path), a value of the wrong type (``Int`` range, ``Boolean``, enum
values), a selected field that is missing, and a field nobody asked for are
violations. For interfaces and unions the concrete type is ``__typename``
when selected; fields of fragments on other types are then optional.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableNode,
    Visitor,
    is_abstract_type,
    parse,
    visit,
)
from graphql.error import GraphQLError

from apinotebook._exceptions import DecodeError
from apinotebook._exchange import Exchange
from apinotebook.contract._result import ContractResult, Violation, json_path

__all__ = ["check_graphql"]

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class _Collect(Visitor):
    def __init__(self, info: TypeInfo, types: dict[int, GraphQLOutputType]) -> None:
        super().__init__()
        self.info, self.types = info, types

    def enter_field(self, node: FieldNode, *_: Any) -> None:
        found = self.info.get_type()
        if found is not None:
            self.types[id(node)] = found


class _Plan:
    """A parsed query and the schema type of each of its field nodes."""

    def __init__(self, schema: GraphQLSchema, text: str) -> None:
        self.document: DocumentNode = parse(text)
        self.types: dict[int, GraphQLOutputType] = {}
        info = TypeInfo(schema)
        visit(self.document, TypeInfoVisitor(info, _Collect(info, self.types)))
        self.fragments = {
            d.name.value: d
            for d in self.document.definitions
            if isinstance(d, FragmentDefinitionNode)
        }
        self.operations = [
            d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)
        ]


_lock = threading.Lock()
_plans: weakref.WeakKeyDictionary[GraphQLSchema, dict[str, _Plan]] = weakref.WeakKeyDictionary()


def _plan(schema: GraphQLSchema, text: str) -> _Plan:
    with _lock:
        cached = _plans.setdefault(schema, {})
        plan = cached.get(text)
    if plan is None:
        plan = _Plan(schema, text)
        with _lock:
            if len(cached) > 256:
                cached.clear()
            cached[text] = plan
    return plan


def _not_a_leaf(value: Any) -> bool:  # pragma: no cover - a marker, never called
    return False


_NOT_A_LEAF = _not_a_leaf
_LEAVES: dict[str, Callable[[Any], bool]] = {
    "Int": lambda v: type(v) is int and _INT_MIN <= v <= _INT_MAX,
    "Float": lambda v: type(v) is int or type(v) is float,
    "String": lambda v: type(v) is str,
    "Boolean": lambda v: type(v) is bool,
    "ID": lambda v: type(v) is str or type(v) is int,
}


def _leaf_test(kind: Any) -> Callable[[Any], bool]:
    """How a value of a scalar or enum type is checked (custom scalars accept anything)."""
    if isinstance(kind, GraphQLEnumType):
        names = frozenset(kind.values)
        return lambda v: type(v) is str and v in names
    if isinstance(kind, GraphQLScalarType):
        return _LEAVES.get(kind.name, lambda v: True)
    return _NOT_A_LEAF


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        plan: _Plan,
        variables: Mapping[str, Any],
        errored: set[tuple[Any, ...]],
        result: ContractResult,
    ) -> None:
        self.schema, self.plan, self.variables = schema, plan, variables
        self.errored, self.result = errored, result
        self._tests: dict[Any, Callable[[Any], bool]] = {}
        self._fields: dict[
            tuple[int, Any, Any], tuple[dict[str, FieldNode], dict[str, FieldNode]]
        ] = {}

    def _errored(self, path: list[Any]) -> bool:
        """An error was reported at ``path`` or below it (a null propagated up to here)."""
        if not self.errored:
            return False
        size = len(path)
        return any(list(p[:size]) == path for p in self.errored)

    def _included(self, node: Any) -> bool:
        """``@skip(if:)`` and ``@include(if:)``, with literal or variable conditions."""
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            for arg in directive.arguments or ():
                if arg.name.value != "if":
                    continue
                value = arg.value
                if isinstance(value, VariableNode):
                    condition = self.variables.get(value.name.value) is True
                else:
                    condition = isinstance(value, BooleanValueNode) and value.value
                if condition == (name == "skip"):
                    return False
        return True

    def _applies(self, condition: str | None, runtime: Any, static: Any) -> bool | None:
        """Whether a fragment on ``condition`` applies: True, False or None (unknown)."""
        if condition is None:
            return True
        cond = self.schema.get_type(condition)
        if cond is None:
            return False
        target = runtime or static
        if cond is target:
            return True
        if is_abstract_type(cond) and isinstance(target, GraphQLObjectType):
            return self.schema.is_sub_type(cond, target)
        return None if runtime is None else False

    def fields(
        self, selection: SelectionSetNode, runtime: Any, static: Any
    ) -> tuple[dict[str, FieldNode], dict[str, FieldNode]]:
        """The response keys this selection asks for: (required, maybe)."""
        key = (id(selection), runtime, static)
        found = self._fields.get(key)
        if found is None:  # the 50 records of a page share their selection: collect it once
            required: dict[str, FieldNode] = {}
            maybe: dict[str, FieldNode] = {}
            self._collect(selection, runtime, static, required, maybe, sure=True)
            found = self._fields[key] = (required, maybe)
        return found

    def _collect(
        self,
        selection: SelectionSetNode,
        runtime: Any,
        static: Any,
        required: dict[str, FieldNode],
        maybe: dict[str, FieldNode],
        *,
        sure: bool,
    ) -> None:
        for node in selection.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                (required if sure else maybe).setdefault(key, node)
                continue
            if isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                inner = node.selection_set
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.plan.fragments.get(node.name.value)
                if fragment is None:
                    continue
                condition, inner = fragment.type_condition.name.value, fragment.selection_set
            else:  # pragma: no cover - no other selection kinds exist
                continue
            applies = self._applies(condition, runtime, static)
            if applies is False:
                continue
            self._collect(inner, runtime, static, required, maybe, sure=sure and bool(applies))

    def value(self, value: Any, kind: Any, node: FieldNode, path: list[Any]) -> None:
        if kind.__class__ is GraphQLNonNull:
            if value is None:
                if not self._errored(path):
                    self.result.add(
                        Violation(json_path(path), f"null where the schema says {kind}", "null",
                                  str(kind), "null")
                    )  # fmt: skip
                return
            kind = kind.of_type
        if value is None:
            return
        if kind.__class__ is GraphQLList:
            if value.__class__ is not list:
                self._wrong(path, str(kind), value)
                return
            for i, item in enumerate(value):
                self.value(item, kind.of_type, node, [*path, i])
            return
        test = self._tests.get(kind)
        if test is None:
            test = self._tests[kind] = _leaf_test(kind)
        if test is not _NOT_A_LEAF:
            if not test(value):
                self._wrong(path, kind.name, value)
            return
        if value.__class__ is not dict:
            self._wrong(path, kind.name, value)
            return
        if node.selection_set is not None:
            self.object(value, kind, node.selection_set, path)

    def object(self, value: dict[str, Any], kind: Any, selection: SelectionSetNode,
               path: list[Any]) -> None:  # fmt: skip
        runtime = None
        if is_abstract_type(kind):
            name = value.get("__typename")
            runtime = self.schema.get_type(name) if isinstance(name, str) else None
        else:
            runtime = kind
        required, maybe = self.fields(selection, runtime, kind)
        for key, field_node in required.items():
            if key not in value:
                if not self._errored([*path, key]):
                    expected = self.plan.types.get(id(field_node))
                    self.result.add(
                        Violation(json_path([*path, key]), f"selected field {key!r} is missing",
                                  "missing", None if expected is None else str(expected), None)
                    )  # fmt: skip
                continue
            self._field(value[key], field_node, [*path, key])
        for key, item in value.items():
            if key in required:
                continue
            field_node_maybe = maybe.get(key)
            if field_node_maybe is None:
                self.result.add(
                    Violation(json_path([*path, key]), f"field {key!r} was not selected "
                              f"(the query asks for {', '.join(required) or 'nothing'})",
                              "unknown", None, type(item).__name__)
                )  # fmt: skip
                continue
            self._field(item, field_node_maybe, [*path, key])

    def _field(self, value: Any, node: FieldNode, path: list[Any]) -> None:
        kind = self.plan.types.get(id(node))
        if kind is not None:
            self.value(value, kind, node, path)

    def _wrong(self, path: list[Any], expected: str, value: Any) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        self.result.add(
            Violation(json_path(path), f"{shown} is not a {expected}", "type", expected,
                      type(value).__name__)
        )  # fmt: skip


def _request(exchange: Exchange) -> tuple[str, str | None, dict[str, Any]]:
    try:
        body = json.loads(exchange.request.content or b"{}")
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    name = body.get("operationName")
    variables = body.get("variables")
    return (
        str(body.get("query") or ""),
        name if isinstance(name, str) else None,
        variables if isinstance(variables, dict) else {},
    )


def check_graphql(exchange: Exchange, schema: GraphQLSchema) -> ContractResult:
    """Check a GraphQL exchange's ``data`` against ``schema`` and the query it sent."""
    text, name, variables = _request(exchange)
    label = exchange.operation or name or "the query"
    result = ContractResult("graphql", f"{label} (GraphQL schema)")
    if not text:
        result.checked, result.reason = False, "the request carries no query (persisted query?)"
        return result
    try:
        plan = _plan(schema, text)
    except GraphQLError as exc:
        result.checked, result.reason = False, f"the query does not parse: {exc.message}"
        return result
    ops = [o for o in plan.operations if name is None or (o.name and o.name.value == name)]
    if len(ops) != 1:
        result.checked, result.reason = False, "cannot tell which operation of the query ran"
        return result
    op = ops[0]
    root = schema.get_root_type(op.operation)
    try:
        body = exchange.json()
    except DecodeError as exc:
        result.add(Violation("$", str(exc)[:300], kind="decode"))
        return result
    if not isinstance(body, dict) or ("data" not in body and "errors" not in body):
        result.add(Violation("$", "not a GraphQL response: no 'data' or 'errors'", kind="shape"))
        return result
    found = body.get("errors")
    errors: list[Any] = found if isinstance(found, list) else []
    errored = {
        ("data", *e["path"])
        for e in errors
        if isinstance(e, dict) and isinstance(e.get("path"), list)
    }
    data = body.get("data")
    if root is None:
        result.checked, result.reason = False, f"the schema has no {op.operation.value} type"
        return result
    if data is None:
        return result  # a request error: nothing to check against the result type
    walk = _Walk(schema, plan, variables, errored, result)
    if not isinstance(data, dict):
        walk._wrong(["data"], root.name, data)
        return result
    walk.object(data, root, op.selection_set, ["data"])
    return result
