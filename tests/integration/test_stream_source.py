"""A WebSocket stream as an integration source: records, checkpoints after delivery, resume."""

from __future__ import annotations

import pytest

from apinotebook import Bearer, History, RestClient
from apinotebook.integration import Integration
from apinotebook.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(services=("chat",), seed=9) as box:
        yield box


@pytest.fixture
def chat(sb):
    sb.set_faults()
    client = RestClient(sb.urls["chat"], auth=Bearer(sb.env["CHAT_TOKEN"]), history=History())
    yield client
    client.close()
    sb.set_faults()


def _integration(tmp_path, chat, start, delivered):
    sync = Integration("chat-events", state=str(tmp_path / "state.db"), progress=None)

    @sync.stream_source(key="id", position="offset")
    def events(position):
        since = start if position is None else position
        last = [since]
        ws = chat.websocket(
            "/events", params={"since": since}, reconnect=10, resume=lambda: {"since": last[0]}
        )
        with ws:
            for message in ws:
                envelope = message.json()
                if envelope["type"] == "event" and envelope["event"]["type"] == "message":
                    last[0] = envelope["offset"]
                    yield {"offset": envelope["offset"], **envelope["event"]["message"]}

    @sync.destination(batch_size=2)
    def deliver(batch):
        delivered.extend(record["text"] for record in batch)

    return sync


def _post(sb, channel, texts):
    store = sb.state("chat")
    for text in texts:
        store.post(channel, text, ("U1", "u"))


def test_messages_are_delivered_checkpointed_and_resumed(tmp_path, sb, chat):
    store = sb.state("chat")
    start = store.events.last
    channel = store.create_channel("integration")
    _post(sb, channel, [f"a{i}" for i in range(6)])
    delivered: list[str] = []
    sync = _integration(tmp_path, chat, start, delivered)
    report = sync.listen(limit=6)
    assert delivered == [f"a{i}" for i in range(6)]
    assert report.trigger == "listen"
    checkpoint = sync.store.cursor()
    assert checkpoint == store.events.last  # the offset of the last delivered message

    # a new process (a new Integration on the same state) resumes after the checkpoint,
    # through dropped connections: nothing lost, nothing delivered twice
    sb.set_faults("chat", stream_drop_after=2)
    _post(sb, channel, [f"b{i}" for i in range(5)])
    again: list[str] = []
    resumed = _integration(tmp_path, chat, start, again)
    resumed.listen(limit=5)
    assert again == [f"b{i}" for i in range(5)]
    assert resumed.store.cursor() == store.events.last


def test_a_message_that_is_not_a_record_is_skipped_and_counted(tmp_path):
    from apinotebook.streams import StreamMessage

    sync = Integration("skips", state=":memory:", progress=None)
    got: list[dict] = []

    @sync.stream_source(key="id", position="id")
    def stream(position):
        return [StreamMessage('{"id": 1}'), StreamMessage("{not json"), StreamMessage('{"id": 2}')]

    @sync.destination(batch_size=10)
    def deliver(batch):
        got.extend(batch)

    sync.listen()
    assert got == [{"id": 1}, {"id": 2}] and sync.skipped == 1
