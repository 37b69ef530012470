"""Mail's GraphQL subscriptions: ``subscriberAdded`` and ``listChanged``.

::

    type Subscription {
      subscriberAdded(listId: ID, after: Int): SubscriberAdded!
      listChanged(after: Int): ListChanged!
    }

Served over ``graphql-transport-ws`` and the legacy ``graphql-ws`` at the same
URL as queries (``/mail/graphql``), with the same ``X-API-Key`` on the
handshake. Every event has an ``offset``; subscribing with ``after`` set to
the last offset a client handled replays what it missed (the store keeps the
last 10,000 events), then follows live: reconnect and resume lose nothing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from apinotebook.sandbox._graphql import service_error
from apinotebook.sandbox._mail_store import MailingList, MailStore, Subscriber, store_of

__all__ = ["ListChanged", "SubscriberAdded", "Subscription"]


@strawberry.type(description="A subscriber was added to a list.")
class SubscriberAdded:
    """One ``subscriberAdded`` event."""

    offset: int = strawberry.field(description="Pass it back as `after` to resume after it.")
    subscriber: Subscriber


@strawberry.type(description="A list was created, or its subscribers changed.")
class ListChanged:
    """One ``listChanged`` event."""

    offset: int = strawberry.field(description="Pass it back as `after` to resume after it.")
    change: str = strawberry.field(description="created, subscribers or unsubscribed")
    mailing_list: MailingList = strawberry.field(name="list")


async def _follow(store: MailStore, after: int | None, kind: str) -> AsyncGenerator[Any, None]:
    if after is not None and after < 0:
        raise service_error("after must be an event offset (0 or more).", "BAD_USER_INPUT")
    offset = store.events.last if after is None else after
    while True:
        for event in await store.events.wait(offset):
            offset = event["offset"]
            if event["type"] == kind:
                yield event


@strawberry.type
class Subscription:
    """Follow the mailing lists as they change."""

    @strawberry.subscription(
        description="Each subscriber added to a list (to `listId`, or to any); `after` "
        "replays the events after that offset first."
    )
    async def subscriber_added(
        self, info: strawberry.Info, list_id: strawberry.ID | None = None, after: int | None = None
    ) -> AsyncGenerator[SubscriberAdded, None]:
        """New subscribers."""
        store = store_of(info)
        if list_id is not None:
            store.require_list(str(list_id))
        async for event in _follow(store, after, "subscriberAdded"):
            if list_id is not None and event["list_id"] != str(list_id):
                continue
            lst = store.require_list(event["list_id"])
            yield SubscriberAdded(offset=event["offset"], subscriber=lst.members[event["email"]])

    @strawberry.subscription(
        description="Each list created or changed; `after` replays what came after that offset."
    )
    async def list_changed(
        self, info: strawberry.Info, after: int | None = None
    ) -> AsyncGenerator[ListChanged, None]:
        """List changes."""
        store = store_of(info)
        async for event in _follow(store, after, "listChanged"):
            lst = store.require_list(event["list_id"])
            yield ListChanged(offset=event["offset"], change=event["change"], mailing_list=lst)
