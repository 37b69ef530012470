import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from apinotebook import ConfigError, Retry
from apinotebook.retry import NO_RETRY, parse_retry_after

R = Retry(backoff=1.0, backoff_max=8.0, jitter=False, deadline=60, max_attempts=4)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        # retryable statuses for idempotent requests
        ({"attempt": 1, "status": 503, "idempotent": True}, 1.0),
        ({"attempt": 2, "status": 500, "idempotent": True}, 2.0),
        ({"attempt": 3, "status": 502, "idempotent": True}, 4.0),
        ({"attempt": 4, "status": 503, "idempotent": True}, None),  # out of attempts
        ({"attempt": 1, "status": 404, "idempotent": True}, None),
        ({"attempt": 1, "status": 200, "idempotent": True}, None),
        # non-idempotent: no retry on status, timeout or broken connection...
        ({"attempt": 1, "status": 503, "idempotent": False}, None),
        ({"attempt": 1, "error": "timeout", "idempotent": False}, None),
        ({"attempt": 1, "error": "protocol", "idempotent": False}, None),
        # ...but a connection that never opened is always safe to retry
        ({"attempt": 1, "error": "connect", "idempotent": False}, 1.0),
        ({"attempt": 1, "error": "timeout", "idempotent": True}, 1.0),
        # Retry-After: 429 waits exactly what was asked, 503 at least that
        ({"attempt": 1, "status": 429, "idempotent": True, "retry_after": "3"}, 3.0),
        ({"attempt": 1, "status": 429, "idempotent": True, "retry_after": "0"}, 0.0),
        ({"attempt": 3, "status": 503, "idempotent": True, "retry_after": "1"}, 4.0),
        ({"attempt": 1, "status": 429, "idempotent": True, "retry_after": "3600"}, None),
        ({"attempt": 1, "status": 429, "idempotent": True, "retry_after": "junk"}, 1.0),
        # the deadline
        ({"attempt": 1, "status": 503, "idempotent": True, "elapsed": 59.5}, None),
    ],
)
def test_next_wait_table(kwargs, expected):
    kwargs.setdefault("elapsed", 0.0)
    assert R.next_wait(**kwargs) == expected


def test_idempotency_rules():
    assert R.is_idempotent("GET", {})
    assert R.is_idempotent("put", {})
    assert not R.is_idempotent("POST", {})
    assert R.is_idempotent("POST", {"Idempotency-Key": "k1"})
    assert R.is_idempotent("POST", {}, idempotent=True)
    assert not R.is_idempotent("GET", {}, idempotent=False)


def test_jitter_stays_within_half_to_full_delay():
    policy = Retry(backoff=2.0, jitter=True, rng=random.Random(1))
    waits = [policy.backoff_delay(2) for _ in range(200)]
    assert all(2.0 <= w <= 4.0 for w in waits) and len(set(waits)) > 100


def test_retry_after_http_date():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(30.0)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now) == 0
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after("soon", now=now) is None


def test_no_retry_and_validation():
    assert NO_RETRY.next_wait(attempt=1, elapsed=0, idempotent=True, status=503) is None
    with pytest.raises(ConfigError):
        Retry(max_attempts=0)
    with pytest.raises(ConfigError):
        Retry(deadline=0)
