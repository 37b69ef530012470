"""Run async code from sync code, also inside Jupyter's running event loop.

A notebook cell already runs inside an event loop, so ``asyncio.run`` fails
there. :func:`run_sync` runs the coroutine on the current thread when no loop
is running, and on a short-lived worker thread with its own loop when one is,
so every sync API in the package works the same in a script and in a cell.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion and return its result (or raise its error)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    result: list[T] = []
    error: list[BaseException] = []
    context = contextvars.copy_context()

    def worker() -> None:
        try:
            result.append(context.run(asyncio.run, coro))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            error.append(exc)

    thread = threading.Thread(target=worker, name="apinotebook-run-sync", daemon=True)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]
