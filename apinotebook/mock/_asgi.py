"""The few ASGI pieces every mock app shares: a request read whole, a reply sent whole.

Each protocol's mock is a pure function from :class:`Request` to :class:`Reply`
(testable without a server); :func:`asgi_app` turns it into an ASGI app that
the sandbox mounts (:mod:`apinotebook.sandbox` serves it, with its body limit,
faults and statistics).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Reply", "Request", "asgi_app", "json_reply", "problem"]

logger = logging.getLogger("apinotebook.mock")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Request:
    """One HTTP request as a mock sees it: ``path`` is relative to the mock's mount."""

    method: str
    path: str
    query: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: the mock's own address (``http://127.0.0.1:8000/petstore``), for self links
    base: str = ""

    def header(self, name: str, default: str = "") -> str:
        """A header's value (names are case-insensitive)."""
        return self.headers.get(name.lower(), default)

    @property
    def media_type(self) -> str:
        """The body's media type, lower case, without parameters."""
        return self.header("content-type").partition(";")[0].strip().lower()


@dataclass
class Reply:
    """What a mock answers."""

    status: int
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: list[tuple[str, str]] = field(default_factory=list)


def json_reply(status: int, payload: Any, content_type: str = "application/json") -> Reply:
    """A JSON reply (``default=str`` so dates and decimals from examples serialise)."""
    return Reply(status, json.dumps(payload, default=str).encode(), content_type)


_TITLES = {400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           415: "Unsupported Media Type", 406: "Not Acceptable"}  # fmt: skip


def problem(status: int, detail: str, **extra: Any) -> Reply:
    """An RFC 9457 problem document (``application/problem+json``)."""
    payload = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status,
               "detail": detail, **extra}  # fmt: skip
    return json_reply(status, payload, "application/problem+json")


def asgi_app(
    handle: Callable[[Request], Reply],
) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI app that reads the whole request, calls ``handle`` and sends its reply."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        parts: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            parts.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(
            method=scope["method"].upper(),
            path=path or "/",
            query=scope.get("query_string", b"").decode("latin-1"),
            headers=headers,
            body=b"".join(parts),
            base=f"{scope.get('scheme', 'http')}://{headers.get('host', 'localhost')}{root}",
        )
        try:
            reply = handle(request)
        except Exception as exc:  # noqa: BLE001 - a mock answers, whatever broke
            logger.exception("the mock failed on %s %s", request.method, request.path)
            reply = problem(500, f"the mock failed: {type(exc).__name__}: {str(exc)[:300]}")
        out = [(b"content-length", str(len(reply.body)).encode())]
        if reply.content_type:
            out.append((b"content-type", reply.content_type.encode("latin-1")))
        out += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in reply.headers]
        await send({"type": "http.response.start", "status": reply.status, "headers": out})
        await send({"type": "http.response.body", "body": reply.body})

    return app
