"""The inspector's Code tab: an exchange's request as curl and as apinotebook Python.

Both are masked. The Python never contains a credential: an
``Authorization`` header becomes ``auth=Bearer(Secret.from_env("API_TOKEN"))``
(or ``Basic``), other secret headers and query parameters are read from
environment variables, and sensitive body fields show as ``***``.
"""

from __future__ import annotations

import base64
import binascii
import json
import pprint
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from apinotebook._core.secrets import MASK, is_sensitive_name, mask_text, mask_url, masks_field
from apinotebook._core.xml import parse_xml
from apinotebook.widgets._snippets import py_str
from apinotebook.widgets._text import masked_head

if TYPE_CHECKING:
    from lxml import etree

    from apinotebook._exchange import Exchange

__all__ = ["curl_code", "python_code"]

#: the code tab is part of the widget's first view: keep it small
CODE_LIMIT = 16 * 1024
#: headers httpx and the clients add by themselves
_AUTOMATIC = frozenset(
    {"host", "content-length", "user-agent", "accept-encoding", "connection", "cookie"}
)
_ENV_NAME = re.compile(r"[^A-Za-z0-9]+")


def _cap(text: str, hint: str) -> str:
    if len(text) <= CODE_LIMIT:
        return text
    return text[:CODE_LIMIT] + f"\n# … truncated here; {hint}"


def curl_code(exchange: Exchange) -> str:
    """The request as a masked curl command, or a note why there is none."""
    try:
        text = exchange.to_curl()
    except Exception as exc:  # noqa: BLE001 - a tab must not break the widget
        return f"# the request cannot be written as curl: {mask_text(str(exc))}"
    return _cap(mask_text(text), "ex.to_curl() gives the whole command")


def _env_name(name: str) -> str:
    return _ENV_NAME.sub("_", name).strip("_").upper() or "SECRET"


def _literal(value: Any) -> str:
    text = repr(value)
    if len(text) <= 80:
        return text
    return pprint.pformat(value, width=88, sort_dicts=False)


