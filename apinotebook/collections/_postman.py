"""Postman Collection v2.0 / v2.1 and Postman environment files into the model.

Folders nest; variables sit at collection, folder and request level; auth is
inherited down the tree unless an item sets its own; bodies of every mode
(raw, urlencoded, formdata, file, graphql) are kept; pre-request and test
scripts are kept as text. Path variables (``/users/:id``) become ``{{id}}``
with the value the collection gives them. Postman v1 collections are refused
with a pointer to the converter.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from apinotebook.collections._model import (
    AUTH_TYPES,
    Auth,
    Body,
    Collection,
    CollectionError,
    Environment,
    Folder,
    FormField,
    Header,
    Note,
    Request,
    Script,
    Variable,
    obj,
)

__all__ = ["is_postman", "is_postman_environment", "load_postman", "load_postman_environment"]

_SCHEMA = re.compile(r"schema\.getpostman\.com/json/collection/v?(\d+\.\d+)")
_PATH_VAR = re.compile(r"(?<=/):([A-Za-z_][\w-]*)")


def is_postman(data: Any) -> bool:
    """Whether ``data`` looks like a Postman collection (any version)."""
    if not isinstance(data, dict):
        return False
    info = data.get("info")
    if isinstance(info, dict) and (
        "_postman_id" in info or _SCHEMA.search(str(info.get("schema")))
    ):
        return True
    if isinstance(data.get("item"), list) and "info" not in data:  # no info: items decide
        items = data["item"]
        return bool(items) and all(
            isinstance(i, dict) and ("request" in i or "item" in i) for i in items
        )
    return isinstance(info, dict) and isinstance(data.get("item"), list) or _is_v1(data)


def _is_v1(data: dict[str, Any]) -> bool:
    return isinstance(data.get("requests"), list) and "order" in data


def _pairs_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and "key" in v for v in value)


def is_postman_environment(data: Any) -> bool:
    """Whether ``data`` is a Postman environment or globals export (or a bare list of them)."""
    if _pairs_list(data) and data:
        return True
    return isinstance(data, dict) and _pairs_list(data.get("values")) and "info" not in data


def text_of(value: Any) -> str:
    """A description: a string, or Postman's ``{"content": ...}`` object."""
    if isinstance(value, dict):
        return str(value.get("content") or "")
    return value if isinstance(value, str) else ""


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _variables(raw: Any) -> list[Variable]:
    out = []
    for var in raw if isinstance(raw, list) else []:
        if not isinstance(var, dict):
            continue
        name = _str(var.get("key") or var.get("id") or var.get("name"))
        if not name:
            continue
        out.append(
            Variable(
                name,
                None if var.get("value") is None else _str(var.get("value")),
                secret=var.get("type") == "secret",
                description=text_of(var.get("description")),
                disabled=bool(var.get("disabled")) or var.get("enabled") is False,
            )
        )
    return out


def _pairs(raw: Any) -> list[Header]:
    out = []
    for pair in raw if isinstance(raw, list) else []:
        if isinstance(pair, dict) and (pair.get("key") is not None or pair.get("value")):
            out.append(
                Header(
                    _str(pair.get("key")),
                    _str(pair.get("value")),
                    disabled=bool(pair.get("disabled")) or pair.get("enabled") is False,
                    description=text_of(pair.get("description")),
                )
            )
    return out


def _headers(raw: Any) -> list[Header]:
    if isinstance(raw, str):  # v1 style "Name: value\n..." strings appear in v2.0 files too
        out = []
        for line in raw.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip():
                out.append(Header(name.strip(), value.strip()))
        return out
    return _pairs(raw)


