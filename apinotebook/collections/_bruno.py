"""Bruno collections into the model: the ``.bru`` files of a collection folder.

A Bruno collection is a folder with ``bruno.json``, one ``.bru`` file per
request, ``folder.bru`` / ``collection.bru`` for folder and collection
settings and ``environments/*.bru``. There is no Bru parser on PyPI, so the
small block grammar is parsed here: ``name {`` opens a block of
``key: value`` lines (``~`` disables one) or of text (``body:*``,
``script:*``, ``tests``, ``docs``), ``name [`` a list (``vars:secret``), and
``}`` / ``]`` at the start of a line closes it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
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
)

__all__ = ["is_bru", "load_bruno", "parse_bru"]

_OPEN = re.compile(r"^([A-Za-z][\w:-]*)\s*([{\[])\s*$")
_TEXT_BLOCKS = ("body", "script", "tests", "docs")
_METHODS = ("get", "post", "put", "delete", "patch", "options", "head", "connect", "trace")
_FILE = re.compile(r"@file\(([^)]*)\)(?:\s*@contentType\(([^)]*)\))?")
_MAX_BYTES = 5 * 1024 * 1024


def is_bru(text: str) -> bool:
    """Whether ``text`` looks like a ``.bru`` file."""
    return any(_OPEN.match(line) for line in text.splitlines()[:40]) and "meta {" in text


def _unquote(key: str) -> str:
    if len(key) >= 2 and key[0] == key[-1] == '"':
        return key[1:-1].replace('\\"', '"')
    return key


def _pair(line: str) -> tuple[str, str, bool] | None:
    text = line.strip()
    if not text:
        return None
    disabled = text.startswith("~")
    text = text[1:] if disabled else text
    if text.startswith('"'):
        end = 1
        while end < len(text) and not (text[end] == '"' and text[end - 1] != "\\"):
            end += 1
        key, rest = text[: end + 1], text[end + 1 :]
        _, _, value = rest.partition(":")
    else:
        key, sep, value = text.partition(":")
        if not sep:
            return None
    return _unquote(key.strip()), value.strip(), disabled


def parse_bru(text: str, path: str = "<bru>") -> dict[str, Any]:
    """Blocks of a ``.bru`` file: ``{name: text}`` for text blocks, else a list of pairs.

    Raises:
        CollectionError: a block is not closed, or the file is Bru's old v1 syntax.
    """
    blocks: dict[str, Any] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        match = _OPEN.match(line)
        if not match:
            if line.strip() and not line.startswith((" ", "\t", "#")):
                if re.match(r"^\w+$", line.strip()) and line.strip() in ("vars", "headers"):
                    raise CollectionError(path, "this is Bru's old v1 syntax; not supported")
            i += 1
            continue
        name, bracket = match.groups()
        close = "}" if bracket == "{" else "]"
        body: list[str] = []
        i += 1
        while i < len(lines) and lines[i].rstrip() != close:
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            raise CollectionError(path, f"block {name!r} is not closed with {close!r}")
        i += 1
        if bracket == "[":
            blocks[name] = [b.strip().rstrip(",") for b in body if b.strip()]
        elif name.split(":")[0] in _TEXT_BLOCKS:
            blocks[name] = "\n".join(b[2:] if b.startswith("  ") else b for b in body).strip("\n")
        else:
            blocks[name] = _pairs(body)
    return blocks


def _pairs(body: list[str]) -> list[tuple[str, str, bool]]:
    out: list[tuple[str, str, bool]] = []
    i = 0
    while i < len(body):
        pair = _pair(body[i])
        i += 1
        if pair is None:
            continue
        key, value, disabled = pair
        if value in ("'''", "[") and i < len(body):  # multi-line value or list
            end = "'''" if value == "'''" else "]"
            collected = []
            while i < len(body) and body[i].strip() != end:
                collected.append(body[i].strip())
                i += 1
            i += 1
            value = "\n".join(collected) if end == "'''" else ", ".join(collected)
        out.append((key, value, disabled))
    return out


def _dict(pairs: Any) -> dict[str, str]:
    return {k: v for k, v, off in pairs if not off} if isinstance(pairs, list) else {}


def _headers(pairs: Any) -> list[Header]:
    return [Header(k, v, disabled=off) for k, v, off in pairs] if isinstance(pairs, list) else []


_AUTH = {"awsv4": "awsv4", "basic": "basic", "bearer": "bearer", "digest": "digest"}
_AUTH |= {"oauth2": "oauth2", "apikey": "apikey", "ntlm": "ntlm", "wsse": "other"}


def _auth(blocks: dict[str, Any], mode: str | None, where: str, collection: Collection) -> Auth:
    if mode is None:
        mode = _dict(blocks.get("auth")).get("mode")
    if mode in (None, "", "inherit"):
        return Auth("inherit")
    if mode == "none":
        return Auth("none")
    params = _dict(blocks.get(f"auth:{mode}"))
    if mode == "apikey":
        place = params.get("placement", "header")
        params = {
            "key": params.get("key", ""),
            "value": params.get("value", ""),
            "in": "query" if place.startswith("query") else "header",
        }
    elif mode == "oauth2":
        params = {
            "grant_type": params.get("grant_type", ""),
            "accessTokenUrl": params.get("access_token_url", ""),
            "authUrl": params.get("authorization_url", ""),
            "clientId": params.get("client_id", ""),
            "clientSecret": params.get("client_secret", ""),
            "scope": params.get("scope", ""),
            "username": params.get("username", ""),
            "password": params.get("password", ""),
        }
    kind = _AUTH.get(mode)
    if kind is None or kind == "other":
        collection.warn(where, f"Bruno auth mode {mode!r} is not supported")
        return Auth("other", {"type": mode, **params})
    return Auth(kind, params)


def _body(blocks: dict[str, Any], mode: str, where: str, collection: Collection) -> Body:
    if mode in ("", "none"):
        return Body()
    if mode in ("json", "xml", "text"):
        text = blocks.get(f"body:{mode}", "")
        return Body({"text": "raw"}.get(mode, mode), text=text) if text.strip() else Body()
    if mode == "formUrlEncoded":
        return Body("urlencoded", fields=_headers(blocks.get("body:form-urlencoded")))
    if mode == "multipartForm":
        form = []
        for key, value, off in blocks.get("body:multipart-form") or []:
            files = _FILE.match(value)
            if files:
                form.append(FormField(key, "", "file", files.group(1), files.group(2), off))
            else:
                form.append(FormField(key, value, disabled=off))
        return Body("form-data", form=form)
    if mode == "graphql":
        return Body(
            "graphql",
            query=blocks.get("body:graphql", ""),
            variables=blocks.get("body:graphql:vars", "") or "{}",
        )
    if mode == "file":
        for _key, value, off in blocks.get("body:file") or []:
            files = _FILE.match(value)
            if files and not off:
                return Body("file", src=files.group(1), content_type=files.group(2))
        return Body()
    collection.warn(where, f"body mode {mode!r} is not supported; the body is not sent")
    return Body()


def _scripts(blocks: dict[str, Any]) -> list[Script]:
    out = []
    for name, event in (
        ("script:pre-request", "prerequest"),
        ("script:post-response", "test"),
        ("tests", "test"),
    ):
        if str(blocks.get(name, "")).strip():
            out.append(Script(event, blocks[name], language="bruno"))
    asserts = [f"{k}: {v}" for k, v, off in blocks.get("assert") or [] if not off]
    if asserts:
        out.append(Script("test", "\n".join(asserts), language="bruno-assert"))
    post = [f"{k}: {v}" for k, v, off in blocks.get("vars:post-response") or [] if not off]
    if post:
        out.append(Script("test", "\n".join(post), language="bruno-vars"))
    return out


def _variables(blocks: dict[str, Any], secret: set[str] | None = None) -> list[Variable]:
    out = []
    for name in ("vars", "vars:pre-request"):
        for key, value, off in blocks.get(name) or []:
            out.append(Variable(key.lstrip("@"), value, disabled=off))
    for key in blocks.get("vars:secret") or []:
        out.append(Variable(key.lstrip("~"), None, secret=True, disabled=key.startswith("~")))
    return out


def _request(blocks: dict[str, Any], fallback: str, where: str, c: Collection) -> Request | None:
    meta = _dict(blocks.get("meta"))
    kind = meta.get("type", "http")
    method_block = next((m for m in _METHODS if m in blocks), None)
    if method_block is None:
        c.warn(where, f"request type {kind!r} without an HTTP method block is skipped")
        return None
    info = _dict(blocks.get(method_block))
    url, _, query_text = info.get("url", "").partition("?")
    request = Request(
        meta.get("name") or fallback,
        method=method_block.upper(),
        url=url,
        headers=_headers(blocks.get("headers")),
        query=_headers(blocks.get("params:query"))
        or [
            Header(*(p.split("=", 1) if "=" in p else (p, ""))) for p in query_text.split("&") if p
        ],
        description=str(blocks.get("docs", "")),
        scripts=_scripts(blocks),
        variables=_variables(blocks),
    )
    request.body = _body(blocks, info.get("body", "none"), where, c)
    request.auth = _auth(blocks, info.get("auth", "inherit"), where, c)
    for key, value, _off in blocks.get("params:path") or []:
        request.url = request.url.replace(f"/:{key}", "/{{" + key + "}}")
        request.variables.append(Variable(key, value))
    if kind == "graphql" and request.body.mode != "graphql":
        request.body = _body(blocks, "graphql", where, c)
    if blocks.get("settings"):
        c.notes.append(Note(where, "request settings are not kept", "info"))
    return request


def _read(path: Path, collection_path: str) -> dict[str, Any]:
    if path.stat().st_size > _MAX_BYTES:
        raise CollectionError(collection_path, f"{path.name} is larger than 5 MB")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise CollectionError(path, "a .bru file must be UTF-8 text") from exc
    return parse_bru(text, str(path))


def _folder(folder: Path, root: Path, c: Collection, depth: int) -> list[Folder | Request]:
    if depth > 32:
        raise CollectionError(c.path, "folders nest more than 32 levels deep")
    out: list[tuple[float, str, Folder | Request]] = []
    for entry in sorted(folder.iterdir()):
        where = entry.relative_to(root).as_posix()
        if entry.is_dir() and not entry.is_symlink():
            if entry.name in ("environments", "node_modules", ".git") and folder == root:
                continue
            sub = Folder(entry.name, _folder(entry, root, c, depth + 1))
            settings = entry / "folder.bru"
            seq = 1e9
            if settings.is_file():
                blocks = _read(settings, c.path)
                meta = _dict(blocks.get("meta"))
                sub.name = meta.get("name") or sub.name
                seq = _seq(meta)
                sub.auth = _auth(blocks, None, where, c)
                sub.variables = _variables(blocks)
                sub.scripts = _scripts(blocks)
                sub.description = str(blocks.get("docs", ""))
                sub.headers = _headers(blocks.get("headers"))
            out.append((seq, entry.name, sub))
        elif entry.suffix == ".bru" and entry.name not in ("folder.bru", "collection.bru"):
            blocks = _read(entry, c.path)
            request = _request(blocks, entry.stem, where, c)
            if request is not None:
                out.append((_seq(_dict(blocks.get("meta"))), entry.name, request))
    return [item for _, _, item in sorted(out, key=lambda t: (t[0], t[1]))]


def _seq(meta: dict[str, str]) -> float:
    try:
        return float(meta.get("seq", "1e9"))
    except ValueError:
        return 1e9


def load_bruno(path: Path) -> Collection:
    """A Bruno collection folder (or its ``bruno.json``, or one ``.bru`` file)."""
    root = path.parent if path.name == "bruno.json" else path
    if root.is_file():  # one .bru file: a request, an environment or collection settings
        blocks = _read(root, str(path))
        c = Collection(root.stem, format="bruno", path=str(path))
        meta = _dict(blocks.get("meta"))
        if "vars" in blocks or "vars:secret" in blocks and "meta" not in blocks:
            c.environments.append(Environment(root.stem, _variables(blocks)))
        elif meta.get("type") == "collection" or root.name == "collection.bru":
            _settings(c, blocks)
        else:
            request = _request(blocks, root.stem, root.name, c)
            if request is not None:
                c.items.append(request)
        return c
    config: dict[str, Any] = {}
    if (root / "bruno.json").is_file():
        try:
            config = json.loads((root / "bruno.json").read_text(encoding="utf-8"))
        except ValueError as exc:
            raise CollectionError(root / "bruno.json", f"not valid JSON ({exc})") from exc
    c = Collection(str(config.get("name") or root.name), format="bruno", path=str(path))
    if (root / "collection.bru").is_file():
        _settings(c, _read(root / "collection.bru", c.path))
    c.items = _folder(root, root, c, 0)
    envs = root / "environments"
    if envs.is_dir():
        for env in sorted(envs.glob("*.bru")):
            c.environments.append(Environment(env.stem, _variables(_read(env, c.path))))
    if (root / ".env").is_file():
        c.notes.append(Note(".env", "the collection's .env file is not read (secrets)", "info"))
    return c


def _settings(c: Collection, blocks: dict[str, Any]) -> None:
    c.auth = _auth(blocks, None, "collection.bru", c)
    c.variables.extend(_variables(blocks))
    c.scripts = _scripts(blocks)
    c.description = str(blocks.get("docs", ""))
    c.headers = _headers(blocks.get("headers"))
