"""RestClient itself: base URL joining, option checks, and gather's concurrency and order."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest
from http_fakes import Recorder, client

from apinotebook import (
    ConfigError,
    ConnectError,
    Exchange,
    History,
    RestClient,
)


def test_base_url_joining():
    rec = Recorder(httpx.Response(200, json={}))
    c = client(rec)
    c.get("/contacts")
    c.get("contacts/1")
    c.get("https://elsewhere.example/abs")
    assert [str(r.url) for r in rec.requests] == [
        "https://api.example/v1/contacts",
        "https://api.example/v1/contacts/1",
        "https://elsewhere.example/abs",
    ]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"auth": "token"}, "auth= takes an auth object"),
        ({"retry": "x"}, "retry= takes"),
        ({"history": 3}, "history= takes"),
    ],
)
def test_bad_client_options(kwargs, fragment):
    with pytest.raises(ConfigError, match=fragment):
        RestClient("https://api.example", **kwargs)


def test_bad_urls_and_options():
    c = RestClient(history=None)
    with pytest.raises(ConfigError, match="base_url"):
        c.get("/relative")
    with pytest.raises(ConfigError, match="Valid request options"):
        client(Recorder(httpx.Response(200))).get("/x", jsn={})


def test_gather_runs_concurrently_and_returns_in_order():
    lock, state = threading.Lock(), {"now": 0, "peak": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.rsplit("/", 1)[1])
        with lock:
            state["now"] += 1
            state["peak"] = max(state["peak"], state["now"])
        time.sleep(0.002 * (5 - n % 5))  # later calls often finish first
        with lock:
            state["now"] -= 1
        return httpx.Response(200, json={"n": n})

    c = RestClient("https://api.example", transport=httpx.MockTransport(handler), history=History())
    results = c.gather([("GET", f"/items/{i}") for i in range(20)], concurrency=4)
    assert [r.json()["n"] for r in results] == list(range(20))
    assert 1 < state["peak"] <= 4
    assert len(c.history) == 20
    assert c.gather([]) == []

    async def inside_a_running_loop():  # what a notebook cell is
        return c.gather([("GET", "/items/1")])[0].json()["n"]

    assert asyncio.run(inside_a_running_loop()) == 1


def test_async_path_and_agather_in_order():
    async def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.path.rsplit("/", 1)[1])
        await asyncio.sleep(0.001 * (5 - n % 5))
        return httpx.Response(200, json={"n": n})

    c = RestClient("https://api.example", transport=httpx.MockTransport(handler), history=None)

    async def main():
        results = await c.agather([("GET", f"/items/{i}") for i in range(20)], concurrency=4)
        single = await c.aget("/items/2")
        return [r.json()["n"] for r in results], single.json()["n"]

    assert asyncio.run(main()) == (list(range(20)), 2)


def test_gather_failures_in_call_order():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/bad"):
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={})

    c = RestClient("https://api.example", transport=httpx.MockTransport(handler), retry=False)
    calls = [("GET", "/ok"), ("GET", "/bad"), ("GET", "/ok")]
    results = c.gather(calls, return_exceptions=True)
    assert isinstance(results[0], Exchange) and isinstance(results[2], Exchange)
    assert isinstance(results[1], ConnectError)
    with pytest.raises(ConnectError):
        c.gather(calls)


def test_gather_return_exceptions_and_bad_calls():
    rec = Recorder(httpx.Response(200, json={}))
    c = client(rec)
    with pytest.raises(ConfigError, match="cannot read call"):
        c.gather(["GET /x"])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="concurrency"):
        c.gather([("GET", "/x")], concurrency=0)
