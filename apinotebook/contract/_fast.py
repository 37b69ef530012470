"""A compiled yes/no pre-check for the common subset of JSON Schema (the fast path).

jsonschema walks a schema for every value, which costs about as much as the
call itself on a page of 50 records. Most responses are valid, and for a valid
one only the answer "valid" is needed. :func:`compile_check` turns a schema
into Python source once (straight-line ``type(x) is str`` tests, one function
per object or array schema) and returns a function that says ``True`` only
when the instance is certainly valid. Anything else, and every schema using a
keyword outside the subset (``$ref``, ``patternProperties``, ``not``,
non-string enums, ...), goes to jsonschema, which decides and lists the
violations. tests/contract/test_fast_path.py checks the two agree on generated
instances (hypothesis), so the pre-check never lets through what jsonschema
would reject.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["compile_check"]

#: keywords that only annotate: they never reject anything
_ANNOTATIONS = frozenset(
    {
        "title", "description", "examples", "example", "default", "readOnly", "writeOnly",
        "deprecated", "xml", "externalDocs", "discriminator", "$comment", "contentMediaType",
        "contentEncoding", "$schema",
    }
)  # fmt: skip
_SUPPORTED = frozenset(
    {
        "type", "nullable", "x-nullable", "enum", "properties", "required",
        "additionalProperties", "items", "anyOf", "oneOf", "allOf", "minimum", "maximum",
        "minLength", "maxLength", "minItems", "maxItems", "pattern", "format",
    }
)  # fmt: skip
_TYPES = {
    "string": "type({v}) is str",
    "boolean": "type({v}) is bool",
    "null": "{v} is None",
    "array": "type({v}) is list",
    "object": "type({v}) is dict",
    "number": "(type({v}) is int or type({v}) is float)",
    "integer": "type({v}) is int",
    "integer6": "(type({v}) is int or (type({v}) is float and {v}.is_integer()))",
}
_MAX_FUNCTIONS = 2000


def _types_of(schema: Mapping[str, Any]) -> list[str]:
    kind = schema["type"]
    return [kind] if isinstance(kind, str) else list(kind)


def _only_type(schema: Any) -> bool:
    """A schema that says nothing but its type (annotations aside)."""
    return (
        isinstance(schema, Mapping)
        and "type" in schema
        and all(k == "type" or k in _ANNOTATIONS for k in schema)
    )


class _Unsupported(Exception):
    """The schema uses something the fast path does not compile."""


class _Compiler:
    def __init__(self, *, nullable: bool, integer_floats: bool, format_checker: Any) -> None:
        self.nullable, self.integer_floats = nullable, integer_floats
        self.format_checker = format_checker
        self.functions: list[str] = []
        self.constants: dict[str, Any] = {}
        self.names = 0

    def variable(self) -> str:
        self.names += 1
        return f"v{self.names}"

    def constant(self, value: Any) -> str:
        name = f"c{len(self.constants)}"
        self.constants[name] = value
        return name

    def function(self, schema: Any) -> str:
        """Compile ``schema`` into a function; return its name."""
        if len(self.functions) > _MAX_FUNCTIONS:
            raise _Unsupported("too big")
        name = f"f{len(self.functions)}"
        self.functions.append("")  # reserve the slot: nested functions come after
        body = self.checks(schema, "x", "    ")
        self.functions[int(name[1:])] = f"def {name}(x):\n{body}    return True\n"
        return name

    def checks(self, schema: Any, v: str, pad: str) -> str:  # noqa: C901 - one branch a keyword
        if schema is True or schema == {}:
            return ""
        if not isinstance(schema, Mapping):
            raise _Unsupported("a boolean false schema")
        for key in schema:
            if key not in _SUPPORTED and key not in _ANNOTATIONS and not str(key).startswith("x-"):
                raise _Unsupported(key)
        out: list[str] = []
        nullable = self.nullable and (
            schema.get("nullable") is True or schema.get("x-nullable") is True
        )
        none_ok = f"{v} is None or " if nullable else ""
        kind = schema.get("type")
        if kind is not None:
            kinds = [kind] if isinstance(kind, str) else list(kind)
            tests = []
            for k in kinds:
                if k == "integer" and self.integer_floats:
                    k = "integer6"
                if k not in _TYPES:
                    raise _Unsupported(f"type {k}")
                tests.append(_TYPES[k].format(v=v))
            out.append(f"{pad}if not ({none_ok}{' or '.join(tests)}): return False\n")
        if "enum" in schema:
            values = schema["enum"]
            if not isinstance(values, list) or not all(isinstance(e, str) for e in values):
                raise _Unsupported("an enum of other values than strings")
            const = self.constant(frozenset(values))
            out.append(
                f"{pad}if not ({none_ok}(type({v}) is str and {v} in {const})): return False\n"
            )
        for key, test in (("minimum", "<"), ("maximum", ">")):
            if key in schema:
                bound = schema[key]
                if type(bound) not in (int, float) or not math.isfinite(bound):
                    raise _Unsupported(key)
                out.append(
                    f"{pad}if (type({v}) is int or type({v}) is float) and {v} {test} {bound!r}:"
                    " return False\n"
                )
        for key, test, of in (("minLength", "<", "str"), ("maxLength", ">", "str"),
                              ("minItems", "<", "list"), ("maxItems", ">", "list")):  # fmt: skip
            if key in schema:
                bound = schema[key]
                if type(bound) is not int:
                    raise _Unsupported(key)
                out.append(f"{pad}if type({v}) is {of} and len({v}) {test} {bound}: return False\n")
        if "pattern" in schema:
            pattern = self.constant(re.compile(str(schema["pattern"])))
            out.append(f"{pad}if type({v}) is str and not {pattern}.search({v}): return False\n")
        if "format" in schema:
            if self.format_checker is None:
                raise _Unsupported("format")
            checker, fmt = self.constant(self.format_checker), self.constant(schema["format"])
            out.append(f"{pad}if not {checker}.conforms({v}, {fmt}): return False\n")
        if "properties" in schema or "required" in schema or "additionalProperties" in schema:
            out.append(self.object(schema, v, pad))
        if "items" in schema:
            items = schema["items"]
            if not isinstance(items, Mapping):
                raise _Unsupported("tuple items")
            inner = self.function(items)
            out.append(f"{pad}if type({v}) is list:\n{pad}    for i in {v}:\n")
            out.append(f"{pad}        if not {inner}(i): return False\n")
        for key in ("allOf", "anyOf", "oneOf"):
            if key in schema:
                subs = schema[key]
                if not isinstance(subs, list) or not subs:
                    raise _Unsupported(key)
                if key == "anyOf" and all(_only_type(sub) for sub in subs):
                    # FastAPI's Optional[...]: anyOf [{type: string}, {type: null}], inlined
                    merged = [t for sub in subs for t in _types_of(sub)]
                    out.append(self.checks({"type": merged}, v, pad))
                    continue
                names = [self.function(s) for s in subs]
                calls = ", ".join(f"{n}({v})" for n in names)
                if key == "allOf":
                    out.append(f"{pad}if not ({' and '.join(f'{n}({v})' for n in names)}): "
                               "return False\n")  # fmt: skip
                elif key == "anyOf":
                    out.append(f"{pad}if not ({' or '.join(f'{n}({v})' for n in names)}): "
                               "return False\n")  # fmt: skip
                else:
                    out.append(f"{pad}if sum(({calls},)) != 1: return False\n")
        return "".join(out)

    def object(self, schema: Mapping[str, Any], v: str, pad: str) -> str:
        out = [f"{pad}if type({v}) is dict:\n"]
        inner = pad + "    "
        required = schema.get("required") or []
        if not isinstance(required, list):
            raise _Unsupported("required")
        for name in required:
            out.append(f"{inner}if {str(name)!r} not in {v}: return False\n")
        properties = schema.get("properties") or {}
        if not isinstance(properties, Mapping):
            raise _Unsupported("properties")
        for name, sub in properties.items():
            p = self.variable()
            body = self.checks(sub, p, inner + "    ")
            if body:
                out.append(
                    f"{inner}{p} = {v}.get({str(name)!r}, M)\n{inner}if {p} is not M:\n{body}"
                )
        extra = schema.get("additionalProperties", True)
        if extra is False:
            allowed = self.constant(frozenset(map(str, properties)))
            out.append(f"{inner}if not {allowed}.issuperset({v}): return False\n")
        elif extra is not True and extra != {}:
            check = self.function(extra)
            known = self.constant(frozenset(map(str, properties)))
            out.append(f"{inner}for k, e in {v}.items():\n")
            out.append(f"{inner}    if k not in {known} and not {check}(e): return False\n")
        return "".join(out) if len(out) > 1 else ""  # nothing to check inside the object


def compile_check(
    schema: Any, *, nullable: bool, integer_floats: bool, format_checker: Any = None
) -> Callable[[Any], bool] | None:
    """A function that is ``True`` only for instances certainly valid against ``schema``.

    Args:
        schema: the JSON Schema (references already resolved).
        nullable: OpenAPI 3.0's ``nullable`` (and Swagger's ``x-nullable``) apply.
        integer_floats: ``1.0`` is an integer (JSON Schema draft 6 and later).
        format_checker: jsonschema's format checker, so ``format`` means what it means there.

    Returns:
        ``None`` when the schema uses a keyword the fast path does not compile.
    """
    compiler = _Compiler(
        nullable=nullable, integer_floats=integer_floats, format_checker=format_checker
    )
    try:
        entry = compiler.function(schema)
    except (_Unsupported, RecursionError, re.error):
        return None
    namespace: dict[str, Any] = {"M": object(), **compiler.constants}
    exec(compile("".join(compiler.functions), "<apinotebook contract fast path>", "exec"),
         namespace)  # fmt: skip  # noqa: S102 - source generated above from schema values
    check: Callable[[Any], bool] = namespace[entry]
    return check
