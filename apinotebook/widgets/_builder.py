"""RequestBuilder: compose a REST request in a form, or start from an OpenAPI operation.

>>> RequestBuilder(crm)                        # doctest: +SKIP
>>> crm.explore(operation="createContact")     # doctest: +SKIP

The form holds a method, a path, query parameters, headers and a JSON body
(checked as JSON while you type). For an
:class:`~apinotebook.rest.OpenAPIClient` a searchable picker fills it
from an operation: path, query and header parameters (required ones marked,
enums as selects) and a JSON skeleton of the body schema; *Send* then runs
``client.call(operation, ...)``, so a missing required parameter is the
client's own ``ConfigError`` message, shown in the form. *Send* shows an
:class:`~apinotebook.widgets.Inspector` below; *Copy as code* writes the
same call in Python with credentials read from the environment.

Thousands of operations stay responsive: the synced state holds only the
client's description; the picker asks the kernel for matching operations
(a bounded page) and for one operation's form when it is picked.

===========  ==========================================  ===================================
request      fields                                      reply
===========  ==========================================  ===================================
operations   query, offset, limit                        items, matched, total
operation    operation (its id)                          operation (its form)
send         operation, method, path, params, query,     status, ok, summary, fault, error
             headers, body
code         (as send)                                   code
===========  ==========================================  ===================================
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html import escape
from typing import TYPE_CHECKING, Any

import traitlets

from apinotebook._core.secrets import is_sensitive_name, mask_text, mask_url
from apinotebook._exceptions import ConfigError
from apinotebook._exchange import Exchange
from apinotebook.rest import OpenAPIClient, RestClient
from apinotebook.widgets._base import Widget, esm
from apinotebook.widgets._editors import CodeEditors
from apinotebook.widgets._explorer import (
    Explorer,
    call_code,
    coerce_scalar,
    dict_code,
    explorer_css,
    keyword_args,
    pairs_code,
    parse_json,
    run_call,
    value_code,
)
from apinotebook.widgets._snippets import py_str

if TYPE_CHECKING:
    from apinotebook.openapi import Operation, Parameter

__all__ = [
    "BuilderPanel",
    "RequestBuilder",
    "body_skeleton",
    "operation_form",
    "request_code",
    "schema_enum",
    "schema_kind",
]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_PAGE = 50
_MAX_PAGE = 200
_MAX_PROPERTIES = 25
_MAX_DEPTH = 4
_SKELETON_LIMIT = 32 * 1024
_TEXT_LIMIT = 2_000
_FORMATS = {
    "date-time": "2024-01-31T12:00:00Z",
    "date": "2024-01-31",
    "time": "12:00:00",
    "email": "user@example.com",
    "uuid": "00000000-0000-0000-0000-000000000000",
    "uri": "https://example.com",
    "url": "https://example.com",
}


# -- schemas -----------------------------------------------------------------------------


def _alternatives(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    choices = schema.get("oneOf") or schema.get("anyOf") or []
    return [c for c in choices if isinstance(c, Mapping)] if isinstance(choices, list) else []


def schema_kind(schema: Any) -> str:
    """The JSON type a form value is read as: ``integer``, ``array``, ... (``string`` if unsure)."""
    if not isinstance(schema, Mapping):
        return "string"
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else [str(k) for k in kind or []]
    kinds = [k for k in kinds if k != "null"]
    if kinds:
        return kinds[0]
    for choice in _alternatives(schema):
        found = schema_kind(choice)
        if choice.get("type") not in (None, "null") or "enum" in choice:
            return found
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, bool) for v in enum):
        return "boolean"
    if isinstance(enum, list) and enum and all(isinstance(v, int) for v in enum):
        return "integer"
    return "object" if "properties" in schema else "string"


def schema_enum(schema: Any) -> list[Any] | None:
    """The allowed values of a schema (looking inside ``anyOf``/``oneOf``), if it lists them."""
    if not isinstance(schema, Mapping):
        return None
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return [v for v in enum if v is not None] or None
    for choice in _alternatives(schema):
        found = schema_enum(choice)
        if found:
            return found
    return None


_KEYS_DEPTH = 6
_KEYS_PER_OBJECT = 300


def body_skeleton(schema: Any, *, _depth: int = 0) -> Any:
    """A JSON value shaped like ``schema``: its example, else placeholders by type.

    Required properties come first; at most 25 properties per object and four
    levels deep; read-only properties are left out; recursive references
    become ``{}``.
    """
    if not isinstance(schema, Mapping):
        return None
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if "x-recursive" in schema or "x-unresolved" in schema:
        return {}
    enum = schema_enum(schema)
    if enum:
        return enum[0]
    all_of = schema.get("allOf")
    if isinstance(all_of, list) and all_of:
        merged: dict[str, Any] = {}
        for part in all_of:
            value = body_skeleton(part, _depth=_depth)
            if isinstance(value, dict):
                merged.update(value)
        if "properties" in schema:
            merged.update(_object_skeleton(schema, _depth))
        return merged
    kind = schema_kind(schema)
    if kind == "object":
        return _object_skeleton(schema, _depth)
    if kind == "array":
        if _depth >= _MAX_DEPTH:
            return []
        return [body_skeleton(schema.get("items"), _depth=_depth + 1)]
    if kind == "string":
        return _FORMATS.get(str(schema.get("format", "")), "")
    return {"integer": 0, "number": 0, "boolean": False}.get(kind)


def _object_skeleton(schema: Mapping[str, Any], depth: int) -> dict[str, Any]:
    properties = schema.get("properties")
    if not isinstance(properties, Mapping) or depth >= _MAX_DEPTH:
        return {}
    required = [str(r) for r in schema.get("required") or [] if r in properties]
    names = required + [str(n) for n in properties if n not in required]
    out: dict[str, Any] = {}
    for name in names:
        prop = properties[name]
        if isinstance(prop, Mapping) and prop.get("readOnly") is True:
            continue
        if len(out) >= _MAX_PROPERTIES:
            break
        out[name] = body_skeleton(prop, _depth=depth + 1)
    return out


def _short(text: str, limit: int = _TEXT_LIMIT) -> str:
    text = mask_text(text or "")
    return text if len(text) <= limit else text[:limit] + "…"


def _parameter_form(p: Parameter) -> dict[str, Any]:
    schema = p.schema
    default = schema.get("default") if isinstance(schema, Mapping) else None
    example = schema.get("example") if isinstance(schema, Mapping) else None
    return {
        "name": p.name,
        "python_name": p.python_name,
        "in": p.location,
        "required": p.required,
        "type": p.type,
        "kind": schema_kind(schema),
        "enum": [str(v) if not isinstance(v, str) else v for v in schema_enum(schema) or []],
        "default": None if default is None else _text(default),
        "example": None if example is None else _text(example),
        "description": _short(p.description, 500),
        "deprecated": p.deprecated,
        "secret": is_sensitive_name(p.name),
    }


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def body_keys(schema: Any, *, _depth: int = 0) -> dict[str, Any] | None:
    """The part of a body schema the editor completes from: properties, nested, bounded."""
    if not isinstance(schema, Mapping) or _depth > _KEYS_DEPTH:
        return None
    out: dict[str, Any] = {"type": str(schema.get("type") or ""), "required": []}
    if isinstance(schema.get("description"), str):
        out["description"] = mask_text(schema["description"][:200])
    parts = [schema, *[p for p in schema.get("allOf") or () if isinstance(p, Mapping)]]
    props: dict[str, Any] = {}
    for part in parts:
        for name, sub in (part.get("properties") or {}).items():
            props[str(name)] = body_keys(sub, _depth=_depth + 1) or {}
        out["required"] += [str(r) for r in part.get("required") or () if isinstance(r, str)]
    if props:
        out["properties"] = dict(list(props.items())[:_KEYS_PER_OBJECT])
    if isinstance(schema.get("items"), Mapping):
        out["items"] = body_keys(schema["items"], _depth=_depth + 1)
    return out


def operation_form(op: Operation) -> dict[str, Any]:
    """What the form needs to show one operation (masked, bounded)."""
    body = op.request_body
    body_form: dict[str, Any] | None = None
    if body is not None:
        skeleton = body_skeleton(body.schema)
        if body.fields:  # Swagger 2 form fields: one object
            skeleton = {f.name: body_skeleton(f.schema) for f in body.fields}
        text = json.dumps(skeleton, indent=2, ensure_ascii=False, default=str)
        if len(text) > _SKELETON_LIMIT:
            text = json.dumps(skeleton, ensure_ascii=False, default=str)[:_SKELETON_LIMIT]
        body_form = {
            "content_type": body.content_type or "",
            "content_types": list(body.content_types),
            "required": body.required,
            "type": body.type,
            "description": _short(body.description, 500),
            "skeleton": mask_text(text),
            # property names for the body editor's completion (this operation's only)
            "keys": body_keys(
                {"properties": {f.name: f.schema for f in body.fields}}
                if body.fields
                else body.schema
            ),
        }
    return {
        "id": op.id,
        "method": op.method,
        "path": op.path,
        "summary": _short(op.summary, 300),
        "description": _short(op.description),
        "signature": op.signature(),
        "deprecated": op.deprecated,
        "tags": list(op.tags),
        "parameters": [_parameter_form(p) for p in op.parameters if p.location != "cookie"],
        "cookies": [p.name for p in op.parameters if p.location == "cookie"],
        "body": body_form,
    }


# -- reading the form ----------------------------------------------------------------------


@dataclass
class _Plan:
    """One request as read from the form: an operation call or a plain request."""

    operation: str | None
    method: str
    path: str
    arguments: dict[str, Any] = field(default_factory=dict)
    params: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


def _rows(value: Any, what: str) -> list[tuple[str, str]]:
    """``[[name, value], ...]`` from the form, skipping rows without a name."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise ConfigError(f"{what} must be a list of [name, value] rows")
    rows = []
    for row in value:
        if not isinstance(row, list | tuple) or len(row) != 2:
            raise ConfigError(f"{what} must be a list of [name, value] rows")
        name, text = str(row[0]).strip(), str(row[1])
        if name:
            rows.append((name, text))
    return rows


