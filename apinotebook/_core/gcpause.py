"""Pausing the cyclic garbage collector while a big document is built.

Parsing a large OpenAPI document or building a GraphQL schema creates
hundreds of thousands of containers and none of them is garbage yet, so the
collections Python runs meanwhile only cost time (much more in a kernel full
of objects): pausing the collector halves the time for the biggest documents.

The collector is process-wide, so the pause is counted: when two threads
load at once, or one loader calls another, the collector comes back when
the last pause ends, and only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["gc_paused"]

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the ``with`` block (restored even on error)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
