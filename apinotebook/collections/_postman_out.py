"""Write requests as a Postman Collection v2.1 and an environment of variable names.

The source is a :class:`Collection`, a notebook (read, not run, by
:mod:`._notebook_in`) or a :class:`~apinotebook.History` (through its HAR,
secrets already masked). The environment file lists every variable with its
value, except credentials: those are listed with an empty value and type
``secret``, so a team shares names, never secrets.
"""

from __future__ import annotations

import json
import re
import uuid
from os import PathLike
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from apinotebook._core.secrets import MASK
from apinotebook.collections._model import Auth, Body, Collection, Folder, Request, Variable

__all__ = ["SCHEMA", "collection_to_postman", "environment_to_postman", "to_postman"]

SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
_AUTH_KEYS = {
    "bearer": ("token",),
    "basic": ("username", "password"),
    "digest": ("username", "password"),
    "apikey": ("key", "value", "in"),
}


def _auth(auth: Auth | None) -> dict[str, Any] | None:
    if auth is None or auth.type == "inherit":
        return None
    if auth.type == "none":
        return {"type": "noauth"}
    kind = auth.type if auth.type != "other" else auth.params.get("type", "noauth")
    params = {k: v for k, v in auth.params.items() if k != "type" and isinstance(v, str)}
    return {
        "type": kind,
        kind: [{"key": k, "value": v, "type": "string"} for k, v in params.items()],
    }


def _url(request: Request) -> dict[str, Any]:
    query = [{"key": q.name, "value": q.value, **({"disabled": True} if q.disabled else {})}
             for q in request.query]  # fmt: skip
    raw = request.url
    if query:
        raw += "?" + "&".join(f"{q['key']}={q['value']}" for q in query)
    out: dict[str, Any] = {"raw": raw}
    parts = urlsplit(request.url) if "://" in request.url else None
    if parts is not None and parts.hostname:
        out["protocol"] = parts.scheme
        out["host"] = parts.hostname.split(".")
        if parts.port:
            out["port"] = str(parts.port)
        out["path"] = [p for p in parts.path.split("/") if p]
    else:
        head, _, path = request.url.partition("/")
        out["host"] = [head] if head else []
        out["path"] = [p for p in path.split("/") if p]
    if query:
        out["query"] = query
    return out


def _body(body: Body) -> dict[str, Any] | None:
    if body.mode == "none":
        return None
    if body.mode in ("raw", "json", "xml"):
        out: dict[str, Any] = {"mode": "raw", "raw": body.text}
        if body.mode != "raw":
            out["options"] = {"raw": {"language": body.mode}}
        return out
    if body.mode == "urlencoded":
        return {"mode": "urlencoded", "urlencoded": [
            {"key": f.name, "value": f.value, "type": "text"} for f in body.fields
        ]}  # fmt: skip
    if body.mode == "form-data":
        parts = []
        for f in body.form:
            part: dict[str, Any] = {"key": f.name, "type": f.kind}
            if f.kind == "file":
                part["src"] = f.src or ""
            else:
                part["value"] = f.value
            parts.append(part)
        return {"mode": "formdata", "formdata": parts}
    if body.mode == "file":
        return {"mode": "file", "file": {"src": body.src or ""}}
    if body.mode == "graphql":
        return {"mode": "graphql", "graphql": {"query": body.query, "variables": body.variables}}
    return None


def _request(request: Request) -> dict[str, Any]:
    req: dict[str, Any] = {
        "method": request.method,
        "header": [
            {"key": h.name, "value": h.value, **({"disabled": True} if h.disabled else {})}
            for h in request.headers
        ],
        "url": _url(request),
    }
    body = _body(request.body)
    if body is not None:
        req["body"] = body
    auth = _auth(request.auth)
    if auth is not None:
        req["auth"] = auth
    if request.description:
        req["description"] = request.description
    return {"name": request.name, "request": req}


def _items(folder: Folder) -> list[dict[str, Any]]:
    out = []
    for item in folder.items:
        if isinstance(item, Request):
            out.append(_request(item))
        else:
            entry: dict[str, Any] = {"name": item.name, "item": _items(item)}
            if item.description:
                entry["description"] = item.description
            auth = _auth(item.auth)
            if auth is not None:
                entry["auth"] = auth
            out.append(entry)
    return out


