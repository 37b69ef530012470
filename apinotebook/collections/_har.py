"""HAR 1.2 logs into the model: every entry becomes a request, grouped by host.

A browser's HAR holds much a notebook does not want: the headers every
browser sends (``sec-ch-*``, ``sec-fetch-*``, ``user-agent``,
``accept-encoding``, HTTP/2 pseudo headers...), cookies, and requests for
images, stylesheets, fonts and scripts. Those are dropped, and each drop is
counted in the notes; ``keep_cookies=True`` keeps ``Cookie`` headers and
``keep_assets=True`` keeps the static files.
"""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from apinotebook.collections._model import (
    Body,
    Collection,
    CollectionError,
    Folder,
    FormField,
    Header,
    Note,
    Request,
    obj,
)

__all__ = ["NOISE_HEADERS", "is_har", "load_har"]

#: headers a browser adds to every request (dropped from HAR imports)
NOISE_HEADERS = frozenset(
    {
        "user-agent", "accept-encoding", "accept-language", "connection", "host",
        "content-length", "origin", "referer", "pragma", "cache-control", "dnt",
        "upgrade-insecure-requests", "te", "priority", "sec-gpc", "if-none-match",
        "if-modified-since", "purpose", "x-client-data",
    }
)  # fmt: skip
_NOISE_PREFIXES = ("sec-ch-", "sec-fetch-", ":")
_ASSETS = frozenset({"image", "stylesheet", "font", "media", "script", "manifest", "ping"})
_ASSET_TYPES = ("image/", "font/", "text/css", "javascript", "video/", "audio/")


def is_har(data: Any) -> bool:
    """Whether ``data`` is a HAR log (or a lone HAR entry or request object)."""
    if not isinstance(data, dict):
        return False
    if isinstance(data.get("log"), dict) and "entries" in data["log"]:
        return True
    return _is_request(data) or (
        isinstance(data.get("request"), dict) and _is_request(data["request"])
    )


def _is_request(data: dict[str, Any]) -> bool:
    return {"method", "url", "httpVersion"} <= set(data)


def _is_noise(name: str) -> bool:
    lower = name.lower()
    return lower in NOISE_HEADERS or lower.startswith(_NOISE_PREFIXES)


def _is_asset(entry: dict[str, Any]) -> bool:
    kind = str(entry.get("_resourceType") or "").lower()
    if kind in _ASSETS:
        return True
    mime = str(((entry.get("response") or {}).get("content") or {}).get("mimeType") or "")
    return mime.lower().startswith(_ASSET_TYPES)


def _body(post: Any) -> Body:
    if not isinstance(post, dict):
        return Body()
    mime = str(post.get("mimeType") or "").split(";")[0].strip().lower()
    params = post.get("params") if isinstance(post.get("params"), list) else []
    text = str(post.get("text") or "")
    if mime == "multipart/form-data" and params:
        return Body(
            "form-data",
            form=[
                FormField(
                    str(p.get("name", "")),
                    str(p.get("value", "")),
                    kind="file" if p.get("fileName") else "text",
                    src=p.get("fileName"),
                    content_type=p.get("contentType"),
                )
                for p in params
                if isinstance(p, dict)
            ],
        )
    if mime == "application/x-www-form-urlencoded" and params:
        fields = [Header(str(p.get("name", "")), str(p.get("value", ""))) for p in params]
        return Body("urlencoded", fields=fields)
    if mime == "application/x-www-form-urlencoded" and text:
        from urllib.parse import parse_qsl

        pairs = parse_qsl(text, keep_blank_values=True)
        return Body("urlencoded", fields=[Header(k, v) for k, v in pairs])
    if not text:
        return Body()
    if "json" in mime:
        if '"query"' in text and mime == "application/json":
            import json

            try:
                doc = json.loads(text)
            except ValueError:
                doc = None
            if (
                isinstance(doc, dict)
                and isinstance(doc.get("query"), str)
                and set(doc) <= {"query", "variables", "operationName", "extensions"}
            ):
                return Body(
                    "graphql", query=doc["query"], variables=json.dumps(doc.get("variables") or {})
                )
        return Body("json", text=text, content_type=mime)
    if "xml" in mime:
        return Body("xml", text=text, content_type=mime)
    return Body("raw", text=text, content_type=mime or None)


def load_har(
    data: dict[str, Any], path: str, *, keep_cookies: bool = False, keep_assets: bool = False
) -> Collection:
    """A HAR 1.2 log as a :class:`Collection` (one folder per host when there are several)."""
    if "log" not in data:  # a lone entry or request: a log of one
        data = {"log": {"entries": [data if "request" in data else {"request": data}]}}
    log = data["log"]
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise CollectionError(path, "the HAR log's 'entries' must be a list")
    creator = obj(log.get("creator"))
    c = Collection(
        f"HAR from {creator.get('name') or 'a browser'}",
        description=str(log.get("comment") or ""),
        format="har-" + str(log.get("version") or "1.2"),
        path=path,
    )
    dropped: Counter[str] = Counter()
    hosts: dict[str, Folder] = {}
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("request"), dict):
            c.warn(f"entry {number}", "not a HAR entry with a request; skipped")
            continue
        raw = entry["request"]
        url = str(raw.get("url") or "")
        parts = urlsplit(url)
        name = f"{raw.get('method', 'GET')} {parts.path or '/'}"
        where = f"entry {number} ({name})"
        if parts.scheme not in ("http", "https"):
            c.warn(where, f"{parts.scheme or 'a relative'} URL is not an HTTP request; skipped")
            continue
        if not keep_assets and _is_asset(entry):
            dropped["static files (images, styles, fonts, scripts)"] += 1
            continue
        headers = []
        for h in raw.get("headers") or []:
            if not isinstance(h, dict):
                continue
            hname = str(h.get("name", ""))
            if hname.lower() == "cookie" and not keep_cookies:
                dropped["Cookie headers (keep_cookies=True keeps them)"] += 1
            elif _is_noise(hname):
                dropped[f"browser header {hname.lower()}"] += 1
            else:
                headers.append(Header(hname, str(h.get("value", ""))))
        query = [
            Header(str(q.get("name", "")), str(q.get("value", "")))
            for q in raw.get("queryString") or []
            if isinstance(q, dict)
        ]
        base = url.split("?", 1)[0].split("#", 1)[0]
        request = Request(
            name,
            method=str(raw.get("method") or "GET").upper(),
            url=base,
            headers=headers,
            query=query,
            body=_body(raw.get("postData")),
            description=str(entry.get("comment") or ""),
        )
        folder = hosts.setdefault(parts.netloc, Folder(parts.netloc))
        folder.items.append(request)
    for what, count in sorted(dropped.items()):
        c.notes.append(Note("HAR", f"dropped {count} × {what}", "info"))
    if len(hosts) == 1:
        c.items = next(iter(hosts.values())).items
    else:
        c.items = list(hosts.values())
    return c
