"""A webhook receiver on the standard library: verify, store durably, acknowledge.

The core must run on a bare server (``pip install apinotebook``), so this is
``http.server.ThreadingHTTPServer``, not an ASGI stack. For each ``POST`` to
the configured path it:

1. refuses bodies without ``Content-Length`` (411) or over ``max_body`` (413);
2. verifies the ``X-Signature`` HMAC-SHA256 header against the secret and its
   timestamp (401 with a reason otherwise: never process an unsigned event);
3. parses the JSON (400 otherwise);
4. stores the event in the SQLite inbox, keyed by its event id (the
   ``X-Event-Id`` header, the payload's ``id``, or a hash of the body), so a
   redelivered event is stored once;
5. only then answers ``202`` and wakes the processor.

A crash after step 4 loses nothing: the event waits in the inbox. A crash
before it means no 2xx was sent, so the sender retries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from apinotebook._core.secrets import Secret, as_secret
from apinotebook._core.signing import SIGNATURE_HEADER, SignatureError, verify
from apinotebook._exceptions import ConfigError
from apinotebook.integration._state import StateStore

__all__ = ["WebhookReceiver"]

log = logging.getLogger("apinotebook.integration")


class WebhookReceiver:
    """Receive signed webhook events into an integration's inbox.

    Args:
        store: the integration's state (the inbox lives there).
        path: the URL path to accept (``/hooks/crm``).
        secret: the shared HMAC secret.
        on_event: called after each newly stored event (wakes the processor).
        host: interface to bind; loopback unless told otherwise.
        port: TCP port; 0 picks a free one.
        tolerance: seconds a signature timestamp may be off.
        max_body: the largest body accepted, in bytes.
        event_id_header: where the sender puts the event id.
    """

    def __init__(
        self,
        *,
        store: StateStore,
        path: str,
        secret: str | Secret,
        on_event: Callable[[], None] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        tolerance: float = 300.0,
        max_body: int = 1024 * 1024,
        event_id_header: str = "X-Event-Id",
    ) -> None:
        if not path.startswith("/"):
            raise ConfigError(f"webhook path {path!r} must start with '/'")
        self.store = store
        self.path = path
        self.secret = as_secret(secret)
        self.on_event = on_event
        self.host = host
        self.port = port
        self.tolerance = tolerance
        self.max_body = max_body
        self.event_id_header = event_id_header
        self.received = 0
        self.rejected = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The full URL to register with the sender."""
        if self._server is None:
            raise ConfigError("the webhook receiver is not running; call start()")
        host, port = self._server.server_address[:2]
        host_text = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{host_text}:{port}{self.path}"

    def start(self) -> WebhookReceiver:
        """Listen in a background thread; returns once bound."""
        if self._server is not None:
            return self
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("webhook %s", format % args if args else format)

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.split("?")[0] == receiver.path:
                    self._reply(200, {"ok": True, "received": receiver.received})
                else:
                    self._reply(404, {"error": f"no webhook at {self.path}"})

            def do_POST(self) -> None:
                status, payload = receiver.handle(
                    self.path, dict(self.headers.items()), self._body()
                )
                self._reply(status, payload)

            def _body(self) -> bytes | int:
                length = self.headers.get("Content-Length")
                if length is None or not length.isdigit():
                    return 411
                if int(length) > receiver.max_body:
                    return 413
                return self.rfile.read(int(length))

        try:
            self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen for webhooks on {self.host}:{self.port}: {exc.strerror}"
            ) from exc
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="apinotebook-webhook", daemon=True
        )
        self._thread.start()
        return self

    def handle(
        self, path: str, headers: dict[str, str], body: bytes | int
    ) -> tuple[int, dict[str, Any]]:
        """Process one request (separate from the HTTP layer, so it is testable)."""
        if path.split("?")[0] != self.path:
            return 404, {"error": f"no webhook at {path}"}
        if isinstance(body, int):
            self.rejected += 1
            reason = "Content-Length required" if body == 411 else "body too large"
            return body, {"error": reason}
        lower = {k.lower(): v for k, v in headers.items()}
        try:
            verify(
                self.secret.reveal(),
                body,
                lower.get(SIGNATURE_HEADER.lower()),
                tolerance=self.tolerance,
            )
        except SignatureError as exc:
            self.rejected += 1
            log.warning("webhook %s rejected: %s", self.path, exc)
            return 401, {"error": f"invalid signature: {exc}"}
        try:
            payload = json.loads(body)
        except ValueError:
            self.rejected += 1
            return 400, {"error": "body is not JSON"}
        event_id = (
            lower.get(self.event_id_header.lower())
            or (str(payload.get("id")) if isinstance(payload, dict) and payload.get("id") else "")
            or hashlib.sha256(body).hexdigest()
        )
        stored = self.store.store_event(event_id, payload)
        self.received += 1
        if stored and self.on_event is not None:
            self.on_event()
        return 202, {"stored": True, "duplicate": not stored, "event_id": event_id}

    def stop(self) -> None:
        """Stop listening."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    @property
    def running(self) -> bool:
        """Whether the receiver is listening."""
        return self._server is not None

    def __repr__(self) -> str:
        where = self.url if self._server is not None else "stopped"
        return f"<WebhookReceiver {where} received={self.received} rejected={self.rejected}>"
