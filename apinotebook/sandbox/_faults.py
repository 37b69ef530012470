"""Fault injection and rate limiting for the demo services.

Faults are drawn per service from a ``random.Random`` seeded with the sandbox
seed and the service name, so the same seed and the same sequence of requests
give the same faults. One uniform draw per request picks at most one fault:

=================  =============================================================
``drop_rate``      the connection is closed without a response, *after* the
                   service handled the request (a write may have happened: the
                   case that makes idempotency matter)
``truncate_rate``  the response starts, half the body is sent, then the
                   connection is closed (again after the service handled it)
``throttle_rate``  429 with ``Retry-After: retry_after``, before the service runs
``error_rate``     a status from ``error_statuses``, before the service runs
``latency``        seconds added to every request (``latency_jitter`` adds a
                   uniform random extra up to that many seconds)
``rate_limit``     real rate limiting: requests per second per credential
                   (token bucket, burst = ``rate_burst`` or one second's worth);
                   over the limit gives 429 with ``Retry-After``
``budget``         a rate-limit *budget*: requests per ``budget_window`` seconds
                   (default 60) per credential, in fixed windows; every answer
                   carries ``RateLimit-Limit``, ``-Remaining``, ``-Reset`` and
                   ``-Policy``; a request over the budget gets 429 with
                   ``Retry-After`` until the window resets
``oauth_error``    the authorization server (``auth``) answers token requests
                   with this RFC 6749 / RFC 8628 error code; ``oauth_error_grant``
                   limits it to one grant type, ``oauth_error_count`` to the next
                   N requests (0: until cleared)
``clock_skew``     seconds the service's clock runs ahead (negative: behind):
                   the authorization server's codes and tokens expire early or late
``drift_rename``   schema drift: ``"email:email_address|..."`` renames those fields
                   (JSON keys, XML elements) in every response (``_drift.py``)
``drift_retype``   schema drift: ``"score|..."``: those fields' values become strings
=================  =============================================================

Streams (chat's event socket and assistant, mail's subscriptions) have their own,
applied per connection rather than per request:

=========================  =====================================================
``stream_drop_after``      drop the connection after this many messages (0: never)
``stream_malformed_rate``  probability that a malformed frame comes before a message
``stream_max_unacked``     a slow consumer: close (1013) once this many messages
                           wait for their acknowledgement (0: no limit)
``stream_delay``           seconds between two messages a stream sends
=========================  =====================================================
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from apinotebook._exceptions import ConfigError

__all__ = [
    "OAUTH_ERRORS",
    "FaultConfig",
    "FaultState",
    "RateLimiter",
    "WindowBudget",
    "parse_fault_spec",
    "parse_options",
]

#: What ``oauth_error`` can force: RFC 6749 section 5.2 and RFC 8628 section 3.5.
OAUTH_ERRORS = (
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
)


@dataclass(frozen=True)
class FaultConfig:
    """Faults and limits for one service. All rates are probabilities in [0, 1]."""

    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500, 502, 503)
    throttle_rate: float = 0.0
    retry_after: float = 1.0
    latency: float = 0.0
    latency_jitter: float = 0.0
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    rate_limit: float | None = None
    rate_burst: float | None = None
    budget: int | None = None
    budget_window: float = 60.0
    oauth_error: str | None = None
    oauth_error_grant: str | None = None
    oauth_error_count: int = 0
    clock_skew: float = 0.0
    drift_rename: str | None = None
    drift_retype: str | None = None
    stream_drop_after: int = 0
    stream_malformed_rate: float = 0.0
    stream_max_unacked: int = 0
    stream_delay: float = 0.0

    def __post_init__(self) -> None:
        rates = ("error_rate", "throttle_rate", "drop_rate", "truncate_rate")
        for name in rates:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"fault {name}={value!r} must be between 0 and 1")
        total = sum(getattr(self, name) for name in rates)
        if total > 1.0 + 1e-9:
            raise ConfigError(f"fault rates add up to {total:.3f}; their sum must be at most 1")
        if not 0.0 <= self.stream_malformed_rate <= 1.0:
            raise ConfigError("fault stream_malformed_rate must be between 0 and 1")
        for name in ("latency", "latency_jitter", "retry_after", "stream_delay"):
            if getattr(self, name) < 0:
                raise ConfigError(f"fault {name} must not be negative")
        if (self.budget is not None and self.budget < 1) or self.budget_window <= 0:
            raise ConfigError("budget must be at least 1 request per a positive budget_window")
        if self.rate_limit is not None and self.rate_limit <= 0:
            raise ConfigError("rate_limit must be a positive number of requests per second")
        for status in self.error_statuses:
            if not 400 <= status <= 599:
                raise ConfigError(f"error status {status} is not an HTTP error status")
        if self.oauth_error is not None and self.oauth_error not in OAUTH_ERRORS:
            raise ConfigError.invalid_choice("oauth_error", self.oauth_error, OAUTH_ERRORS)
        for name in ("oauth_error_count", "stream_drop_after", "stream_max_unacked"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must not be negative")

    @classmethod
    def from_mapping(
        cls, values: Mapping[str, Any], base: FaultConfig | None = None
    ) -> FaultConfig:
        """Build a config from a mapping, checking every key; ``base`` gives defaults."""
        valid = {f.name for f in fields(cls)}
        unknown = set(values) - valid
        if unknown:
            raise ConfigError.invalid_choice("fault setting", sorted(unknown)[0], valid)
        clean: dict[str, Any] = {}
        for key, value in values.items():
            if key == "error_statuses":
                if isinstance(value, str):
                    value = [v for v in value.replace("|", " ").replace(";", " ").split() if v]
                clean[key] = tuple(int(v) for v in value)
            elif key in ("rate_limit", "rate_burst"):
                clean[key] = None if value in (None, "", "none", "off") else float(value)
            elif key in ("oauth_error", "oauth_error_grant", "drift_rename", "drift_retype"):
                clean[key] = None if value in (None, "", "none", "off") else str(value)
            elif key == "budget":
                clean[key] = None if value in (None, "", "none", "off") else int(value)
            elif key in ("oauth_error_count", "stream_drop_after", "stream_max_unacked"):
                try:
                    clean[key] = int(value)
                except (TypeError, ValueError):
                    raise ConfigError(f"fault {key}={value!r} is not a whole number") from None
            else:
                try:
                    clean[key] = float(value)
                except (TypeError, ValueError):
                    raise ConfigError(f"fault {key}={value!r} is not a number") from None
        return replace(base or cls(), **clean)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as served by ``/_admin/faults``."""
        data = asdict(self)
        data["error_statuses"] = list(self.error_statuses)
        return data

    @property
    def active(self) -> bool:
        """Whether any fault or limit is configured."""
        return self != FaultConfig()


