"""The Inspector's status line shows the rate limit, the API version and the cache state."""

from __future__ import annotations

import httpx

from apinotebook import Exchange, Request, RestClient
from apinotebook.widgets import Inspector


def _exchange(headers: dict[str, str], request_headers: dict[str, str] | None = None) -> Exchange:
    return Exchange(
        protocol="rest",
        request=Request("GET", "https://api.example/x", headers=request_headers or {}),
        status=200,
        headers={"content-type": "application/json", **headers},
        content=b"{}",
    )


def test_rate_limit_is_shown_and_flagged_when_low():
    plenty = Inspector(_exchange({"RateLimit-Limit": "100", "RateLimit-Remaining": "80",
                                  "RateLimit-Reset": "30"}))  # fmt: skip
    assert plenty.summary["rate_limit"] == "80/100 left, resets in 30 s"
    assert plenty.summary["rate_limit_low"] is False
    low = Inspector(_exchange({"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "3"}))
    assert low.summary["rate_limit"].startswith("3/100 left") and low.summary["rate_limit_low"]
    assert Inspector(_exchange({})).summary["rate_limit"] == ""


def test_the_version_header_of_a_client_is_shown():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={}, headers={"API-Version": "2024-01-01"})

    api = RestClient(
        "https://api.example",
        version=("X-API-Version", "2024-01-01"),
        transport=httpx.MockTransport(handler),
        history=None,
    )
    ex = api.get("/x")
    assert seen[0].headers["x-api-version"] == "2024-01-01"
    assert api.version == ("X-API-Version", "2024-01-01")
    text = Inspector(ex).summary["api_version"]
    assert text == "x-api-version: 2024-01-01 (sent); api-version: 2024-01-01 (answered)"


def test_version_as_one_string_and_bad_values():
    import pytest

    from apinotebook import ConfigError

    api = RestClient("https://api.example", version="Stripe-Version: 2024-06-20", history=None)
    assert api.headers["stripe-version"] == "2024-06-20"
    for bad in ("2024-06-20", ("X-V",), ("Bad Name", "1")):
        with pytest.raises(ConfigError, match="version= takes"):
            RestClient("https://api.example", version=bad)  # type: ignore[arg-type]


def test_cache_state_is_shown():
    ex = _exchange({})
    ex.meta["cache"] = "revalidated"
    assert Inspector(ex).summary["cache"] == "revalidated"
    assert Inspector(_exchange({})).summary["cache"] == ""
