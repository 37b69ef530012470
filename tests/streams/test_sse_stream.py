"""RestClient.events / aevents against the sandbox's assistant (a real uvicorn server)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time

import pytest

from apinotebook import Bearer, DecodeError, HTTPStatusError, ProtocolError, RestClient
from apinotebook.sandbox._chat_stream import ASSISTANT_RETRY_MS, assistant_reply
from apinotebook.streams import StreamRecord

PROMPT = "summarise the deal"


def _tokens(events):
    return [e.data["index"] for e in events if e.event == "token"]


def test_a_reply_streams_token_by_token(clean, chat, hist):
    reply = assistant_reply(PROMPT, 11, 30)
    events = list(
        chat.events("/assistant/stream", params={"prompt": PROMPT, "length": 30}, json=True)
    )
    assert _tokens(events) == list(range(30))
    assert "".join(e.data["token"] for e in events if e.event == "token") == "".join(reply)
    assert events[-1].event == "done" and events[-1].data["tokens"] == 30
    assert [e.id for e in events] == [str(i) for i in range(31)]
    record = hist.last
    assert isinstance(record, StreamRecord) and record.kind == "sse"
    assert record.closed and record.close_reason == "the server ended the stream"
    assert record.count == 31 and record.bytes == sum(len(e.text.encode()) for e in events)
    assert record.status == 200 and record.reconnects == 0


def test_drops_and_malformed_frames_lose_nothing_and_duplicate_nothing(clean, chat):
    clean.set_faults("chat", stream_drop_after=7, stream_malformed_rate=0.2)
    stream = chat.events(
        "/assistant/stream",
        params={"prompt": PROMPT, "length": 60},
        json=True,
        malformed="skip",
    )
    events = list(stream)
    assert _tokens(events) == list(range(60))  # every token once, in order
    assert events[-1].event == "done"
    record = stream.record
    assert record.reconnects >= (60 - 1) // 7
    skipped = [m for m in record.messages if m.note == "malformed"]
    assert skipped, "the fault should have sent malformed frames"
    assert stream.retry == ASSISTANT_RETRY_MS  # the server's delay was read and used
    assert stream.last_event_id == "60"


def test_without_reconnect_a_drop_is_an_error_in_the_record(clean, chat):
    clean.set_faults("chat", stream_drop_after=3)
    stream = chat.events(
        "/assistant/stream", params={"prompt": PROMPT, "length": 20}, reconnect=False
    )
    got = []
    with pytest.raises(ProtocolError, match="broke"):
        for event in stream:
            got.append(event)
    assert len(got) == 3
    assert stream.record.closed and stream.record.error


def test_malformed_data_raises_by_default(clean, chat):
    clean.set_faults("chat", stream_malformed_rate=1.0)
    with pytest.raises(DecodeError, match="malformed='skip'"):
        list(chat.events("/assistant/stream", params={"prompt": PROMPT}, json=True))


def test_last_event_id_resumes_after_that_event(clean, chat):
    events = list(
        chat.events(
            "/assistant/stream",
            params={"prompt": PROMPT, "length": 10},
            json=True,
            last_event_id="6",
        )
    )
    assert _tokens(events) == [7, 8, 9]


def test_refusals_are_typed_errors_with_the_exchange(clean, sb, hist):
    with RestClient(sb.urls["chat"], auth=Bearer("wrong"), history=hist) as bad:
        with pytest.raises(HTTPStatusError, match="401") as info:
            list(bad.events("/assistant/stream", params={"prompt": "x"}))
    assert info.value.exchange.status == 401
    with RestClient(sb.urls["chat"], auth=Bearer(sb.env["CHAT_TOKEN"]), history=hist) as good:
        with pytest.raises(DecodeError, match="not an event stream"):
            list(good.events("/channels"))


def test_the_token_is_masked_in_the_record_and_the_har(clean, chat, hist, sb):
    list(chat.events("/assistant/stream", params={"prompt": PROMPT, "length": 3}))
    token = sb.env["CHAT_TOKEN"]
    har = json.dumps(hist.to_har())
    assert token not in har and token not in repr(hist.last)
    entry = hist.to_har()["log"]["entries"][-1]
    assert entry["_resourceType"] == "eventsource"
    assert entry["response"]["content"]["mimeType"] == "text/event-stream"
    assert entry["response"]["content"]["text"].count("event: token") == 3


def test_leaving_the_loop_closes_the_stream(clean, chat):
    stream = chat.events("/assistant/stream", params={"prompt": PROMPT, "length": 50})
    for event in stream:
        if event.id == "4":
            break
    assert stream.record.closed and stream.record.close_reason == "closed by the client"
    assert stream.record.count == 5


def test_an_exception_in_the_loop_closes_the_stream(clean, chat):
    stream = chat.events("/assistant/stream", params={"prompt": PROMPT, "length": 500})
    with pytest.raises(KeyboardInterrupt):
        for event in stream:
            if event.id == "2":
                raise KeyboardInterrupt
    assert stream.record.closed and stream.record.count == 3


def test_ctrl_c_while_waiting_closes_the_stream(clean, chat):
    # SIGINT lands while the iterator blocks in a read, as the notebook's stop button does
    clean.set_faults("chat", stream_delay=3.0)
    stream = chat.events("/assistant/stream", params={"prompt": PROMPT, "length": 5})

    def interrupt_once_open():  # the stream is open and waits 3 s for its first token
        while stream.record is None:
            time.sleep(0.01)
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=interrupt_once_open)
    with pytest.raises(KeyboardInterrupt):
        thread.start()
        for _ in stream:
            pass
    thread.join()
    assert stream.record.closed and stream.record.close_reason == "interrupted"
    assert stream.record.count == 0


def test_async_iteration_resumes_too(clean, chat):
    clean.set_faults("chat", stream_drop_after=5, stream_malformed_rate=0.2)

    async def main():
        stream = chat.aevents(
            "/assistant/stream",
            params={"prompt": PROMPT, "length": 40},
            json=True,
            malformed="skip",
        )
        events = [e async for e in stream]
        await chat.aclose()
        return events, stream

    events, stream = asyncio.run(main())
    assert _tokens(events) == list(range(40))
    assert stream.record.reconnects >= (40 - 1) // 5