def _mask_value(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if masks_field(str(k), v) else _mask_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value


def _auth(headers: list[tuple[str, str]]) -> tuple[str | None, list[str], list[str]]:
    """``(auth expression, extra imports, header items)`` from the request headers."""
    auth: str | None = None
    imports: list[str] = []
    items: list[str] = []
    for name, value in headers:
        lower = name.lower()
        if lower in _AUTOMATIC or (lower == "accept" and value == "*/*"):
            continue
        if lower == "authorization":
            scheme, _, credentials = value.partition(" ")
            if scheme.lower() == "basic":
                user = _basic_user(credentials)
                auth = f'Basic({py_str(user)}, Secret.from_env("API_PASSWORD"))'
                imports += ["Basic", "Secret"]
                continue
            if scheme.lower() == "bearer":
                auth = 'Bearer(Secret.from_env("API_TOKEN"))'
                imports += ["Bearer", "Secret"]
                continue
        if is_sensitive_name(name):
            items.append(f'{py_str(name)}: os.environ["{_env_name(name)}"]')
            imports.append("os")
            continue
        items.append(f"{py_str(name)}: {py_str(mask_text(value))}")
    return auth, imports, items


def _basic_user(credentials: str) -> str:
    try:
        decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return "user"
    return mask_text(decoded.partition(":")[0]) or "user"


def _split_query(url: str) -> tuple[str, list[str]]:
    """The URL without sensitive query parameters, and those parameters as code."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    secret = [(k, v) for k, v in pairs if is_sensitive_name(k)]
    if not secret:
        return mask_url(url), []
    kept = urlencode([(k, v) for k, v in pairs if not is_sensitive_name(k)])
    clean = urlunsplit((parts.scheme, parts.netloc, parts.path, kept, parts.fragment))
    return mask_url(clean), [f'{py_str(k)}: os.environ["{_env_name(k)}"]' for k, _ in secret]


def _header(headers: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name), "")


def _rest(exchange: Exchange, name: str) -> tuple[list[str], str, str]:
    request = exchange.request
    headers = list(request.headers.multi_items())
    auth, imports, items = _auth(headers)
    url, params = _split_query(request.url)
    args = [py_str(request.method), py_str(url)]
    if params:
        args.append("params={" + ", ".join(params) + "}")
        imports.append("os")
    ctype = _header(headers, "content-type").lower()
    body = request.text if request.content else ""
    kwarg: str | None = None
    if body and "json" in ctype:
        try:
            kwarg = f"json={_literal(_mask_value(json.loads(body)))}"
        except ValueError:
            kwarg = None
        else:
            items = [i for i in items if not i.lower().startswith('"content-type"')]
    elif body and "x-www-form-urlencoded" in ctype:
        form = {k: MASK if is_sensitive_name(k) else mask_text(v) for k, v in parse_qsl(body)}
        kwarg = f"data={_literal(form)}"
        items = [i for i in items if not i.lower().startswith('"content-type"')]
    if body and kwarg is None:
        kwarg = f"content={py_str(masked_head(body, CODE_LIMIT))}"
    if items:
        args.append("headers={" + ", ".join(items) + "}")
    if kwarg:
        args.append(kwarg)
    client = f"RestClient(auth={auth})" if auth else "RestClient()"
    imports.append("RestClient")
    call = f"{name} = client.request({', '.join(args)})"
    return imports, f"client = {client}", call


def _graphql(exchange: Exchange, name: str) -> tuple[list[str], str, str]:
    request = exchange.request
    headers = [
        (k, v)
        for k, v in request.headers.multi_items()
        if k.lower() not in ("content-type", "accept")
    ]
    auth, imports, items = _auth(headers)
    try:
        payload = json.loads(request.content or b"{}")
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    query = str(payload.get("query") or "")
    args = [f'"""{query}"""' if '"""' not in query and "\\" not in query else py_str(query)]
    if payload.get("variables"):
        args.append(f"variables={_literal(_mask_value(payload['variables']))}")
    if payload.get("operationName"):
        args.append(f"operation_name={py_str(str(payload['operationName']))}")
    options = [py_str(mask_url(request.url))]
    if items:
        options.append("headers={" + ", ".join(items) + "}")
    if auth:
        options.append(f"auth={auth}")
    imports.append("GraphQLClient")
    call = f"{name} = client.execute({', '.join(args)})"
    return imports, f"client = GraphQLClient({', '.join(options)})", call


def _xml_value(element: etree._Element) -> Any:
    children = [c for c in element if isinstance(c.tag, str)]
    if not children:
        local = str(element.tag).rpartition("}")[2]
        text = (element.text or "").strip()
        return MASK if is_sensitive_name(local) and text else mask_text(text)
    out: dict[str, Any] = {}
    for child in children:
        local = str(child.tag).rpartition("}")[2]
        value = _xml_value(child)
        if local in out:
            existing = out[local]
            out[local] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[local] = value
    return out


def _soap_arguments(content: bytes) -> dict[str, Any] | None:
    from lxml import etree

    try:
        root = parse_xml(content)
    except etree.XMLSyntaxError:
        return None
    body = next((c for c in root if str(c.tag).endswith("}Body")), None)
    operation = (
        next((c for c in body if isinstance(c.tag, str)), None) if body is not None else None
    )
    if operation is None:
        return None
    value = _xml_value(operation)
    return value if isinstance(value, dict) else {}


def _soap(exchange: Exchange, name: str) -> tuple[list[str], str, str]:
    request = exchange.request
    url = mask_url(request.url)
    arguments = _soap_arguments(request.content) if request.content else None
    operation = exchange.operation or "Operation"
    if arguments is None:
        rendered = "...  # the request envelope could not be read"
    elif all(k.isidentifier() for k in arguments):
        rendered = ", ".join(f"{k}={_literal(v)}" for k, v in arguments.items())
    else:
        rendered = f"**{_literal(arguments)}"
    call = f"{name} = client.call({py_str(operation)}{', ' + rendered if rendered else ''})"
    client = f"client = SoapClient({py_str(url + '?wsdl')})  # or the WSDL's path or URL"
    return ["SoapClient"], client, call


def python_code(exchange: Exchange, *, name: str = "ex") -> str:
    """The request as apinotebook Python code (masked; secrets come from the environment)."""
    if exchange.protocol == "graphql":
        imports, client, call = _graphql(exchange, name)
    elif exchange.protocol == "soap":
        imports, client, call = _soap(exchange, name)
    else:
        imports, client, call = _rest(exchange, name)
    lines = []
    if "os" in imports:
        lines.append("import os")
    names = sorted({i for i in imports if i != "os" and i not in ("GraphQLClient", "SoapClient")})
    if names:
        lines.append(f"from apinotebook import {', '.join(names)}")
    if "GraphQLClient" in imports:
        lines.append("from apinotebook.graphql import GraphQLClient")
    if "SoapClient" in imports:
        lines.append("from apinotebook.soap import SoapClient")
    lines += ["", client, call]
    return _cap(mask_text("\n".join(lines)), "see the Request tab for the whole body")
