"""REST: a response against its OpenAPI operation's response schema, with jsonschema.

The operation is the exchange's operation id (``client.call("getContact")``)
or, for ``client.get("/contacts/c_1")``, the one whose path template and
method match the URL. The response is the one documented for the status
(``"404"``, then ``"4XX"``, then ``"default"``). Validation is jsonschema's:
OpenAPI 3.1 schemas are JSON Schema 2020-12; OpenAPI 3.0 and Swagger 2.0
schemas are draft 4 plus ``nullable`` (``x-nullable``), which
:data:`OAS30Validator` adds. Validators are compiled once per operation and
status and kept with the document.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import jsonschema
from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import best_match
from jsonschema.validators import extend
from referencing.exceptions import Unresolvable

from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import DecodeError
from apinotebook._exchange import Exchange
from apinotebook.contract._fast import compile_check
from apinotebook.contract._result import ContractResult, Violation, json_path
from apinotebook.openapi import OpenAPIDocument, Operation, Response

__all__ = ["OAS30Validator", "check_rest", "find_operation"]

_MESSAGE = 300


def _nullable(schema: Mapping[str, Any]) -> bool:
    return schema.get("nullable") is True or schema.get("x-nullable") is True


def _type(validator: Any, types: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    if instance is None and _nullable(schema):
        return
    yield from Draft4Validator.VALIDATORS["type"](validator, types, instance, schema)


def _enum(validator: Any, enums: Any, instance: Any, schema: Mapping[str, Any]) -> Any:
    if instance is None and _nullable(schema):
        return
    yield from Draft4Validator.VALIDATORS["enum"](validator, enums, instance, schema)


#: JSON Schema draft 4 with OpenAPI 3.0's ``nullable`` (and Swagger's ``x-nullable``)
OAS30Validator: Any = extend(Draft4Validator, {"type": _type, "enum": _enum})

_lock = threading.Lock()
_validators: weakref.WeakKeyDictionary[OpenAPIDocument, dict[tuple[str, str], tuple[Any, Any]]] = (
    weakref.WeakKeyDictionary()
)
_routes: weakref.WeakKeyDictionary[OpenAPIDocument, list[tuple[str, re.Pattern[str], int, str]]] = (
    weakref.WeakKeyDictionary()
)


def _route_table(document: OpenAPIDocument) -> list[tuple[str, re.Pattern[str], int, str]]:
    with _lock:
        table = _routes.get(document)
    if table is not None:
        return table
    table = []
    for op in document.operations:
        parts = re.split(r"\{[^}/]+\}", op.path)
        pattern = "[^/]+".join(re.escape(p) for p in parts)
        literal = sum(len(p) for p in parts)
        table.append((op.method, re.compile(f"(?:^|.*?){pattern}/?$"), literal, op.id))
    table.sort(key=lambda row: -row[2])  # the most specific template first
    with _lock:
        _routes[document] = table
    return table


def find_operation(document: OpenAPIDocument, exchange: Exchange) -> Operation | None:
    """The operation that made ``exchange``: by its id, else by method and path template."""
    if exchange.operation:
        found = document.operations.get(exchange.operation)
        if found is not None:
            return found
    path = urlsplit(exchange.url).path
    for method, pattern, _literal, op_id in _route_table(document):
        if method == exchange.method and pattern.match(path):
            return document.operation(op_id)
    return None


def _response_for(op: Operation, status: int) -> Response | None:
    by_status = {r.status.upper(): r for r in op.responses}
    return (
        by_status.get(str(status))
        or by_status.get(f"{status // 100}XX")
        or by_status.get("DEFAULT")
    )


def _validator(
    document: OpenAPIDocument, op: Operation, response: Response
) -> tuple[Any, Callable[[Any], bool] | None]:
    """Jsonschema's validator, and the compiled pre-check when the schema allows one."""
    key = (op.id, response.status)
    with _lock:
        cache = _validators.setdefault(document, {})
        found = cache.get(key)
    if found is not None:
        return found
    spec = document.spec
    # recursive schemas keep a "$ref" into the document: give the root what it points at
    root: dict[str, Any] = dict(response.schema or {})
    for section in ("components", "definitions"):
        if section in spec and section not in root:
            root[section] = spec[section]
    modern = document.major == 3 and not document.version.startswith("3.0")
    cls = Draft202012Validator if modern else OAS30Validator
    validator = cls(root, format_checker=cls.FORMAT_CHECKER)
    fast = compile_check(
        response.schema, nullable=not modern, integer_floats=modern,
        format_checker=cls.FORMAT_CHECKER,
    )  # fmt: skip
    with _lock:
        cache[key] = (validator, fast)
    return validator, fast