def auth_of(raw: Any, item: str, collection: Collection) -> Auth | None:
    """A Postman auth object (v2.0 mapping or v2.1 list of key/value) in the model."""
    if not isinstance(raw, dict):
        return None
    kind = _str(raw.get("type")).lower() or "none"
    kind = {"noauth": "none"}.get(kind, kind)
    params: dict[str, str] = {}
    detail = raw.get(kind if kind != "none" else "noauth")
    if isinstance(detail, list):
        for pair in detail:
            if isinstance(pair, dict) and pair.get("key"):
                value = pair.get("value")
                params[_str(pair["key"])] = value if isinstance(value, str) else _json(value)
    elif isinstance(detail, dict):
        params = {k: v if isinstance(v, str) else _json(v) for k, v in detail.items()}
    if kind not in AUTH_TYPES:
        collection.warn(item, f"auth type {kind!r} is unknown; the request is sent without it")
        return Auth("other", {"type": kind, **params})
    return Auth(kind, params)


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _url(raw: Any) -> tuple[str, list[Header], list[Variable]]:
    """The URL (query string removed), its query parameters and path variables."""
    if isinstance(raw, str):
        base, _, qs = raw.partition("?")
        params = [Header(*(p.split("=", 1) if "=" in p else (p, ""))) for p in qs.split("&") if p]
        return base, params, []
    if not isinstance(raw, dict):
        return "", [], []
    query = _pairs(raw.get("query"))
    path_vars = _variables(raw.get("variable"))
    text = _str(raw.get("raw"))
    if not text:
        hosts = raw.get("host")
        host = ".".join(_str(h) for h in hosts) if isinstance(hosts, list) else _str(hosts)
        paths = raw.get("path")
        path = "/".join(_str(p) for p in paths) if isinstance(paths, list) else _str(paths)
        protocol = _str(raw.get("protocol"))
        port = _str(raw.get("port"))
        text = (f"{protocol}://" if protocol else "") + host + (f":{port}" if port else "")
        text += ("/" + path.lstrip("/")) if path else ""
    base, _, rest = text.partition("?")
    if not query and rest:
        query = _url(text)[1]
    base = base.split("#", 1)[0]
    return base, query, path_vars


def body_of(raw: Any, item: str, collection: Collection) -> Body:
    """A Postman body in the model."""
    if not isinstance(raw, dict) or not raw.get("mode"):
        return Body()
    mode = _str(raw.get("mode"))
    if raw.get("disabled"):
        collection.warn(item, "the body is disabled in the collection; it is not sent")
        return Body()
    if mode == "raw":
        text = _str(raw.get("raw"))
        options = obj(raw.get("options"))
        language = _str((options.get("raw") or {}).get("language")) if options else ""
        kind = {"json": "json", "xml": "xml"}.get(language.lower(), "raw")
        return Body(kind, text=text) if text else Body()
    if mode == "urlencoded":
        return Body("urlencoded", fields=_pairs(raw.get("urlencoded")))
    if mode == "formdata":
        form = []
        parts = raw.get("formdata")
        for part in parts if isinstance(parts, list) else []:
            if not isinstance(part, dict):
                continue
            src = part.get("src")
            if isinstance(src, list):
                src = src[0] if src else None
            form.append(
                FormField(
                    _str(part.get("key")),
                    _str(part.get("value")),
                    kind="file" if part.get("type") == "file" else "text",
                    src=_str(src) or None,
                    content_type=_str(part.get("contentType")) or None,
                    disabled=bool(part.get("disabled")),
                )
            )
        return Body("form-data", form=form)
    if mode == "file":
        file = obj(raw.get("file"))
        return Body("file", src=_str(file.get("src")) or None, text=_str(file.get("content")))
    if mode == "graphql":
        gql = obj(raw.get("graphql"))
        variables = gql.get("variables")
        return Body(
            "graphql",
            query=_str(gql.get("query")),
            variables=variables if isinstance(variables, str) else _json(variables or {}),
        )
    collection.warn(item, f"body mode {mode!r} is unknown; the body is not sent")
    return Body()


def _scripts(raw: Any) -> list[Script]:
    out = []
    for event in raw if isinstance(raw, list) else []:
        if not isinstance(event, dict) or event.get("disabled"):
            continue
        script = event.get("script")
        if not isinstance(script, dict):
            continue
        source = script.get("exec")
        text = "\n".join(_str(s) for s in source) if isinstance(source, list) else _str(source)
        if text.strip():
            out.append(Script(_str(event.get("listen")) or "test", text))
    return out


