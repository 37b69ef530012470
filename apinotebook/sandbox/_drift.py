"""The "schema drift" fault: a service's responses rename or retype fields.

``drift_rename="email:email_address"`` renames every JSON object key
``email`` (and every XML element whose local name is ``email``) in the
responses; ``drift_retype="score|total"`` turns those fields' numbers and
booleans into strings (JSON) or their text into a word (XML). Several pairs
or names are separated by ``|``. It is what a vendor's silent release looks
like to the integrations that depend on the old shape.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from lxml import etree

from apinotebook._core.xml import safe_parser

__all__ = ["drifting_send", "renames", "retypes", "rewrite", "unconditional"]

Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


def renames(spec: str | None) -> dict[str, str]:
    """``"a:b|c:d"`` -> ``{"a": "b", "c": "d"}``."""
    out = {}
    for pair in (spec or "").split("|"):
        old, sep, new = pair.partition(":")
        if sep and old.strip() and new.strip():
            out[old.strip()] = new.strip()
    return out


def retypes(spec: str | None) -> set[str]:
    """``"a|b"`` -> ``{"a", "b"}``."""
    return {name.strip() for name in (spec or "").split("|") if name.strip()}


def _json(value: Any, rename: dict[str, str], retype: set[str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            item = _json(item, rename, retype)
            if key in retype and isinstance(item, int | float | bool):
                item = str(item)
            out[rename.get(key, key)] = item
        return out
    if isinstance(value, list):
        return [_json(item, rename, retype) for item in value]
    return value


def rewrite(body: bytes, content_type: str, rename: dict[str, str], retype: set[str]) -> bytes:
    """The body with the drift applied (unchanged when it is neither JSON nor XML)."""
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return body
        return json.dumps(_json(data, rename, retype)).encode()
    if "xml" in content_type:
        try:
            root = etree.fromstring(body, safe_parser())
        except etree.XMLSyntaxError:
            return body
        for node in root.iter():
            if not isinstance(node.tag, str):
                continue
            qname = etree.QName(node)
            if qname.localname in retype and node.text:
                node.text = "not-a-number"
            if qname.localname in rename:
                node.tag = etree.QName(qname.namespace, rename[qname.localname]).text
        return bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8"))
    return body


_VALIDATORS = (b"if-none-match", b"if-modified-since")


def unconditional(scope: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """``scope`` without conditional request headers.

    A drifted body is a new representation under the service's old ``ETag``: the service
    must answer in full, never ``304 Not Modified`` to a copy the client kept from before.
    """
    headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() not in _VALIDATORS]
    return {**scope, "headers": headers}


def drifting_send(send: Send, rename: dict[str, str], retype: set[str]) -> Send:
    """A send that buffers the response, rewrites its body and fixes Content-Length."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        dropped = (b"content-length", b"etag", b"last-modified")  # a new representation
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in dropped]
        ctype = next((v.decode("latin-1") for k, v in headers if k.lower() == b"content-type"), "")
        body = rewrite(b"".join(chunks), ctype.lower(), rename, retype)
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return wrapped
