"""A stream as an integration source: ``@sync.stream_source(...)`` and ``sync.listen()``.

::

    @sync.stream_source(key="offset", position="offset")
    def chat_events(position):
        params = {"since": position} if position is not None else {}
        return chat.websocket("/events", params=params, reconnect=True,
                              resume=lambda: {"since": chat_events.position})

    sync.listen(limit=500)    # or sync.listen() to run until stopped

The decorated function gets the last checkpointed position (``None`` the
first time) and returns the stream: an SSE ``EventStream``, a
``WebSocketClient``, a GraphQL ``Subscription``, or any iterable. Each message
becomes a record (a WebSocket or SSE message's JSON, a subscription result's
``data``), and from there the run loop's guarantees hold unchanged: a key and
a version per record, duplicates skipped, failures dead-lettered, and the
position checkpointed as a cursor *after* the destination confirmed each
batch. After a restart the function is called with that position and the
stream resumes there; a duplicate that a server replays is skipped by key.

Messages that are not JSON (or carry no data) are not records: they are
counted in ``skipped`` and logged, and stay in the stream's record in the
history. A long-lived stream has no end, so ``listen`` is a run that lasts
until ``limit`` records, the stream's end, or Ctrl-C / SIGTERM (``run`` is the
same; the exported script's ``listen`` command calls it), read on the calling
thread (a stream source turns read-ahead off: no reader thread is left waiting
on a live socket); give the destination a small ``batch_size`` so records are
delivered as they come.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from apinotebook._exceptions import DecodeError

if TYPE_CHECKING:
    from apinotebook.integration._pipeline import SourceSpec

__all__ = ["StreamSources", "as_record"]

log = logging.getLogger("apinotebook.integration")

F = TypeVar("F", bound=Callable[..., Any])
_SKIP = object()


def as_record(message: Any) -> Any:
    """A message as a record: JSON for stream messages and events, ``data`` for results."""
    kind = type(message).__name__
    if kind == "StreamMessage":
        return message.json()
    if kind == "ServerSentEvent":
        return message.data if not isinstance(message.data, str) else message.json()
    if kind == "SubscriptionResult":
        if message.errors:
            raise DecodeError(f"a subscription result with errors: {message.errors[:1]}")
        return message.data
    return message


class StreamSources:
    """``stream_source`` and ``listen`` (mixed into ``Integration``)."""

    if TYPE_CHECKING:  # defined by Integration

        def source(
            self,
            fn: Any = None,
            *,
            key: str | Callable[[Any], Any] = "id",
            cursor: str | Callable[[Any], Any] | None = None,
        ) -> Any: ...

        def run(
            self,
            *,
            limit: int | None = None,
            progress: Any = True,
            trigger: str = "manual",
            wait: float | None = None,
        ) -> Any: ...

        _source: SourceSpec | None
        read_ahead: int

    #: messages of the last listen that were not records (not JSON, no data)
    skipped: int = 0

    def stream_source(
        self,
        fn: F | None = None,
        *,
        key: str | Callable[[Any], Any],
        position: str | Callable[[Any], Any],
    ) -> Any:
        """Decorate ``fn(position) -> stream``: each message becomes a record.

        Args:
            fn: the function (when used without arguments).
            key: the field (or function) identifying a record.
            position: the field (or function) of the record that is checkpointed
                and handed back to ``fn`` after a restart (an event id, an offset).
        """

        def register(func: F) -> F:
            def read(since: Any) -> Iterator[Any]:
                stream = func(since)
                try:
                    yield from self._records(stream)
                finally:
                    close = getattr(stream, "close", None)
                    if callable(close):
                        close()

            read.__name__ = getattr(func, "__name__", "stream")
            self.source(read, key=key, cursor=position)
            self.read_ahead = 0  # no reader thread left waiting on a live socket
            return func

        return register(fn) if fn is not None else register

    def _records(self, stream: Iterable[Any]) -> Iterator[Any]:
        self.skipped = 0
        for message in stream:
            try:
                record = as_record(message)
            except DecodeError as exc:
                self.skipped += 1
                log.warning("stream message skipped (not a record): %s", exc)
                continue
            if record is not None:
                yield record

    def listen(
        self, *, limit: int | None = None, progress: Any = True, wait: float | None = None
    ) -> Any:
        """Run on the stream until ``limit`` records, its end, or an interrupt.

        Batches are delivered and the position checkpointed as they fill, so
        stopping (Ctrl-C, SIGTERM) loses nothing: the next ``listen`` resumes
        after the last delivered position.

        Returns:
            the run's :class:`RunReport`.
        """
        return self.run(limit=limit, progress=progress, trigger="listen", wait=wait)
