"""The sandbox's ``/_admin`` API: JSON only (no simple cross-site POST), loopback Host only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from apinotebook.sandbox import Sandbox
from apinotebook.sandbox._runner import RemoteSandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(services=("crm",), contacts=5, companies=1, seed=5) as box:
        yield box


@pytest.fixture(autouse=True)
def clean(sb: Sandbox) -> Iterator[None]:
    sb.set_faults()
    yield
    sb.set_faults()


def _port(sb: Sandbox) -> int:
    return httpx.URL(sb.url).port or 80


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "text/plain;charset=UTF-8",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
    ],
)
def test_a_body_that_is_not_declared_json_is_refused(sb: Sandbox, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = b'{"crm": {"error_rate": 1}}'
    for method in ("POST", "PUT", "PATCH"):
        r = httpx.request(method, sb.url + "/_admin/faults", content=body, headers=headers)
        assert r.status_code == 415, (method, r.status_code, r.text)
        assert "application/json" in r.json()["error"]["message"]
    assert sb.faults == {}


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "attacker.example:{port}", "127.0.0.1.nip.io:{port}",
     "localhost.evil:{port}", "10.0.0.5:{port}", ""],
)  # fmt: skip
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_host_that_is_not_loopback_is_refused(sb: Sandbox, host: str, method: str) -> None:
    headers = {"Host": host.format(port=_port(sb)), "Content-Type": "application/json"}
    body = b'{"crm": {"error_rate": 1}}' if method == "PUT" else None
    r = httpx.request(method, sb.url + "/_admin/faults", content=body, headers=headers)
    assert r.status_code == 403, (host, r.status_code, r.text)
    assert "Host" in r.json()["error"]["message"]
    assert sb.faults == {}


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}",
                                  "[::1]:{port}", "localhost", "127.0.0.1"])  # fmt: skip
def test_loopback_hosts_and_json_are_accepted(sb: Sandbox, host: str) -> None:
    headers = {
        "Host": host.format(port=_port(sb)),
        "Content-Type": "application/json; charset=utf-8",
    }
    r = httpx.put(
        sb.url + "/_admin/faults", content=b'{"crm": {"latency": 0.001}}', headers=headers
    )
    assert r.status_code == 200, r.text
    assert sb.faults["crm"]["latency"] == 0.001


def test_the_packages_own_controls_still_work(sb: Sandbox) -> None:
    sb.set_faults("crm", error_rate=0.5)
    assert sb.faults["crm"]["error_rate"] == 0.5
    remote = RemoteSandbox(sb.url)
    remote.set_faults("crm", latency=0.002)
    assert remote.faults["crm"]["latency"] == 0.002
    remote.reset_stats()
    assert isinstance(remote.stats(), dict)
    remote.set_faults()
    assert remote.faults == {}
    assert httpx.delete(sb.url + "/_admin/stats").status_code == 200  # no body: no preflight issue


def test_the_services_themselves_are_not_host_checked(sb: Sandbox) -> None:
    r = httpx.get(sb.url + "/", headers={"Host": "sandbox.example"})
    assert r.status_code == 200
