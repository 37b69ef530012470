"""What a response says about the client's budget and the API's future.

Real services meter every client with headers, in three common forms:

- the IETF draft: ``RateLimit-Limit``, ``RateLimit-Remaining``, ``RateLimit-Reset``
  (seconds until the window resets) and ``RateLimit-Policy``, or the single
  structured field ``RateLimit: limit=100, remaining=5, reset=30``;
- the common vendor form: ``X-RateLimit-Limit``, ``-Remaining``, ``-Reset``
  (GitHub and many others send the reset as epoch seconds), ``-Used``;
- ``Retry-After`` (seconds or an HTTP date) on a 429 or 503.

And they announce changes with ``Deprecation`` (RFC 9745: ``@<epoch>`` or
``true``) and ``Sunset`` (RFC 8594: an HTTP date). These functions read them;
they do no I/O and never raise on a malformed value (it reads as absent).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

__all__ = [
    "ApiDeprecationWarning",
    "ApiLifecycle",
    "RateLimit",
    "parse_http_date",
    "parse_lifecycle",
    "parse_rate_limit",
    "parse_retry_after",
    "warn_lifecycle",
]

#: a reset above this is an epoch timestamp, not a number of seconds
_EPOCH = 1_000_000_000
_ITEM = re.compile(r'(?:^|[,;]\s*)(limit|remaining|reset|r|t)\s*=\s*"?(\d+(?:\.\d+)?)"?', re.I)


def parse_http_date(value: str | None) -> datetime | None:
    """An HTTP date (``Sun, 06 Nov 1994 08:49:37 GMT``) as an aware datetime."""
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP-date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    when = parse_http_date(value)
    if when is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip().split(",")[0].split(";")[0])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """The rate-limit budget a response reports.

    Attributes:
        limit: requests allowed in the window.
        remaining: requests left in the window.
        reset: seconds until the window resets (from the response's time).
        reset_at: when the window resets.
        retry_after: seconds the server asks to wait (``Retry-After``).
        policy: the ``RateLimit-Policy`` text, if any.
        source: which header family it came from: ``"ietf"``, ``"x-ratelimit"``
            or ``"retry-after"``.
    """

    limit: int | None
    remaining: int | None
    reset: float | None
    reset_at: datetime | None
    retry_after: float | None
    policy: str | None
    source: str

    @property
    def exhausted(self) -> bool:
        """No request left in this window (wait :attr:`reset` seconds)."""
        return self.remaining is not None and self.remaining <= 0

    def __str__(self) -> str:
        parts = []
        if self.remaining is not None:
            parts.append(f"{self.remaining}/{self.limit if self.limit is not None else '?'} left")
        if self.reset is not None:
            parts.append(f"resets in {self.reset:.0f} s")
        if self.retry_after is not None:
            parts.append(f"retry after {self.retry_after:.0f} s")
        return ", ".join(parts) or "no budget reported"


def parse_rate_limit(headers: Mapping[str, str], *, now: datetime) -> RateLimit | None:
    """The budget ``headers`` report, or ``None`` when they say nothing about it."""
    lower = {k.lower(): v for k, v in headers.items()}
    source = ""
    limit = remaining = reset = None
    if any(k in lower for k in ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset")):
        source = "ietf"
        limit = _number(lower.get("ratelimit-limit"))
        remaining = _number(lower.get("ratelimit-remaining"))
        reset = _number(lower.get("ratelimit-reset"))
    elif "ratelimit" in lower:  # RateLimit: limit=100, remaining=5, reset=30 (or r=5;t=30)
        source = "ietf"
        found = {k.lower(): float(v) for k, v in _ITEM.findall(lower["ratelimit"])}
        limit = found.get("limit")
        remaining = found.get("remaining", found.get("r"))
        reset = found.get("reset", found.get("t"))
    elif any(k.startswith("x-ratelimit-") for k in lower):
        source = "x-ratelimit"
        limit = _number(lower.get("x-ratelimit-limit"))
        remaining = _number(lower.get("x-ratelimit-remaining"))
        reset = _number(lower.get("x-ratelimit-reset"))
    retry_after = parse_retry_after(lower.get("retry-after"), now=now)
    if not source and retry_after is None:
        return None
    reset_at = None
    if reset is not None:
        if reset > _EPOCH:  # an epoch timestamp (GitHub's X-RateLimit-Reset)
            reset_at = datetime.fromtimestamp(reset, UTC)
            reset = max(0.0, (reset_at - now).total_seconds())
        else:
            reset_at = now + timedelta(seconds=reset)
    return RateLimit(
        limit=None if limit is None else int(limit),
        remaining=None if remaining is None else int(remaining),
        reset=reset,
        reset_at=reset_at,
        retry_after=retry_after,
        policy=lower.get("ratelimit-policy"),
        source=source or "retry-after",
    )


@dataclass(frozen=True, slots=True)
class ApiLifecycle:
    """What a response says about the endpoint's future.

    Attributes:
        deprecated: the endpoint is deprecated (``Deprecation`` header).
        deprecated_at: since when, when the header gives a date.
        sunset_at: when it stops working (``Sunset`` header).
        link: the ``Link`` with ``rel="deprecation"`` or ``rel="sunset"``, if any.
    """

    deprecated: bool
    deprecated_at: datetime | None
    sunset_at: datetime | None
    link: str | None

    def message(self, where: str) -> str:
        """A one-line warning naming ``where``."""
        parts = [f"{where} is deprecated" if self.deprecated else f"{where} has a sunset date"]
        if self.deprecated_at is not None:
            parts.append(f"since {self.deprecated_at:%Y-%m-%d}")
        if self.sunset_at is not None:
            parts.append(f"and stops working on {self.sunset_at:%Y-%m-%d}")
        text = " ".join(parts)
        return text + (f"; see {self.link}" if self.link else "")


_LINK = re.compile(r'<([^>]+)>\s*;[^,]*rel="?(deprecation|sunset)"?', re.I)


def parse_lifecycle(headers: Mapping[str, str]) -> ApiLifecycle | None:
    """``Deprecation`` / ``Sunset`` headers, or ``None`` when there are none."""
    lower = {k.lower(): v for k, v in headers.items()}
    deprecation, sunset = lower.get("deprecation"), lower.get("sunset")
    if deprecation is None and sunset is None:
        return None
    deprecated_at = None
    deprecated = deprecation is not None and deprecation.strip().lower() != "false"
    if deprecation and deprecation.strip().startswith("@"):
        try:
            deprecated_at = datetime.fromtimestamp(float(deprecation.strip()[1:]), UTC)
        except (ValueError, OverflowError, OSError):
            deprecated_at = None
    elif deprecation:
        deprecated_at = parse_http_date(deprecation)  # the older draft used a date
    link = _LINK.search(lower.get("link", ""))
    return ApiLifecycle(
        deprecated=deprecated,
        deprecated_at=deprecated_at,
        sunset_at=parse_http_date(sunset),
        link=link.group(1) if link else None,
    )


class ApiDeprecationWarning(UserWarning):
    """An API answered with ``Deprecation`` or ``Sunset``: plan the move before it stops."""


def warn_lifecycle(
    method: str, url: str, headers: Mapping[str, str], warned: set[tuple[str, str]]
) -> None:
    """Warn once per endpoint (method and path) that announces its deprecation or sunset."""
    if "deprecation" not in headers and "sunset" not in headers:  # the common case, fast
        return
    parts = urlsplit(url)
    key = (method, f"{parts.netloc}{parts.path}")
    lifecycle = parse_lifecycle(headers)
    if lifecycle is None or key in warned:
        return
    warned.add(key)
    where = f"{method} {parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
    warnings.warn(ApiDeprecationWarning(lifecycle.message(where)), stacklevel=5)
