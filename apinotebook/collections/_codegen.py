"""The code of one request: headers, query, body and auth as client arguments.

A credential never becomes a literal: a variable that holds one becomes
``Secret.from_env("NAME")`` in the parameters cell, and a literal credential
written into a collection (an ``Authorization`` header, a token in an auth
block, a ``password`` field) becomes a new secret variable read from the
environment; the value itself is dropped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from apinotebook._core.secrets import is_sensitive_header, is_sensitive_name
from apinotebook.collections._model import Auth, Body, Collection, Header, Note, Request
from apinotebook.collections._pysource import Names, Raw, call, env_name, literal
from apinotebook.export import is_secret_name, looks_like_credential

__all__ = ["Context", "auth_code", "json_value", "oauth2_flow", "request_args"]

_TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_ONLY_TEMPLATE = re.compile(r"^\s*\{\{\s*([^{}]+?)\s*\}\}\s*$")
_SCHEME = re.compile(r"(?i)^(bearer|basic|token|digest|apikey|api-key)\s+(\S.*)$")
_SENTINEL = "\x00tpl{}\x00"


@dataclass
class Context:
    """What the writer knows while generating: names, secrets, imports, notes."""

    collection: Collection
    names: Names = field(default_factory=Names)
    #: template variable -> environment variable, for variables that hold credentials
    secret_env: dict[str, str] = field(default_factory=dict)
    #: literal credential value -> the synthetic variable that replaces it
    synthetic: dict[str, str] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)

    def warn(self, item: str, message: str) -> None:
        """Note a warning about ``item``."""
        self.collection.warn(item, message)

    def make_secret(self, variable: str) -> None:
        """Mark a template variable as a credential read from the environment."""
        self.secret_env.setdefault(variable, env_name(variable))
        self.names.secrets.add(variable)
        self.names.add(variable)

    def replace_literal(self, value: str, hint: str) -> str:
        """A template for a literal credential: a new secret variable (the value is dropped)."""
        if value not in self.synthetic:
            base = re.sub(r"\W+", "_", hint).strip("_").lower() or "secret"
            name, n = base, 2
            taken = set(self.synthetic.values()) | set(self.names.names)
            while name in taken:
                name, n = f"{base}_{n}", n + 1
            self.synthetic[value] = name
            self.make_secret(name)
        return "{{" + self.synthetic[value] + "}}"

    def secret(self, value: str, hint: str) -> str:
        """A template whose variables are all credentials, for a credential's value."""
        value = value or ""
        only = _ONLY_TEMPLATE.match(value)
        if only:
            self.make_secret(only.group(1).strip())
            return value
        if not value.strip():
            return self.replace_literal(f"\x00empty:{hint}", hint)
        if _TEMPLATE.search(value):
            for var in _TEMPLATE.findall(value):
                self.make_secret(var.strip())
            return value
        return self.replace_literal(value, hint)

    def secret_code(self, value: str, hint: str) -> str:
        """A Python expression for a credential: the Secret variable itself when possible."""
        template = self.secret(value, hint)
        only = _ONLY_TEMPLATE.match(template)
        if only:
            return self.names.add(only.group(1).strip())
        self.imports.add("Secret")
        return f"Secret({literal(template, self.names)})"

    def guarded(self, name: str, value: str, *, header: bool = False) -> str:
        """``value`` of a header / field called ``name``: a literal credential is replaced."""
        sensitive = is_sensitive_header(name) if header else is_sensitive_name(name)
        if not value or _ONLY_TEMPLATE.match(value):
            if sensitive and _ONLY_TEMPLATE.match(value or ""):
                self.make_secret(_ONLY_TEMPLATE.match(value).group(1).strip())  # type: ignore[union-attr]
            return value
        if _TEMPLATE.sub("", value).strip() == "" and sensitive:
            return self.secret(value, name)
        scheme = _SCHEME.match(value)
        if sensitive and scheme:
            rest = scheme.group(2)
            return f"{scheme.group(1)} {self.secret(rest, name)}"
        if sensitive or looks_like_credential(value):
            if _TEMPLATE.search(value):
                return self.secret(value, name)
            return self.replace_literal(value, name)
        return value


