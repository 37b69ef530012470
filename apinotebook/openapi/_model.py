"""What an OpenAPI operation looks like in apinotebook: small frozen values.

:class:`Operation`, :class:`Parameter`, :class:`RequestBody` and
:class:`Response` are plain frozen dataclasses built from the spec (by
:mod:`apinotebook.openapi._build`); their schemas are the resolved schemas,
with ``{"$ref": ..., "x-recursive": True}`` markers where a schema refers back
to itself. :class:`Operations` is the list of a client's operations, also
indexable by operation id; it builds each operation on first access.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, overload

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "Location",
    "Operation",
    "Operations",
    "Parameter",
    "RequestBody",
    "Response",
    "python_name",
    "type_hint",
]

#: Where a parameter goes; ``formData`` only appears in ``RequestBody.fields`` (Swagger 2).
Location = Literal["path", "query", "header", "cookie", "formData"]

#: Keyword names ``OpenAPIClient.call`` keeps for itself; a spec parameter
#: with one of these names is passed as ``<name>_``.
RESERVED = frozenset({"body", "json", "headers", "timeout", "content_type"})

_SCALARS = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "file": "bytes",
}


def python_name(name: str, location: str = "") -> str:
    """A keyword-argument name for a spec parameter (``X-Request-ID`` -> ``x_request_id``)."""
    ident = re.sub(r"\W+", "_", name).strip("_") or "param"
    if location == "header":
        ident = ident.lower()
    if ident[0].isdigit():
        ident = f"_{ident}"
    if keyword.iskeyword(ident) or ident in RESERVED:
        ident = f"{ident}_"
    return ident


def type_hint(schema: Any, names: Mapping[int, str] | None = None, *, _depth: int = 0) -> str:
    """A short Python-style type for a schema: ``str``, ``list[int]``, ``Contact | None``."""
    names = names or {}
    if not isinstance(schema, Mapping) or _depth > 4:
        return "Any"
    if "x-recursive" in schema or "x-unresolved" in schema:
        return str(schema.get("$ref", "")).rsplit("/", 1)[-1] or "Any"
    raw_types = schema.get("type")
    if isinstance(raw_types, str):
        types = [raw_types]
    elif isinstance(raw_types, list | tuple):  # OpenAPI 3.1: a list of type names
        types = [t for t in raw_types if isinstance(t, str)]
    else:  # missing, or not a type name at all ({type: 5}): unknown
        types = []
    if types == ["null"]:
        return "None"
    nullable = schema.get("nullable") is True or "null" in types
    types = [t for t in types if t != "null"]
    name = names.get(id(schema))
    enum = schema.get("enum")
    hint: str
    if (
        isinstance(enum, list)
        and 0 < len(enum) <= 6
        and all(isinstance(v, str | int | float | bool | None) for v in enum)
    ):
        nullable = nullable or None in enum
        hint = "Literal[" + ", ".join(repr(v) for v in enum if v is not None) + "]"
    elif name and types in ([], ["object"]):
        hint = name
    elif types:
        hint = " | ".join(dict.fromkeys(_one_type(t, schema, names, _depth) for t in types))
    elif isinstance(schema.get("allOf"), list) and len(schema["allOf"]) == 1:
        hint = type_hint(schema["allOf"][0], names, _depth=_depth + 1)
    elif isinstance(choices := schema.get("oneOf") or schema.get("anyOf"), list):
        hints = list(dict.fromkeys(type_hint(c, names, _depth=_depth + 1) for c in choices))
        if "None" in hints and len(hints) > 1:
            hints.remove("None")
            nullable = True
        hint = " | ".join(hints)
    elif "properties" in schema or "allOf" in schema:
        hint = name or "dict"
    elif "items" in schema:
        hint = _one_type("array", schema, names, _depth)
    else:
        hint = "Any"
    if nullable and hint not in ("Any", "None") and not hint.endswith("| None"):
        hint += " | None"
    return hint


def _one_type(kind: Any, schema: Mapping[str, Any], names: Mapping[int, str], depth: int) -> str:
    if kind == "array":
        return f"list[{type_hint(schema.get('items'), names, _depth=depth + 1)}]"
    if kind == "object":
        return names.get(id(schema), "dict")
    if kind == "string" and schema.get("format") == "binary":
        return "bytes"
    return _SCALARS.get(str(kind), "Any")


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of an operation.

    ``python_name`` is the keyword :meth:`OpenAPIClient.call` accepts for it
    (the spec name works too when it is a valid keyword); ``type`` is a short
    Python-style rendering of ``schema``; ``style``/``explode`` say how arrays
    and objects are serialised (Swagger 2 ``collectionFormat`` mapped onto them).
    """

    name: str
    location: Location
    required: bool = False
    schema: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)
    description: str = field(default="", repr=False)
    deprecated: bool = False
    style: str = "form"
    explode: bool = True
    content_type: str | None = None
    python_name: str = ""
    type: str = "Any"

    def __repr__(self) -> str:
        flags = " required" if self.required else ""
        flags += " deprecated" if self.deprecated else ""
        return f"<Parameter {self.name!r} in {self.location}: {self.type}{flags}>"


