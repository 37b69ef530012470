"""The stream fault settings applied to a socket whose protocol a library speaks.

strawberry speaks the GraphQL subscription protocols itself, so the faults
sit on its ``send``: after ``stream_drop_after`` results (``next``/``data``
messages) the TCP connection is cut without a close frame, and
``stream_delay`` paces the results. (Chat's event socket applies the same
settings in its own loop: :mod:`apinotebook.sandbox._chat_stream`.)
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import cast

from apinotebook.sandbox._app import ABORT_KEY, FAULTS_KEY
from apinotebook.sandbox._context import Message, Scope, Send
from apinotebook.sandbox._faults import FaultConfig

__all__ = ["stream_faults"]

_RESULTS = frozenset({"next", "data"})


def _is_result(message: Message) -> bool:
    if message.get("type") != "websocket.send" or not message.get("text"):
        return False
    try:
        body = json.loads(message["text"])
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("type") in _RESULTS


def stream_faults(scope: Scope, send: Send) -> Send:
    """``send`` with the socket's stream faults applied (itself when there are none)."""
    cfg = scope.get(FAULTS_KEY)
    if not isinstance(cfg, FaultConfig) or not (cfg.stream_drop_after or cfg.stream_delay):
        return send
    abort = cast(Callable[[], Awaitable[bool]] | None, scope.get(ABORT_KEY))
    sent = 0
    dropped = False

    async def faulty(message: Message) -> None:
        nonlocal sent, dropped
        if dropped:
            return  # the connection is gone; strawberry learns it from receive()
        if _is_result(message):
            if cfg.stream_drop_after and sent >= cfg.stream_drop_after:
                dropped = True
                if abort is None or not await abort():
                    await send({"type": "websocket.close", "code": 1012, "reason": "dropped"})
                return
            if cfg.stream_delay:
                await asyncio.sleep(cfg.stream_delay)
            sent += 1
        await send(message)

    return faulty
