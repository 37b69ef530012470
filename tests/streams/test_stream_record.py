"""StreamRecord and StreamMessage as values: no network."""

from __future__ import annotations

import pytest

from apinotebook import DecodeError, History, Secret
from apinotebook._exchange import Request
from apinotebook.streams import StreamMessage, StreamRecord


def _record(**kwargs):
    request = Request(
        "GET", "wss://chat.example/events?token=abc123", {"Authorization": "Bearer x"}
    )
    return StreamRecord(kind="websocket", protocol="rest", request=request, status=101, **kwargs)


def test_the_buffer_is_bounded_and_counts_what_it_dropped():
    record = _record(max_messages=3)
    for i in range(5):
        record.add(StreamMessage(f"m{i}"))
    assert [m.data for m in record] == ["m2", "m3", "m4"]
    assert record.count == 5 and record.dropped == 2 and record.bytes == 10


def test_close_is_recorded_once_with_its_reason():
    record = _record()
    record.close(4001, "bye")
    record.close(1000, "again")
    assert record.closed and record.close_code == 4001 and record.close_reason == "bye"
    assert "closed 4001 bye" in repr(record)


def test_listeners_see_messages_and_the_close_and_a_broken_one_is_dropped():
    record = _record()
    seen = []

    def broken(rec, message):
        raise RuntimeError("a broken view")

    record.subscribe(lambda rec, message: seen.append(message))
    record.subscribe(broken)
    record.add(StreamMessage("a"))
    record.close(1000)
    assert [m.data if m else None for m in seen] == ["a", None]


def test_har_fields_mask_secrets_and_write_binary_as_base64():
    secret = Secret("s3cr3t-value-42")
    history = History()
    record = _record()
    history.append(record)
    record.add(StreamMessage(f"token {secret.reveal()}", direction="send"))
    record.add(StreamMessage(b"\xff\x00", opcode=2))
    entry = history.to_har()["log"]["entries"][0]
    assert entry["_webSocketMessages"][0]["data"] == "token ***"
    assert entry["_webSocketMessages"][1] == {
        "type": "receive",
        "time": record.messages[1].time,
        "opcode": 2,
        "data": "/wA=",
    }
    assert "abc123" not in entry["request"]["url"]


def test_a_message_that_is_not_json_says_so():
    with pytest.raises(DecodeError, match="Expected a JSON message"):
        StreamMessage("{oops").json()
    assert StreamMessage('{"a": 1}').json() == {"a": 1}
    assert StreamMessage("é").size == 2


def test_replace_gives_a_plain_exchange_of_the_handshake():
    copy = _record().replace(status=200)
    assert type(copy).__name__ == "Exchange" and copy.status == 200
