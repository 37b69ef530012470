"""Mask credentials in the log records of the HTTP libraries apinotebook drives.

httpx logs every request at INFO (``HTTP Request: GET https://...?api_key=...``)
and httpcore logs connection details at DEBUG. As soon as a notebook cell
configures logging, those lines land in the cell's saved output. The filter
below rewrites each record of those loggers through :func:`mask_url` (for every
URL in the message) and :func:`mask_text` (for every registered secret), so
what reaches a handler is already masked.
"""

from __future__ import annotations

import logging
import re

from apinotebook._core.secrets import mask_text, mask_url

__all__ = ["LOGGERS", "MaskingFilter", "install"]

#: httpx logs to "httpx"; httpcore to its submodules' loggers (a filter on a parent
#: logger does not see records logged to a child).
LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)
_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


class MaskingFilter(logging.Filter):
    """Rewrites a record's message with URLs and known secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; never drops it."""
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: leave it to logging
            return True
        masked = mask_text(_URL.sub(lambda m: mask_url(m.group(0)), message))
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        return True


_FILTER = MaskingFilter()


def install() -> None:
    """Attach the masking filter to the HTTP libraries' loggers (idempotent)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