def _parameter_value(p: Parameter, text: str) -> Any:
    label = f"parameter {p.name!r}"
    kind = schema_kind(p.schema)
    if kind == "array" and not text.strip().startswith("["):
        items = p.schema.get("items") if isinstance(p.schema, Mapping) else None
        item_kind = schema_kind(items)
        return [coerce_scalar(part.strip(), item_kind, label=f"each item of {label}")
                for part in text.split(",") if part.strip()]  # fmt: skip
    return coerce_scalar(text, kind, label=label)


def _parameter_values(op: Operation, values: Any) -> list[tuple[Parameter, str]]:
    """``params`` as ``{name: text}`` or as ``[[location, name, text], ...]`` rows.

    The rows tell apart two parameters with one name in different locations.
    """
    if not values:
        return []
    if isinstance(values, Mapping):
        return [(op.parameter(str(name)), str(text)) for name, text in values.items()
                if text is not None]  # fmt: skip
    if not isinstance(values, list):
        raise ConfigError("params must map parameter names to values")
    found = []
    for row in values:
        if not isinstance(row, list | tuple) or len(row) != 3:
            raise ConfigError("params rows must be [location, name, value]")
        location, name, text = (str(part) for part in row)
        match = [p for p in op.parameters if p.name == name and p.location == location]
        if not match:
            raise ConfigError(f"{op.id} has no {location} parameter {name!r}")
        found.append((match[0], text))
    return found


