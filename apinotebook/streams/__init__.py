"""Streaming APIs: Server-Sent Events, WebSockets and GraphQL subscriptions.

The clients call into this package: :meth:`RestClient.events` /
:meth:`RestClient.aevents` return an :class:`EventStream`,
:meth:`RestClient.websocket` and :class:`WebSocketClient` a WebSocket, and
:meth:`GraphQLClient.subscribe` a :class:`Subscription`. Each connection is one
:class:`StreamRecord` in the history (its messages, with times and sizes, in a
bounded buffer; its close code and reason), and HAR export writes WebSocket
messages as browsers do (``_webSocketMessages``).
"""

from apinotebook.streams._gqlsse import SseSubscription
from apinotebook.streams._gqlws import SUBPROTOCOLS, Subscription, SubscriptionResult
from apinotebook.streams._handshake import http_twin, ws_url
from apinotebook.streams._record import StreamMessage, StreamRecord
from apinotebook.streams._sse import EventStream, ServerSentEvent, SseSource
from apinotebook.streams._ws import RECONNECT_CODES, WebSocketClient

__all__ = [
    "RECONNECT_CODES",
    "SUBPROTOCOLS",
    "EventStream",
    "ServerSentEvent",
    "SseSource",
    "SseSubscription",
    "StreamMessage",
    "StreamRecord",
    "Subscription",
    "SubscriptionResult",
    "WebSocketClient",
    "http_twin",
    "ws_url",
]
