"""Record REST, GraphQL and SOAP against the sandbox, stop it, and replay with no network."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from har_corpus import har_errors

import apinotebook
from apinotebook import (
    ApiKey,
    Basic,
    Bearer,
    CassetteError,
    ConnectError,
    GraphQLClient,
    History,
    RestClient,
    Retry,
    Secret,
    SoapClient,
    UnmatchedRequestError,
    WsseUsernameToken,
)
from apinotebook.sandbox import Sandbox
from apinotebook.soap import clear_wsdl_cache

pytestmark = pytest.mark.sandbox
FAST = Retry(backoff=0, jitter=False)
SECRET_VARS = ("CRM_TOKEN", "MAIL_API_KEY", "BILLING_PASSWORD")


def _sandbox() -> Sandbox:
    return Sandbox(services=("crm", "mail", "billing"), contacts=50, companies=5)


@pytest.fixture
def box() -> Iterator[Sandbox]:
    sb = _sandbox().start()
    yield sb
    if sb.running:
        sb.stop()


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    with _sandbox() as sb:
        yield sb


@pytest.fixture(autouse=True)
def _fresh_wsdl_cache() -> Iterator[None]:
    clear_wsdl_cache()  # a replayed SoapClient must read its WSDL from the cassette
    yield
    clear_wsdl_cache()


class Clients:
    """One client per protocol, closed by the test."""

    def __init__(self, sb: Sandbox, *, soap_auth: str = "text") -> None:
        env = sb.env
        keep = {"history": History(), "retry": FAST}
        self.crm = RestClient(sb.urls["crm"], auth=Bearer(Secret(env["CRM_TOKEN"])), **keep)
        key = ApiKey(Secret(env["MAIL_API_KEY"]), header="X-API-Key")
        self.mail = GraphQLClient(sb.urls["mail"], auth=key, **keep)
        user, password = env["BILLING_USERNAME"], Secret(env["BILLING_PASSWORD"])
        auth = {
            "text": WsseUsernameToken(user, password),
            "digest": WsseUsernameToken(user, password, digest=True),
            "basic": Basic(user, password),
        }[soap_auth]
        self.soap = SoapClient(sb.urls["billing"], auth=auth, **keep)

    def session(self) -> list[apinotebook.Exchange]:
        """A little of everything: a query string, a JSON body, GraphQL, a SOAP call."""
        return [
            self.crm.get("/contacts", params={"limit": 3, "sort": "id"}),
            self.crm.post("/contacts", json={"first_name": "Ada", "email": "ada@example.test"}),
            self.mail.execute("query Lists { lists { totalCount } }"),
            self.soap.call("ListCustomers", pageSize=2),
        ]

    def close(self) -> None:
        for client in (self.crm, self.mail, self.soap):
            client.close()


def _payload(ex: apinotebook.Exchange) -> Any:
    return ex.data if ex.protocol == "soap" else ex.json()


def _served(sb: Sandbox) -> int:
    return sum(counts.get("total", 0) for counts in sb.stats().values())


def test_record_every_protocol_stop_the_sandbox_and_replay(box: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "crm.har"
    with apinotebook.record(path) as tape:
        live_clients = Clients(box)  # the WSDL is fetched, and recorded, here
        live = live_clients.session()
    live_clients.close()
    assert tape.recorded == len(tape) >= 6  # WSDL + XSD + introspection + four calls
    assert {e.protocol for e in tape.entries} == {"rest", "graphql", "soap"}
    assert har_errors(json.loads(path.read_text())) == []  # HAR 1.2, as har-validator checks it
    box.stop()
    clear_wsdl_cache()
    with apinotebook.replay(path) as again:
        clients = Clients(box)  # same URLs, nothing listening: the WSDL comes from the cassette
        with pytest.raises(UnmatchedRequestError):
            clients.crm.get("/contacts")
        replayed = clients.session()
        late = asyncio.run(clients.crm.aget("/contacts", params={"sort": "id", "limit": 3}))

        async def async_calls() -> list[apinotebook.Exchange]:  # answered again (repeat)
            return [
                await clients.mail.aexecute("query Lists { lists { totalCount } }"),
                await clients.soap.acall("ListCustomers", pageSize=2),
            ]

        late_graphql, late_soap = asyncio.run(async_calls())
    for before, after in zip(live, replayed, strict=True):
        assert after.replayed and not before.replayed
        assert (after.protocol, after.operation, after.status) == (
            before.protocol,
            before.operation,
            before.status,
        )
        assert _payload(after) == _payload(before)
    assert late.replayed and late.json() == live[0].json()
    assert late_graphql.replayed and late_graphql.data == live[2].data
    assert late_soap.replayed and late_soap.data == live[3].data
    played = [e for e in again.entries if e.played]
    assert again.played >= len(live) + 1 and again.recorded == 0
    assert any(e.protocol == "soap" and e.operation == "WSDL" for e in played)
    with pytest.raises(ConnectError):  # no cassette: the network, and nothing is listening
        clients.crm.get("/contacts")
    clients.close()


def test_no_secret_reaches_the_cassette(box: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "secrets.har"
    env = box.env
    with apinotebook.record(path):
        clients = Clients(box, soap_auth="basic")
        text_auth = Clients(box, soap_auth="text")
        clients.session()
        text_auth.soap.call("ListCustomers", pageSize=1)
        # a secret in a query string, a JSON body and a custom header
        clients.crm.get("/contacts", params={"api_key": env["CRM_TOKEN"], "limit": 1})
        clients.crm.post("/contacts", json={"first_name": "Eve", "password": env["CRM_TOKEN"]})
        clients.crm.get("/contacts", headers={"X-Backup": env["MAIL_API_KEY"]}, params={"limit": 1})
    data = path.read_bytes()
    basic = base64.b64encode(f"{env['BILLING_USERNAME']}:{env['BILLING_PASSWORD']}".encode())
    assert basic not in data
    for name in SECRET_VARS:
        assert env[name].encode() not in data, name
    document = json.loads(data)
    requests = [e["request"] for e in document["log"]["entries"]]
    auth = [
        h["value"] for r in requests for h in r["headers"] if h["name"].lower() == "authorization"
    ]
    assert auth and set(auth) <= {"Bearer ***", "Basic ***"}
    assert b"<wsse:Password" in data and b"***</wsse:Password>" in data

    # and the masked recording still answers the same calls, secrets and all
    box.stop()
    clear_wsdl_cache()
    with apinotebook.replay(path) as tape:
        again = Clients(box, soap_auth="basic")
        again.session()
        again.crm.get("/contacts", params={"api_key": "another-key-value", "limit": 1})
        again.crm.post("/contacts", json={"first_name": "Eve", "password": "other-password"})
    assert tape.recorded == 0 and tape.played >= 7
    clients.close()
    text_auth.close()
    again.close()


def test_ws_security_nonces_do_not_stop_a_match(shared: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "digest.har"
    with apinotebook.record(path):
        clients = Clients(shared, soap_auth="digest")
        first = clients.soap.call("GetCustomer", customerId="CUST-00001")
    served = _served(shared)
    with apinotebook.replay(path):
        again = clients.soap.call(
            "GetCustomer", customerId="CUST-00001"
        )  # a new nonce and timestamp
        with pytest.raises(UnmatchedRequestError, match=r"SOAP body \(canonical XML\) differs"):
            clients.soap.call("GetCustomer", customerId="CUST-00002")
    assert again.replayed and again.data == first.data
    assert _served(shared) == served
    clients.close()


def test_modes(shared: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "modes.har"
    clients = Clients(shared)
    crm = clients.crm
    with pytest.raises(CassetteError, match="no cassette at"):
        apinotebook.replay(path).install()

    # once: records when the file is missing ...
    with apinotebook.record(path) as tape:
        assert tape.recording and not tape.replaying
        one = crm.get("/contacts/1")
    assert not one.replayed and tape.recorded == 1
    served = _served(shared)
    # ... and replays when it is there; a new request is an error, not a call
    with apinotebook.record(path) as tape:
        assert crm.get("/contacts/1").replayed
        with pytest.raises(UnmatchedRequestError) as info:
            crm.get("/contacts/2")
    assert _served(shared) == served
    err = info.value
    assert err.closest is not None and err.closest.endswith("/crm/contacts/1")
    assert err.differences == ["path differs: /crm/contacts/2 (recorded /crm/contacts/1)"]
    assert "#1 GET" in str(err) and "new_episodes" in str(err)

    # new_episodes: what matches is replayed, the rest is sent and appended
    with apinotebook.record(path, mode="new_episodes") as tape:
        assert crm.get("/contacts/1").replayed
        assert not crm.get("/contacts/2").replayed
    assert _served(shared) == served + 1
    assert len(json.loads(path.read_text())["log"]["entries"]) == 2
    with apinotebook.replay(path):
        assert crm.get("/contacts/2").replayed

    # all: everything is sent again and the file rewritten with what was sent
    with apinotebook.record(path, mode="all") as tape:
        assert not crm.get("/contacts/3").replayed
    assert tape.recorded == 1
    urls = [e["request"]["url"] for e in json.loads(path.read_text())["log"]["entries"]]
    assert len(urls) == 1 and urls[0].endswith("/contacts/3")
    clients.close()


def test_answers_play_in_order_then_repeat(shared: Sandbox, tmp_path: Path) -> None:
    path = tmp_path / "retries.har"
    clients = Clients(shared)
    shared.set_faults("crm", error_rate=1.0)
    try:
        with apinotebook.record(path):
            failed = clients.crm.get("/contacts", params={"limit": 1})
    finally:
        shared.set_faults("crm")
    with apinotebook.record(path, mode="new_episodes"):
        replayed = clients.crm.get("/contacts", params={"limit": 1})  # the failures, in order
        ok = clients.crm.get("/contacts", params={"limit": 1})  # all played: sent, recorded
    assert failed.status >= 500 and len(failed.attempts) == FAST.max_attempts
    assert replayed.replayed and replayed.status == failed.status
    assert ok.status == 200 and not ok.replayed
    with apinotebook.replay(path):
        again = clients.crm.get("/contacts", params={"limit": 1})
        assert [a.status for a in again.attempts] == [a.status for a in failed.attempts]
        assert again.replayed and again.status == failed.status
        then = clients.crm.get("/contacts", params={"limit": 1})
        assert then.status == 200 and then.json() == ok.json()
        assert clients.crm.get("/contacts", params={"limit": 1}).status == 200  # repeats
    with apinotebook.replay(path, repeat=False):
        clients.crm.get("/contacts", params={"limit": 1})
        clients.crm.get("/contacts", params={"limit": 1})
        with pytest.raises(UnmatchedRequestError, match="all played"):
            clients.crm.get("/contacts", params={"limit": 1})
    clients.close()


def test_a_cassette_that_is_not_har_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.har"
    bad.write_text("{not json")
    with pytest.raises(CassetteError, match="is not JSON"):
        apinotebook.replay(bad).install()
    bad.write_text('{"log": {}}')
    with pytest.raises(CassetteError, match="no log.entries"):
        apinotebook.replay(bad).install()
    with pytest.raises(apinotebook.ConfigError, match="Unknown cassette mode 'onse'"):
        apinotebook.record(bad, mode="onse")  # type: ignore[arg-type]


def test_threads_record_and_replay_side_by_side(shared: Sandbox, tmp_path: Path) -> None:
    """A cassette is installed for the process: the worker threads of ``gather`` use it."""
    path = tmp_path / "threads.har"
    clients = Clients(shared)
    calls = [("GET", f"/contacts/c_{i:06d}") for i in range(1, 31)]
    with apinotebook.record(path) as tape:
        live = list(clients.crm.gather(calls, concurrency=4))
    assert tape.recorded == 30 and sorted(e.number for e in tape.entries) == list(range(1, 31))
    served = _served(shared)
    with apinotebook.replay(path) as again:
        replayed = list(clients.crm.gather(list(reversed(calls)), concurrency=4))
    assert _served(shared) == served and again.played == 30
    assert all(ex.replayed for ex in replayed)
    by_url = {ex.url: ex.json() for ex in live}
    assert {ex.url: ex.json() for ex in replayed} == by_url
    clients.close()
