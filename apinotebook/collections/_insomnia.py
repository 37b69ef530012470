"""Insomnia exports into the model: v4 (JSON or YAML, also formats 2 and 3) and v5 (YAML).

A v4 export is a flat list of resources linked by ``parentId``: workspaces,
request groups (folders), requests and environments (a base environment
under the workspace, sub-environments under it). A v5 export
(``type: collection.insomnia.rest/5.0``) nests them: ``collection`` holds
requests and folders (``children``), ``environments`` the base environment
with its ``subEnvironments``. Insomnia's template syntax ``{{ _.name }}``
becomes ``{{name}}``; template tags (``{% response ... %}``) are kept as text
and reported.
"""

from __future__ import annotations

import json
import re
from typing import Any

from apinotebook.collections._model import (
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

__all__ = ["is_insomnia", "load_insomnia"]

_VAR = re.compile(r"\{\{\s*(?:_\.)?([A-Za-z_$][\w.$-]*)\s*\}\}")
_TAG = re.compile(r"\{%.*?%\}", re.S)
_SKIPPED = {
    "grpc_request": "gRPC requests are not supported",
    "websocket_request": "WebSocket requests are not supported",
    "unit_test_suite": "Insomnia unit tests are not imported",
    "unit_test": "Insomnia unit tests are not imported",
    "api_spec": "the design document is not imported (import it as OpenAPI)",
    "proto_file": "proto files are not supported",
    "mock_route": "mock routes are not imported",
}


def is_insomnia(data: Any) -> bool:
    """Whether ``data`` is an Insomnia export (v1 to v5)."""
    if not isinstance(data, dict):
        return False
    return data.get("_type") == "export" or str(data.get("type", "")).startswith(
        "collection.insomnia.rest/"
    )


def _s(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def normalise(text: Any, item: str, collection: Collection) -> str:
    """Insomnia's ``{{ _.name }}`` as ``{{name}}``; template tags reported."""
    text = _s(text)
    if "{%" in text:
        for tag in _TAG.findall(text):
            collection.warn(item, f"template tag {tag[:60]!r} is not evaluated; kept as text")
    return _VAR.sub(lambda m: "{{" + m.group(1) + "}}", text)


def _flat(data: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Environment data (nested objects allowed) as ``a.b`` names, Insomnia's lookup."""
    out: list[tuple[str, Any]] = []
    for key, value in (data or {}).items() if isinstance(data, dict) else []:
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.extend(_flat(value, name + "."))
        else:
            out.append((name, value))
    return out


def _variables(data: Any, item: str, collection: Collection) -> list[Variable]:
    return [
        Variable(name, None if v is None else normalise(v, item, collection))
        for name, v in _flat(data)
    ]


def _pairs(raw: Any, item: str, collection: Collection) -> list[Header]:
    return [
        Header(
            normalise(p.get("name"), item, collection),
            normalise(p.get("value"), item, collection),
            disabled=bool(p.get("disabled")),
            description=_s(p.get("description")),
        )
        for p in (raw if isinstance(raw, list) else [])
        if isinstance(p, dict) and (p.get("name") or p.get("value"))
    ]


_AUTH_NAMES = {"iam": "awsv4", "apikey": "apikey", "singleTokenBearer": "bearer"}


def _auth(raw: Any, item: str, collection: Collection) -> Auth | None:
    if not isinstance(raw, dict):
        return None
    if not raw.get("type"):
        return Auth("none") if raw == {} else None
    if raw.get("disabled"):
        return Auth("none")
    kind = _AUTH_NAMES.get(str(raw["type"]), str(raw["type"]).lower())
    params = {k: normalise(v, item, collection) for k, v in raw.items() if k != "type"}
    if kind == "apikey":
        params = {
            "key": params.get("key", ""),
            "value": params.get("value", ""),
            "in": "query" if params.get("addTo") == "queryParams" else "header",
        }
    elif kind == "oauth2":
        grant = params.get("grantType", "")
        params = {
            "grant_type": {"authorization_code": "authorization_code"}.get(grant, grant),
            "accessTokenUrl": params.get("accessTokenUrl", ""),
            "authUrl": params.get("authorizationUrl", ""),
            "clientId": params.get("clientId", ""),
            "clientSecret": params.get("clientSecret", ""),
            "scope": params.get("scope", ""),
            "username": params.get("username", ""),
            "password": params.get("password", ""),
        }
    elif kind == "bearer" and params.get("prefix"):
        params["prefix"] = params["prefix"]
    return Auth(kind if kind in _KNOWN else "other", {"type": kind, **params})


_KNOWN = {"bearer", "basic", "apikey", "oauth2", "digest", "oauth1", "awsv4", "hawk", "ntlm"}
_KNOWN |= {"netrc", "asap", "none"}


def _body(raw: Any, item: str, collection: Collection) -> Body:
    if not isinstance(raw, dict):
        return Body()
    mime = _s(raw.get("mimeType")).split(";")[0].strip().lower()
    text = normalise(raw.get("text"), item, collection)
    if mime == "application/x-www-form-urlencoded":
        return Body("urlencoded", fields=_pairs(raw.get("params"), item, collection))
    if mime == "multipart/form-data":
        form = [
            FormField(
                normalise(p.get("name"), item, collection),
                normalise(p.get("value"), item, collection),
                kind="file" if p.get("type") == "file" else "text",
                src=_s(p.get("fileName")) or None,
                disabled=bool(p.get("disabled")),
            )
            for p in raw.get("params") or []
            if isinstance(p, dict)
        ]
        return Body("form-data", form=form)
    if mime == "application/graphql":
        try:
            doc = json.loads(text) if text else {}
        except ValueError:
            doc = {"query": text}
        doc = doc if isinstance(doc, dict) else {"query": text}
        variables = doc.get("variables")
        return Body(
            "graphql",
            query=_s(doc.get("query")),
            variables=variables if isinstance(variables, str) else json.dumps(variables or {}),
        )
    if raw.get("fileName") and not text:
        return Body("file", src=_s(raw.get("fileName")), content_type=mime or None)
    if not text:
        return Body()
    if "json" in mime:
        return Body("json", text=text, content_type=mime)
    if "xml" in mime:
        return Body("xml", text=text, content_type=mime)
    return Body("raw", text=text, content_type=mime or None)


def _scripts(raw: dict[str, Any]) -> list[Script]:
    out = []
    for key, event in (("preRequestScript", "prerequest"), ("afterResponseScript", "test")):
        if _s(raw.get(key)).strip():
            out.append(Script(event, _s(raw[key])))
    scripts = raw.get("scripts")
    if isinstance(scripts, dict):
        for key, event in (("preRequest", "prerequest"), ("afterResponse", "test")):
            if _s(scripts.get(key)).strip():
                out.append(Script(event, _s(scripts[key])))
    return out


def _request(raw: dict[str, Any], where: str, collection: Collection) -> Request:
    url = normalise(raw.get("url"), where, collection)
    base, _, query_text = url.partition("?")
    query = _pairs(raw.get("parameters"), where, collection)
    for part in query_text.split("&") if query_text else []:
        name, _, value = part.partition("=")
        query.insert(0, Header(name, value))
    request = Request(
        _s(raw.get("name")) or "request",
        method=(_s(raw.get("method")) or "GET").upper(),
        url=base,
        headers=_pairs(raw.get("headers"), where, collection),
        query=query,
        body=_body(raw.get("body"), where, collection),
        auth=_auth(raw.get("authentication"), where, collection),
        description=_s(raw.get("description")),
        scripts=_scripts(raw),
    )
    for path_param in raw.get("pathParameters") or []:
        if isinstance(path_param, dict) and path_param.get("name"):
            name = _s(path_param["name"])
            request.url = request.url.replace(f"/:{name}", "/{{" + name + "}}")
            request.variables.append(Variable(name, _s(path_param.get("value"))))
    return request


def _group(raw: dict[str, Any], where: str, collection: Collection) -> Folder:
    folder = Folder(
        _s(raw.get("name")) or "folder",
        description=_s(raw.get("description")),
        variables=_variables(raw.get("environment"), where, collection),
        auth=_auth(raw.get("authentication"), where, collection),
        scripts=_scripts(raw),
    )
    return folder


def _load_v4(data: dict[str, Any], path: str) -> Collection:
    resources = data.get("resources")
    if not isinstance(resources, list):
        raise CollectionError(path, "an Insomnia export needs a list of 'resources'")
    version = data.get("__export_format")
    collection = Collection("Insomnia export", format=f"insomnia-v{version}", path=path)
    by_parent: dict[Any, list[dict[str, Any]]] = {}
    for res in resources:
        if isinstance(res, dict):
            by_parent.setdefault(res.get("parentId"), []).append(res)
    workspaces = [r for r in resources if isinstance(r, dict) and r.get("_type") == "workspace"]
    roots: list[Any] = [w.get("_id") for w in workspaces] or [None]
    if len(workspaces) == 1:
        collection.name = _s(workspaces[0].get("name")) or collection.name
        collection.description = _s(workspaces[0].get("description"))

    def children(parent: Any, where: str, depth: int) -> list[Folder | Request]:
        if depth > 64:
            raise CollectionError(path, "request groups nest more than 64 levels deep")
        out: list[Folder | Request] = []
        ordered = sorted(by_parent.get(parent, []), key=lambda r: r.get("metaSortKey") or 0)
        for res in ordered:
            kind = res.get("_type")
            name = _s(res.get("name")) or str(kind)
            here = f"{where}/{name}" if where else name
            if kind == "request":
                out.append(_request(res, here, collection))
            elif kind == "request_group":
                folder = _group(res, here, collection)
                folder.items = children(res.get("_id"), here, depth + 1)
                out.append(folder)
            elif kind in _SKIPPED:
                collection.warn(here, _SKIPPED[str(kind)])
            elif kind == "workspace" and parent is not None:
                collection.warn(here, "a nested workspace is read as a folder")
            elif kind in ("environment", "cookie_jar", "workspace"):
                continue
            else:
                collection.warn(here, f"resource type {kind!r} is not supported")
        return out

    for root in roots:
        items = children(root, "" if len(roots) == 1 else _s(root), 0)
        if len(roots) > 1:
            ws = next(w for w in workspaces if w.get("_id") == root)
            collection.items.append(Folder(_s(ws.get("name")) or "workspace", items))
        else:
            collection.items.extend(items)
        for env in by_parent.get(root, []):
            if env.get("_type") != "environment":
                continue
            base = _variables(env.get("data"), "base environment", collection)
            collection.variables.extend(base)
            for sub in by_parent.get(env.get("_id"), []):
                if sub.get("_type") == "environment":
                    name = _s(sub.get("name")) or "environment"
                    collection.environments.append(
                        Environment(name, _variables(sub.get("data"), name, collection))
                    )
    for res in resources:
        if isinstance(res, dict) and res.get("_type") == "cookie_jar" and res.get("cookies"):
            collection.warn("cookie jar", f"{len(res['cookies'])} stored cookie(s) not imported")
    return collection


def _load_v5(data: dict[str, Any], path: str) -> Collection:
    meta = obj(data.get("meta"))
    collection = Collection(
        _s(data.get("name")) or "Insomnia collection",
        description=_s(meta.get("description")),
        format="insomnia-v5",
        path=path,
    )
    kind = _s(data.get("type"))
    if not kind.startswith("collection."):
        collection.warn(collection.name, f"export type {kind!r}: only its requests are imported")

    def items(raw: Any, where: str, depth: int) -> list[Folder | Request]:
        if depth > 64:
            raise CollectionError(path, "folders nest more than 64 levels deep")
        out: list[Folder | Request] = []
        for entry in raw if isinstance(raw, list) else []:
            if not isinstance(entry, dict):
                continue
            name = _s(entry.get("name")) or "untitled"
            here = f"{where}/{name}" if where else name
            entry_meta = obj(entry.get("meta"))
            merged = {**entry, "description": entry_meta.get("description", "")}
            if "children" in entry:
                folder = _group(merged, here, collection)
                folder.items = items(entry.get("children"), here, depth + 1)
                out.append(folder)
            elif "url" in entry:
                out.append(_request(merged, here, collection))
            else:
                collection.warn(here, "an entry with neither url nor children is skipped")
        return out

    collection.items = items(data.get("collection"), "", 0)
    envs = data.get("environments")
    if isinstance(envs, dict):
        collection.variables = _variables(envs.get("data"), "base environment", collection)
        for sub in envs.get("subEnvironments") or []:
            if isinstance(sub, dict):
                name = _s(sub.get("name")) or "environment"
                collection.environments.append(
                    Environment(name, _variables(sub.get("data"), name, collection))
                )
    jar = data.get("cookieJar")
    if isinstance(jar, dict) and jar.get("cookies"):
        collection.warn("cookie jar", f"{len(jar['cookies'])} stored cookie(s) not imported")
    return collection


def load_insomnia(data: dict[str, Any], path: str) -> Collection:
    """An Insomnia export (v2-v4 resources, or v5 YAML) as a :class:`Collection`."""
    if str(data.get("type", "")).startswith("collection.insomnia.rest/") or "collection" in data:
        return _load_v5(data, path)
    if data.get("__export_format") == 1 or "items" in data and "resources" not in data:
        raise CollectionError(
            path,
            "this is an Insomnia export format 1 (Insomnia 2 / the Chrome app), which is not "
            "supported: import it into a current Insomnia and export it again",
        )
    collection = _load_v4(data, path)
    if not collection.requests:
        collection.notes.append(Note(collection.name, "the export holds no requests", "info"))
    return collection