#: an HTTP header name (RFC 9110 token)
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def _pairs(ctx: Context, pairs: list[Header], item: str, what: str, **kw: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        if pair.disabled:
            continue
        if kw.get("header") and not _TOKEN.match(pair.name):
            ctx.warn(item, f"header name {pair.name!r} is not valid HTTP; not sent")
            continue
        if pair.name in out:
            ctx.warn(item, f"{what} {pair.name!r} is given twice; the last value is sent")
        out[pair.name] = ctx.guarded(pair.name, pair.value, **kw)
    return out


def json_value(ctx: Context, text: str) -> tuple[Any, bool]:
    """A JSON body as a Python value (templates kept), or (text, False) if it is not JSON."""
    found: list[str] = []

    def hide(match: re.Match[str]) -> str:
        found.append(match.group(1).strip())
        return json.dumps(_SENTINEL.format(len(found) - 1))

    # templates outside strings are values (``"id": {{id}}``); inside strings, text
    pieces = re.split(r'("(?:[^"\\]|\\.)*")', text)
    masked = "".join(p if i % 2 else _TEMPLATE.sub(hide, p) for i, p in enumerate(pieces))
    try:
        value = json.loads(masked)
    except ValueError:
        return text, False

    def restore(v: Any, key: str = "") -> Any:
        if isinstance(v, dict):
            return {k: restore(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [restore(x, key) for x in v]
        if isinstance(v, str):
            match = re.fullmatch("\x00tpl(\\d+)\x00", v)
            if match:
                return Raw(ctx.names.ref(found[int(match.group(1))]))
            if key and is_secret_name(key) and v:
                return ctx.guarded(key, v) if is_sensitive_name(key) else v
        return v

    return restore(value), True


def body_args(
    ctx: Context, body: Body, item: str, headers: dict[str, Any]
) -> list[tuple[str, Any]]:
    """The client keyword arguments for a body (``json=``, ``data=``, ``files=``, ``content=``)."""
    if body.mode == "none":
        return []
    if body.mode in ("json", "raw", "xml"):
        if not body.text:
            return []
        declared = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        if body.mode == "json" or (body.mode == "raw" and "json" in str(declared).lower()):
            value, ok = json_value(ctx, body.text)
            if ok:
                return [("json", value)]
            ctx.collection.notes.append(
                Note(item, "the JSON body does not parse; sent as text", "info")
            )
        if body.content_type and not declared:
            headers["Content-Type"] = body.content_type
        elif body.mode == "xml" and not declared:
            headers["Content-Type"] = "application/xml"
        elif body.mode == "json" and not declared:
            headers["Content-Type"] = "application/json"
        return [("content", body.text)]
    if body.mode == "urlencoded":
        return [("data", _pairs(ctx, body.fields, item, "form field"))]
    if body.mode == "form-data":
        files: dict[str, Any] = {}
        for part in body.form:
            if part.disabled:
                continue
            if part.kind == "file":
                ctx.imports.add("attach")
                args = [literal(part.src or "", ctx.names)]
                if part.content_type:
                    args.append(f"content_type={literal(part.content_type, ctx.names)}")
                files[part.name] = Raw(f"attach({', '.join(args)})")
                if not part.src:
                    ctx.warn(item, f"form file {part.name!r} names no file; an empty part is sent")
            else:  # a text part: (None, value) keeps the body multipart, as the collection says
                files[part.name] = (None, ctx.guarded(part.name, part.value))
        return [("files", files)] if files else []
    if body.mode == "file":
        ctx.imports.add("attach")
        if not body.src:
            ctx.warn(item, "the binary body names no file; an empty body is sent")
        return [("content", Raw(f"attach({literal(body.src or '', ctx.names)})[1]"))]
    ctx.warn(item, f"body mode {body.mode!r} is not sent")
    return []


def request_args(
    ctx: Context, request: Request, inherited: list[Header]
) -> tuple[list[tuple[str, Any]], dict[str, Any]]:
    """Keyword arguments for ``client.request``; also the headers (for GraphQL calls)."""
    headers = _pairs(ctx, [*inherited, *request.headers], request.name, "header", header=True)
    params = _pairs(ctx, request.query, request.name, "query parameter")
    body = body_args(ctx, request.body, request.name, headers)
    args: list[tuple[str, Any]] = []
    if params:
        args.append(("params", params))
    if headers:
        args.append(("headers", headers))
    return args + body, headers


def auth_code(ctx: Context, auth: Auth | None, item: str) -> str | None:
    """An ``apinotebook.auth`` object for ``auth``; None for no auth (unsupported: warned)."""
    if auth is None or auth.type in ("none", "inherit"):
        return None
    p = auth.params
    n = ctx.names
    if auth.type == "bearer":
        ctx.imports.add("Bearer")
        args: list[tuple[str, Any]] = [("", Raw(ctx.secret_code(p.get("token", ""), "token")))]
        if p.get("prefix") and p["prefix"] != "Bearer":
            args.append(("scheme", p["prefix"]))
        return call("Bearer", args, n, 0, 7)
    if auth.type == "basic":
        ctx.imports.add("Basic")
        password = Raw(ctx.secret_code(p.get("password", ""), "password"))
        return call("Basic", [("", p.get("username", "")), ("", password)], n, 0, 7)
    if auth.type == "apikey":
        ctx.imports.add("ApiKey")
        key = Raw(ctx.secret_code(p.get("value", ""), p.get("key") or "api key"))
        place = "query" if p.get("in") == "query" else "header"
        return call("ApiKey", [("", key), (place, p.get("key") or "X-API-Key")], n, 0, 7)
    if auth.type == "digest":
        ctx.imports.add("httpx")
        password = Raw(ctx.secret_code(p.get("password", ""), "password") + ".reveal()")
        return call("httpx.DigestAuth", [("", p.get("username", "")), ("", password)], n, 0, 7)
    if auth.type == "oauth2":
        return _oauth2(ctx, p, item)
    ctx.warn(item, f"{auth.params.get('type', auth.type)} auth is not supported; sent without auth")
    return None


def oauth2_flow(p: dict[str, str]) -> str | None:
    """Which apinotebook flow runs an OAuth 2.0 auth block; None: the token comes from env."""
    grant = (p.get("grant_type") or p.get("grantType") or "").lower()
    token_url = p.get("accessTokenUrl") or p.get("access_token_url") or ""
    if grant == "client_credentials" and token_url:
        return "client_credentials"
    if grant.startswith("authorization_code") and token_url and p.get("authUrl"):
        return "authorization_code"
    return None


def _oauth2(ctx: Context, p: dict[str, str], item: str) -> str | None:
    n = ctx.names
    grant = (p.get("grant_type") or p.get("grantType") or "").lower()
    token_url = p.get("accessTokenUrl") or p.get("access_token_url") or ""
    client_id = p.get("clientId") or p.get("client_id") or ""
    scope = p.get("scope") or ""
    flow = oauth2_flow(p)
    args: list[tuple[str, Any]]
    if flow == "client_credentials":
        ctx.imports.add("OAuth2ClientCredentials")
        secret = Raw(ctx.secret_code(p.get("clientSecret", ""), "client secret"))
        args = [("", token_url), ("", client_id), ("", secret)]
        args += [("scope", scope)] if scope else []
        return call("OAuth2ClientCredentials", args, n, 0, 7)
    if flow == "authorization_code":
        ctx.imports.add("OAuth2AuthorizationCode")
        args = [("authorization_url", p["authUrl"]), ("token_url", token_url)]
        args.append(("client_id", client_id))
        if p.get("clientSecret"):
            args.append(("client_secret", Raw(ctx.secret_code(p["clientSecret"], "client secret"))))
        args += [("scope", scope)] if scope else []
        return call("OAuth2AuthorizationCode", args, n, 0, 7)
    ctx.warn(
        item,
        f"OAuth 2.0 grant {grant or '(none given)'!r} is not run by apinotebook; "
        "the access token is read from the environment instead",
    )
    ctx.imports.add("Bearer")
    token = Raw(ctx.secret_code(p.get("accessToken", ""), "access token"))
    return call("Bearer", [("", token)], n, 0, 7)
