"""From a parsed OpenAPI 3.x / Swagger 2.0 document to operations and a base URL.

:func:`check_version` accepts the document or says what is wrong with it;
:func:`index_operations` walks ``paths`` once (cheap: no schema is resolved)
and assigns every operation an id; :func:`build_operation` turns one index
entry into an :class:`~apinotebook.openapi._model.Operation`, resolving only
that operation's references; :func:`base_url_from_spec` reads ``servers`` or
``schemes``/``host``/``basePath``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

from apinotebook._exceptions import ConfigError, SpecError
from apinotebook.openapi._model import (
    Location,
    Operation,
    Parameter,
    RequestBody,
    Response,
    python_name,
    type_hint,
)
from apinotebook.openapi._refs import RefResolver

__all__ = ["Entry", "base_url_from_spec", "build_operation", "check_version", "index_operations"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace", "query")
_METHOD_SET = frozenset(HTTP_METHODS)
_LOCATIONS = ("path", "query", "header", "cookie")
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_SWAGGER_NOT_SCHEMA = frozenset(
    {"name", "in", "description", "required", "collectionFormat", "allowEmptyValue", "schema"}
)
_COLLECTION_FORMATS = {
    "csv": ("form", False),
    "multi": ("form", True),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "tsv": ("tabDelimited", False),
}


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def check_version(document: Any, *, source: str = "the document") -> tuple[int, str]:
    """Return ``(major, version string)`` for an OpenAPI 3.x or Swagger 2.0 document.

    Raises:
        SpecError: not a mapping, no ``openapi``/``swagger`` key, or a version
            this client does not read.
    """
    if not isinstance(document, Mapping):
        raise SpecError(
            f"{source} is a {_kind(document)}, not an OpenAPI document: expected a mapping "
            "with an 'openapi: 3.x' or 'swagger: \"2.0\"' key"
        )
    # the document may be any file the caller pointed at (/etc/shadow): quote
    # nothing from it but a value that looks like a version number
    if "openapi" in document:
        version = str(document["openapi"]).strip()
        if re.fullmatch(r"3(\.\d+){1,2}(-[\w.]+)?", version):
            return 3, version
        raise SpecError(
            f"{source} declares openapi {_shown_version(version)}; this client reads OpenAPI "
            "3.0, 3.1 and Swagger 2.0"
        )
    if "swagger" in document:
        version = str(document["swagger"]).strip()
        if version in ("2", "2.0"):
            return 2, "2.0"
        raise SpecError(
            f"{source} declares swagger {_shown_version(version)}; only Swagger 2.0 (and "
            "OpenAPI 3.x) are supported: convert older Swagger 1.x documents first"
        )
    raise SpecError(
        f"{source} is not an OpenAPI document: it has no 'openapi' or 'swagger' key at the "
        "top level. Expected an OpenAPI 3.x or Swagger 2.0 document"
    )


def _shown_version(version: str) -> str:
    if re.fullmatch(r"\d{1,3}(\.\d{1,3}){0,2}(-[\w.]{1,12})?", version):
        return repr(version)
    return "a version that is not a version number"


# -- base URL -----------------------------------------------------------------------


def base_url_from_spec(
    document: Mapping[str, Any],
    *,
    major: int,
    spec_url: str | None,
    variables: Mapping[str, str] | None = None,
) -> str:
    """The API's base URL as the spec declares it.

    Raises:
        ConfigError: the spec gives no usable absolute URL; the message says
            to pass ``base_url=``.
    """
    fetched = spec_url if spec_url and urlsplit(spec_url).scheme in ("http", "https") else None
    if major == 2:
        host = document.get("host")
        if not host and fetched is None:
            raise ConfigError(
                "The Swagger document has no 'host' and was not loaded from a URL, so the API's "
                "address is unknown. Pass base_url='https://...' to from_openapi()."
            )
        schemes = document.get("schemes") or []
        fallback = urlsplit(fetched).scheme if fetched else "https"
        scheme = str(schemes[0]) if isinstance(schemes, list) and schemes else fallback
        netloc = str(host) if host else urlsplit(cast(str, fetched)).netloc
        base_path = str(document.get("basePath") or "/")
        return f"{scheme}://{netloc}/{base_path.lstrip('/')}"
    servers = document.get("servers")
    server: Any = servers[0] if isinstance(servers, list) and servers else {"url": "/"}
    if not isinstance(server, Mapping) or not isinstance(server.get("url"), str):
        raise ConfigError(
            f"servers[0] must be an object with a 'url', found {server!r}. "
            "Pass base_url='https://...' to from_openapi()."
        )
    url = _substitute(server["url"], server.get("variables") or {}, variables or {})
    if urlsplit(url).scheme in ("http", "https"):
        return url
    if fetched is not None:
        return urljoin(fetched, url)
    declared = "declares no servers" if url == "/" else f"declares the relative server URL {url!r}"
    raise ConfigError(
        f"The OpenAPI document {declared} and was not loaded from a URL, so the API's address "
        "is unknown. Pass base_url='https://...' to from_openapi()."
    )


def _substitute(url: str, declared: Any, overrides: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in overrides:
            return str(overrides[name])
        spec = declared.get(name) if isinstance(declared, Mapping) else None
        if isinstance(spec, Mapping) and "default" in spec:
            return str(spec["default"])
        if isinstance(spec, Mapping) and isinstance(spec.get("enum"), list) and spec["enum"]:
            return str(spec["enum"][0])
        raise ConfigError(
            f"The server URL {url!r} uses the variable {{{name}}} without a default. Pass "
            f"server_variables={{{name!r}: ...}} or base_url= to from_openapi()."
        )

    return re.sub(r"{([^}]+)}", value, url)


# -- index --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """Where one operation sits in the document (nothing resolved yet)."""

    id: str
    method: str
    path: str
    raw: Mapping[str, Any]
    path_parameters: Any
    base: str


def _synthesized_id(method: str, path: str) -> str:
    slug = re.sub(r"\W+", "_", path).strip("_").lower()
    return f"{method}_{slug or 'root'}"


def index_operations(
    document: Mapping[str, Any], resolver: RefResolver, *, section: str = "paths"
) -> dict[str, Entry]:
    """Every operation of ``document[section]`` by id, in document order."""
    paths = document.get(section)
    if paths is None:
        return {}
    if not isinstance(paths, Mapping):
        raise SpecError(f"'{section}' must map paths to path items, found a {_kind(paths)}")
    found: list[tuple[str, str, Mapping[str, Any], Any, str]] = []
    for raw_path, raw_item in paths.items():
        path = str(raw_path)
        if path.startswith("x-"):
            continue
        if type(raw_item) is dict and "$ref" not in raw_item:  # the common case, fast
            item, base = raw_item, resolver.root_uri
        else:
            item, base = resolver.deref(raw_item, resolver.root_uri, what=f"{section} {path!r}")
        if item is None:
            continue
        if not isinstance(item, Mapping):
            raise SpecError(f"{section} {path!r} must be a path item object, found {_kind(item)}")
        for method, op in item.items():
            verb = method.lower() if type(method) is str else str(method).lower()
            if verb not in _METHOD_SET:
                continue
            if type(op) is not dict and not isinstance(op, Mapping):
                raise SpecError(
                    f"{verb.upper()} {path} must be an operation object, found {_kind(op)}"
                )
            found.append((verb, path, op, item.get("parameters"), base))
    explicit = {
        op["operationId"] for _, _, op, _, _ in found if isinstance(op.get("operationId"), str)
    }
    entries: dict[str, Entry] = {}
    for verb, path, op, path_params, base in found:
        given = op.get("operationId")
        if isinstance(given, str) and given:
            wanted = given
        else:  # a webhook is known by its name; a path by its method and path
            wanted = path if section == "webhooks" else _synthesized_id(verb, path)
        op_id, n = wanted, 1
        while op_id in entries or (op_id != given and op_id in explicit):
            n += 1
            op_id = f"{wanted}_{n}"
        entries[op_id] = Entry(op_id, verb, path, op, path_params, base)
    return entries


# -- building one operation ---------------------------------------------------------


@lru_cache(maxsize=256)
def _preferred(types: tuple[str, ...]) -> str | None:
    """The content type to send or read: JSON first, then ``+json``, forms, the first."""
    bases = [t.split(";")[0].strip().lower() for t in types]
    for rank in range(4):
        for t, b in zip(types, bases, strict=True):
            if _rank(b) == rank:
                return t
    return types[0] if types else None


def _rank(base: str) -> int:
    if base == "application/json":
        return 0
    if base.endswith(("+json", "/json")):
        return 1
    if base == "application/x-www-form-urlencoded":
        return 2
    return 3 if base == "multipart/form-data" else 4


class _Builder:
    def __init__(self, entry: Entry, document: Mapping[str, Any], resolver: RefResolver) -> None:
        self.entry = entry
        self.document = document
        self.resolver = resolver
        self.where = f"{entry.method.upper()} {entry.path}"

    def schema(self, node: Any, base: str) -> Mapping[str, Any]:
        if node is None:
            return {}
        resolved = self.resolver.resolve(node, base, what=f"a schema of {self.where}")
        return resolved if isinstance(resolved, Mapping) else {}

    def hint(self, schema: Mapping[str, Any]) -> str:
        return type_hint(schema, self.resolver.names)

    def raw_parameters(self) -> list[tuple[Mapping[str, Any], str]]:
        merged: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        for source in (self.entry.path_parameters, self.entry.raw.get("parameters")):
            if source is None:
                continue
            if not isinstance(source, list):
                raise SpecError(f"'parameters' of {self.where} must be a list, not {_kind(source)}")
            for i, raw in enumerate(source):
                what = f"parameter #{i + 1} of {self.where}"
                param, base = self.resolver.deref(raw, self.entry.base, what=what)
                if not isinstance(param, Mapping) or "name" not in param or "in" not in param:
                    raise SpecError(f"{what} needs 'name' and 'in', found {param!r:.120}")
                merged[(str(param["name"]), str(param["in"]))] = (param, base)
        return list(merged.values())

    def parameter(self, raw: Mapping[str, Any], base: str, swagger: bool) -> Parameter | None:
        name, location = str(raw["name"]), str(raw["in"])
        if location not in _LOCATIONS and location != "formData":
            valid = "path, query, header, cookie" + (", body, formData" if swagger else "")
            raise SpecError(
                f"parameter {name!r} of {self.where} is 'in: {location}'; expected one of {valid}"
            )
        if location == "header" and name.lower() in _IGNORED_HEADERS:
            return None  # the spec says these are set by content negotiation and auth
        content_type = None
        if swagger:
            node: Any = {k: v for k, v in raw.items() if k not in _SWAGGER_NOT_SCHEMA}
            node = {k: v for k, v in node.items() if not str(k).startswith("x-")}
            fmt = raw.get("collectionFormat", "csv")
            style, explode = _COLLECTION_FORMATS.get(str(fmt), ("form", False))
            if location in ("path", "header"):
                style = "simple"
        else:
            node = raw.get("schema")
            content = raw.get("content")
            if node is None and isinstance(content, Mapping) and content:
                content_type = str(next(iter(content)))
                media = content[content_type]
                node = media.get("schema") if isinstance(media, Mapping) else None
            style = str(
                raw.get("style") or ("form" if location in ("query", "cookie") else "simple")
            )
            explode = bool(raw.get("explode", style == "form"))
        schema = self.schema(node, base)
        return Parameter(
            name=name,
            location=cast(Location, location),
            required=True if location == "path" else bool(raw.get("required")),
            schema=schema,
            description=str(raw.get("description") or ""),
            deprecated=bool(raw.get("deprecated")),
            style=style,
            explode=explode,
            content_type=content_type,
            python_name=python_name(name, location),
            type="bytes" if raw.get("type") == "file" else self.hint(schema),
        )

    def build(self, major: int) -> Operation:
        swagger = major == 2
        params: list[Parameter] = []
        body_param: tuple[Mapping[str, Any], str] | None = None
        fields: list[Parameter] = []
        for raw, base in self.raw_parameters():
            if swagger and raw["in"] == "body":
                body_param = (raw, base)
                continue
            param = self.parameter(raw, base, swagger)
            if param is None:
                continue
            (fields if param.location == "formData" else params).append(param)
        declared = {p.name for p in params if p.location == "path"}
        for name in re.findall(r"{([^}]+)}", self.entry.path):
            if name not in declared:  # undeclared template variable: still fill it in
                declared.add(name)
                params.append(
                    Parameter(name, "path", True, {"type": "string"}, style="simple",
                              explode=False, python_name=python_name(name), type="str")
                )  # fmt: skip
        params = _unique_names(params)
        if swagger:
            body = self.swagger_body(body_param, _unique_names(fields, taken=params))
            responses = self.swagger_responses()
        else:
            body = self.body()
            responses = self.responses()
        raw_op = self.entry.raw
        security = raw_op.get("security", self.document.get("security"))
        names: dict[str, None] = {}
        for requirement in security if isinstance(security, list) else []:
            if isinstance(requirement, Mapping):
                names.update(dict.fromkeys(str(k) for k in requirement))
        tags = raw_op.get("tags")
        return Operation(
            id=self.entry.id,
            method=self.entry.method.upper(),
            path=self.entry.path,
            summary=str(raw_op.get("summary") or ""),
            description=str(raw_op.get("description") or ""),
            tags=tuple(str(t) for t in tags) if isinstance(tags, list) else (),
            parameters=tuple(params),
            request_body=body,
            responses=tuple(responses),
            security=tuple(names),
            deprecated=bool(raw_op.get("deprecated")),
        )

    def body(self) -> RequestBody | None:
        raw = self.entry.raw.get("requestBody")
        if raw is None:
            return None
        rb, base = self.resolver.deref(raw, self.entry.base, what=f"the body of {self.where}")
        if not isinstance(rb, Mapping):
            raise SpecError(f"requestBody of {self.where} must be an object, found {_kind(rb)}")
        content = rb.get("content") or {}
        if not isinstance(content, Mapping):
            raise SpecError(f"requestBody.content of {self.where} must map media types to objects")
        types = tuple(str(t) for t in content)
        chosen = _preferred(types)
        media = content.get(chosen) if chosen is not None else None
        schema = self.schema(media.get("schema") if isinstance(media, Mapping) else None, base)
        return RequestBody(
            content_type=chosen,
            schema=schema,
            required=bool(rb.get("required")),
            content_types=types,
            description=str(rb.get("description") or ""),
            type=self.hint(schema) if schema else "Any",
        )

    def responses(self) -> list[Response]:
        out = []
        for status, raw in _mapping(self.entry.raw.get("responses")).items():
            if str(status).startswith("x-"):
                continue
            what = f"response {status} of {self.where}"
            resp, base = self.resolver.deref(raw, self.entry.base, what=what)
            if not isinstance(resp, Mapping):
                raise SpecError(f"{what} must be an object, found {_kind(resp)}")
            content = _mapping(resp.get("content"))
            types = tuple(str(t) for t in content)
            chosen = _preferred(types)
            media = content.get(chosen) if chosen is not None else None
            node = media.get("schema") if isinstance(media, Mapping) else None
            schema = self.schema(node, base) if node is not None else None
            out.append(Response(str(status), str(resp.get("description") or ""), types, schema))
        return out

    def swagger_body(
        self, body_param: tuple[Mapping[str, Any], str] | None, fields: list[Parameter]
    ) -> RequestBody | None:
        consumes = self.entry.raw.get("consumes") or self.document.get("consumes")
        types = tuple(str(t) for t in consumes) if isinstance(consumes, list) else ()
        if body_param is not None:
            raw, base = body_param
            schema = self.schema(raw.get("schema"), base)
            types = types or ("application/json",)
            return RequestBody(
                content_type=_preferred(types),
                schema=schema,
                required=bool(raw.get("required")),
                content_types=types,
                description=str(raw.get("description") or ""),
                type=self.hint(schema) if schema else "Any",
            )
        if not fields:
            return None
        urlencoded = "application/x-www-form-urlencoded"
        has_file = any(f.type == "bytes" for f in fields)
        if has_file or ("multipart/form-data" in types and urlencoded not in types):
            chosen = "multipart/form-data"
        else:
            chosen = urlencoded
        schema = {
            "type": "object",
            "properties": {f.name: f.schema for f in fields},
            "required": [f.name for f in fields if f.required],
        }
        return RequestBody(
            content_type=chosen,
            schema=schema,
            required=any(f.required for f in fields),
            content_types=types or (chosen,),
            fields=tuple(fields),
            type="dict",
        )

    def swagger_responses(self) -> list[Response]:
        produces = self.entry.raw.get("produces") or self.document.get("produces")
        types = tuple(str(t) for t in produces) if isinstance(produces, list) else ()
        out = []
        for status, raw in _mapping(self.entry.raw.get("responses")).items():
            if str(status).startswith("x-"):
                continue
            what = f"response {status} of {self.where}"
            resp, base = self.resolver.deref(raw, self.entry.base, what=what)
            if not isinstance(resp, Mapping):
                raise SpecError(f"{what} must be an object, found {_kind(resp)}")
            node = resp.get("schema")
            schema = self.schema(node, base) if node is not None else None
            out.append(
                Response(str(status), str(resp.get("description") or ""),
                         types if node is not None else (), schema)
            )  # fmt: skip
        return out


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _unique_names(params: list[Parameter], *, taken: Sequence[Parameter] = ()) -> list[Parameter]:
    """Give parameters that share a keyword name (``id`` in path and query) distinct ones."""
    from dataclasses import replace

    seen = {p.python_name for p in taken}
    out = []
    for p in params:
        name = p.python_name
        if name in seen:
            name = f"{name}_{p.location.lower()}"
            n = 2
            while name in seen:
                name, n = f"{p.python_name}_{p.location.lower()}{n}", n + 1
            p = replace(p, python_name=name)
        seen.add(name)
        out.append(p)
    return out


def build_operation(
    entry: Entry, document: Mapping[str, Any], resolver: RefResolver, *, major: int
) -> Operation:
    """Build one operation, resolving its references (memoised in ``resolver``)."""
    with resolver.lock:
        return _Builder(entry, document, resolver).build(major)
