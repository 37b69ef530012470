"""Chat's streams: workspace events over a WebSocket, an assistant over Server-Sent Events.

==================================  ========================================================
``WS   /events``                    the workspace's events as they happen, socket-mode
                                    style; ``?since=OFFSET`` replays what came after it
``GET  /assistant/stream``          ``?prompt=...&length=N``: a reply, token by token (SSE);
                                    ``Last-Event-ID`` resumes after that token
==================================  ========================================================

The event socket (``Authorization: Bearer $CHAT_TOKEN``, or ``?token=`` for
clients that cannot set headers) sends ``{"type": "hello", "offset": N}``
first, then one envelope per event::

    {"type": "event", "envelope_id": "17", "offset": 17,
     "event": {"type": "message", "channel": "C...", "message": {...}}}

and expects ``{"envelope_id": "17"}`` back for each (an acknowledgement, as
in Slack's socket mode). A client that reconnects with ``since`` set to the
last offset it handled gets exactly the events after it.

The fault settings for streams (see :mod:`apinotebook.sandbox._faults`) apply
per connection: ``stream_drop_after`` cuts the TCP connection after that many
messages (no close frame); ``stream_malformed_rate`` sends a frame that is not
JSON before a message; ``stream_max_unacked`` closes with 1013 ("try again
later") when that many envelopes wait for their acknowledgement (a slow
consumer); ``stream_delay`` paces the messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Annotated, Any, cast

from fastapi import Header, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse

from apinotebook.sandbox._app import ABORT_KEY, FAULTS_KEY
from apinotebook.sandbox._chat_store import ChatStore
from apinotebook.sandbox._faults import FaultConfig
from apinotebook.sandbox._rest import ApiError, store_of

__all__ = ["assistant_reply", "assistant_stream", "event_socket"]

#: the reconnection delay the assistant asks for (ms), sent as ``retry:``
ASSISTANT_RETRY_MS = 50
MAX_TOKENS = 200_000

_WORDS = (
    "the contact was updated in the CRM and a welcome message went to the channel so the "
    "team can follow up with the account owner before the next renewal date while the "
    "newsletter list keeps its subscribers in sync with every change made upstream"
).split()


def _faults(scope: MutableMapping[str, Any]) -> FaultConfig:
    cfg = scope.get(FAULTS_KEY)
    return cfg if isinstance(cfg, FaultConfig) else FaultConfig()


def _rng(store: ChatStore, what: str) -> random.Random:
    return random.Random(f"{store.seed}:{what}")


def assistant_reply(prompt: str, seed: int, tokens: int | None = None) -> list[str]:
    """The deterministic reply to ``prompt``: a list of tokens (words with their spaces)."""
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).hexdigest()
    rng = random.Random(digest)
    count = tokens if tokens is not None else 24 + rng.randrange(24)
    words = [w for w in prompt.split() if w.isalnum()][:3] or ["that"]
    head = ["About", *words, "—"]
    body = [rng.choice(_WORDS) for _ in range(max(0, count - len(head)))]
    out = [*head, *body][:count]
    return [w if i == 0 else " " + w for i, w in enumerate(out)]


def _sse(fields: list[tuple[str, str]]) -> bytes:
    return ("".join(f"{k}: {v}\n" for k, v in fields) + "\n").encode()


async def assistant_stream(
    request: Request,
    prompt: Annotated[str, Query(min_length=1, max_length=4000)],
    length: Annotated[int | None, Query(ge=1, le=MAX_TOKENS, description="tokens")] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
) -> StreamingResponse:
    """Stream the assistant's reply as ``token`` events, then one ``done`` event."""
    store = cast(ChatStore, store_of(request))
    reply = assistant_reply(prompt, store.seed, length)
    start = 0
    if last_event_id:
        if not last_event_id.isdigit() or int(last_event_id) > len(reply):
            raise ApiError(
                422,
                "invalid_last_event_id",
                f"Last-Event-ID {last_event_id!r} is not a token index of this reply "
                f"(0-{len(reply)}).",
            )
        start = int(last_event_id) + 1
    cfg = _faults(request.scope)
    abort = cast(Callable[[], Awaitable[bool]] | None, request.scope.get(ABORT_KEY))
    rng = _rng(store, f"assistant:{prompt}:{start}")

    async def events() -> AsyncIterator[bytes]:
        yield _sse([("retry", str(ASSISTANT_RETRY_MS))])
        sent = 0
        for index in range(start, len(reply)):
            if cfg.stream_drop_after and sent >= cfg.stream_drop_after and abort is not None:
                await abort()
                return
            if cfg.stream_malformed_rate and rng.random() < cfg.stream_malformed_rate:
                yield _sse([("event", "token"), ("data", '{"index": ' + str(index) + ', "tok')])
            if cfg.stream_delay:
                await asyncio.sleep(cfg.stream_delay)
            data = json.dumps({"index": index, "token": reply[index]})
            yield _sse([("id", str(index)), ("event", "token"), ("data", data)])
            sent += 1
        done = json.dumps({"text": "".join(reply), "tokens": len(reply)})
        yield _sse([("id", str(len(reply))), ("event", "done"), ("data", done)])

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


