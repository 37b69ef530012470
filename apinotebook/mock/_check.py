"""A request against its OpenAPI operation: parameters and body, with the failing path.

Schemas are checked by ``openapi-schema-validator`` (jsonschema with OpenAPI's
dialects: 3.0's ``nullable`` and ``readOnly``/``writeOnly``, 3.1's JSON Schema
2020-12). Parameters arrive as text and are read as their schema's type first
(``?limit=10`` is the integer 10; ``?ids=1,2`` or ``?ids=1&ids=2`` a list).
Every problem is reported as ``{"in", "path", "message"}`` where ``path`` is
``query.limit`` or ``body.items[0].name``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

# imported with the module, before a document is loaded: importing it later, with a
# 47 MB document alive, costs seconds of garbage collection
import openapi_schema_validator as osv

from apinotebook.mock._asgi import Request
from apinotebook.mock._generate import pick_type
from apinotebook.openapi import Operation

__all__ = ["OperationChecker", "Problem", "clean_schema", "coerce", "validator_for"]

Problem = dict[str, str]

_JSONISH = ("application/json", "+json", "/json")
_FORM = "application/x-www-form-urlencoded"
_BOUNDS = {"exclusiveMaximum": "maximum", "exclusiveMinimum": "minimum"}


def clean_schema(schema: Any, _seen: dict[int, Any] | None = None) -> Any:
    """A copy jsonschema can read: our resolver's recursion markers become ``{}``.

    Swagger 2's ``x-nullable`` becomes ``nullable`` and its ``type: file`` accepts
    anything; a draft-4 boolean ``exclusiveMaximum: true`` (common in 3.1 documents
    written the 3.0 way) becomes the bound it means.
    """
    seen = {} if _seen is None else _seen
    if isinstance(schema, list):
        return [clean_schema(v, seen) for v in schema]
    if not isinstance(schema, Mapping):
        return schema
    if id(schema) in seen:
        return seen[id(schema)]
    if "x-recursive" in schema or "x-unresolved" in schema or schema.get("type") == "file":
        return {}
    out: dict[str, Any] = {}
    seen[id(schema)] = out
    for key, value in schema.items():
        if key in ("example", "examples", "enum", "const", "default", "x-example"):
            out[key] = value
        elif key == "x-nullable":
            out["nullable"] = value
        elif key in _BOUNDS and isinstance(value, bool):
            bound = schema.get(_BOUNDS[key])
            if value and isinstance(bound, int | float) and not isinstance(bound, bool):
                out[key] = bound
        elif key in ("$schema", "$id", "discriminator"):
            continue
        else:
            out[key] = clean_schema(value, seen)
    return out


def validator_for(schema: Any, version: str, *, mode: str) -> Any:
    """An OpenAPI schema validator for a request (``write``) or a response (``read``)."""
    if version.startswith(("3.1", "3.2")):
        return osv.OAS31Validator(clean_schema(schema), format_checker=osv.oas31_format_checker)
    cls = osv.OAS30WriteValidator if mode == "write" else osv.OAS30ReadValidator
    return cls(clean_schema(schema), format_checker=osv.oas30_format_checker)


def schema_errors(validator: Any, value: Any, where: str, prefix: str) -> list[Problem]:
    """Every violation, ``path`` as ``prefix.a[0].b``; a schema jsonschema cannot run: none."""
    try:
        errors = sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.path)))
    except Exception:  # noqa: BLE001 - a broken schema (bad regex, bad keyword): tolerated
        return []
    out = []
    for err in errors[:20]:
        path = prefix
        for part in err.absolute_path:
            path += f"[{part}]" if isinstance(part, int) else f".{part}"
        out.append({"in": where, "path": path, "message": err.message[:300]})
    return out


def coerce(raw: list[str], schema: Mapping[str, Any], *, explode: bool = True) -> Any:
    """Parameter text as its schema's type (``"10"`` -> 10); unreadable text stays text."""
    kind = pick_type(schema)
    if kind == "array":
        values = raw if (explode and len(raw) > 1) else [p for r in raw for p in r.split(",")]
        items = schema.get("items")
        items = items if isinstance(items, Mapping) else {}
        return [coerce([v], items) for v in values]
    text = raw[-1] if raw else ""
    try:
        if kind == "integer":
            return int(text)
        if kind == "number":
            return float(text)
        if kind == "boolean" and text.lower() in ("true", "false", "1", "0"):
            return text.lower() in ("true", "1")
        if kind == "object" and text.startswith("{"):
            return json.loads(text)
    except ValueError:
        return text
    return text