def _violation(error: jsonschema.ValidationError, nth: dict[int, int]) -> Violation:
    specific = best_match(error.context) if error.context else None
    shown = specific or error
    path = list(error.absolute_path)
    kind = str(shown.validator)
    if kind == "required" and isinstance(shown.instance, Mapping):
        # jsonschema yields one error per missing property, in the order "required" lists them
        missing = [p for p in shown.validator_value if p not in shown.instance]
        index = nth[id(shown.instance)] = nth.get(id(shown.instance), -1) + 1
        if missing:
            path = list(shown.absolute_path) + [missing[min(index, len(missing) - 1)]]
    elif specific is not None:
        path = list(specific.absolute_path)
    message = shown.message
    if len(message) > _MESSAGE:
        message = message[:_MESSAGE] + "..."
    actual = None if kind == "required" else type(shown.instance).__name__
    return Violation(
        json_path(path), message, kind=kind, expected=str(shown.validator_value)[:80], actual=actual
    )


def check_rest(exchange: Exchange, document: OpenAPIDocument) -> ContractResult:
    """Check a REST exchange against ``document``."""
    op = find_operation(document, exchange)
    title = document.title or "the OpenAPI document"
    if op is None:
        result = ContractResult("rest", title, checked=False)
        result.reason = (
            f"no operation of {title} matches {exchange.method} {mask_url(exchange.url)}"
        )
        return result
    against = f"{op.id} ({op.method} {op.path})"
    response = _response_for(op, exchange.status)
    if response is None:
        documented = ", ".join(r.status for r in op.responses) or "none"
        result = ContractResult("rest", against)
        result.add(
            Violation(
                "$",
                f"status {exchange.status} is not documented for {op.id} (documented: "
                f"{documented})",
                kind="status",
                expected=documented,
                actual=str(exchange.status),
            )
        )
        return result
    if response.schema is None:
        return ContractResult(
            "rest", against, checked=False, reason=f"response {response.status} has no schema"
        )
    if exchange.content_type and "json" not in exchange.content_type:
        result = ContractResult("rest", against)
        result.add(
            Violation(
                "$",
                f"content-type {exchange.content_type} is not one the operation documents "
                f"({', '.join(response.content_types)})",
                kind="content-type",
                expected=", ".join(response.content_types),
                actual=exchange.content_type,
            )
        )
        return result
    try:
        data = exchange.json()
    except DecodeError as exc:
        result = ContractResult("rest", against)
        result.add(Violation("$", str(exc)[:_MESSAGE], kind="decode"))
        return result
    result = ContractResult("rest", f"{against} → {response.status}")
    try:
        validator, fast = _validator(document, op, response)
        if fast is not None and fast(data):
            return result  # certainly valid: jsonschema is asked only when it may not be
        nth: dict[int, int] = {}
        for error in validator.iter_errors(data):
            result.add(_violation(error, nth))
    except (jsonschema.SchemaError, Unresolvable) as exc:
        return ContractResult(
            "rest", against, checked=False, reason=f"the schema cannot be used: {exc}"[:_MESSAGE]
        )
    return result
