"""Rate-limit budgeting: slow down *before* the API answers 429.

Every response that reports its budget (``RateLimit-*``, ``X-RateLimit-*``,
``Retry-After``; see :attr:`Exchange.rate_limit`) updates a
:class:`RateBudget`. Before each request the client asks it how long to
wait: nothing while requests are left in the window; until the window
resets once they are spent. Requests in flight are counted as they leave,
so ``gather``'s threads and a paginator's read-ahead never overshoot
between two responses.

A reset further away than ``max_wait`` raises :class:`RateLimitExhausted`
instead of sleeping for an hour in a notebook cell.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime

from apinotebook._exceptions import ApiNotebookError, ConfigError
from apinotebook._exchange import Exchange

__all__ = ["RateBudget", "RateLimitExhausted", "resolve_budget", "spending"]

log = logging.getLogger("apinotebook.ratelimit")

#: how often a request waits for news when the window is spent and no reset is known yet
_POLL = 0.05


class RateLimitExhausted(ApiNotebookError):
    """The API's rate-limit window is spent and resets later than the client will wait."""


class RateBudget:
    """What the API said is left of its rate limit, and how long to wait for more.

    Args:
        reserve: requests to leave unspent in every window (for other tools
            sharing the credential).
        max_wait: seconds the client will wait for a window to reset; a later
            reset raises :class:`RateLimitExhausted`.
        clock: monotonic seconds (injectable for tests).
        sleep: how a sync caller waits (injectable for tests).

    Attributes:
        pauses: how many times a request waited for the window to reset.
        waited: seconds spent waiting in total.
    """

    def __init__(
        self,
        *,
        reserve: int = 0,
        max_wait: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if reserve < 0 or max_wait < 0:
            raise ConfigError("reserve and max_wait must not be negative")
        self.reserve = reserve
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep
        self.pauses = 0
        self.waited = 0.0
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None  # our estimate: reported minus sent since
        self._reset_at: float | None = None  # on self.clock
        self._window: datetime | None = None  # the reported reset, to tell windows apart
        self._in_flight = 0  # let through, not yet observed
        self._metered: bool | None = None  # whether answers report a budget (None: not known)

    def __repr__(self) -> str:
        left = "?" if self._remaining is None else self._remaining
        return f"<RateBudget {left}/{self._limit or '?'} left, reserve={self.reserve}>"

    @property
    def remaining(self) -> int | None:
        """Requests left in the current window, as far as the client knows."""
        return self._remaining

    def observe(self, exchange: Exchange | None) -> None:
        """Learn from a response what is left and when the window resets.

        Call it once for every request :meth:`wait` let through, with ``None``
        when no response came.
        """
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
        if exchange is None or not _reports_budget(exchange):
            if exchange is not None and self._metered is None:
                self._metered = False
            return
        limit = exchange.rate_limit
        if self._metered is None:
            self._metered = limit is not None
        if limit is None:
            return
        now = self.clock()
        with self._lock:
            if limit.limit is not None:
                self._limit = limit.limit
            wait = limit.retry_after if exchange.status in (429, 503) else None
            if wait is not None:
                self._remaining, self._reset_at, self._window = 0, now + wait, None
                return
            if limit.remaining is None:
                return
            same = (
                self._window is not None
                and limit.reset_at is not None
                and abs((limit.reset_at - self._window).total_seconds()) < 1.0
            )
            if same and self._remaining is not None:
                self._remaining = min(self._remaining, limit.remaining)  # answers cross in flight
            else:  # a new window: requests still in flight will be counted in it too
                self._remaining = max(0, limit.remaining - self._in_flight)
            self._window = limit.reset_at
            self._reset_at = None if limit.reset is None else now + limit.reset

    def delay(self) -> float:
        """Seconds to wait before sending; ``0.0`` reserves one request of the window.

        Raises:
            RateLimitExhausted: the window resets later than ``max_wait``.
        """
        with self._lock:
            now = self.clock()
            if self._reset_at is not None and now >= self._reset_at:
                # a new window: assume its full size until a response says otherwise
                self._remaining = self._limit
                self._reset_at = None
            if self._metered is None and self._in_flight:
                return _POLL  # one request at a time until the API says what is left
            if self._remaining is None or self._remaining > self.reserve:
                if self._remaining is not None:
                    self._remaining -= 1
                self._in_flight += 1
                return 0.0
            wait = _POLL if self._reset_at is None else self._reset_at - now
        if wait > self.max_wait:
            raise RateLimitExhausted(
                f"The API's rate limit is spent ({self._remaining} of {self._limit or '?'} left) "
                f"and resets in {wait:.0f} s, longer than max_wait={self.max_wait:g} s. Wait, "
                "or pass rate_budget=RateBudget(max_wait=...) to the client to let it wait."
            )
        return wait

    def _paused(self, seconds: float) -> None:
        if seconds > _POLL:
            self.pauses += 1
            log.info("rate limit spent: waiting %.1f s for the window to reset", seconds)
        self.waited += seconds

    def wait(self) -> None:
        """Block until a request may be sent (sync callers)."""
        while (seconds := self.delay()) > 0:
            self._paused(seconds)
            self.sleep(seconds)

    async def await_turn(self) -> None:
        """Wait until a request may be sent (async callers)."""
        while (seconds := self.delay()) > 0:
            self._paused(seconds)
            await asyncio.sleep(seconds)


_BUDGET_HEADERS = (b"ratelimit", b"x-ratelimit-", b"retry-after")


def _reports_budget(exchange: Exchange) -> bool:
    """Whether any header of the response speaks of the budget (cheaper than parsing)."""
    return any(name.lower().startswith(_BUDGET_HEADERS) for name, _ in exchange.headers.raw)


@contextlib.contextmanager
def spending(budget: RateBudget | None) -> Iterator[list[Exchange]]:
    """Around one send: the caller appends the exchange; the budget observes it (or its loss)."""
    sent: list[Exchange] = []
    try:
        yield sent
    finally:
        if budget is not None:
            budget.observe(sent[0] if sent else None)


def resolve_budget(value: RateBudget | bool | None) -> RateBudget | None:
    """Turn a ``rate_budget=`` argument into a budget or ``None``."""
    if value is None or value is False:
        return None
    if value is True:
        return RateBudget()
    if isinstance(value, RateBudget):
        return value
    raise ConfigError(f"rate_budget= takes True, False or a RateBudget, not {value!r}")
