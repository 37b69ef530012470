"""GraphQL subscriptions over Server-Sent Events (the graphql-sse "distinct connections" mode).

The operation is POSTed as JSON with ``Accept: text/event-stream``; the server
answers with ``next`` events (each data a GraphQL result) and one ``complete``.
The event stream underneath is :class:`~apinotebook.streams.EventStream`, so
the record, masking and interrupt handling are the same as for any SSE.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from apinotebook.streams._gqlws import SubscriptionResult
from apinotebook.streams._sse import EventStream

__all__ = ["SseSubscription"]


class SseSubscription:
    """The results of a subscription over SSE: iterate with ``for`` or ``async for``."""

    def __init__(self, stream: EventStream) -> None:
        self.stream = stream

    def __iter__(self) -> Iterator[SubscriptionResult]:
        for event in self.stream:
            if event.event == "complete":
                return
            if event.event in ("next", "message"):
                yield SubscriptionResult.from_payload(event.data)

    def __aiter__(self) -> AsyncIterator[SubscriptionResult]:
        return self._aiter()

    async def _aiter(self) -> AsyncIterator[SubscriptionResult]:
        async for event in self.stream:
            if event.event == "complete":
                return
            if event.event in ("next", "message"):
                yield SubscriptionResult.from_payload(event.data)

    def close(self) -> None:
        """Close the connection."""
        self.stream.close()

    def __repr__(self) -> str:
        return f"<SseSubscription {self.stream!r}>"
