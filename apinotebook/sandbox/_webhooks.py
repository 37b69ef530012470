"""Outgoing webhooks: signed POSTs with retries, delivered from the server's loop.

Services call :meth:`WebhookDispatcher.publish` from their handlers; a single
background task started with the app delivers each event to its URL with an
``X-Signature`` header (see :mod:`apinotebook._core.signing`), an ``X-Event-Id``
and an ``X-Event-Type``. A delivery that fails (connection error or a status
other than 2xx) is retried with exponential backoff, up to ``max_attempts``.
Every attempt is kept in :attr:`WebhookDispatcher.deliveries` so tests and
learners can see what happened.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

from apinotebook._core.signing import SIGNATURE_HEADER, signature_header

__all__ = ["Delivery", "WebhookDispatcher"]


@dataclass
class Delivery:
    """One event on its way to one URL."""

    id: str
    url: str
    event_type: str
    payload: dict[str, Any]
    secret: str
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool = False

    def summary(self) -> dict[str, Any]:
        """JSON-ready view, without the secret."""
        return {
            "id": self.id,
            "url": self.url,
            "event_type": self.event_type,
            "delivered": self.delivered,
            "attempts": list(self.attempts),
        }


class WebhookDispatcher:
    """Queue and deliver signed webhook events with retries."""

    def __init__(
        self,
        *,
        max_attempts: int = 6,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        timeout: float = 5.0,
        keep: int = 1000,
    ) -> None:
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.deliveries: deque[Delivery] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._queue: asyncio.Queue[tuple[float, Delivery]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    # -- lifecycle (called from the app's lifespan, inside the server loop) --

    async def start(self) -> None:
        """Start delivering; call inside the server's event loop."""
        self._loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(timeout=self.timeout, trust_env=False)

    async def stop(self) -> None:
        """Cancel pending retries and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
        self._client = None
        self._loop = None

    # -- API for services -----------------------------------------------------

    def publish(self, url: str, event_type: str, data: dict[str, Any], *, secret: str) -> Delivery:
        """Queue one event for ``url``; returns its delivery record."""
        delivery = Delivery(
            id=f"evt_{uuid.uuid4().hex[:20]}",
            url=url,
            event_type=event_type,
            payload={
                "id": "",
                "type": event_type,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "data": data,
            },
            secret=secret,
        )
        delivery.payload["id"] = delivery.id
        with self._lock:
            self.deliveries.append(delivery)
        loop = self._loop
        if loop is None:
            delivery.attempts.append({"error": "sandbox is not running", "at": time.time()})
            return delivery
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._spawn(delivery)
        else:
            loop.call_soon_threadsafe(self._spawn, delivery)
        return delivery

    def history(self, *, url_prefix: str | None = None) -> list[dict[str, Any]]:
        """Summaries of recent deliveries, optionally for URLs with a prefix."""
        with self._lock:
            items = list(self.deliveries)
        return [d.summary() for d in items if url_prefix is None or d.url.startswith(url_prefix)]

    # -- delivery -------------------------------------------------------------

    def _spawn(self, delivery: Delivery) -> None:
        task = asyncio.get_running_loop().create_task(self._deliver(delivery))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, delivery: Delivery) -> None:
        body = json.dumps(delivery.payload, separators=(",", ":")).encode()
        delay = self.backoff
        for attempt in range(1, self.max_attempts + 1):
            record: dict[str, Any] = {"attempt": attempt, "at": time.time()}
            try:
                assert self._client is not None
                response = await self._client.post(
                    delivery.url,
                    content=body,
                    headers={
                        "Content-Type": "application/json",
                        SIGNATURE_HEADER: signature_header(delivery.secret, body),
                        "X-Event-Id": delivery.id,
                        "X-Event-Type": delivery.event_type,
                        "User-Agent": "apinotebook-sandbox-webhooks/1",
                    },
                )
                record["status"] = response.status_code
                ok = response.is_success
            except (httpx.HTTPError, OSError) as exc:
                record["error"] = f"{type(exc).__name__}: {exc}"
                ok = False
            delivery.attempts.append(record)
            if ok:
                delivery.delivered = True
                return
            if attempt < self.max_attempts:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff)
