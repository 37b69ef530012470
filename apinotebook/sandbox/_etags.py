"""Validators for a sandbox REST service: ``ETag``, ``Last-Modified``, 304 and 412.

:class:`Conditional` wraps a service's ASGI app, as real APIs' gateways do:

- every ``200`` answer to a ``GET`` gets a strong ``ETag`` (a digest of the
  body) and, for a single record with ``updated_at``, a ``Last-Modified``;
  ``Cache-Control: private, no-cache`` says "store it, but ask me first";
- ``If-None-Match`` (or, without it, ``If-Modified-Since``) that still matches
  gets ``304 Not Modified`` with no body;
- a write (``PUT``, ``PATCH``, ``DELETE``) with ``If-Match`` is checked against
  the resource's current ``ETag`` first: a mismatch is ``412 Precondition
  Failed`` and nothing is written (optimistic concurrency: no lost updates).
  Conditional writes are serialised, so the check and the write are one step.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from apinotebook._core.ratelimit import parse_http_date

__all__ = ["Conditional", "etag_of"]

_WRITES = frozenset({"PUT", "PATCH", "DELETE"})


def etag_of(body: bytes) -> str:
    """The strong entity tag of a representation."""
    return '"' + hashlib.sha256(body).hexdigest()[:27] + '"'


def _matches(header: str, etag: str) -> bool:
    """Weak comparison (RFC 9110 section 13.1.2): ``W/"x"`` matches ``"x"``."""
    wanted = etag.removeprefix("W/")
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or wanted in tags


def _last_modified(body: bytes) -> str | None:
    """``updated_at`` of a single JSON record, as an HTTP date."""
    if not body.startswith(b"{"):
        return None
    try:
        value = json.loads(body).get("updated_at")
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, TypeError, AttributeError):
        return None
    return format_datetime(when.replace(microsecond=0), usegmt=True) if when.tzinfo else None


class _Captured:
    def __init__(self) -> None:
        self.start: Message = {}
        self.body = bytearray()

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")

    @property
    def status(self) -> int:
        return int(self.start.get("status", 500))


class Conditional:
    """ASGI middleware: ETags, ``304`` for ``If-None-Match``, ``412`` for ``If-Match``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._writes = asyncio.Lock()

    def __getattr__(self, name: str) -> Any:  # BearerGate's store and friends
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        method = scope["method"]
        if method in ("GET", "HEAD"):
            await self._read(scope, receive, send, headers)
        elif method in _WRITES and "if-match" in headers:
            async with self._writes:
                await self._write(scope, receive, send, headers["if-match"])
        else:
            await self.app(scope, receive, send)

    async def _current(self, scope: Scope) -> _Captured:
        """The resource as a GET would answer it now."""
        captured = _Captured()
        probe = {**scope, "method": "GET", "query_string": b""}

        async def nothing() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        await self.app(probe, nothing, captured.send)
        return captured

    async def _read(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str]
    ) -> None:
        captured = _Captured()
        await self.app(scope, receive, captured.send)
        body = bytes(captured.body)
        out = [(k, v) for k, v in captured.start.get("headers", []) if k.lower() != b"etag"]
        if captured.status != 200:
            await _replay(send, captured.status, out, body)
            return
        etag = etag_of(body)
        modified = _last_modified(body)
        validators = [(b"etag", etag.encode()), (b"cache-control", b"private, no-cache")]
        if modified:
            validators.append((b"last-modified", modified.encode()))
        if "if-none-match" in headers:
            fresh = _matches(headers["if-none-match"], etag)
        else:
            since = parse_http_date(headers.get("if-modified-since"))
            changed = parse_http_date(modified)
            fresh = since is not None and changed is not None and changed <= since
        if fresh:
            await _replay(send, 304, validators, b"")
            return
        kept = [(k, v) for k, v in out if k.lower() not in (b"cache-control", b"last-modified")]
        await _replay(send, 200, kept + validators, body)

    async def _write(self, scope: Scope, receive: Receive, send: Send, if_match: str) -> None:
        current = await self._current(scope)
        if current.status != 200 or not _matches(if_match, etag_of(bytes(current.body))):
            if current.status == 200 or if_match.strip() == "*":
                message = (
                    "The resource changed since you read it (If-Match does not match its ETag); "
                    "GET it again, reapply your change and retry."
                    if current.status == 200
                    else "The resource does not exist (If-Match: *)."
                )
                error = {"error": {"code": "precondition_failed", "message": message}}
                payload = json.dumps(error).encode()
                ctype = [(b"content-type", b"application/json")]
                await _replay(send, 412, ctype, payload)
                return
        captured = _Captured()
        await self.app(scope, receive, captured.send)
        body = bytes(captured.body)
        out = list(captured.start.get("headers", []))
        if captured.status == 200 and body:
            out.append((b"etag", etag_of(body).encode()))
        await _replay(send, captured.status, out, body)


async def _replay(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    clean = [(k, v) for k, v in headers if k.lower() != b"content-length"]
    if status != 304:
        clean.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": clean})
    await send({"type": "http.response.body", "body": body if status != 304 else b""})