def parse_fault_spec(specs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Parse command-line fault options like ``crm:error_rate=0.1,latency=0.05``."""
    result: dict[str, dict[str, Any]] = {}
    for spec in specs:
        service, sep, rest = spec.partition(":")
        if not sep or not service:
            raise ConfigError(
                f"fault option {spec!r} must look like SERVICE:KEY=VALUE[,KEY=VALUE], "
                "e.g. crm:error_rate=0.1"
            )
        settings = result.setdefault(service.strip(), {})
        for item in rest.split(","):
            key, eq, value = item.partition("=")
            if not eq:
                raise ConfigError(f"fault setting {item!r} in {spec!r} must be KEY=VALUE")
            settings[key.strip()] = value.strip()
        FaultConfig.from_mapping(settings)  # validate early, with a clear message
    return result


def parse_options(specs: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Parse ``SERVICE.KEY=VALUE`` options (numbers, booleans and ``none`` understood)."""
    result: dict[str, dict[str, Any]] = {}
    for spec in specs:
        name, eq, raw = spec.partition("=")
        service, dot, key = name.partition(".")
        if not eq or not dot or not service or not key:
            raise ConfigError(
                f"option {spec!r} must look like SERVICE.KEY=VALUE, e.g. fares.latency_scale=0"
            )
        value: Any = raw.strip()
        lowered = value.lower()
        if lowered in ("true", "false"):
            value = lowered == "true"
        elif lowered in ("none", "null"):
            value = None
        else:
            for cast in (int, float):
                try:
                    value = cast(value)
                    break
                except ValueError:
                    continue
        result.setdefault(service.strip(), {})[key.strip()] = value
    return result


class RateLimiter:
    """Token buckets keyed by (service, credential). Thread-safe."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self._lock = threading.Lock()

    def acquire(self, key: tuple[str, str], rate: float, burst: float | None) -> float:
        """Take a token; return 0 when allowed, else seconds until one is available."""
        capacity = burst if burst is not None else max(rate, 1.0)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate

    def reset(self) -> None:
        """Forget every bucket."""
        with self._lock:
            self._buckets.clear()


class WindowBudget:
    """Fixed-window request budgets keyed by (service, credential). Thread-safe."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def take(self, key: tuple[str, str], limit: int, window: float) -> tuple[bool, int, float]:
        """Spend one request: (allowed, remaining after it, seconds until the window resets)."""
        now = time.monotonic()
        with self._lock:
            start, used = self._windows.get(key, (now, 0))
            if now - start >= window:
                start, used = now, 0
            allowed = used < limit
            if allowed:
                used += 1
            self._windows[key] = (start, used)
        return allowed, limit - used, max(0.0, start + window - now)

    def headers(
        self, limit: int, remaining: int, reset: float, window: float
    ) -> list[tuple[bytes, bytes]]:
        """The IETF ``RateLimit-*`` fields for an answer (reset rounded up: never early)."""
        return [
            (b"ratelimit-limit", str(limit).encode()),
            (b"ratelimit-remaining", str(remaining).encode()),
            (b"ratelimit-reset", str(math.ceil(reset)).encode()),
            (b"ratelimit-policy", f"{limit};w={window:g}".encode()),
        ]

    def reset(self) -> None:
        """Forget every window."""
        with self._lock:
            self._windows.clear()


@dataclass
class FaultState:
    """The live fault settings and their random streams, shared by all requests."""

    seed: int
    configs: dict[str, FaultConfig] = field(default_factory=dict)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    budgets: WindowBudget = field(default_factory=WindowBudget)
    _rngs: dict[str, random.Random] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def config_for(self, service: str) -> FaultConfig:
        """The config for ``service`` (``fares.skyhigh`` falls back to ``fares``)."""
        configs = self.configs
        if service in configs:
            return configs[service]
        parent = service.partition(".")[0]
        return configs.get(parent) or configs.get("*") or _NO_FAULTS

    def update(self, service: str, values: Mapping[str, Any] | FaultConfig | None) -> None:
        """Replace (``FaultConfig``), merge (mapping) or clear (``None``) a service's faults."""
        with self._lock:
            if values is None:
                self.configs.pop(service, None)
            elif isinstance(values, FaultConfig):
                self.configs[service] = values
            else:
                base = self.configs.get(service)
                self.configs[service] = FaultConfig.from_mapping(values, base)
            # restart the random stream so a new setting is reproducible on its own
            self._rngs.pop(service, None)

    def draw(self, service: str, cfg: FaultConfig) -> tuple[str | None, float]:
        """Pick this request's fault (or ``None``) and its extra latency."""
        with self._lock:
            rng = self._rngs.get(service)
            if rng is None:
                rng = self._rngs[service] = random.Random(f"{self.seed}:{service}")
            u = rng.random()
            jitter = rng.random() * cfg.latency_jitter if cfg.latency_jitter else 0.0
        latency = cfg.latency + jitter
        edge = 0.0
        for kind, rate in (
            ("drop", cfg.drop_rate),
            ("truncate", cfg.truncate_rate),
            ("throttle", cfg.throttle_rate),
            ("error", cfg.error_rate),
        ):
            edge += rate
            if u < edge:
                return kind, latency
        return None, latency

    def error_status(self, service: str, cfg: FaultConfig) -> int:
        """Pick one of the configured error statuses, reproducibly."""
        with self._lock:
            rng = self._rngs.setdefault(service, random.Random(f"{self.seed}:{service}"))
            return rng.choice(cfg.error_statuses)

    def to_dict(self) -> dict[str, Any]:
        """All configured services and their settings."""
        with self._lock:
            return {name: cfg.to_dict() for name, cfg in sorted(self.configs.items())}


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` takes whole seconds; round up so clients never come back early."""
    return str(max(0, math.ceil(seconds)))


_NO_FAULTS = FaultConfig()
