"""The sandbox runner, guard, faults and admin API, on a tiny stand-in service."""

from __future__ import annotations

import json
import socket
import threading

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apinotebook import ConfigError, SandboxError
from apinotebook.sandbox import FaultConfig, Mount, Sandbox, parse_fault_spec


async def _echo(request: Request) -> JSONResponse:
    body = await request.body()
    return JSONResponse({"path": request.url.path, "size": len(body), "pad": "x" * 200})


def _mounts() -> list[Mount]:
    app = Starlette(routes=[Route("/echo", _echo, methods=["GET", "POST"])])
    return [Mount(prefix="/demo", app=app, service="demo", urls={"demo": "/demo"})]


@pytest.fixture(scope="module")
def shared():
    with Sandbox(services=(), extra_mounts=_mounts(), seed=3) as box:
        yield box


@pytest.fixture
def sb(shared, stats):
    """The module's sandbox with no faults and no counts, as if new."""
    shared.set_faults()
    for service in shared.stats():  # the last test's last request may not be counted yet
        stats.settled(shared, service)
    shared.reset_stats()
    yield shared
    shared.set_faults()


def test_start_serves_and_stop_leaves_nothing_behind():
    before = {t.name for t in threading.enumerate()}
    box = Sandbox(services=(), extra_mounts=_mounts()).start()
    port = box.port
    assert httpx.get(box.urls["demo"] + "/echo").json()["path"] == "/demo/echo"
    box.stop()
    box.stop()  # idempotent
    assert {t.name for t in threading.enumerate()} <= before
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=0.5)


def test_index_and_unknown_service(sb):
    index = httpx.get(sb.url + "/").json()
    assert index["urls"] == {"demo": sb.url + "/demo"}
    r = httpx.get(sb.url + "/nope")
    assert r.status_code == 404 and "/demo" in r.json()["error"]["message"]


def test_stats_count_per_service_and_status(sb, stats):
    for _ in range(3):
        httpx.get(sb.urls["demo"] + "/echo")
    httpx.get(sb.urls["demo"] + "/missing")
    assert stats.reach(sb, "demo", {"total": 4}) == {"200": 3, "404": 1, "total": 4}
    assert httpx.get(sb.url + "/_admin/stats").json()["demo"]["total"] == 4


def test_oversized_body_gets_413(sb):
    r = httpx.post(sb.urls["demo"] + "/echo", content=b"x" * (9 * 1024 * 1024))
    assert r.status_code == 413
    assert "limit" in r.json()["error"]["message"]


def _statuses(url: str, n: int) -> list[object]:
    out: list[object] = []
    with httpx.Client() as client:
        for _ in range(n):
            try:
                out.append(client.get(url).status_code)
            except httpx.TransportError as exc:
                out.append(type(exc).__name__)
    return out


def test_faults_are_reproducible_for_a_seed():
    faults = {
        "demo": {"error_rate": 0.3, "throttle_rate": 0.1, "drop_rate": 0.1, "truncate_rate": 0.1}
    }
    runs = []
    for _ in range(2):
        with Sandbox(services=(), extra_mounts=_mounts(), seed=11, faults=faults) as box:
            runs.append(_statuses(box.urls["demo"] + "/echo", 60))
    assert runs[0] == runs[1]
    seen = set(runs[0])
    assert {200, 429, "RemoteProtocolError"} <= seen
    assert seen & {500, 502, 503}
    with Sandbox(services=(), extra_mounts=_mounts(), seed=12, faults=faults) as box:
        assert _statuses(box.urls["demo"] + "/echo", 60) != runs[0]


def test_throttle_sends_retry_after(sb):
    sb.set_faults("demo", throttle_rate=1.0, retry_after=2.5)
    r = httpx.get(sb.urls["demo"] + "/echo")
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    sb.set_faults("demo")
    assert httpx.get(sb.urls["demo"] + "/echo").status_code == 200


def test_drop_closes_without_response(sb, stats):
    sb.set_faults("demo", drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        httpx.get(sb.urls["demo"] + "/echo")
    assert stats.reach(sb, "demo", {"dropped": 1})["dropped"] == 1


def test_truncate_sends_half_the_body(sb):
    sb.set_faults("demo", truncate_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError, match="incomplete|closed"):
        httpx.get(sb.urls["demo"] + "/echo")


def test_rate_limit_per_credential(sb):
    # one token a minute after a burst of two: a slow machine cannot refill the bucket
    sb.set_faults("demo", rate_limit=1 / 60, rate_burst=2)
    url = sb.urls["demo"] + "/echo"
    a = [httpx.get(url, headers={"Authorization": "Bearer a"}).status_code for _ in range(3)]
    b = httpx.get(url, headers={"Authorization": "Bearer b"}).status_code
    assert a[:2] == [200, 200] and a[2] == 429 and b == 200


def test_latency_is_added(sb):
    sb.set_faults("demo", latency=0.2)
    r = httpx.get(sb.urls["demo"] + "/echo")
    assert r.elapsed.total_seconds() >= 0.2


def test_admin_faults_over_http(sb):
    url = sb.url + "/_admin/faults"
    r = httpx.put(url, json={"demo": {"error_rate": 1, "error_statuses": [503]}})
    assert r.status_code == 200 and r.json()["demo"]["error_rate"] == 1
    assert httpx.get(sb.urls["demo"] + "/echo").status_code == 503
    assert sb.faults["demo"]["error_statuses"] == [503]
    bad = httpx.put(url, json={"demo": {"eror_rate": 1}})
    assert bad.status_code == 422 and "error_rate" in bad.json()["error"]["message"]
    unknown = httpx.put(url, json={"nosuch": {}})
    assert unknown.status_code == 422
    httpx.delete(url)
    assert httpx.get(url).json() == {}


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"error_rate": 2}, "between 0 and 1"),
        ({"error_rate": 0.6, "drop_rate": 0.6}, "at most 1"),
        ({"latency": -1}, "negative"),
        ({"error_statuses": [200]}, "not an HTTP error"),
        ({"rate_limit": 0}, "positive"),
        ({"laetncy": 1}, "Did you mean 'latency'"),
    ],
)
def test_invalid_fault_settings(settings, message):
    with pytest.raises(ConfigError, match=message):
        FaultConfig.from_mapping(settings)


def test_parse_fault_spec():
    assert parse_fault_spec(["crm:error_rate=0.1,latency=0.05", "mail:drop_rate=0.2"]) == {
        "crm": {"error_rate": "0.1", "latency": "0.05"},
        "mail": {"drop_rate": "0.2"},
    }
    with pytest.raises(ConfigError, match="SERVICE:KEY=VALUE"):
        parse_fault_spec(["error_rate=0.1"])


def test_port_in_use_is_a_clear_error(sb):
    with pytest.raises(SandboxError, match="another --port"):
        Sandbox(services=(), port=sb.port).start()


def test_env_lines_quote_values(sb):
    sb.env["WEIRD"] = "a b'c"
    assert "export WEIRD='a b'\"'\"'c'" in sb.env_lines()
    assert json.dumps(sb.flat_urls())