def _safe_value(var: Any) -> str:
    value = var.value or ""
    return "" if var.secret or MASK in value else value


def collection_to_postman(collection: Collection) -> dict[str, Any]:
    """A Postman Collection v2.1 document for ``collection`` (credentials never included)."""
    doc: dict[str, Any] = {
        "info": {
            "_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, collection.path or collection.name)),
            "name": collection.name,
            "schema": SCHEMA,
        },
        "item": _items(collection),
    }
    if collection.description:
        doc["info"]["description"] = collection.description
    auth = _auth(collection.auth)
    if auth is not None:
        doc["auth"] = auth
    variables = [v for v in collection.variables if not v.secret]
    if variables:
        doc["variable"] = [{"key": v.name, "value": _safe_value(v)} for v in variables]
    return doc


def environment_to_postman(collection: Collection) -> dict[str, Any]:
    """An environment with every variable; credentials by name only (empty, type secret)."""
    values = []
    seen: set[str] = set()
    for var in collection.variables:
        if var.name in seen:
            continue
        seen.add(var.name)
        values.append(
            {
                "key": var.name,
                "value": "" if var.secret else _safe_value(var),
                "type": "secret" if var.secret else "default",
                "enabled": True,
            }
        )
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "env:" + (collection.path or collection.name))),
        "name": f"{collection.name} environment",
        "values": values,
        "_postman_variable_scope": "environment",
    }


def _unmask(collection: Collection) -> None:
    """Masked credentials (``***``) of a history become variables, sent as auth where they can.

    ``Authorization: Bearer ***`` becomes bearer auth with ``{{bearerToken}}``; any other
    masked header or query value becomes ``{{<its name>}}``; the variables are listed
    (empty, type secret) in the environment file.
    """
    seen: dict[str, Variable] = {}

    def var(name: str) -> str:
        key = re.sub(r"\W+", "_", name).strip("_") or "secret"
        seen.setdefault(key, Variable(key, None, secret=True))
        return "{{" + key + "}}"

    for req in collection.requests:
        kept = []
        for h in req.headers:
            scheme, _, rest = h.value.partition(" ")
            if h.name.lower() == "authorization" and scheme.lower() == "bearer" and MASK in rest:
                req.auth = Auth("bearer", {"token": var("bearerToken")})
                continue
            if h.name.lower() == "authorization" and scheme.lower() == "basic" and MASK in rest:
                req.auth = Auth("basic", {"username": var("username"),
                                          "password": var("password")})  # fmt: skip
                continue
            if MASK in h.value:
                h.value = h.value.replace(MASK, var(h.name))
            kept.append(h)
        req.headers = kept
        for q in req.query:
            if MASK in q.value:
                q.value = q.value.replace(MASK, var(q.name))
        if req.auth is None:
            req.auth = Auth("none")
    collection.variables.extend(seen.values())


def _source(source: Any) -> Collection:
    if isinstance(source, Collection):
        return source
    if isinstance(source, str | PathLike):
        from apinotebook.collections._notebook_in import collection_from_notebook

        return collection_from_notebook(Path(source))
    if hasattr(source, "to_har"):
        from apinotebook.collections._har import load_har

        collection = load_har(source.to_har(), "history", keep_cookies=False)
        collection.name = "apinotebook history"
        _unmask(collection)
        return collection
    from apinotebook._exceptions import ConfigError

    raise ConfigError(
        f"to_postman takes a Collection, a notebook path or a History, not {type(source).__name__}"
    )


def to_postman(
    source: Any, path: str | PathLike[str], *, name: str | None = None
) -> dict[str, Any]:
    """Write ``source`` as ``path`` (Postman v2.1) and ``<stem>.postman_environment.json``.

    Returns ``{"collection": path, "environment": env path, "document": dict}``.
    """
    collection = _source(source)
    if name:
        collection.name = name
    doc = collection_to_postman(collection)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    stem = out.name.removesuffix(".json").removesuffix(".postman_collection")
    env_path = out.with_name(f"{stem}.postman_environment.json")
    env_path.write_text(
        json.dumps(environment_to_postman(collection), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    return {"collection": out, "environment": env_path, "document": doc}
