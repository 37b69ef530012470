"""Read the source ahead in a thread, so its waits overlap the destination's.

A source is usually a paginator: it waits for the next page while the
destination waits for its write to be confirmed. Reading ahead into a
bounded queue lets both waits happen at once, with memory still flat (at
most ``size`` records are buffered). The source runs in the caller's
context (``contextvars``), errors are re-raised in the consumer, and a
generator's return value (a sync token used as cursor) is passed through.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Generator, Iterable
from typing import Any

__all__ = ["prefetch"]

_ITEMS, _DONE, _ERROR = 0, 1, 2
_CHUNK = 64


def prefetch(iterable: Iterable[Any], *, size: int = 1000) -> Generator[Any, None, Any]:
    """Yield what ``iterable`` yields, produced ahead by a worker thread.

    Returns (through ``StopIteration.value``) what the source generator returned.
    Stopping early (``close()`` or garbage collection) stops and closes the source.
    """
    q: queue.Queue[tuple[int, Any]] = queue.Queue(maxsize=max(1, size // _CHUNK))
    stop = threading.Event()

    def put(item: tuple[int, Any]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def worker() -> None:
        iterator = iter(iterable)
        chunk: list[Any] = []
        try:
            while not stop.is_set():
                try:
                    chunk.append(next(iterator))
                except StopIteration as done:
                    if chunk:
                        put((_ITEMS, chunk))
                    put((_DONE, done.value))
                    return
                if len(chunk) >= _CHUNK:
                    if not put((_ITEMS, chunk)):
                        break
                    chunk = []
        except BaseException as exc:  # noqa: BLE001 - re-raised in the consumer
            if chunk:
                put((_ITEMS, chunk))
            put((_ERROR, exc))
        finally:
            close = getattr(iterator, "close", None)
            if stop.is_set() and callable(close):
                close()

    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run, args=(worker,), name="apinotebook-source", daemon=True
    )
    thread.start()
    try:
        while True:
            kind, value = q.get()
            if kind == _ITEMS:
                yield from value
            elif kind == _DONE:
                return value
            else:
                raise value
    finally:
        stop.set()
        thread.join(timeout=30)
