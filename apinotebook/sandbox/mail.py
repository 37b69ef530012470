"""Email marketing over GraphQL: mailing lists and their subscribers.

The GraphQL half of the sandbox's "sync CRM contacts into the newsletter"
story, served by strawberry at ``/mail/graphql``::

    type Query {
      lists(first: Int! = 20, after: String): ListConnection!
      list(id: ID!): MailingList
      subscriber(listId: ID!, email: String!): Subscriber
      subscribers(listId: ID!, first: Int! = 50, after: String,
                  status: SubscriptionStatus, updatedSince: String): SubscriberConnection!
    }
    type Mutation {
      createList(name: String!): MailingList!
      upsertSubscribers(listId: ID!, input: [SubscriberInput!]!): UpsertSubscribersPayload!
      unsubscribe(listId: ID!, email: String!): Subscriber!
    }
    type Subscription {       # over graphql-transport-ws / graphql-ws, same URL
      subscriberAdded(listId: ID, after: Int): SubscriberAdded!
      listChanged(after: Int): ListChanged!
    }

What a learner meets here: Relay-style cursor pagination; an idempotent
upsert keyed by email that reports per-item ``userErrors`` beside the rows it
did write; and partial results: ``Subscriber.engagement`` times out for a
fixed ~6% of subscribers, so a query returns ``data`` *and* ``errors`` with the
``path`` of each null. Every request needs ``X-API-Key: $MAIL_API_KEY``.

The data lives in :class:`~apinotebook.sandbox._mail_store.MailStore`, seeded
lazily (on the first request) from the same people as the CRM's contacts, so
start-up stays instant for any number of contacts. The store is also offered
to the CRM's built-in mail connector (see :mod:`apinotebook.sandbox._registry`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

import strawberry
from graphql import GraphQLResolveInfo

from apinotebook.sandbox import _registry
from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._graphql import (
    Connection,
    GraphQLEndpoint,
    api_key,
    check_first,
    connection,
    make_schema,
    service_error,
    start_after,
)
from apinotebook.sandbox._mail_store import (
    MAX_LIST_PAGE,
    MAX_UPSERT,
    ListConnection,
    MailingList,
    MailStore,
    Subscriber,
    SubscriberInput,
    SubscriptionStatus,
    UpsertSubscribersPayload,
    page,
    store_of,
)
from apinotebook.sandbox._mail_stream import Subscription
from apinotebook.sandbox._seed import isoformat

__all__ = ["MailStore", "Mutation", "Query", "build", "schema"]


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise service_error(
            f"updatedSince={value!r} is not an RFC 3339 timestamp (e.g. 2025-12-01T00:00:00Z).",
            "BAD_USER_INPUT",
        ) from None
    return isoformat(when if when.tzinfo else when.replace(tzinfo=UTC))


# -- root types -----------------------------------------------------------------


@strawberry.type
class Query:
    """Read mailing lists and subscribers."""

    @strawberry.field(description="Every mailing list, oldest first (first: 0-100).")
    def lists(
        self, info: strawberry.Info, first: int = 20, after: str | None = None
    ) -> ListConnection:
        """A page of lists."""
        check_first(first, MAX_LIST_PAGE)
        page = connection(store_of(info).all_lists(), "list", start_after(after, "list"), first)
        return ListConnection(
            total_count=page.total_count, edges=page.edges, page_info=page.page_info
        )

    @strawberry.field(name="list", description="One list by id, or null.")
    def mailing_list(self, info: strawberry.Info, id: strawberry.ID) -> MailingList | None:
        """A list by id."""
        return store_of(info).get_list(str(id))

    @strawberry.field(description="One subscriber of a list by email, or null.")
    def subscriber(
        self, info: strawberry.Info, list_id: strawberry.ID, email: str
    ) -> Subscriber | None:
        """A subscriber by email (case-insensitive)."""
        return store_of(info).require_list(str(list_id)).members.get(email.strip().lower())

    @strawberry.field(
        description="A list's subscribers, oldest first; filter by status and by "
        "updatedAt >= updatedSince (RFC 3339). first: 0-500."
    )
    def subscribers(
        self,
        info: strawberry.Info,
        list_id: strawberry.ID,
        first: int = 50,
        after: str | None = None,
        status: SubscriptionStatus | None = None,
        updated_since: str | None = None,
    ) -> Connection[Subscriber]:
        """A page of subscribers."""
        lst = store_of(info).require_list(str(list_id))
        return page(lst, first=first, after=after, status=status, since=_since(updated_since))


@strawberry.type
class Mutation:
    """Change mailing lists and subscribers."""

    @strawberry.mutation(description="Create an empty list; names are unique.")
    def create_list(self, info: strawberry.Info, name: str) -> MailingList:
        """A new list."""
        return store_of(info).create_list(name)

    @strawberry.mutation(
        description=f"Create or update up to {MAX_UPSERT} subscribers keyed by email "
        "(trimmed, lower-cased). Re-sending the same input changes nothing. Invalid "
        "items are reported in userErrors and skipped; valid ones are written."
    )
    def upsert_subscribers(
        self, info: strawberry.Info, list_id: strawberry.ID, input: list[SubscriberInput]
    ) -> UpsertSubscribersPayload:
        """Idempotent batch upsert (:func:`schema` serves it without this conversion)."""
        return store_of(info).upsert(str(list_id), [vars(item) for item in input])

    @strawberry.mutation(description="Mark a subscriber UNSUBSCRIBED (idempotent).")
    def unsubscribe(self, info: strawberry.Info, list_id: strawberry.ID, email: str) -> Subscriber:
        """Unsubscribe by email."""
        return store_of(info).unsubscribe(str(list_id), email)


def _upsert_coerced(
    _root: object,
    info: GraphQLResolveInfo[dict[str, Any]],
    listId: str,
    input: list[dict[str, Any]],
) -> UpsertSubscribersPayload:
    store: MailStore = info.context["store"]
    return store.upsert(str(listId), input)


@cache
def schema() -> strawberry.Schema:
    """The mail schema (built once per process, on first use).

    Turning 100 ``SubscriberInput`` values into strawberry objects costs more
    than the upsert itself, and graphql-core has already coerced and validated
    them: ``upsertSubscribers`` is served straight from graphql-core's
    arguments, by the same :meth:`MailStore.upsert`.
    """
    built = make_schema(Query, Mutation, Subscription)
    mutation = built._schema.mutation_type
    if mutation is not None and "upsertSubscribers" in mutation.fields:
        mutation.fields["upsertSubscribers"].resolve = _upsert_coerced
    return built


def build(ctx: SandboxContext) -> list[Mount]:
    """The mail service, mounted at ``/mail``."""
    store = MailStore(seed=ctx.seed, contacts=ctx.contacts, companies=ctx.companies)
    _registry.provide(ctx, "mail", store)
    app = GraphQLEndpoint(
        schema(),
        authorize=api_key("X-API-Key", ctx.credentials["MAIL_API_KEY"], "MAIL_API_KEY"),
        context={"store": store},
    )
    return [
        Mount(
            prefix="/mail",
            app=app,
            service="mail",
            error_format="graphql",
            urls={"mail": "/mail/graphql"},
            env={"MAIL_URL": "/mail/graphql"},
            state=store,
        )
    ]