class BuilderPanel(CodeEditors, Widget):
    """The form of :class:`RequestBuilder` (its front end is ``static/builder.js``)."""

    _esm = esm("codebox.js", "builder.js")
    _css = explorer_css()

    info = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        client: RestClient,
        /,
        *,
        name: str = "client",
        operation: str | None = None,
        show: Callable[[Exchange], None] | None = None,
    ) -> None:
        self._client = client
        self._name = name
        self._show = show or (lambda exchange: None)
        self._index: list[dict[str, Any]] | None = None
        self._haystacks: list[str] = []
        spec = self._openapi()
        if operation is not None and spec is None:
            raise ConfigError("operation= needs an OpenAPI client (RestClient.from_openapi(...))")
        if operation is not None and spec is not None:
            spec.operation(operation)  # raises with close matches
        super().__init__(
            info={
                "kind": "openapi" if spec is not None else "rest",
                "title": mask_text(spec.title) if spec is not None else "",
                "base_url": mask_url(client.base_url),
                "operations": len(spec.operations) if spec is not None else 0,
                "name": name,
                "operation": operation or "",
                "methods": list(METHODS),
            }
        )

    def _openapi(self) -> OpenAPIClient | None:
        return self._client if isinstance(self._client, OpenAPIClient) else None

    def _require_openapi(self) -> OpenAPIClient:
        spec = self._openapi()
        if spec is None:
            raise ConfigError("This client has no OpenAPI document: use RestClient.from_openapi")
        return spec

    # -- operations ------------------------------------------------------------------------

    def _operation_index(self) -> list[dict[str, Any]]:
        if self._index is None:
            spec = self._require_openapi()
            index = []
            for op in spec.operations:
                index.append({"id": op.id, "method": op.method, "path": op.path,
                              "summary": _short(op.summary, 160),
                              "deprecated": op.deprecated})  # fmt: skip
            self._haystacks = [
                f"{op['id']} {op['method']} {op['path']} {op['summary']}".lower() for op in index
            ]
            self._index = index
        return self._index

    def msg_operations(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """A page of the operations whose id, method, path or summary contain every word."""
        index = self._operation_index()
        words = str(content.get("query") or "").lower().split()
        offset = max(0, int(content.get("offset", 0)))
        limit = max(1, min(int(content.get("limit", _PAGE)), _MAX_PAGE))
        if words:
            found = [i for i, hay in enumerate(self._haystacks) if all(w in hay for w in words)]
        else:
            found = list(range(len(index)))
        return {
            "items": [index[i] for i in found[offset : offset + limit]],
            "offset": offset,
            "matched": len(found),
            "total": len(index),
        }

    def msg_operation(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The form of one operation (``operation``): parameters, body skeleton, signature."""
        op = self._require_openapi().operation(str(content.get("operation", "")))
        return {"operation": operation_form(op)}

    # -- the request -----------------------------------------------------------------------

    def _plan(self, content: Mapping[str, Any]) -> _Plan:
        body = parse_json(str(content.get("body") or ""), what="The body")
        headers = dict(_rows(content.get("headers"), "headers"))
        operation = content.get("operation") or None
        if operation:
            op = self._require_openapi().operation(str(operation))
            if _rows(content.get("query"), "query"):
                raise ConfigError(
                    f"{op.id} takes only its declared query parameters; to add others, "
                    "switch to a custom request"
                )
            arguments: dict[str, Any] = {}
            for p, text in _parameter_values(op, content.get("params")):
                if text.strip():
                    arguments[p.python_name] = _parameter_value(p, text)
            return _Plan(op.id, op.method, op.path, arguments=arguments, headers=headers,
                         body=body)  # fmt: skip
        method = str(content.get("method") or "GET").upper()
        if method not in METHODS:
            raise ConfigError.invalid_choice("method", method, METHODS)
        path = str(content.get("path") or "").strip()
        if not path:
            raise ConfigError("Enter a path (/contacts) or a full URL")
        if not self._client.base_url and "://" not in path:
            raise ConfigError(f"This client has no base URL: enter a full URL, not {path!r}")
        params = _rows(content.get("query"), "query")
        return _Plan(None, method, path, params=params, headers=headers, body=body)

    def _call(self, plan: _Plan) -> Exchange:
        if plan.operation is not None:
            extra: dict[str, Any] = {}
            if plan.body is not None:
                extra["body"] = plan.body
            if plan.headers:
                extra["headers"] = plan.headers
            return self._require_openapi().call(plan.operation, **plan.arguments, **extra)
        kwargs: dict[str, Any] = {}
        if plan.params:
            kwargs["params"] = plan.params
        if plan.headers:
            kwargs["headers"] = plan.headers
        if plan.body is not None:
            kwargs["json"] = plan.body
        return self._client.request(plan.method, plan.path, **kwargs)

    def msg_send(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Send the request in the kernel; the Inspector shows below the form."""
        plan = self._plan(content)
        return run_call(lambda: self._call(plan), self._show)

    def msg_code(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The request as Python, with credentials read from the environment."""
        return {"code": request_code(self._plan(content), name=self._name)}

    def _text_fallback(self) -> str:
        info = self.info
        if info.get("kind") == "openapi":
            title = f" {info['title']!r}" if info.get("title") else ""
            return f"<RequestBuilder{title} {info['base_url']} · {info['operations']} operations>"
        return f"<RequestBuilder {info.get('base_url') or '(no base URL)'}>"


def request_code(plan: _Plan, *, name: str = "client") -> str:
    """``client.call(...)`` or ``client.request(...)`` for a plan (masked)."""
    if plan.operation is not None:
        args = [py_str(plan.operation), *keyword_args(plan.arguments)]
        if plan.headers:
            args.append(f"headers={dict_code(plan.headers)}")
        if plan.body is not None:
            args.append(f"body={value_code(plan.body, indent=4)}")
        return call_code(f"{name}.call", args)
    args = [py_str(plan.method), py_str(mask_url(plan.path))]
    if plan.params:
        args.append(f"params={pairs_code(plan.params)}")
    if plan.headers:
        args.append(f"headers={dict_code(plan.headers)}")
    if plan.body is not None:
        args.append(f"json={value_code(plan.body, indent=4)}")
    return call_code(f"{name}.request", args)


class RequestBuilder(Explorer):
    """A form that builds, sends and writes out one REST request.

    Args:
        client: a :class:`~apinotebook.RestClient`; an
            :class:`~apinotebook.rest.OpenAPIClient` adds the operation picker.
        name: the client's variable in *Copy as code* (``client.call(...)``).
        operation: an operation id to open the form with (OpenAPI clients).
    """

    def __init__(
        self, client: RestClient, /, *, name: str = "client", operation: str | None = None
    ) -> None:
        if not isinstance(client, RestClient):
            raise ConfigError(
                f"RequestBuilder takes a RestClient or an OpenAPI client, not "
                f"{type(client).__name__}"
            )
        self._client = client
        panel = BuilderPanel(client, name=name, operation=operation, show=self.show)
        super().__init__(panel)

    @property
    def client(self) -> RestClient:
        """The client the requests go through."""
        return self._client

    def _text_fallback(self) -> str:
        return self.panel._text_fallback()

    def _panel_html(self) -> str:
        panel = self.panel
        info = panel.info
        head = f"<div><b>{escape(info.get('title') or 'REST API')}</b> · " \
            f"<code>{escape(info['base_url'])}</code></div>"  # fmt: skip
        if info.get("kind") != "openapi":
            return f"<div class='apinotebook-builder'>{head}</div>"
        operations = panel._require_openapi().operations
        shown = operations[:_MAX_PAGE]  # only these are built
        rows = "".join(
            f"<tr><td>{escape(op.method)}</td><td><code>{escape(op.path)}</code></td>"
            f"<td>{escape(op.id)}</td><td>{escape(_short(op.summary, 160))}</td></tr>"
            for op in shown
        )
        more = len(operations) - len(shown)
        tail = f"<div>… and {more} more operations</div>" if more > 0 else ""
        return (
            f"<div class='apinotebook-builder'>{head}<table><thead><tr><th>method</th>"
            f"<th>path</th><th>operation</th><th>summary</th></tr></thead><tbody>{rows}"
            f"</tbody></table>{tail}</div>"
        )
