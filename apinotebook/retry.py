"""Retry policy: a pure decision, never I/O.

A :class:`Retry` answers one question after each attempt: *wait how long and
try again, or stop?* The clients' send loop asks it, sleeps (or awaits), and
records every attempt in the history. Keeping the policy free of I/O is what
lets the same policy drive the sync and the async paths, and what makes it
testable with a table of cases.

(tenacity, stamina and httpx-retries were considered. They own the loop,
which would hide the individual attempts from the history and the inspector,
and none of them knows the "POST only with an Idempotency-Key" rule; the
decision itself is a few lines, so it lives here.)

What is retried, by default:

- a connection that could not be opened, whatever the method (nothing was
  sent);
- timeouts, dropped connections and the statuses 429, 500, 502, 503 and 504,
  for idempotent requests: GET, HEAD, OPTIONS, PUT, DELETE, TRACE, any request
  carrying an ``Idempotency-Key`` header, and any request a client marks as
  idempotent (a GraphQL query, a read-only SOAP operation);
- at most ``max_attempts`` attempts in all, within ``deadline`` seconds.

How long to wait: ``Retry-After`` when the server sends one (seconds or an
HTTP date), capped at ``max_retry_after``; otherwise exponential backoff
``backoff * 2**(n-1)`` capped at ``backoff_max``, with "equal jitter" (half
fixed, half random) so that clients that failed together do not come back
together.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

from apinotebook._core.ratelimit import parse_retry_after
from apinotebook._exceptions import ConfigError

__all__ = ["NO_RETRY", "ErrorKind", "Retry", "parse_retry_after"]

ErrorKind = Literal["connect", "timeout", "protocol"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Retry:
    """When and how long to retry a request.

    Args:
        max_attempts: attempts in all, the first included (1 disables retries).
        backoff: base delay in seconds for exponential backoff.
        backoff_max: cap on one backoff delay.
        jitter: randomise half of each backoff delay.
        deadline: give up when the next attempt would start after this many
            seconds from the first one (``None``: no deadline).
        statuses: response statuses worth retrying.
        methods: methods that are idempotent by themselves.
        respect_retry_after: wait as long as ``Retry-After`` asks.
        max_retry_after: a longer ``Retry-After`` stops the retries instead.
    """

    max_attempts: int = 4
    backoff: float = 0.25
    backoff_max: float = 8.0
    jitter: bool = True
    deadline: float | None = 60.0
    statuses: frozenset[int] = RETRY_STATUSES
    methods: frozenset[str] = IDEMPOTENT_METHODS
    respect_retry_after: bool = True
    max_retry_after: float = 60.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError("Retry(max_attempts=...) must be at least 1 (1 means no retries)")
        if self.backoff < 0 or self.backoff_max < 0:
            raise ConfigError("Retry backoff values must not be negative")
        if self.deadline is not None and self.deadline <= 0:
            raise ConfigError("Retry(deadline=...) must be positive seconds, or None")
        object.__setattr__(self, "statuses", frozenset(self.statuses))
        object.__setattr__(self, "methods", frozenset(m.upper() for m in self.methods))

    def is_idempotent(
        self, method: str, headers: Mapping[str, str], idempotent: bool | None = None
    ) -> bool:
        """Whether repeating the request is safe."""
        if idempotent is not None:
            return idempotent
        if method.upper() in self.methods:
            return True
        if isinstance(headers, httpx.Headers):  # case-insensitive already
            return "idempotency-key" in headers
        return any(k.lower() == "idempotency-key" for k in headers)

    def backoff_delay(self, attempt: int) -> float:
        """Backoff before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        delay = min(self.backoff_max, self.backoff * (2 ** (attempt - 1)))
        if self.jitter:
            delay = delay / 2 + self.rng.uniform(0, delay / 2)
        return float(delay)

    def next_wait(
        self,
        *,
        attempt: int,
        elapsed: float,
        idempotent: bool,
        status: int | None = None,
        error: ErrorKind | None = None,
        retry_after: str | None = None,
    ) -> float | None:
        """Seconds to wait before retrying, or ``None`` to stop.

        Args:
            attempt: the attempt that just finished, counting from 1.
            elapsed: seconds since the first attempt started.
            idempotent: from :meth:`is_idempotent`.
            status: the response status, when a response arrived.
            error: the kind of transport failure, when none did.
            retry_after: the response's ``Retry-After`` header, if any.
        """
        if attempt >= self.max_attempts:
            return None
        if error is not None:
            if error != "connect" and not idempotent:
                return None
        elif status is None or status not in self.statuses or not idempotent:
            return None
        wait = self.backoff_delay(attempt)
        if self.respect_retry_after and status in (429, 503) and retry_after is not None:
            asked = parse_retry_after(retry_after)
            if asked is not None:
                if asked > self.max_retry_after:
                    return None
                wait = max(wait, asked) if status == 503 else asked
        if self.deadline is not None and elapsed + wait > self.deadline:
            return None
        return wait


#: A policy that never retries.
NO_RETRY = Retry(max_attempts=1)
