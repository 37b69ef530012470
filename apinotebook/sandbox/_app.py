"""The one ASGI app that serves every demo service on one port.

:class:`SandboxApp` routes by path prefix to each service's own app (FastAPI,
strawberry, the SOAP engine) and wraps every request in the same guard:
a body-size limit, per-credential rate limiting, seeded fault injection and
request statistics. It also serves the control API:

==========================  ====================================================
``GET /``                   index of services and their URLs
``GET /_admin/faults``      fault settings per service
``PUT /_admin/faults``      ``{"crm": {"error_rate": 0.1}, "mail": null}``: merge
                            settings per service (``null`` clears a service)
``DELETE /_admin/faults``   clear every fault
``GET /_admin/stats``       request counts per service and status
``DELETE /_admin/stats``    reset the counts
``GET /_admin/webhooks``    recent outgoing webhook deliveries and their attempts
==========================  ====================================================

The guard is the outermost layer on purpose: to drop a connection it needs the
server's own ``send`` (see :func:`_abort`).

The control API is for the notebook on this machine, not for web pages the
user happens to open: it answers only requests whose ``Host`` is a loopback
name (``127.0.0.1``, ``localhost``, ``[::1]``, or the host the sandbox was
started on), 403 otherwise, so a DNS-rebinding page cannot reach it; and a
body must be declared ``application/json`` (415 otherwise), which a page can
only send cross-site after a CORS preflight the sandbox never grants.
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any
from xml.sax.saxutils import escape

from apinotebook._exceptions import ConfigError
from apinotebook.sandbox._context import ErrorFormat, Message, Mount, Receive, Scope, Send
from apinotebook.sandbox._drift import drifting_send, renames, retypes, unconditional
from apinotebook.sandbox._faults import FaultState, retry_after_header
from apinotebook.sandbox._webhooks import WebhookDispatcher

__all__ = ["ABORT_KEY", "FAULTS_KEY", "SandboxApp"]

#: The scope key under which a service finds its :class:`FaultConfig`.
FAULTS_KEY = "apinotebook.sandbox.faults"
#: where a stream endpoint finds ``await abort()``, which cuts its TCP connection (a fault)
ABORT_KEY = "apinotebook.sandbox.abort"

#: Bodies above this many bytes get 413 from every service.
MAX_BODY = 8 * 1024 * 1024

#: The ``Host`` names the control API answers to (besides the sandbox's own host).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})

_REASONS = {
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class SandboxApp:
    """Route to each :class:`Mount` and guard every request."""

    def __init__(
        self,
        mounts: Iterable[Mount],
        *,
        faults: FaultState,
        webhooks: WebhookDispatcher,
        base_url: str,
        max_body: int = MAX_BODY,
    ) -> None:
        self.mounts = sorted(mounts, key=lambda m: len(m.prefix), reverse=True)
        names = [m.prefix for m in self.mounts]
        if len(set(names)) != len(names):
            raise ConfigError(f"two services share a mount prefix: {sorted(names)}")
        self.faults = faults
        self.webhooks = webhooks
        self.base_url = base_url.rstrip("/")
        self.max_body = max_body
        #: what ``sb.urls`` holds; the runner fills it in once the app is built
        self.urls: dict[str, Any] = {}
        self._stats: Counter[tuple[str, str]] = Counter()
        self._stats_lock = threading.Lock()

    # -- public helpers -------------------------------------------------------

    def stats(self) -> dict[str, dict[str, int]]:
        """Request counts: ``{service: {status: n, ..., "total": n}}``."""
        with self._stats_lock:
            items = list(self._stats.items())
        out: dict[str, dict[str, int]] = {}
        for (service, status), n in sorted(items):
            entry = out.setdefault(service, {"total": 0})
            entry[status] = n
            entry["total"] += n
        return out

    def reset_stats(self) -> None:
        """Forget every count."""
        with self._stats_lock:
            self._stats.clear()

    def mount(self, service: str) -> Mount:
        """The mount serving ``service``."""
        for m in self.mounts:
            if m.service == service:
                return m
        raise ConfigError.invalid_choice("service", service, [m.service for m in self.mounts])

    def index(self) -> dict[str, Any]:
        """What ``GET /`` shows."""
        return {
            "name": "apinotebook sandbox",
            "services": {m.service: self.base_url + m.prefix for m in reversed(self.mounts)},
            "urls": self.urls,
            "admin": {
                "faults": self.base_url + "/_admin/faults",
                "stats": self.base_url + "/_admin/stats",
                "webhooks": self.base_url + "/_admin/webhooks",
            },
        }

    def _count(self, service: str, status: str) -> None:
        with self._stats_lock:
            self._stats[(service, status)] += 1

    # -- ASGI -----------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind == "websocket":  # streams: chat's events, mail's subscriptions
            await self._socket(scope, receive, send)
            return
        if kind != "http":
            return
        path: str = scope["path"]
        if path.startswith("/_admin/") or path == "/_admin":
            await self._admin(scope, receive, send)
            return
        if path in ("", "/"):
            await _send_json(send, 200, self.index())
            return
        mount = self._match(path)
        if mount is None:
            services = ", ".join(sorted(m.prefix for m in self.mounts))
            await _send_json(
                send,
                404,
                {
                    "error": {
                        "code": "not_found",
                        "message": f"No service at {path}. Services: {services}.",
                    }
                },
            )
            return
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + mount.prefix
        await self._guarded(mount, child, receive, send)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        mount = self._match(scope["path"])
        if mount is None:
            await send({"type": "websocket.close", "code": 1003})
            return
        self._count(mount.service, "websocket")
        child = dict(scope)
        child["root_path"] = scope.get("root_path", "") + mount.prefix
        child[FAULTS_KEY] = self.faults.config_for(mount.service)
        child[ABORT_KEY] = functools.partial(_cut, send)
        await mount.app(child, receive, send)

    def _match(self, path: str) -> Mount | None:
        for m in self.mounts:
            if path == m.prefix or path.startswith(m.prefix + "/"):
                return m
        return None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.webhooks.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.webhooks.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _guarded(self, mount: Mount, scope: Scope, receive: Receive, send: Send) -> None:
        service = mount.service
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        # 1. bounded body, read up front and replayed to the service
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body:
            self._count(service, "413")
            await _send_error(
                send,
                mount.error_format,
                413,
                "payload_too_large",
                f"Request body of {length} bytes exceeds the limit of {self.max_body} bytes.",
            )
            return
        body, disconnected = await _read_body(receive, self.max_body)
        if body is None:
            self._count(service, "413")
            await _send_error(
                send,
                mount.error_format,
                413,
                "payload_too_large",
                f"Request body exceeds the limit of {self.max_body} bytes.",
            )
            return
        replayed = _replay(body, receive, disconnected)

        # 2. real rate limiting per credential
        cfg = self.faults.config_for(service)
        if cfg.rate_limit is not None:
            who = (mount.credential_of or _default_credential)(headers)
            wait = self.faults.limiter.acquire((service, who), cfg.rate_limit, cfg.rate_burst)
            if wait > 0:
                self._count(service, "429")
                await _send_error(
                    send,
                    mount.error_format,
                    429,
                    "rate_limited",
                    f"Rate limit of {cfg.rate_limit:g} requests/s exceeded for this credential.",
                    extra_headers=[(b"retry-after", retry_after_header(wait).encode())],
                )
                return

        # 2b. a rate-limit budget per credential, reported on every answer
        if cfg.budget is not None:
            who = (mount.credential_of or _default_credential)(headers)
            budgets = self.faults.budgets
            allowed, left, reset = budgets.take((service, who), cfg.budget, cfg.budget_window)
            fields = budgets.headers(cfg.budget, left, reset, cfg.budget_window)
            if not allowed:
                self._count(service, "429")
                retry = [(b"retry-after", retry_after_header(reset).encode())]
                message = (
                    f"The budget of {cfg.budget} requests per {cfg.budget_window:g} s is spent."
                )
                await _send_error(send, mount.error_format, 429, "rate_limited", message,
                                  extra_headers=fields + retry)  # fmt: skip
                return
            send = _with_headers(send, fields)

        # 3. seeded faults
        fault, latency = self.faults.draw(service, cfg) if cfg.active else (None, 0.0)
        if latency:
            await asyncio.sleep(latency)
        if fault == "throttle":
            self._count(service, "429")
            await _send_error(
                send,
                mount.error_format,
                429,
                "rate_limited",
                "Too many requests (injected).",
                extra_headers=[(b"retry-after", retry_after_header(cfg.retry_after).encode())],
            )
            return
        if fault == "error":
            status = self.faults.error_status(service, cfg)
            self._count(service, str(status))
            await _send_error(
                send,
                mount.error_format,
                status,
                "injected_fault",
                f"{_REASONS.get(status, 'Error')} (injected).",
            )
            return
        if fault in ("drop", "truncate"):
            await self._broken(mount, scope, replayed, send, fault)
            return

        status_seen = "500"
        counted = False

        async def counting_send(message: Message) -> None:
            # count before the last byte leaves, so a client that reads stats()
            # right after its response always sees its own request
            nonlocal status_seen, counted
            if message["type"] == "http.response.start":
                status_seen = str(message["status"])
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                counted = True
                self._count(service, status_seen)
            await send(message)

        scope[FAULTS_KEY] = cfg  # what a service reads its own faults from (clock skew, ...)
        sender: Send = counting_send
        if cfg.drift_rename or cfg.drift_retype:  # the "schema drift" fault (_drift.py)
            sender = drifting_send(sender, renames(cfg.drift_rename), retypes(cfg.drift_retype))
            scope = unconditional(scope)
        scope[ABORT_KEY] = functools.partial(_cut, send)
        try:
            await mount.app(scope, replayed, sender)
        finally:
            if not counted:
                self._count(service, status_seen)

    async def _broken(
        self, mount: Mount, scope: Scope, receive: Receive, send: Send, fault: str
    ) -> None:
        """Let the service handle the request, then break the response."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await mount.app(scope, receive, capture)
        body = b"".join(chunks)
        if fault == "truncate" and start is not None and len(body) > 1:
            self._count(mount.service, "truncated")
            await send(start)
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
        else:
            self._count(mount.service, "dropped")
        if not await _abort(send):  # not uvicorn: fall back to an incomplete response
            if start is None:
                await send({"type": "http.response.start", "status": 500, "headers": []})
            raise ConnectionAbortedError("sandbox fault: connection dropped")

    def _admin_refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        """Why an admin request is refused (status, code, message), or ``None``."""
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        host = _host_name(headers.get("host", ""))
        allowed = LOOPBACK_HOSTS | {_host_name(self.base_url.partition("://")[2].split("/")[0])}
        if not host or host not in allowed:
            return (
                403,
                "forbidden_host",
                "the admin API answers only to a loopback Host (127.0.0.1, localhost, [::1]), "
                f"not {headers.get('host', '')[:100]!r}",
            )
        if scope["method"] in ("PUT", "POST", "PATCH"):
            media = headers.get("content-type", "").partition(";")[0].strip().lower()
            if media != "application/json":
                return (
                    415,
                    "unsupported_media_type",
                    "send the admin API a JSON body with Content-Type: application/json",
                )
        return None

    async def _admin(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"].rstrip("/")
        method = scope["method"]
        refusal = self._admin_refusal(scope)
        if refusal is not None:
            status, code, message = refusal
            await _send_json(send, status, {"error": {"code": code, "message": message}})
            return
        if path == "/_admin/faults":
            if method == "GET":
                await _send_json(send, 200, self.faults.to_dict())
                return
            if method == "DELETE":
                for name in list(self.faults.configs):
                    self.faults.update(name, None)
                await _send_json(send, 200, self.faults.to_dict())
                return
            if method in ("PUT", "POST", "PATCH"):
                body, _ = await _read_body(receive, 1024 * 1024)
                try:
                    payload = json.loads(body or b"null")
                    if not isinstance(payload, dict):
                        raise ConfigError(
                            'expected a JSON object like {"crm": {"error_rate": 0.1}}'
                        )
                    known = (
                        {m.service for m in self.mounts}
                        | {m.service.partition(".")[0] for m in self.mounts}
                        | {"*"}
                    )
                    for name, settings in payload.items():
                        if name not in known:
                            raise ConfigError.invalid_choice("service", name, known)
                        if settings is not None and not isinstance(settings, dict):
                            raise ConfigError(f"settings for {name!r} must be an object or null")
                        self.faults.update(name, settings)
                except (ValueError, TypeError) as exc:  # ConfigError is a ValueError
                    await _send_json(
                        send, 422, {"error": {"code": "invalid_faults", "message": str(exc)}}
                    )
                    return
                await _send_json(send, 200, self.faults.to_dict())
                return
        elif path == "/_admin/stats":
            if method == "GET":
                await _send_json(send, 200, self.stats())
                return
            if method == "DELETE":
                self.reset_stats()
                await _send_json(send, 200, {})
                return
        elif path == "/_admin/webhooks" and method == "GET":
            await _send_json(send, 200, {"deliveries": self.webhooks.history()})
            return
        else:
            await _send_json(
                send,
                404,
                {
                    "error": {
                        "code": "not_found",
                        "message": "Admin endpoints: /_admin/faults, /_admin/stats, "
                        "/_admin/webhooks",
                    }
                },
            )
            return
        await _send_json(
            send,
            405,
            {
                "error": {
                    "code": "method_not_allowed",
                    "message": f"{method} is not allowed on {path}",
                }
            },
        )


# -- helpers ------------------------------------------------------------------


def _host_name(host: str) -> str:
    """The name in a ``Host`` value, without the port, lower-case (``[::1]:80`` -> ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:].partition("]")[0]
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit() and ":" not in name:
        host = name
    return host.rstrip(".")


def _default_credential(headers: dict[str, str]) -> str:
    return headers.get("authorization") or headers.get("x-api-key") or "anonymous"


async def _read_body(receive: Receive, limit: int) -> tuple[bytes | None, bool]:
    """Read the whole request body; ``None`` when it exceeds ``limit``."""
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(parts), True
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None, False
        parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts), False


def _replay(body: bytes, receive: Receive, disconnected: bool) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        if disconnected:
            return {"type": "http.disconnect"}
        return await receive()

    return replay


async def _abort(send: Send) -> bool:
    """Close the client connection at once, without a response.

    uvicorn hands the app its ``RequestResponseCycle.send``; the bound object
    holds the transport. Aborting it is what a crashed proxy looks like.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        return False
    transport.abort()
    await asyncio.sleep(0)  # let uvicorn see the disconnect before the app returns
    return True


async def _cut(send: Send) -> bool:
    """End the connection mid-stream without a close frame or a complete body.

    A FIN after what was already written (``write_eof``), not a reset: a reset
    would also destroy data the client has received but not yet read, and
    the stream tests prove that what was delivered is not delivered twice.
    """
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None or not transport.can_write_eof():
        return await _abort(send)
    transport.write_eof()
    await asyncio.sleep(0)
    return True


async def _send_json(
    send: Send,
    status: int,
    payload: Any,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps(payload, indent=None).encode()
    await _send_bytes(send, status, body, b"application/json", extra_headers)


async def _send_bytes(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    headers.extend(extra_headers or [])
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """``send`` that adds ``extra`` headers to the response."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


async def _send_error(
    send: Send,
    fmt: ErrorFormat,
    status: int,
    code: str,
    message: str,
    *,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Render a generic error the way the service would."""
    if fmt == "soap11":
        faultcode = "soap:Client" if status < 500 and status != 429 else "soap:Server"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
            f"<soap:Body><soap:Fault><faultcode>{faultcode}</faultcode>"
            f"<faultstring>{escape(message)}</faultstring>"
            f"<detail><code>{escape(code)}</code></detail>"
            "</soap:Fault></soap:Body></soap:Envelope>"
        ).encode()
        await _send_bytes(send, status, body, b"text/xml; charset=utf-8", extra_headers)
    elif fmt == "graphql":
        payload = {"errors": [{"message": message, "extensions": {"code": code.upper()}}]}
        await _send_json(send, status, payload, extra_headers)
    else:
        await _send_json(send, status, {"error": {"code": code, "message": message}}, extra_headers)