async def event_socket(websocket: WebSocket) -> None:
    """The workspace's events over a WebSocket (see the module docstring)."""
    store = cast(ChatStore, store_of(websocket))
    header = websocket.headers.get("authorization")
    token = websocket.query_params.get("token")
    try:
        store.authenticate(header if header or not token else f"Bearer {token}")
    except ApiError:
        await websocket.close(code=1008, reason="Send Authorization: Bearer $CHAT_TOKEN.")
        return
    since = websocket.query_params.get("since", "")
    if since and not since.isdigit():
        await websocket.close(code=1008, reason="since must be an event offset (a number)")
        return
    await websocket.accept()
    offset = int(since) if since else store.events.last
    cfg = _faults(websocket.scope)
    abort = cast(Callable[[], Awaitable[bool]] | None, websocket.scope.get(ABORT_KEY))
    rng = _rng(store, f"events:{offset}")
    unacked: set[str] = set()
    reader = asyncio.create_task(_acks(websocket, unacked))
    store.sockets += 1
    try:
        await websocket.send_json({"type": "hello", "offset": store.events.last})
        sent = 0
        while not reader.done():
            waiting = asyncio.create_task(store.events.wait(offset))
            await asyncio.wait({waiting, reader}, return_when=asyncio.FIRST_COMPLETED)
            if not waiting.done():
                waiting.cancel()
                break
            for event in waiting.result():
                if cfg.stream_drop_after and sent >= cfg.stream_drop_after:
                    if abort is not None and await abort():
                        # stay until the client hangs up: closing now would reset the
                        # connection and destroy what the client has not read yet
                        await asyncio.wait({reader}, timeout=10)
                    else:
                        await websocket.close(code=1012, reason="dropped (injected fault)")
                    return
                if cfg.stream_max_unacked and len(unacked) >= cfg.stream_max_unacked:
                    await websocket.close(code=1013, reason="slow consumer: acknowledge envelopes")
                    return
                if cfg.stream_malformed_rate and rng.random() < cfg.stream_malformed_rate:
                    await websocket.send_text('{"type": "event", "envelope_id": ')
                if cfg.stream_delay:
                    await asyncio.sleep(cfg.stream_delay)
                envelope = str(event["offset"])
                unacked.add(envelope)
                await websocket.send_json(
                    {"type": "event", "envelope_id": envelope, "offset": event["offset"],
                     "event": {k: v for k, v in event.items() if k != "offset"}}
                )  # fmt: skip
                offset = event["offset"]
                sent += 1
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away (RuntimeError: sending after its close frame)
    finally:
        store.sockets -= 1
        reader.cancel()


async def _acks(websocket: WebSocket, unacked: set[str]) -> None:
    """Read acknowledgements until the client closes."""
    try:
        while True:
            text = await websocket.receive_text()
            try:
                ack = json.loads(text)
            except ValueError:
                continue
            if isinstance(ack, dict):
                unacked.discard(str(ack.get("envelope_id")))
    except (WebSocketDisconnect, RuntimeError):
        return
