"""WebSocketClient against websockets' own server (an echo) and the sandbox's chat socket."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import threading
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from websockets.sync.server import serve

from apinotebook import (
    ApiKey,
    Bearer,
    ConfigError,
    History,
    HTTPStatusError,
    ProtocolError,
    WebSocketClient,
)
from apinotebook.streams import StreamRecord

TOKEN = "ws-token-5b0c1d2e"


@pytest.fixture(scope="module")
def echo():
    """websockets' threading server: echoes; ``close:CODE`` closes with that code."""
    seen: list[dict] = []

    def check(connection, request):
        query = parse_qs(urlsplit(request.path).query)
        seen.append(
            {"headers": {k.lower(): v for k, v in request.headers.raw_items()}, "query": query}
        )
        if request.headers.get("Authorization") != f"Bearer {TOKEN}" and query.get("api_key") != [
            TOKEN
        ]:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "no credential\n")
        return None

    def handler(ws):
        for message in ws:
            if isinstance(message, str) and message.startswith("close:"):
                ws.close(int(message[6:]), "bye")
                return
            ws.send(message)

    def pick(connection, offered):  # a subprotocol is optional here
        return next((p for p in ("echo.v2", "echo.v1") if p in offered), None)

    server = serve(handler, "127.0.0.1", 0, select_subprotocol=pick, process_request=check)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.socket.getsockname()[1]
    yield f"ws://127.0.0.1:{port}/echo", seen
    server.shutdown()
    thread.join()


def test_text_binary_and_json_round_trip(echo):
    url, _ = echo
    hist = History()
    with WebSocketClient(url, auth=Bearer(TOKEN), subprotocols=["echo.v1"], history=hist) as ws:
        assert ws.subprotocol == "echo.v1"
        ws.send("hello")
        assert ws.recv(timeout=5).data == "hello"
        ws.send(b"\x00\xff")
        message = ws.recv(timeout=5)
        assert message.data == b"\x00\xff" and message.is_binary and message.opcode == 2
        ws.send_json({"n": 1, "text": "é"})
        assert ws.recv_json(timeout=5) == {"n": 1, "text": "é"}
        assert ws.ping() > 0
    record = hist.last
    assert isinstance(record, StreamRecord) and record.kind == "websocket"
    assert record.status == 101 and record.close_code == 1000
    assert [(m.direction, m.opcode) for m in record] == [
        ("send", 1), ("receive", 1), ("send", 2), ("receive", 2), ("send", 1), ("receive", 1),
    ]  # fmt: skip
    assert record.url.startswith("ws://")


def test_the_har_has_web_socket_messages_as_browsers_write_them(echo):
    url, _ = echo
    hist = History()
    with WebSocketClient(url, auth=ApiKey(TOKEN, query="api_key"), history=hist) as ws:
        ws.send(f"my token is {TOKEN}")
        ws.recv(timeout=5)
        ws.send(b"\x01\x02")
        ws.recv(timeout=5)
    har = hist.to_har()
    entry = har["log"]["entries"][-1]
    assert entry["_resourceType"] == "websocket" and entry["response"]["status"] == 101
    messages = entry["_webSocketMessages"]
    assert [m["type"] for m in messages] == ["send", "receive", "send", "receive"]
    assert [m["opcode"] for m in messages] == [1, 1, 2, 2]
    assert messages[2]["data"] == "AQI="  # binary as base64
    assert all(isinstance(m["time"], float) for m in messages)
    text = json.dumps(har)
    assert TOKEN not in text and TOKEN not in repr(hist.last)  # query token and message masked
    assert "api_key=***" in entry["request"]["url"]


def test_auth_reaches_the_server_and_a_refusal_is_a_typed_error(echo):
    url, seen = echo
    with WebSocketClient(url, auth=Bearer(TOKEN), headers={"X-Trace": "7"}, history=None) as ws:
        ws.send("x")
        ws.recv(timeout=5)
    assert seen[-1]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert seen[-1]["headers"]["x-trace"] == "7"
    hist = History()
    with pytest.raises(HTTPStatusError, match="401") as info:
        WebSocketClient(url, auth=Bearer("wrong"), history=hist).connect()
    assert info.value.exchange.status == 401 and hist.last.status == 401


def test_close_codes_come_back(echo):
    url, _ = echo
    ws = WebSocketClient(url, auth=Bearer(TOKEN), history=None).connect()
    ws.send("close:4000")
    with pytest.raises(ProtocolError, match="4000 bye"):
        ws.recv(timeout=5)
    assert ws.closed and ws.close_code == 4000 and ws.close_reason == "bye"


