"""Which integration the current thread is running for (to collect its exchanges)."""

from __future__ import annotations

import contextvars
from typing import Any

__all__ = ["active_integration"]

#: the running :class:`~apinotebook.integration.Integration`, or ``None``
active_integration: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "apinotebook_integration", default=None
)
