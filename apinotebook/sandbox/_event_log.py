"""An append-only, bounded log of a service's events, for its streaming endpoints.

Each event gets the next ``offset`` (1, 2, ...). A stream endpoint remembers
the last offset it delivered; ``await log.wait(offset)`` returns the events
after it, waiting for one if there are none yet. That is what lets a client
resume after a reconnect: it says where it stopped, and gets exactly the rest.

Writers may be on the server's event loop (a request handler) or on any
other thread (a test, the CRM's connector): waiters are woken through their
own loop's ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from typing import Any

__all__ = ["EventLog"]


class EventLog:
    """The last ``maxlen`` events, oldest first, each a dict with ``offset`` and ``type``."""

    def __init__(self, maxlen: int = 10_000) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self._last = 0
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    @property
    def last(self) -> int:
        """The offset of the newest event (0 before the first)."""
        return self._last

    def append(self, kind: str, **fields: Any) -> dict[str, Any]:
        """Add an event; wake every waiting stream."""
        with self._lock:
            self._last += 1
            event = {"offset": self._last, "type": kind, **fields}
            self._events.append(event)
            waiters = list(self._waiters)
        for loop, ready in waiters:
            try:
                loop.call_soon_threadsafe(ready.set)
            except RuntimeError:  # that loop has closed: its stream is gone
                with self._lock:
                    self._waiters.discard((loop, ready))
        return event

    def since(self, offset: int) -> list[dict[str, Any]]:
        """The events after ``offset`` that are still kept."""
        with self._lock:
            if offset >= self._last:
                return []
            return [e for e in self._events if e["offset"] > offset]

    async def wait(self, offset: int) -> list[dict[str, Any]]:
        """The events after ``offset``, waiting until there is at least one."""
        ready = asyncio.Event()
        waiter = (asyncio.get_running_loop(), ready)
        with self._lock:
            self._waiters.add(waiter)
        try:
            while True:
                events = self.since(offset)
                if events:
                    return events
                await ready.wait()
                ready.clear()
        finally:
            with self._lock:
                self._waiters.discard(waiter)
