"""Completion for the SchemaExplorer's query editor, answered in the kernel where the schema is.

The editor sends the text and the cursor's offset; :func:`complete` reads the
text before the cursor with a small tokenizer (the query is usually
incomplete there, so it cannot be parsed) and says what may come next:

- in a selection set: the fields of the type it selects from (``__typename``,
  and ``... on`` the possible types of an interface or union);
- in a field's parentheses: its arguments not given yet; after ``name:``,
  the argument's enum values (or ``true``/``false``) and the variables;
- inside an input object value: its fields;
- after ``$``: the variables the operation declares; after ``@``: directives;
- at the top: ``query``, ``mutation``, ``subscription``, ``fragment``.

:func:`format_query` prints a query in graphql-core's canonical layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as _dc_field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    parse,
    print_ast,
)

from apinotebook._exceptions import ConfigError

__all__ = ["complete", "format_query"]

_TOKEN = re.compile(
    r'"""[\s\S]*?(?:"""|$)|"(?:[^"\\\n]|\\.)*"?|#[^\n]*|\.\.\.|[_A-Za-z][_A-Za-z0-9]*'
    r"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|[{}()\[\]:$@=!|&,]|\S"
)
_PARTIAL = re.compile(r"[_A-Za-z][_A-Za-z0-9]*$")
_DECLARED = re.compile(r"\$([_A-Za-z]\w*)\s*:\s*([^\s,)=]+)")
_ROOT_WORDS = {"query": "query", "mutation": "mutation", "subscription": "subscription"}
_MAX_OPTIONS = 500


@dataclass
class _Frame:
    """One open bracket: a selection set, a field's arguments or an input object value."""

    kind: str  # "select" | "args" | "object" | "vars"
    type: Any = None  # the type selected from, or the input object type
    field: Any = None  # "args": the field whose arguments these are
    last: str | None = None  # "select": the last field name; "args"/"object": the last key
    value_of: str | None = None  # the key whose value comes next (after ":")
    used: list[str] = _dc_field(default_factory=list)


def _root_type(schema: GraphQLSchema, word: str) -> Any:
    return {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }.get(word)


def _fields(named: Any) -> dict[str, Any]:
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
        return dict(named.fields)
    return {}


def _walk(schema: GraphQLSchema, tokens: list[str]) -> tuple[list[_Frame], str | None]:
    """The open brackets after ``tokens`` and the word before the first ``{`` (if any)."""
    stack: list[_Frame] = []
    header: str | None = None  # query / mutation / subscription / fragment
    pending: Any = None  # the type the next "{" selects from (root, "on Type", fragment)
    after_on = False
    for i, tok in enumerate(tokens):
        top = stack[-1] if stack else None
        if tok.startswith(("#", '"')):
            continue
        if not stack:
            if tok in _ROOT_WORDS and header is None:
                header, pending = tok, _root_type(schema, tok)
            elif tok == "fragment":
                header = "fragment"
            elif tok == "on" and header == "fragment":
                after_on = True
            elif after_on and tok[0].isalpha():
                pending, after_on = schema.get_type(tok), False
            elif tok == "(":
                stack.append(_Frame("vars"))
            elif tok == "{":
                stack.append(_Frame("select", type=pending or schema.query_type))
                pending = None
            continue
        if top is None:  # pragma: no cover - the stack is not empty here
            continue
        if tok in ("}", ")", "]"):
            stack.pop()
            if not stack:
                header = None
            continue
        if top.kind == "vars":
            if tok == "(":
                stack.append(_Frame("vars"))
            continue
        if top.kind == "select":
            if tok == "...":
                after_on = True
                continue
            if tok == "on" and after_on:
                continue
            if after_on and tok[0].isalpha():
                pending, after_on = schema.get_type(tok), False
                continue
            if tok == ":":  # an alias: the field's name comes next
                top.last = None
            elif tok[0].isalpha() or tok[0] == "_":
                if i > 0 and tokens[i - 1] == "@":
                    continue
                top.last = tok
            elif tok == "(" and top.last:
                stack.append(_Frame("args", field=_fields(top.type).get(top.last)))
            elif tok == "{":
                if pending is not None:
                    stack.append(_Frame("select", type=pending))
                    pending = None
                else:
                    f = _fields(top.type).get(top.last or "")
                    stack.append(_Frame("select", type=get_named_type(f.type) if f else None))
            continue
        # "args" or "object": key: value pairs
        if tok == ":" and top.last:
            top.value_of = top.last
            top.used.append(top.last)
        elif tok == "{" and top.value_of:
            stack.append(_Frame("object", type=get_named_type(_arg_type(top, top.value_of))))
            top.value_of = None
        elif tok in ("[", "("):
            stack.append(_Frame("list"))
        elif tok[0].isalpha() or tok[0] == "_":
            if top.value_of is None:
                top.last = tok
            else:  # a value (an enum, true, a variable's name): the pair is complete
                top.value_of = None
                top.last = None
        elif tok == ",":
            top.value_of = None
        elif top.value_of is not None and tok not in ("$", "-"):
            top.value_of = None
    return stack, header


def _arg_type(frame: _Frame, key: str) -> Any:
    if frame.kind == "args" and frame.field is not None:
        arg = frame.field.args.get(key)
        return arg.type if arg is not None else None
    if frame.kind == "object":
        f = _fields(frame.type).get(key)
        return f.type if f is not None else None
    return None


def _option(label: str, kind: str, detail: str = "", info: str | None = None) -> dict[str, Any]:
    return {"label": label, "type": kind, "detail": detail, "info": (info or "")[:500]}


def _variables(text: str) -> list[dict[str, Any]]:
    types: dict[str, str] = {}
    for m in _DECLARED.finditer(text):
        types.setdefault(m.group(1), m.group(2))
    return [_option(name, "variable", kind) for name, kind in types.items()]


def complete(schema: GraphQLSchema, text: str, offset: int) -> dict[str, Any]:
    """What may be typed at ``offset`` in ``text``: ``{"options": [{label, type, detail}]}``."""
    before = text[: max(0, min(offset, len(text)))]
    before = _PARTIAL.sub("", before)  # the word being typed: the editor filters by it
    if before.endswith("$"):
        return {"options": _variables(text)}
    if before.endswith("@"):
        return {"options": [_option(d.name, "keyword", "directive", d.description)
                            for d in schema.directives]}  # fmt: skip
    tokens = [t for t in _TOKEN.findall(before) if not t.isspace()]
    stack, header = _walk(schema, tokens)
    if not stack:
        words = ["query", "mutation", "subscription", "fragment"] if header is None else []
        return {"options": [_option(w, "keyword") for w in words]}
    top = stack[-1]
    options: list[dict[str, Any]] = []
    if top.kind == "select":
        named = top.type
        for name, f in _fields(named).items():
            args = f"({', '.join(f.args)})" if getattr(f, "args", None) else ""
            options.append(_option(name, "property", f"{args}: {f.type}", f.description))
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            for possible in schema.get_possible_types(named):
                options.append(_option(f"... on {possible.name}", "type", "inline fragment"))
        if named is not None:
            options.append(_option("__typename", "property", ": String!"))
    elif top.kind in ("args", "object"):
        if top.value_of is not None:
            target = get_named_type(_arg_type(top, top.value_of))
            if isinstance(target, GraphQLEnumType):
                options += [_option(v, "enum", target.name, e.description)
                            for v, e in target.values.items()]  # fmt: skip
            elif getattr(target, "name", None) == "Boolean":
                options += [_option("true", "keyword"), _option("false", "keyword")]
        elif top.kind == "args" and top.field is not None:
            options += [_option(name, "variable", f"{a.type}", a.description)
                        for name, a in top.field.args.items() if name not in top.used]  # fmt: skip
        else:
            fields = _fields(top.type).items()
            options += [_option(name, "property", f"{f.type}", f.description)
                        for name, f in fields if name not in top.used]  # fmt: skip
    return {"options": options[:_MAX_OPTIONS]}


def format_query(text: str) -> str:
    """``text`` in graphql-core's canonical layout.

    Raises:
        ConfigError: the text does not parse (the message says where).
    """
    if not text.strip():
        return text
    try:
        return print_ast(parse(text))
    except GraphQLError as exc:
        where = exc.locations[0] if exc.locations else None
        at = f" at line {where.line}, column {where.column}" if where else ""
        raise ConfigError(f"The query does not parse{at}: {exc.message}") from None
