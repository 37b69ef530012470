"""Chat's streams driven by the reference clients (httpx-sse, websockets), not ours."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from httpx_sse import connect_sse
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from apinotebook import ConfigError
from apinotebook.sandbox import Sandbox
from apinotebook.sandbox._chat_stream import assistant_reply
from apinotebook.sandbox._event_log import EventLog
from apinotebook.sandbox._faults import FaultConfig


@pytest.fixture(scope="module")
def sb():
    with Sandbox(services=("chat",), seed=3) as box:
        yield box


@pytest.fixture
def auth(sb):
    return {"Authorization": f"Bearer {sb.env['CHAT_TOKEN']}"}


def _ws_url(sb, query=""):
    return sb.urls["chat"].replace("http://", "ws://") + "/events" + query


def test_the_assistant_is_deterministic_and_resumes(sb, auth):
    url = sb.urls["chat"] + "/assistant/stream"
    with httpx.Client(headers=auth) as client:
        with connect_sse(client, "GET", url, params={"prompt": "hi there", "length": 8}) as es:
            raw = list(es.iter_sse())
        assert raw[0].retry == 50 and not raw[0].data  # the reconnection delay comes first
        events = raw[1:]
        assert [e.event for e in events] == [*["token"] * 8, "done"]
        text = "".join(json.loads(e.data)["token"] for e in events if e.event == "token")
        assert text == "".join(assistant_reply("hi there", 3, 8))
        headers = {"Last-Event-ID": "5"}
        params = {"prompt": "hi there", "length": 8}
        with connect_sse(client, "GET", url, params=params, headers=headers) as es:
            assert [e.id for e in es.iter_sse() if e.data] == ["6", "7", "8"]
        r = client.get(url, params=params, headers={"Last-Event-ID": "99"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_last_event_id"


def test_the_event_socket_needs_the_token(sb, auth):
    with pytest.raises(InvalidStatus) as info:
        connect(_ws_url(sb), additional_headers={"Authorization": "Bearer nope"})
    assert info.value.response.status_code == 403
    token = sb.env["CHAT_TOKEN"]
    with connect(_ws_url(sb, f"?token={token}")) as ws:  # a query token works too
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"


def test_since_replays_and_a_bad_since_is_refused(sb, auth):
    store = sb.state("chat")
    start = store.events.last
    channel = store.create_channel("replay")
    store.post(channel, "one", ("U1", "u"))
    with connect(_ws_url(sb, f"?since={start}"), additional_headers=auth) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "hello"
        kinds = [json.loads(ws.recv(timeout=5))["event"]["type"] for _ in range(2)]
    assert kinds == ["channel_created", "message"]
    with pytest.raises(InvalidStatus) as info:  # refused before the handshake completes
        connect(_ws_url(sb, "?since=x"), additional_headers=auth)
    assert info.value.response.status_code == 403


def test_stream_fault_settings_are_checked():
    assert FaultConfig.from_mapping({"stream_drop_after": "3"}).stream_drop_after == 3
    with pytest.raises(ConfigError, match="whole number"):
        FaultConfig.from_mapping({"stream_max_unacked": "many"})
    with pytest.raises(ConfigError, match="stream_drop_after"):
        FaultConfig(stream_drop_after=-1)
    with pytest.raises(ConfigError, match="stream_malformed_rate"):
        FaultConfig(stream_malformed_rate=2.0)


def test_the_event_log_is_bounded_and_wakes_waiters():
    log = EventLog(maxlen=3)
    for i in range(5):
        log.append("e", n=i)
    assert [e["offset"] for e in log.since(0)] == [3, 4, 5] and log.since(5) == []

    async def main():
        waiter = asyncio.ensure_future(log.wait(5))
        await asyncio.sleep(0)
        assert not waiter.done()
        await asyncio.to_thread(log.append, "e", n=5)  # from another thread
        return await asyncio.wait_for(waiter, 5)

    assert [e["n"] for e in asyncio.run(main())] == [5]
