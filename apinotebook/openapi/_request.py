"""Turn ``call(operation_id, **arguments)`` into what ``RestClient.request`` sends.

No I/O: :func:`plan_request` checks the arguments against the operation
(unknown, missing, and simple type and enum checks), serialises each
parameter into its location following the OpenAPI ``style``/``explode``
rules (path segments percent-encoded, query lists repeated or joined,
``deepObject``, headers, a ``Cookie`` header), and encodes the body for the
operation's content type.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal
from difflib import get_close_matches
from typing import Any
from urllib.parse import quote
from uuid import UUID

from apinotebook._core.secrets import is_sensitive_name
from apinotebook._exceptions import ConfigError
from apinotebook.openapi._model import RESERVED, Operation, Parameter

__all__ = ["plan_request"]

_STRINGY = (str, int, float, Decimal, UUID, dt.date, dt.time)
_DELIMITERS = {"spaceDelimited": " ", "pipeDelimited": "|", "tabDelimited": "\t"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _shown(name: str, value: Any) -> str:
    return "'***'" if is_sensitive_name(name) else f"{value!r:.80}"


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    types = [kind] if isinstance(kind, str) else [str(t) for t in kind or []]
    if schema.get("nullable") is True:
        types.append("null")
    return types


def _matches(kind: str, value: Any) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "file":
        return isinstance(value, bytes | str | tuple) or hasattr(value, "read")
    if kind == "string":
        return isinstance(value, _STRINGY + (bytes,)) and not isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list | tuple)
    if kind == "object":
        return isinstance(value, Mapping)
    if kind == "null":
        return value is None
    return True


def check_value(value: Any, schema: Mapping[str, Any], *, name: str, label: str) -> None:
    """Check a value's simple type and enum against its schema.

    Raises:
        ConfigError: the value does not fit; the message names ``label``.
    """
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and not isinstance(value, list | tuple | Mapping):
        if value not in enum and _text(value) not in {_text(e) for e in enum}:
            options = ", ".join(repr(e) for e in enum[:20])
            raise ConfigError(f"{label} must be one of {options}; got {_shown(name, value)}")
    types = _types(schema)
    if types and not any(_matches(t, value) for t in types):
        expected = " or ".join(t for t in types if t != "null")
        raise ConfigError(
            f"{label} must be {expected}; got {_shown(name, value)} ({type(value).__name__})"
        )
    items = schema.get("items")
    if "array" in types and isinstance(items, Mapping) and isinstance(value, list | tuple):
        for item in value:
            check_value(item, items, name=name, label=f"each item of {label}")


def _pairs(value: Mapping[Any, Any]) -> list[tuple[str, str]]:
    return [(str(k), _text(v)) for k, v in value.items()]


def _path_segment(p: Parameter, value: Any) -> str:
    def enc(v: Any) -> str:
        return quote(_text(v), safe="")

    if isinstance(value, list | tuple):
        parts = [enc(v) for v in value]
    elif isinstance(value, Mapping):
        pairs = _pairs(value)
        if p.explode:
            parts = [f"{enc(k)}={enc(v)}" for k, v in pairs]
        else:
            parts = [enc(x) for pair in pairs for x in pair]
    else:
        parts = [enc(value)]
    if p.style == "label":
        return "." + ("." if p.explode else ",").join(parts)
    if p.style == "matrix":
        if p.explode and isinstance(value, list | tuple):
            return "".join(f";{enc(p.name)}={v}" for v in parts)
        return f";{enc(p.name)}=" + ",".join(parts)
    return ",".join(parts)


def _query(p: Parameter, value: Any) -> list[tuple[str, str]]:
    if p.content_type is not None:
        return [(p.name, json.dumps(value, default=str))]
    if isinstance(value, Mapping):
        if p.style == "deepObject":
            return [(f"{p.name}[{k}]", v) for k, v in _pairs(value)]
        if p.explode:
            return _pairs(value)
        return [(p.name, ",".join(x for pair in _pairs(value) for x in pair))]
    if isinstance(value, list | tuple):
        if p.style == "form" and p.explode:
            return [(p.name, _text(v)) for v in value]
        return [(p.name, _DELIMITERS.get(p.style, ",").join(_text(v) for v in value))]
    return [(p.name, _text(value))]


def _header(p: Parameter, value: Any) -> str:
    if p.content_type is not None:
        return json.dumps(value, default=str)
    if isinstance(value, Mapping):
        sep = "=" if p.explode else ","
        return ",".join(f"{k}{sep}{v}" for k, v in _pairs(value))
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return _text(value)


def _accepted(op: Operation) -> dict[str, Parameter]:
    """Keyword -> parameter: every keyword name, then every spec name that is free."""
    params = list(op.parameters)
    if op.request_body is not None:
        params += op.request_body.fields
    accepted = {p.python_name: p for p in params}
    for p in params:
        if p.name not in RESERVED:
            accepted.setdefault(p.name, p)
    return accepted


def _argument_error(op: Operation, message: str) -> ConfigError:
    return ConfigError(f"{message}\nSignature: {op.signature()}")


def plan_request(
    op: Operation, arguments: Mapping[str, Any], *, base_url: str, validate: bool = True
) -> tuple[str, dict[str, Any]]:
    """The absolute URL and the ``RestClient.request`` keywords for one call.

    Raises:
        ConfigError: an unknown or missing argument, a value of the wrong
            type, or a body the operation cannot take; the message shows the
            operation's signature.
    """
    args = dict(arguments)
    if "body" in args and "json" in args:
        raise _argument_error(op, f"{op.id}() takes the request body as body= or json=, not both")
    body = args.pop("body", args.pop("json", None))
    extra_headers = args.pop("headers", None) or {}
    timeout = args.pop("timeout", None)
    content_type = args.pop("content_type", None)
    accepted = _accepted(op)
    unknown = [k for k in args if k not in accepted]
    if unknown:
        valid = sorted({p.python_name for p in accepted.values()})
        if op.request_body is not None and not op.request_body.fields:
            valid.append("body")
        close = get_close_matches(unknown[0], valid, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise _argument_error(
            op,
            f"{op.id}() got unknown parameter(s) {', '.join(map(repr, unknown))}. Valid: "
            f"{', '.join(valid) or 'none'}.{hint}",
        )
    values: dict[Parameter, Any] = {}
    for key, value in args.items():
        p = accepted[key]
        if p in values:
            raise _argument_error(op, f"{op.id}() got {p.name!r} twice (as {key!r} too)")
        if value is not None:
            values[p] = value
    missing = [p.python_name for p in op.parameters if p.required and p not in values]
    rb = op.request_body
    if rb is not None and rb.fields:
        missing += [f.python_name for f in rb.fields if f.required and f not in values]
        missing = missing if body is None else [m for m in missing if not _in_body(m, rb, body)]
    elif rb is not None and rb.required and body is None:
        missing.append("body")
    if missing:
        raise _argument_error(
            op, f"{op.id}() is missing required parameter(s): {', '.join(map(repr, missing))}"
        )
    if body is not None and rb is None:
        raise _argument_error(op, f"{op.id}() ({op.method} {op.path}) takes no request body")

    path = op.path
    params: list[tuple[str, str]] = []
    headers: dict[str, str] = {}
    cookies: list[str] = []
    form: dict[str, Any] = {}
    for p, value in values.items():
        if p.schema.get("type") == "array" and not isinstance(value, list | tuple | set):
            value = [value]
        elif isinstance(value, set):
            value = sorted(value, key=str)
        if validate:
            check_value(value, p.schema, name=p.name, label=f"parameter {p.name!r} of {op.id}()")
        if p.location == "path":
            path = path.replace(f"{{{p.name}}}", _path_segment(p, value))
        elif p.location == "query":
            params += _query(p, value)
        elif p.location == "header":
            headers[p.name] = _header(p, value)
        elif p.location == "cookie":
            cookies.append(f"{p.name}={quote(_header(p, value), safe='')}")
        else:
            form[p.name] = value
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    headers.update({str(k): str(v) for k, v in dict(extra_headers).items()})
    kwargs: dict[str, Any] = {}
    if params:
        kwargs["params"] = params
    if rb is not None and (body is not None or form):
        if form:
            if body is not None and not isinstance(body, Mapping):
                raise _argument_error(op, f"{op.id}() takes form fields; body= must be a dict")
            body = {**dict(body or {}), **form}
        kwargs.update(_encode_body(op, body, content_type or rb.content_type, headers))
    if headers:
        kwargs["headers"] = headers
    if timeout is not None:
        kwargs["timeout"] = timeout
    return base_url.rstrip("/") + "/" + path.lstrip("/"), kwargs


def _in_body(name: str, rb: Any, body: Any) -> bool:
    return isinstance(body, Mapping) and any(
        f.python_name == name and (f.name in body or name in body) for f in rb.fields
    )


def _encode_body(
    op: Operation, body: Any, content_type: str | None, headers: dict[str, str]
) -> dict[str, Any]:
    base = (content_type or "").split(";")[0].strip().lower()
    if isinstance(body, bytes | bytearray | str):
        if content_type:
            headers.setdefault("Content-Type", content_type)
        return {"content": bytes(body) if isinstance(body, bytearray) else body}
    if base == "application/x-www-form-urlencoded":
        if not isinstance(body, Mapping):
            raise _argument_error(op, f"{op.id}() sends a form: pass body= as a dict")
        return {"data": {str(k): _form_value(v) for k, v in body.items()}}
    if base == "multipart/form-data":
        if not isinstance(body, Mapping):
            raise _argument_error(op, f"{op.id}() sends multipart/form-data: pass body= as a dict")
        files: list[tuple[str, Any]] = []
        for key, value in body.items():
            for item in value if isinstance(value, list) else [value]:
                is_file = isinstance(item, bytes | tuple) or hasattr(item, "read")
                files.append((str(key), item if is_file else (None, _text(item))))
        return {"files": files}
    if not base or base in ("application/json", "*/*", "application/*"):
        # a wildcard (Kubernetes declares */*) takes any body: send structured data as JSON
        return {"json": body}
    if base.endswith(("+json", "/json")) or ("/" not in base and "json" in base):
        # a JSON flavour, or a vendor's malformed JSON media type (loket.nl declares
        # "applicationjson;version=..."): JSON text under the type the spec declares
        headers.setdefault("Content-Type", content_type or base)
        return {"content": json.dumps(body, default=str).encode()}
    declared = ", ".join(op.request_body.content_types) if op.request_body else ""
    raise _argument_error(
        op,
        f"{op.id}() sends {content_type}: pass body= as str or bytes "
        f"(or content_type= one of: {declared})",
    )


def _form_value(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [_text(v) for v in value]
    return _text(value)
