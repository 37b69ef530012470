"""A webhook receiver on the standard library: verify, store durably, acknowledge.

The core must run on a bare server (``pip install apinotebook``), so this is
``http.server.ThreadingHTTPServer``, not an ASGI stack. For each ``POST`` to
the configured path it:

1. refuses bodies without ``Content-Length`` (411) or over ``max_body`` (413);
2. verifies the ``X-Signature`` HMAC-SHA256 header against the secret and its
   timestamp (401 with a reason otherwise: never process an unsigned event);
3. parses the JSON (400 otherwise);
4. stores the event in the SQLite inbox, keyed by an identity taken from the
   signed body (the payload's ``id``, else a hash of the body), so a redelivered
   or replayed event is stored once: the ``X-Event-Id`` header is not signed,
   so it is reported but never trusted;
5. only then answers ``202`` and wakes the processor.

A crash after step 4 loses nothing: the event waits in the inbox. A crash
before it means no 2xx was sent, so the sender retries.

Slow or idle clients cannot hold it: the request line and headers must arrive
within ``header_timeout`` seconds (also the keep-alive idle limit), the body
within ``body_timeout``, and at most ``max_connections`` connections are served
at once (the next one gets ``503`` and is closed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from apinotebook._core.secrets import Secret, as_secret
from apinotebook._core.signing import SIGNATURE_HEADER, SignatureError, verify
from apinotebook._exceptions import ConfigError
from apinotebook.integration._state import StateStore

__all__ = ["WebhookReceiver"]

log = logging.getLogger("apinotebook.integration")

_BUSY_BODY = b'{"error": "too many connections; retry later"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Content-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n"
    b"Retry-After: 1\r\nConnection: close\r\n\r\n" + _BUSY_BODY
)


class _DeadlineReader:
    """A request's input with a deadline for the whole read, not for each ``recv``.

    A per-``recv`` socket timeout lets a client that sends one byte every few
    seconds hold a thread forever; here every ``recv`` waits at most until
    :attr:`deadline`, so a header or a body takes at most its timeout in total.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buf = bytearray()
        self.deadline = math.inf

    def _fill(self) -> bool:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the client was too slow")
        self._sock.settimeout(remaining)
        chunk = self._sock.recv(65536)
        if not chunk:
            return False
        self._buf += chunk
        return True

    def readline(self, limit: int = -1) -> bytes:
        """One line (with its newline), at most ``limit`` bytes."""
        while True:
            newline = self._buf.find(b"\n")
            if newline >= 0:
                end = newline + 1
            elif 0 <= limit <= len(self._buf) or not self._fill():
                end = len(self._buf)
            else:
                continue
            if limit >= 0:
                end = min(end, limit)
            out = bytes(self._buf[:end])
            del self._buf[:end]
            return out

    def read(self, size: int = -1) -> bytes:
        """``size`` bytes (fewer at the end of the stream); ``-1`` reads to the end."""
        while (size < 0 or len(self._buf) < size) and self._fill():
            pass
        end = len(self._buf) if size < 0 else min(size, len(self._buf))
        out = bytes(self._buf[:end])
        del self._buf[:end]
        return out

    def close(self) -> None:
        """Nothing to release: the socket is closed by the server."""


class _Server(ThreadingHTTPServer):
    """Serves at most ``max_connections`` connections at once; the rest get 503."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], limit: int
    ) -> None:
        self._slots = threading.BoundedSemaphore(limit)
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("webhook: %s connections already open; refusing one", self._limit)
            try:
                request.setblocking(False)
                request.send(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    @property
    def _limit(self) -> int:
        return int(getattr(self._slots, "_initial_value", 0))

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("webhook: the connection from %s failed", client_address, exc_info=True)


def event_identity(payload: Any, body: bytes) -> str:
    """The identity of a verified event, from what the signature covers.

    The payload's ``id`` when it has one (what Stripe-style senders put
    there), else ``sha256:`` and the hash of the body: a replay with a forged
    ``X-Event-Id`` header, or a redelivery with a fresh signature, is the same
    event.
    """
    if isinstance(payload, dict):
        given = payload.get("id")
        if isinstance(given, str | int) and not isinstance(given, bool) and str(given):
            return str(given)
    return "sha256:" + hashlib.sha256(body).hexdigest()


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
        event_id_header: where the sender puts its event id; reported in the
            answer and logs, never used as the identity (it is not signed).
        header_timeout: seconds for a request line and headers to arrive (and
            how long an idle keep-alive connection stays open).
        body_timeout: seconds for a body to arrive once its headers have.
        max_connections: connections served at once; more get 503.
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
        header_timeout: float = 10.0,
        body_timeout: float = 30.0,
        max_connections: int = 64,
    ) -> None:
        if not path.startswith("/"):
            raise ConfigError(f"webhook path {path!r} must start with '/'")
        if not (header_timeout > 0 and body_timeout > 0):
            raise ConfigError("header_timeout and body_timeout must be positive seconds")
        if max_connections < 1:
            raise ConfigError(f"max_connections must be at least 1, not {max_connections}")
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
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
            rfile: Any

            def setup(self) -> None:
                super().setup()
                self.rfile.close()
                self.rfile = _DeadlineReader(self.connection)

            def handle_one_request(self) -> None:
                # the request line and headers (or an idle keep-alive) get header_timeout
                self.rfile.deadline = time.monotonic() + receiver.header_timeout
                super().handle_one_request()

            def log_message(self, format: str, *args: Any) -> None:
                log.debug("webhook %s", format % args if args else format)

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                body = json.dumps(payload).encode()
                self.connection.settimeout(receiver.body_timeout)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    if status in (408, 411, 413):
                        self.send_header("Connection", "close")
                        self.close_connection = True
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client is gone or does not read
                    self.close_connection = True

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
                self.rfile.deadline = time.monotonic() + receiver.body_timeout
                try:
                    body: bytes = self.rfile.read(int(length))
                except (TimeoutError, OSError):
                    return 408
                if len(body) < int(length):  # the client hung up mid-body
                    self.close_connection = True
                    return 400
                return body

        try:
            self._server = _Server((self.host, self.port), Handler, self.max_connections)
        except OSError as exc:
            raise ConfigError(
                f"cannot listen for webhooks on {self.host}:{self.port}: {exc.strerror}"
            ) from exc
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
            reason = {
                411: "Content-Length required",
                413: "body too large",
                408: f"the body did not arrive within {self.body_timeout:g}s",
                400: "the body is shorter than its Content-Length",
            }.get(body, "bad request")
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
        event_id = event_identity(payload, body)
        stored = self.store.store_event(event_id, payload)
        self.received += 1
        if not stored:
            log.info(
                "webhook %s: event %s was stored before (sender's id %r); not stored again",
                self.path,
                event_id,
                lower.get(self.event_id_header.lower()),
            )
        if stored and self.on_event is not None:
            self.on_event()
        answer: dict[str, Any] = {"stored": True, "duplicate": not stored, "event_id": event_id}
        sender_id = lower.get(self.event_id_header.lower())
        if sender_id is not None:
            answer["sender_event_id"] = sender_id
        return 202, answer

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