@dataclass(frozen=True, slots=True)
class RequestBody:
    """An operation's request body: its preferred content type and schema.

    ``fields`` holds Swagger 2 ``formData`` parameters: they are passed to
    ``call`` as keywords and sent as a form.
    """

    content_type: str | None
    schema: Mapping[str, Any] = field(default_factory=dict, hash=False, repr=False)
    required: bool = False
    content_types: tuple[str, ...] = ()
    description: str = field(default="", repr=False)
    fields: tuple[Parameter, ...] = ()
    type: str = "Any"

    def __repr__(self) -> str:
        req = " required" if self.required else ""
        return f"<RequestBody {self.content_type}: {self.type}{req}>"


@dataclass(frozen=True, slots=True)
class Response:
    """One documented response: status (``"200"``, ``"4XX"``, ``"default"``), content, schema."""

    status: str
    description: str = ""
    content_types: tuple[str, ...] = ()
    schema: Mapping[str, Any] | None = field(default=None, hash=False, repr=False)

    def __repr__(self) -> str:
        types = f" {', '.join(self.content_types)}" if self.content_types else ""
        return f"<Response {self.status}{types}: {self.description[:60]!r}>"


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of an OpenAPI document.

    ``id`` is the ``operationId`` (or ``{method}_{path}`` when the spec has
    none, deduplicated); ``method`` is upper case; ``parameters`` merges the
    path-level and the operation-level ones (the operation's win); ``security``
    lists the names of the security schemes that apply.
    """

    id: str
    method: str
    path: str
    summary: str = ""
    description: str = field(default="", repr=False)
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    request_body: RequestBody | None = None
    responses: tuple[Response, ...] = field(default=(), repr=False)
    security: tuple[str, ...] = ()
    deprecated: bool = False

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name`` (its spec name or its keyword name)."""
        for p in self.parameters:
            if name in (p.name, p.python_name):
                return p
        known = ", ".join(p.name for p in self.parameters) or "none"
        raise KeyError(f"{self.id} has no parameter {name!r} (parameters: {known})")

    def arguments(self) -> list[tuple[str, str, bool]]:
        """``(keyword, type, required)`` for every argument ``call`` accepts."""
        args = [(p.python_name, p.type, p.required) for p in self.parameters]
        body = self.request_body
        if body is not None and body.fields:
            args += [(f.python_name, f.type, f.required) for f in body.fields]
        elif body is not None:
            args.append(("body", body.type, body.required))
        return args

    def signature(self) -> str:
        """A readable call signature: ``getContact(contact_id: str, *, expand: list[str] = ...)``.

        Required arguments come first; the optional ones after ``*``. Pass them
        all as keywords to :meth:`OpenAPIClient.call`.
        """
        args = self.arguments()
        path_order = {n: i for i, n in enumerate(re.findall(r"{([^}]+)}", self.path))}
        by_name = {p.python_name: p for p in self.parameters}

        def order(arg: tuple[str, str, bool]) -> int:
            p = by_name.get(arg[0])
            if p is not None and p.location == "path":
                return path_order.get(p.name, len(path_order))
            return len(path_order) + 1

        required = sorted((a for a in args if a[2]), key=order)
        optional = [a for a in args if not a[2]]
        parts = [f"{name}: {hint}" for name, hint, _ in required]
        if optional:
            parts.append("*")
            parts += [f"{name}: {hint} = ..." for name, hint, _ in optional]
        return f"{self.id}({', '.join(parts)})"

    def describe(self) -> str:
        """A few lines for a notebook: signature, summary, parameters, body, responses."""
        lines = [f"{self.method} {self.path}", self.signature()]
        if self.deprecated:
            lines.append("DEPRECATED")
        if self.summary:
            lines.append(self.summary)
        for p in self.parameters:
            req = ", required" if p.required else ""
            text = f" - {p.description}" if p.description else ""
            lines.append(f"  {p.python_name} ({p.location} {p.name!r}, {p.type}{req}){text}")
        if self.request_body is not None:
            rb = self.request_body
            lines.append(
                f"  body: {rb.type} as {rb.content_type}{' (required)' if rb.required else ''}"
            )
        for r in self.responses:
            lines.append(f"  -> {r.status} {r.description}".rstrip())
        return "\n".join(lines)

    def __repr__(self) -> str:
        summary = f" - {self.summary}" if self.summary else ""
        flag = " (deprecated)" if self.deprecated else ""
        return f"<Operation {self.id}: {self.method} {self.path}{flag}{summary}>"


class Operations(Sequence[Operation]):
    """A client's operations: a list, also indexable by operation id.

    >>> client.operations[0]                      # doctest: +SKIP
    >>> client.operations["getContact"]           # doctest: +SKIP
    >>> "getContact" in client.operations         # doctest: +SKIP

    Each :class:`Operation` is built (and its schemas resolved) the first
    time it is looked at.
    """

    def __init__(self, ids: Sequence[str], get: Callable[[str], Operation]) -> None:
        self._ids = list(ids)
        self._known = frozenset(self._ids)
        self._get = get

    def ids(self) -> list[str]:
        """Every operation id, in document order (nothing is built)."""
        return list(self._ids)

    @overload
    def __getitem__(self, key: int) -> Operation: ...
    @overload
    def __getitem__(self, key: str) -> Operation: ...
    @overload
    def __getitem__(self, key: slice) -> list[Operation]: ...
    def __getitem__(self, key: int | str | slice) -> Operation | list[Operation]:
        if isinstance(key, str):
            return self._get(key)
        if isinstance(key, slice):
            return [self._get(i) for i in self._ids[key]]
        return self._get(self._ids[key])

    def get(self, operation_id: str, default: Operation | None = None) -> Operation | None:
        """The operation with this id, or ``default``."""
        return self._get(operation_id) if operation_id in self._known else default

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[Operation]:
        return (self._get(i) for i in self._ids)

    def __contains__(self, item: object) -> bool:
        if isinstance(item, Operation):
            return item.id in self._known and self._get(item.id) == item
        return item in self._known

    def search(self, text: str = "", *, tag: str | None = None) -> list[Operation]:
        """Operations whose id, path, summary or description contain ``text`` (any case)."""
        needle = text.lower()
        found = []
        for op in self:
            if tag is not None and tag not in op.tags:
                continue
            haystack = f"{op.id}\n{op.method} {op.path}\n{op.summary}\n{op.description}".lower()
            if needle in haystack:
                found.append(op)
        return found

    def to_frame(self) -> pd.DataFrame:
        """One row per operation: id, method, path, summary, tags, deprecated."""
        import pandas as pd

        rows = [
            {
                "id": op.id,
                "method": op.method,
                "path": op.path,
                "summary": op.summary,
                "tags": ", ".join(op.tags),
                "deprecated": op.deprecated,
            }
            for op in self
        ]
        columns = ["id", "method", "path", "summary", "tags", "deprecated"]
        return pd.DataFrame(rows, columns=columns)

    def __repr__(self) -> str:
        shown = ", ".join(self._ids[:8])
        more = f", ... ({len(self._ids) - 8} more)" if len(self._ids) > 8 else ""
        return f"<Operations ({len(self._ids)}): {shown}{more}>"
