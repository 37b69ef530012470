"""The SchemaExplorer's kernel work, without Jupyter: type details, search, query editing.

A *path* names a field from an operation's root type: ``["list",
"subscribers", "edges", "node", "email"]``; a step ``"... on Issue"`` is an
inline fragment. :func:`toggle` adds or removes the field at a path (or one
argument of it) in the current query text, keeping everything else the user
wrote (aliases, literal arguments, fragments, directives). Required
arguments, and the optional ones switched on, become variables
(``$listId: ID!``); unused variable definitions are dropped.

graphql-core's AST nodes are immutable in 3.3 and mutable in 3.2: edits copy
nodes (:func:`_copy`), which works with both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLError,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    ast_from_value,
    get_named_type,
    is_abstract_type,
    is_composite_type,
    is_list_type,
    is_non_null_type,
    is_required_argument,
    parse,
    parse_type,
    print_ast,
    type_from_ast,
)
from graphql.pyutils import Undefined

from apinotebook._core.secrets import mask_text
from apinotebook._exceptions import ConfigError

__all__ = [
    "KINDS",
    "default_literal",
    "has_default",
    "operation_name",
    "placeholder",
    "selection_paths",
    "toggle",
    "type_info",
    "type_kind",
    "type_names",
    "variable_values",
]

#: graphql-core type classes and the short kind names the front end shows
KINDS: tuple[tuple[type, str], ...] = (
    (GraphQLObjectType, "object"),
    (GraphQLInterfaceType, "interface"),
    (GraphQLUnionType, "union"),
    (GraphQLEnumType, "enum"),
    (GraphQLInputObjectType, "input"),
)
ROOTS = {"query": OperationType.QUERY, "mutation": OperationType.MUTATION}
_DEFAULT_NAMES = {"query": "MyQuery", "mutation": "MyMutation"}
_DOC_LIMIT = 2_000
_MAX_FIELDS = 2_000
_FRAGMENT = "... on "


def type_kind(named: GraphQLNamedType) -> str:
    """``object``, ``interface``, ``union``, ``enum``, ``input`` or ``scalar``."""
    for cls, kind in KINDS:
        if isinstance(named, cls):
            return kind
    return "scalar"


def type_names(schema: GraphQLSchema) -> dict[str, list[str]]:
    """Kind -> the names of its types (sorted), leaving out the introspection types."""
    names: dict[str, list[str]] = {kind: [] for _, kind in KINDS}
    names["scalar"] = []
    for name, named in sorted(schema.type_map.items()):
        if not name.startswith("__"):
            names[type_kind(named)].append(name)
    return names


def _doc(text: str | None) -> str:
    text = mask_text(text or "")
    return text if len(text) <= _DOC_LIMIT else text[:_DOC_LIMIT] + "…"


def default_literal(item: Any) -> Any:
    """The default of an argument or input field as an AST value node (``None``: no default).

    graphql-core 3.3 keeps SDL defaults in ``.default`` (a literal or a value);
    3.2 in ``.default_value``.
    """
    default = getattr(item, "default", None)
    if default is not None:
        literal = getattr(default, "literal", None)
        if literal is not None:
            return literal
        value = getattr(default, "value", Undefined)
        if value is not Undefined:
            return ast_from_value(value, item.type)
    value = getattr(item, "default_value", Undefined)
    return None if value is Undefined else ast_from_value(value, item.type)


def has_default(item: Any) -> bool:
    """Whether an argument or input field has a default."""
    return default_literal(item) is not None


def _default(item: Any) -> str | None:
    node = default_literal(item)
    return print_ast(node) if node is not None else None


def _argument(name: str, arg: GraphQLArgument) -> dict[str, Any]:
    named = get_named_type(arg.type)
    return {
        "name": name,
        "type": str(arg.type),
        "named": named.name,
        "kind": type_kind(named),
        "required": is_required_argument(arg),
        "default": _default(arg),
        "description": _doc(arg.description),
    }


def _field(name: str, field: GraphQLField) -> dict[str, Any]:
    named = get_named_type(field.type)
    return {
        "name": name,
        "type": str(field.type),
        "named": named.name,
        "kind": type_kind(named),
        "composite": is_composite_type(named),
        "description": _doc(field.description),
        "deprecated": field.deprecation_reason is not None,
        "reason": field.deprecation_reason or "",
        "args": [_argument(n, a) for n, a in field.args.items()],
    }


def _named(schema: GraphQLSchema, name: str) -> GraphQLNamedType:
    named = schema.get_type(name)
    if named is None or name.startswith("__"):
        known = [n for n in schema.type_map if not n.startswith("__")]
        raise ConfigError.invalid_choice("type", name, _close(name, known))
    return named


def _close(name: str, known: list[str]) -> list[str]:
    from difflib import get_close_matches

    return get_close_matches(name, known, n=5, cutoff=0.5) or sorted(known)[:20]


def type_info(
    schema: GraphQLSchema, name: str, *, offset: int = 0, limit: int = _MAX_FIELDS
) -> dict[str, Any]:
    """One type's details: description, a page of its fields with arguments, values, members.

    ``field_count`` is the number of fields in all; ``offset``/``limit`` pick
    the page (a ``Query`` type can have more than a thousand fields).
    """
    named = _named(schema, name)
    info: dict[str, Any] = {
        "name": named.name,
        "kind": type_kind(named),
        "description": _doc(named.description),
        "fields": [],
        "input_fields": [],
        "enum_values": [],
        "interfaces": [],
        "possible_types": [],
        "offset": offset,
        "field_count": 0,
    }
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        items = list(named.fields.items())
        page = items[offset : offset + max(1, min(limit, _MAX_FIELDS))]
        info["fields"] = [_field(n, f) for n, f in page]
        info["field_count"] = len(items)
        info["interfaces"] = [i.name for i in named.interfaces]
    if isinstance(named, GraphQLInputObjectType):
        info["input_fields"] = [
            {
                "name": n,
                "type": str(f.type),
                "named": get_named_type(f.type).name,
                "required": is_non_null_type(f.type) and not has_default(f),
                "default": _default(f),
                "description": _doc(f.description),
            }
            for n, f in named.fields.items()
        ]
    if isinstance(named, GraphQLEnumType):
        info["enum_values"] = [
            {
                "name": n,
                "description": _doc(v.description),
                "deprecated": v.deprecation_reason is not None,
            }  # fmt: skip
            for n, v in named.values.items()
        ]
    if is_abstract_type(named):
        info["possible_types"] = sorted(t.name for t in schema.get_possible_types(named))
    return info


# -- editing queries -------------------------------------------------------------------


def _copy(node: Node, **changes: Any) -> Any:
    """A copy of ``node`` with some attributes changed (graphql-core 3.2 and 3.3)."""
    values = {key: getattr(node, key, None) for key in node.keys if key != "loc"}
    values.update(changes)
    return type(node)(**values)


def _name(value: str) -> NameNode:
    return NameNode(value=value)


def _parse(text: str) -> DocumentNode:
    if not text.strip():
        return DocumentNode(definitions=())
    try:
        return parse(text)
    except GraphQLError as exc:
        where = f"line {exc.locations[0].line}, column {exc.locations[0].column}: " \
            if exc.locations else ""  # fmt: skip
        raise ConfigError(
            f"The query does not parse ({where}{exc.message}); fix it, or clear it, "
            "before picking fields in the tree."
        ) from None


def _operation(document: DocumentNode, root: str) -> OperationDefinitionNode | None:
    wanted = ROOTS[root]
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.operation == wanted:
            return definition
    return None


def operation_name(text: str, root: str) -> str | None:
    """The name of the ``root`` operation when the document has several (else ``None``)."""
    try:
        document = parse(text)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    found = _operation(document, root) if root in ROOTS else None
    if len(operations) > 1 and found is not None and found.name is not None:
        return found.name.value
    return None


def _root_type(schema: GraphQLSchema, root: str) -> GraphQLObjectType:
    if root not in ROOTS:
        raise ConfigError.invalid_choice("root", root, ROOTS)
    root_type = schema.query_type if root == "query" else schema.mutation_type
    if root_type is None:
        raise ConfigError(f"This schema has no {root} type")
    return root_type


class _Edit:
    """One toggle: walks the path through the schema and the selections together."""

    def __init__(self, schema: GraphQLSchema, operation: OperationDefinitionNode) -> None:
        self.schema = schema
        self.taken = {v.variable.name.value for v in operation.variable_definitions or ()}
        self.new_variables: list[VariableDefinitionNode] = []

    def variable(self, field: str, arg: str, type_: Any, default: Any = None) -> VariableNode:
        """A new variable for argument ``arg`` of ``field`` (``$arg``, else ``$fieldArg``).

        The argument's default, if any, becomes the variable's default.
        """
        name = arg
        if name in self.taken:
            name = f"{field}{arg[:1].upper()}{arg[1:]}"
        base, n = name, 1
        while name in self.taken:
            n += 1
            name = f"{base}{n}"
        self.taken.add(name)
        variable = VariableNode(name=_name(name))
        self.new_variables.append(
            VariableDefinitionNode(
                variable=variable,
                type=parse_type(str(type_)),
                default_value=default,
                directives=(),
            )  # fmt: skip
        )
        return variable

    def argument(self, field: str, name: str, arg: GraphQLArgument) -> ArgumentNode:
        variable = self.variable(field, name, arg.type, default_literal(arg))
        return ArgumentNode(name=_name(name), value=variable)

    def new_field(self, name: str, definition: GraphQLField) -> FieldNode:
        args = tuple(self.argument(name, n, a) for n, a in definition.args.items()
                     if is_required_argument(a))  # fmt: skip
        # no braces until a subfield is picked: "viewer {}" would not parse, while "viewer"
        # is reported by validation ("must have a selection of subfields")
        return FieldNode(alias=None, name=_name(name), arguments=args, directives=(),
                         selection_set=None)  # fmt: skip

    def step(self, parent: GraphQLNamedType, step: str) -> tuple[GraphQLNamedType, Any]:
        """The type a step leads to, and the field definition (``None`` for a fragment)."""
        if step.startswith(_FRAGMENT):
            target = self.schema.get_type(step[len(_FRAGMENT) :].strip())
            if target is None or not is_composite_type(target):
                raise ConfigError(f"{step!r}: no such object, interface or union type")
            return target, None
        fields = getattr(parent, "fields", None)
        if not fields or step not in fields:
            known = ", ".join(list(fields or {})[:30]) or "none (pick a type with ... on)"
            raise ConfigError(f"{parent.name} has no field {step!r}; its fields: {known}")
        definition = fields[step]
        return get_named_type(definition.type), definition

    def apply(self, selections: Sequence[Any], parent: GraphQLNamedType, path: Sequence[str],
              arg: str | None, on: bool) -> tuple[Any, ...]:  # fmt: skip
        step, rest = path[0], path[1:]
        target, definition = self.step(parent, step)
        found = _find(selections, step)
        items = list(selections)
        if not rest and arg is None:  # the field itself
            if on and found is None:
                items.append(self._make(step, definition, target))
            elif not on and found is not None:
                del items[found]
            return tuple(items)
        if found is None:
            if not on:
                return tuple(items)
            items.append(self._make(step, definition, target))
            found = len(items) - 1
        node = items[found]
        if not rest:  # an argument of this field
            items[found] = self._toggle_argument(node, step, definition, arg or "", on)
            return tuple(items)
        inner = node.selection_set.selections if node.selection_set else ()
        changed = self.apply(inner, target, rest, arg, on)
        if not changed and not on:
            del items[found]  # nothing left under it: drop it too
        else:
            items[found] = _copy(node, selection_set=SelectionSetNode(selections=changed))
        return tuple(items)

    def _make(self, step: str, definition: GraphQLField | None, target: GraphQLNamedType) -> Any:
        if definition is None:
            condition = NamedTypeNode(name=_name(target.name))
            empty = SelectionSetNode(selections=())
            return InlineFragmentNode(type_condition=condition, directives=(), selection_set=empty)
        return self.new_field(step, definition)

    def _toggle_argument(self, node: Any, step: str, definition: GraphQLField | None, arg: str,
                         on: bool) -> Any:  # fmt: skip
        if definition is None or arg not in definition.args:
            known = ", ".join(definition.args) if definition is not None else "none"
            raise ConfigError(f"{step!r} has no argument {arg!r}; its arguments: {known or 'none'}")
        arguments = list(node.arguments or ())
        present = [a for a in arguments if a.name.value == arg]
        if on and not present:
            arguments.append(self.argument(step, arg, definition.args[arg]))
        elif not on and present:
            arguments = [a for a in arguments if a.name.value != arg]
        return _copy(node, arguments=tuple(arguments))


def _find(selections: Sequence[Any], step: str) -> int | None:
    fallback = None
    for i, node in enumerate(selections):
        if step.startswith(_FRAGMENT):
            condition = getattr(node, "type_condition", None)
            if isinstance(node, InlineFragmentNode) and condition is not None \
                    and condition.name.value == step[len(_FRAGMENT):].strip():  # fmt: skip
                return i
        elif isinstance(node, FieldNode) and node.name.value == step:
            if node.alias is None:
                return i
            fallback = i if fallback is None else fallback
    return fallback


def _variables_used(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, VariableNode):
        out.add(node.name.value)
    elif isinstance(node, Node):
        for key in node.keys:
            if key != "loc":
                _variables_used(getattr(node, key, None), out)
    elif isinstance(node, tuple | list):
        for item in node:
            _variables_used(item, out)
    return out


def toggle(schema: GraphQLSchema, text: str, *, root: str, path: Sequence[str],
           arg: str | None = None, on: bool = True) -> str:  # fmt: skip
    """``text`` with the field at ``path`` (or its argument ``arg``) switched on or off.

    Raises:
        ConfigError: the text does not parse, or the path or argument is not
            in the schema; the message says which.
    """
    if not path:
        raise ConfigError("path= must name at least one field")
    root_type = _root_type(schema, root)
    document = _parse(text)
    operation = _operation(document, root)
    definitions = list(document.definitions)
    if operation is None:
        if not on:
            return print_ast(document) if definitions else ""
        operation = OperationDefinitionNode(
            operation=ROOTS[root], name=_name(_DEFAULT_NAMES[root]), variable_definitions=(),
            directives=(), selection_set=SelectionSetNode(selections=()),
        )  # fmt: skip
        definitions.append(operation)
    position = definitions.index(operation)
    edit = _Edit(schema, operation)
    selections = edit.apply(operation.selection_set.selections, root_type, list(path), arg, on)
    if not selections:
        del definitions[position]
    else:
        declared = [*(operation.variable_definitions or ()), *edit.new_variables]
        draft = _copy(operation, selection_set=SelectionSetNode(selections=selections))
        used = _variables_used(draft.selection_set, set())
        for fragment in definitions:
            if isinstance(fragment, FragmentDefinitionNode):
                _variables_used(fragment.selection_set, used)
        kept = tuple(v for v in declared if v.variable.name.value in used)
        definitions[position] = _copy(draft, variable_definitions=kept)
    if not definitions:
        return ""
    return print_ast(DocumentNode(definitions=tuple(definitions)))


def _walk(selection_set: SelectionSetNode | None, prefix: list[str], fragments: Mapping[str, Any],
          seen: frozenset[str]) -> Iterator[tuple[list[str], Any]]:  # fmt: skip
    for node in selection_set.selections if selection_set else ():
        if isinstance(node, FieldNode):
            path = [*prefix, node.name.value]
            yield path, node
            yield from _walk(node.selection_set, path, fragments, seen)
        elif isinstance(node, InlineFragmentNode):
            path = [*prefix, f"{_FRAGMENT}{node.type_condition.name.value}"] \
                if node.type_condition is not None else prefix  # fmt: skip
            yield from _walk(node.selection_set, path, fragments, seen)
        elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
            fragment = fragments.get(node.name.value)
            if fragment is not None:
                yield from _walk(fragment.selection_set, prefix, fragments,
                                 seen | {node.name.value})  # fmt: skip


def selection_paths(text: str, root: str) -> dict[str, list[list[str]]]:
    """The field paths and the ``[*path, argument]`` lists the ``root`` operation selects.

    Empty when the text does not parse (the editor shows the syntax error).
    """
    try:
        document = parse(text) if text.strip() else DocumentNode(definitions=())
    except GraphQLError:
        return {"fields": [], "args": []}
    operation = _operation(document, root) if root in ROOTS else None
    if operation is None:
        return {"fields": [], "args": []}
    fragments = {d.name.value: d for d in document.definitions
                 if isinstance(d, FragmentDefinitionNode)}  # fmt: skip
    fields: list[list[str]] = []
    args: list[list[str]] = []
    for path, node in _walk(operation.selection_set, [], fragments, frozenset()):
        fields.append(path)
        args.extend([*path, a.name.value] for a in node.arguments or ())
    return {"fields": fields, "args": args}


def placeholder(schema: GraphQLSchema, type_: Any, *, depth: int = 0) -> Any:
    """A value to start from for a variable of ``type_`` (``""``, ``0``, ``[]``, first enum)."""
    if is_non_null_type(type_):
        return placeholder(schema, type_.of_type, depth=depth)
    if is_list_type(type_):
        return []
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values), None)
    if isinstance(named, GraphQLInputObjectType):
        if depth > 3:
            return {}
        return {
            n: placeholder(schema, f.type, depth=depth + 1)
            for n, f in named.fields.items()
            if is_non_null_type(f.type) and not has_default(f)
        }
    return {"Int": 0, "Float": 0.0, "Boolean": False}.get(named.name, "")


def variable_values(schema: GraphQLSchema, text: str, root: str,
                    current: Mapping[str, Any]) -> dict[str, Any]:  # fmt: skip
    """The ``root`` operation's variables: current values kept, new ones from placeholders.

    A new required variable starts from :func:`placeholder`, an optional one
    from ``None``; one with a default is left out (the default applies).
    """
    try:
        document = parse(text) if text.strip() else DocumentNode(definitions=())
    except GraphQLError:
        return dict(current)
    operation = _operation(document, root) if root in ROOTS else None
    if operation is None:
        return {}
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in current:
            values[name] = current[name]
        elif definition.default_value is None:
            type_ = type_from_ast(schema, definition.type)
            required = type_ is not None and is_non_null_type(type_)
            values[name] = placeholder(schema, type_) if required else None
    return values