def _request(raw: dict[str, Any], where: str, collection: Collection) -> Request:
    name = _str(raw.get("name")) or "request"
    req = raw.get("request")
    if isinstance(req, str):
        req = {"url": req, "method": "GET"}
    if not isinstance(req, dict):
        req = {}
    url, query, path_vars = _url(req.get("url"))
    for var in path_vars:
        url = url.replace(f"/:{var.name}", "/{{" + var.name + "}}")
    for match in _PATH_VAR.findall(url):
        path_vars.append(Variable(match, None))
        url = url.replace(f"/:{match}", "/{{" + match + "}}")
    request = Request(
        name,
        method=_str(req.get("method") or "GET").upper(),
        url=url,
        headers=_headers(req.get("header")),
        query=query,
        description=text_of(req.get("description")) or text_of(raw.get("description")),
        scripts=_scripts(raw.get("event")),
        variables=_variables(raw.get("variable")) + path_vars,
    )
    request.body = body_of(req.get("body"), where, collection)
    if "auth" in req and req["auth"] is not None:
        request.auth = auth_of(req["auth"], where, collection)
    if req.get("proxy") or req.get("certificate"):
        collection.warn(where, "the request's proxy / client certificate settings are not kept")
    if isinstance(raw.get("response"), list) and raw["response"]:
        collection.notes.append(
            _info(where, f"{len(raw['response'])} saved example response(s) are not imported")
        )
    return request


def _info(item: str, message: str) -> Note:
    return Note(item, message, "info")


def _items(raw: Any, parent: str, collection: Collection, depth: int = 0) -> list[Folder | Request]:
    if depth > 64:
        raise CollectionError(collection.path, "folders nest more than 64 levels deep")
    out: list[Folder | Request] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        name = _str(item.get("name")) or "untitled"
        where = f"{parent}/{name}" if parent else name
        if isinstance(item.get("item"), list) or "request" not in item:
            folder = Folder(
                name,
                _items(item.get("item"), where, collection, depth + 1),
                description=text_of(item.get("description")),
                variables=_variables(item.get("variable")),
                scripts=_scripts(item.get("event")),
            )
            if item.get("auth") is not None:
                folder.auth = auth_of(item["auth"], where, collection)
            out.append(folder)
        else:
            out.append(_request(item, where, collection))
    return out


def load_postman(data: dict[str, Any], path: str) -> Collection:
    """A Postman collection (v2.0 or v2.1) as a :class:`Collection`."""
    if _is_v1(data):
        raise CollectionError(
            path,
            "this is a Postman Collection v1, which is not supported: convert it to v2.1 "
            "(Postman: Export, Collection v2.1; or npm's postman-collection-transformer)",
        )
    info = obj(data.get("info"))
    match = _SCHEMA.search(_str(info.get("schema")))
    version = match.group(1) if match else "2.1"
    collection = Collection(
        _str(info.get("name")) or "Postman collection",
        description=text_of(info.get("description")),
        format=f"postman-{version}",
        path=path,
    )
    collection.variables = _variables(data.get("variable"))
    collection.scripts = _scripts(data.get("event"))
    if data.get("auth") is not None:
        collection.auth = auth_of(data["auth"], collection.name, collection)
    collection.items = _items(data.get("item"), "", collection)
    if data.get("protocolProfileBehavior"):
        collection.notes.append(_info(collection.name, "protocolProfileBehavior is not kept"))
    return collection


def load_postman_environment(data: Any, path: str) -> Environment:
    """A Postman environment (or globals) file as an :class:`Environment`."""
    if isinstance(data, list):  # newman's globals files: a bare list of variables
        return Environment(Path(path).stem, _variables(data))
    name = _str(data.get("name")) or Path(path).stem
    return Environment(name, _variables(data.get("values")))