def test_bad_arguments_are_config_errors():
    with pytest.raises(ConfigError, match="ws://"):
        WebSocketClient("ftp://example.org/socket")
    with pytest.raises(ConfigError, match="auth="):
        WebSocketClient("ws://127.0.0.1:9/x", auth="token")  # type: ignore[arg-type]


def test_async_client(echo):
    url, _ = echo

    async def main():
        async with WebSocketClient(url, auth=Bearer(TOKEN), history=None) as ws:
            await ws.asend_json({"a": 1})
            await ws.asend(b"\x07")
            first = await ws.arecv_json()
            second = await ws.arecv()
            latency = await ws.aping()
        return first, second, latency, ws

    first, second, latency, ws = asyncio.run(main())
    assert first == {"a": 1} and second.data == b"\x07" and latency > 0
    assert ws.close_code == 1000


# -- the sandbox's chat event socket --------------------------------------------------------


def _post(chat, channel, n):
    for i in range(n):
        assert chat.post(f"/channels/{channel}/messages", json={"text": f"m{i}"}).status == 201


def _channel(chat, name):
    ex = chat.post("/channels", json={"name": name})
    assert ex.status == 201, ex.text
    return ex.json()["id"]


def test_chat_events_arrive_and_are_acknowledged(clean, chat):
    with chat.websocket("/events") as ws:
        hello = ws.recv_json(timeout=5)
        assert hello["type"] == "hello"
        channel = _channel(chat, "ws-live")
        _post(chat, channel, 2)
        kinds = []
        for _ in range(3):
            envelope = ws.recv_json(timeout=5)
            kinds.append(envelope["event"]["type"])
            ws.send_json({"envelope_id": envelope["envelope_id"]})
        assert kinds == ["channel_created", "message", "message"]


def test_reconnect_and_resume_lose_nothing_under_drops_and_malformed_frames(clean, chat):
    start = clean.state("chat").events.last
    channel = _channel(chat, "ws-faults")
    _post(chat, channel, 40)
    clean.set_faults("chat", stream_drop_after=6, stream_malformed_rate=0.2)
    last = start
    texts, malformed = [], 0
    ws = chat.websocket(
        "/events", params={"since": start}, reconnect=10, resume=lambda: {"since": last}
    )
    with ws:
        while len(texts) < 40:
            message = ws.recv(timeout=10)
            try:
                envelope = message.json()
            except Exception:  # noqa: BLE001 - the injected malformed frames
                malformed += 1
                continue
            if envelope["type"] != "event":
                continue
            assert envelope["offset"] > last, "a duplicate or an old event"
            last = envelope["offset"]
            with contextlib.suppress(ProtocolError):  # acks to a dropped connection fail
                ws.send_json({"envelope_id": envelope["envelope_id"]})
            if envelope["event"]["type"] == "message":
                texts.append(envelope["event"]["message"]["text"])
    assert texts == [f"m{i}" for i in range(40)]
    assert ws.record is not None and ws.record.reconnects >= 40 // 6
    assert malformed > 0


def test_a_slow_consumer_is_closed_and_resumes(clean, chat):
    start = clean.state("chat").events.last
    channel = _channel(chat, "ws-slow")
    _post(chat, channel, 12)
    clean.set_faults("chat", stream_max_unacked=4)
    last = start
    offsets = []
    ws = chat.websocket(
        "/events", params={"since": start}, reconnect=10, resume=lambda: {"since": last}
    )
    with ws:
        while len(offsets) < 13:  # never acknowledges: the server closes with 1013 every 4
            envelope = ws.recv_json(timeout=10)
            if envelope["type"] == "event":
                last = envelope["offset"]
                offsets.append(last)
    assert offsets == list(range(start + 1, start + 14))
    assert ws.record.reconnects >= 3


def test_ctrl_c_closes_the_socket_and_the_server_sees_it(clean, chat, wait_until):
    store = clean.state("chat")
    ws = chat.websocket("/events").connect()
    ws.recv_json(timeout=5)  # hello
    wait_until(lambda: store.sockets == 1, "the server to count the socket")
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        timer.start()
        for _ in ws:  # nothing arrives: the interrupt lands in recv()
            pass
    timer.join()
    assert ws.close_code == 1001 and ws.close_reason == "interrupted"
    wait_until(lambda: store.sockets == 0, "the server to see the close")


def test_async_iteration_of_chat_events(clean, chat, sb):
    channel = _channel(chat, "ws-async")

    async def main():
        async with chat.websocket("/events") as ws:
            seen = []
            async for message in ws:
                envelope = message.json()
                if envelope["type"] == "hello":
                    await asyncio.to_thread(_post, chat, channel, 3)
                    continue
                seen.append(envelope["event"]["message"]["text"])
                if len(seen) == 3:
                    break
        return seen

    assert asyncio.run(main()) == ["m0", "m1", "m2"]
