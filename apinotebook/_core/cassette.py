"""The send loop's cassette hook: answer a request from a recording, or record it.

The send loop (:mod:`apinotebook._core.http`) hands every HTTP round trip of
every client (REST, GraphQL, SOAP, the WSDL and OpenAPI fetches; sync and
async; each redirect hop and each retry) to :func:`through`. With no cassette
installed it simply sends. With one (:mod:`apinotebook.cassettes` installs
them, this module knows nothing about files or matching), the cassette's
:meth:`Tape.answer` may answer from the recording, and what does go on the
wire is handed to :meth:`Tape.keep`.

A cassette is installed process-wide (every thread, every task) while its
``with`` block runs; the innermost one answers. The hook works on the loop's
raw outcome (:class:`Raw`: status, headers, decoded body), below httpx's auth
flows, so a replayed call fetches no OAuth token and opens no socket.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

import httpx

from apinotebook._exceptions import TransportError

__all__ = ["Raw", "ReplayedHeaders", "Tape", "active", "install", "through", "uninstall"]


@dataclass(slots=True)
class Raw:
    """One response as the send loop reads it: the body is already decoded."""

    status: int
    headers: httpx.Headers
    content: bytes
    elapsed: float
    started_at: datetime


class ReplayedHeaders(httpx.Headers):
    """Response headers served from a cassette (``Exchange.replayed`` looks for them)."""


Outcome = Raw | TransportError


class Tape(Protocol):
    """What the send loop asks of an installed cassette."""

    def answer(self, request: httpx.Request, protocol: str, operation: str | None) -> Raw | None:
        """The recorded answer to ``request``; ``None`` to send it; raise if it may not be sent."""

    def keep(
        self, request: httpx.Request, outcome: Raw, protocol: str, operation: str | None
    ) -> None:
        """Record a response that came from the wire."""


class _Sendable(Protocol):
    request: httpx.Request


S = TypeVar("S", bound=_Sendable)

_lock = threading.Lock()
_stack: list[Tape] = []
_top: Tape | None = None


def install(tape: Tape) -> None:
    """Make ``tape`` answer every request of the process until :func:`uninstall`."""
    global _top
    with _lock:
        _stack.append(tape)
        _top = tape


def uninstall(tape: Tape) -> None:
    """Remove ``tape`` (and stop it answering); the one installed before it answers again."""
    global _top
    with _lock:
        if tape in _stack:
            _stack.remove(tape)
        _top = _stack[-1] if _stack else None


def active() -> Tape | None:
    """The cassette answering requests now, if any."""
    return _top


def through(
    send: S, protocol: str, operation: str | None
) -> Generator[S, Outcome | None, Outcome | None]:
    """Send ``send`` (yield it to the driver), unless the installed cassette answers it.

    Used in the send loop as ``outcome = yield from through(_Send(...), protocol, op)``.
    """
    tape = _top
    if tape is None:
        return (yield send)
    answer = tape.answer(send.request, protocol, operation)
    if answer is not None:
        return answer
    outcome = yield send
    if isinstance(outcome, Raw):
        tape.keep(send.request, outcome, protocol, operation)
    return outcome
