"""Rate-limit budgets and deprecation notices, read from real services' header forms."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from apinotebook import ApiDeprecationWarning, History, RestClient
from apinotebook._core.ratelimit import parse_lifecycle, parse_rate_limit

NOW = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
EPOCH = int((NOW + timedelta(seconds=600)).timestamp())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (  # IETF draft, one field per value
            {"RateLimit-Limit": "100", "RateLimit-Remaining": "42", "RateLimit-Reset": "30"},
            ("ietf", 100, 42, 30.0),
        ),
        (  # IETF draft, the structured single field
            {"RateLimit": "limit=100, remaining=5, reset=60"},
            ("ietf", 100, 5, 60.0),
        ),
        (  # the newer draft's r= and t=
            {"RateLimit": '"default";r=7;t=12'},
            ("ietf", None, 7, 12.0),
        ),
        (  # GitHub: the reset is an epoch timestamp
            {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(EPOCH),
                "X-RateLimit-Used": "5000",
            },
            ("x-ratelimit", 5000, 0, 600.0),
        ),
        (  # only Retry-After, on a 429
            {"Retry-After": "17"},
            ("retry-after", None, None, None),
        ),
    ],
    ids=["ietf-fields", "ietf-structured", "ietf-r-t", "github-epoch", "retry-after"],
)
def test_rate_limit_forms(headers, expected):
    limit = parse_rate_limit(headers, now=NOW)
    assert limit is not None
    assert (limit.source, limit.limit, limit.remaining, limit.reset) == expected


def test_no_budget_headers_no_rate_limit_and_malformed_values_read_as_absent():
    assert parse_rate_limit({"Content-Type": "application/json"}, now=NOW) is None
    odd = parse_rate_limit({"X-RateLimit-Remaining": "lots"}, now=NOW)
    assert odd is not None and odd.remaining is None


def test_exhausted_budget_and_its_reset_time():
    limit = parse_rate_limit(
        {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(EPOCH)},
        now=NOW,
    )
    assert limit is not None and limit.exhausted and limit.reset_at == NOW + timedelta(seconds=600)
    assert "0/60 left" in str(limit)


def test_lifecycle_headers():
    life = parse_lifecycle(
        {
            "Deprecation": f"@{int(NOW.timestamp())}",
            "Sunset": "Wed, 01 Jul 2027 00:00:00 GMT",
            "Link": '<https://api.test/docs/v2>; rel="deprecation"',
        }
    )
    assert life is not None and life.deprecated and life.deprecated_at == NOW
    assert life.sunset_at == datetime(2027, 7, 1, tzinfo=UTC)
    assert life.link == "https://api.test/docs/v2"
    assert parse_lifecycle({"Content-Type": "text/plain"}) is None


def _api(headers: dict[str, str]) -> RestClient:
    transport = httpx.MockTransport(lambda r: httpx.Response(200, headers=headers, json={}))
    return RestClient("http://api.test/v1", transport=transport, history=History())


def test_the_exchange_reports_its_budget():
    ex = _api({"RateLimit-Remaining": "3", "RateLimit-Limit": "10", "RateLimit-Reset": "5"}).get(
        "/items"
    )
    assert ex.rate_limit is not None and ex.rate_limit.remaining == 3
    assert _api({}).get("/items").rate_limit is None


def test_a_deprecated_endpoint_warns_once_with_its_sunset():
    client = _api({"Deprecation": "true", "Sunset": "Wed, 01 Jul 2027 00:00:00 GMT"})
    with pytest.warns(ApiDeprecationWarning, match=r"GET http://api.test/v1/old.*2027-07-01"):
        ex = client.get("/old", params={"api_key": "k-123456789"})
    assert ex.lifecycle is not None and ex.lifecycle.deprecated
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.get("/old")  # said once per endpoint