class OperationChecker:
    """Validators of one operation, built on first use."""

    def __init__(self, op: Operation, version: str) -> None:
        self.op = op
        self.version = version
        self._validators: dict[str, Any] = {}

    def _validator(self, key: str, schema: Any) -> Any:
        found = self._validators.get(key)
        if found is None:
            found = self._validators[key] = validator_for(schema, self.version, mode="write")
        return found

    def check(self, request: Request, path_params: Mapping[str, str]) -> tuple[list[Problem], Any]:
        """The problems with ``request`` (empty when valid) and its decoded body."""
        problems: list[Problem] = []
        query = parse_qs(request.query, keep_blank_values=True)
        for p in self.op.parameters:
            if p.location == "path":
                raw = [path_params[p.name]] if p.name in path_params else []
            elif p.location == "query":
                raw = query.get(p.name) or query.get(p.name + "[]") or []
            elif p.location == "header":
                value = request.header(p.name, "\0")
                raw = [] if value == "\0" else [value]
            else:
                continue  # cookies: not checked
            where = f"{p.location}.{p.name}"
            if not raw:
                if p.required:
                    problems.append({"in": p.location, "path": where,
                                     "message": f"the required {p.location} parameter "
                                                f"{p.name!r} is missing"})  # fmt: skip
                continue
            if p.schema:
                value = coerce(raw, p.schema, explode=p.explode)
                v = self._validator(where, p.schema)
                problems += schema_errors(v, value, p.location, where)
        body, body_problems = self.body(request)
        return problems + body_problems, body

    def body(self, request: Request) -> tuple[Any, list[Problem]]:
        """The decoded body and its problems."""
        rb = self.op.request_body
        if rb is None:
            return None, []
        if not request.body:
            if rb.required:
                return None, [{"in": "body", "path": "body",
                               "message": "a request body is required"}]  # fmt: skip
            return None, []
        media = request.media_type
        declared = [t.partition(";")[0].strip().lower() for t in rb.content_types]
        if media and declared and not _accepts(declared, media):
            return None, [{"in": "header", "path": "header.Content-Type",
                           "message": f"{media!r} is not one of {', '.join(declared)}",
                           "status": "415"}]  # fmt: skip
        if media == _FORM or (not media and rb.content_type == _FORM):
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            props = rb.schema.get("properties") if isinstance(rb.schema, Mapping) else None
            props = props if isinstance(props, Mapping) else {}
            value: Any = {k: coerce(v, props.get(k) or {}) for k, v in form.items()}
        elif media.endswith(_JSONISH) or not media:
            try:
                value = json.loads(request.body)
            except (ValueError, UnicodeDecodeError) as exc:
                return None, [{"in": "body", "path": "body",
                               "message": f"the body is not valid JSON: {exc}"}]  # fmt: skip
        else:
            return request.body, []  # XML, binary, multipart: taken as sent
        if not rb.schema:
            return value, []
        return value, schema_errors(self._validator("body", rb.schema), value, "body", "body")


def _accepts(declared: list[str], media: str) -> bool:
    for d in declared:
        if d in ("*/*", media) or (d.endswith("/*") and media.startswith(d[:-1])):
            return True
    return False
