"""Interval and cron schedules: in the background of a notebook, or in the foreground.

``parse_interval("5m")`` understands ``30s``, ``5m``, ``2h``, ``1d``, combinations
such as ``1h30m``, plain seconds and ``timedelta``. Cron expressions use
croniter (five fields, ``@hourly`` and friends). A run that is still going
when the next one is due is not started twice: the late run is skipped and
counted.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apinotebook._exceptions import ConfigError

__all__ = ["Scheduler", "parse_interval"]

log = logging.getLogger("apinotebook.integration")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd])")


def parse_interval(value: str | float | timedelta) -> float:
    """Seconds in ``value`` (``"5m"``, ``"1h30m"``, ``90``, ``timedelta(minutes=5)``)."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip().lower().replace(" ", "")
        if re.fullmatch(r"\d+(\.\d+)?", text):
            seconds = float(text)
        else:
            parts = _INTERVAL.findall(text)
            if not parts or "".join(n + u for n, u in parts) != text:
                raise ConfigError(
                    f"cannot read the interval {value!r}: use e.g. '30s', '5m', '2h', '1d' or "
                    "'1h30m' (or a number of seconds)"
                )
            seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds <= 0:
        raise ConfigError(f"the interval must be positive, got {value!r}")
    return seconds


def _cron(expr: str) -> Any:
    from croniter import croniter

    if not croniter.is_valid(expr):
        raise ConfigError(
            f"invalid cron expression {expr!r}: use five fields 'minute hour day month weekday' "
            "such as '*/5 * * * *', or @hourly / @daily"
        )
    return croniter(expr, datetime.now(UTC))


class Scheduler:
    """Call ``job`` every ``every`` seconds, or on a ``cron`` schedule.

    Args:
        job: what to run; exceptions are logged and kept in ``last_error``.
        every: an interval (see :func:`parse_interval`).
        cron: a cron expression (UTC).
        run_at_start: run once immediately (default for intervals).
        name: for the thread name and logs.
    """

    def __init__(
        self,
        job: Callable[[], Any],
        *,
        every: str | float | timedelta | None = None,
        cron: str | None = None,
        run_at_start: bool | None = None,
        name: str = "schedule",
    ) -> None:
        if (every is None) == (cron is None):
            raise ConfigError(
                "give exactly one of every= (e.g. '5m') or cron= (e.g. '*/5 * * * *')"
            )
        self.job = job
        self.interval = parse_interval(every) if every is not None else None
        self.cron = cron
        self._iter = _cron(cron) if cron is not None else None
        self.run_at_start = run_at_start if run_at_start is not None else cron is None
        self.name = name
        self.runs = 0
        self.skipped = 0
        self.last_error: BaseException | None = None
        self.next_run: datetime | None = None
        self._stop = threading.Event()
        self._busy = threading.Lock()
        self._thread: threading.Thread | None = None

    def _next_delay(self, first: bool) -> float:
        if first and self.run_at_start:
            delay = 0.0
        elif self.interval is not None:
            delay = self.interval
        else:
            nxt: datetime = self._iter.get_next(datetime)  # type: ignore[union-attr]
            delay = max(0.0, (nxt - datetime.now(UTC)).total_seconds())
        self.next_run = datetime.now(UTC) + timedelta(seconds=delay)
        return delay

    def _loop(self) -> None:
        first = True
        while not self._stop.is_set():
            if self._stop.wait(self._next_delay(first)):
                break
            first = False
            if not self._busy.acquire(blocking=False):
                self.skipped += 1
                log.warning("%s: previous run still going, skipping this one", self.name)
                continue
            try:
                self.job()
                self.last_error = None
            except Exception as exc:  # noqa: BLE001 - a schedule keeps going
                self.last_error = exc
                log.error("%s: run failed: %s", self.name, exc)
            finally:
                self.runs += 1
                self._busy.release()

    def start(self) -> Scheduler:
        """Run in a daemon thread (notebooks); returns at once."""
        if self._thread is not None and self._thread.is_alive():
            raise ConfigError(f"{self.name} is already scheduled; call stop() first")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._loop, name=f"apinotebook-{self.name}", daemon=True
        )
        self._thread.start()
        return self

    def run_forever(self) -> None:
        """Run in the foreground until Ctrl+C or SIGTERM (scripts)."""
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: self._stop.set())
        try:
            self._loop()
        except KeyboardInterrupt:
            self._stop.set()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop scheduling; waits for a run in progress to finish."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        """Whether the background thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __repr__(self) -> str:
        what = f"every {self.interval:g}s" if self.interval is not None else f"cron {self.cron!r}"
        state = "running" if self.running else "stopped"
        return f"<Scheduler {self.name} {what} {state} runs={self.runs}>"


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` passes (for tests and demos)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
