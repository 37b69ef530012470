"""The mail service's data: mailing lists and their subscribers, and their GraphQL types.

:class:`MailStore` is what ``sb.state("mail")`` returns. Its methods are the
service's Python API too: the GraphQL resolvers in :mod:`apinotebook.sandbox.mail`
call them, and so does the CRM's built-in mail connector, in process (see
:mod:`apinotebook.sandbox._registry`). The subscriber and list objects are the
strawberry types the schema serves, kept and changed in place.

The data is seeded lazily from :func:`apinotebook.sandbox._seed.people` (the
same people as the CRM's contacts) on first use, so start-up stays instant for
any number of contacts.
"""

from __future__ import annotations

import random
import threading
import zlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Literal, overload

import strawberry

from apinotebook.sandbox._event_log import EventLog
from apinotebook.sandbox._graphql import (
    Connection,
    check_first,
    connection,
    service_error,
    start_after,
)
from apinotebook.sandbox._seed import EPOCH, isoformat, people

__all__ = [
    "MAX_LIST_PAGE",
    "MAX_PAGE",
    "MAX_UPSERT",
    "Engagement",
    "ListConnection",
    "MailStore",
    "MailingList",
    "Subscriber",
    "SubscriberInput",
    "SubscriptionStatus",
    "UpsertSubscribersPayload",
    "UserError",
    "page",
    "store_of",
]

#: ``upsertSubscribers`` refuses bigger batches (and writes nothing).
MAX_UPSERT = 1000
#: Largest ``first`` for ``subscribers``; ``lists`` allows up to 100.
MAX_PAGE = 500
MAX_LIST_PAGE = 100
#: ``engagement`` fails for subscribers whose CRC-32 of the email is divisible by this.
ENGAGEMENT_FAILS_EVERY = 17

_SEED_LISTS = (("Newsletter", 0.20), ("Product updates", 0.10), ("Events", 0.05))
_TAGS = ("customer", "trial", "vip", "beta", "partner")


# -- schema types ---------------------------------------------------------------


@strawberry.enum(description="Where a subscriber stands with a list.")
class SubscriptionStatus(Enum):
    """Subscription state."""

    SUBSCRIBED = "SUBSCRIBED"
    UNSUBSCRIBED = "UNSUBSCRIBED"
    BOUNCED = "BOUNCED"


@strawberry.type(description="Campaign engagement, served by a separate (flaky) service.")
class Engagement:
    """Opens and clicks of one subscriber."""

    opens: int
    clicks: int
    last_opened_at: str | None = strawberry.field(description="RFC 3339 UTC, or null.")


@strawberry.type(description="One email address on one mailing list.")
class Subscriber:
    """A subscriber; the store keeps these objects and mutates them in place."""

    id: strawberry.ID
    email: str = strawberry.field(description="Lower-case; the key within a list.")
    name: str | None
    status: SubscriptionStatus
    list_id: strawberry.ID
    tags: list[str]
    created_at: str = strawberry.field(description="RFC 3339 UTC, e.g. 2025-09-01T10:00:00.000Z")
    updated_at: str = strawberry.field(description="Bumped only when a field changes.")

    @strawberry.field(description="Null (with an error) when the engagement service times out.")
    def engagement(self) -> Engagement | None:
        """Deterministic per email; fails for a fixed ~6% of subscribers."""
        h = zlib.crc32(self.email.encode())
        if h % ENGAGEMENT_FAILS_EVERY == 0:
            raise service_error("engagement service timed out", "UPSTREAM_TIMEOUT")
        opens = h % 37
        clicks = (h >> 6) % (opens + 1)
        last = None
        if opens:
            last = isoformat(EPOCH - timedelta(minutes=(h >> 12) % (90 * 24 * 60)))
        return Engagement(opens=opens, clicks=clicks, last_opened_at=last)

    @strawberry.field(name="list", description="The list this subscription belongs to.")
    def mailing_list(self, info: strawberry.Info) -> MailingList:
        """The subscriber's list."""
        return store_of(info).require_list(str(self.list_id))


@strawberry.type(description="A mailing list.")
class MailingList:
    """A list; its members are private to the schema."""

    id: strawberry.ID
    name: str
    created_at: str
    members: strawberry.Private[dict[str, Subscriber]]
    order: strawberry.Private[list[Subscriber]]
    counts: strawberry.Private[dict[SubscriptionStatus, int]]

    @strawberry.field(description="Subscribers with status SUBSCRIBED.")
    def subscriber_count(self) -> int:
        """Current SUBSCRIBED count."""
        return self.counts[SubscriptionStatus.SUBSCRIBED]

    @strawberry.field(description="The list's subscribers, oldest first.")
    def subscribers(
        self, first: int = 50, after: str | None = None, status: SubscriptionStatus | None = None
    ) -> Connection[Subscriber]:
        """One page of this list's subscribers."""
        return page(self, first=first, after=after, status=status, since=None)


@strawberry.type(name="ListConnection")
class ListConnection(Connection[MailingList]):
    """A page of mailing lists."""


@strawberry.input(description="One subscriber to create or update, keyed by email.")
class SubscriberInput:
    """Omitted (or null) fields keep their current value on update."""

    email: str
    name: str | None = None
    status: SubscriptionStatus | None = None
    tags: list[str] | None = None


@strawberry.type(description="Why one input item was not written.")
class UserError:
    """A rejected input item."""

    index: int = strawberry.field(description="Position in the input list.")
    field: str
    message: str


@strawberry.type
class UpsertSubscribersPayload:
    """What an upsert did, item by item."""

    created: int
    updated: int
    unchanged: int
    subscribers: list[Subscriber] = strawberry.field(description="Written items, in input order.")
    user_errors: list[UserError]


# -- the store ------------------------------------------------------------------


class MailStore:
    """The service's data: mailing lists and their subscribers, in memory.

    Written from the event loop (the GraphQL mutations) and by the CRM's
    connector, which may run in another thread: writes take a lock. The
    helpers for tests (:meth:`list_id`, :meth:`subscribers`) only read.
    """

    def __init__(self, *, seed: int, contacts: int, companies: int) -> None:
        self.seed = seed
        self.contacts = contacts
        self.companies = companies
        self._lists: list[MailingList] | None = None
        self._by_id: dict[str, MailingList] = {}
        self._next_id = 1
        self._lock = threading.Lock()  # seeding
        self._writing = threading.RLock()  # the event loop, and the CRM's connector
        #: what the subscriptions publish (``subscriberAdded``, ``listChanged``)
        self.events = EventLog()

    # -- helpers for tests and teaching --------------------------------------------

    def list_id(self, name: str) -> str:
        """The id of the list called ``name``."""
        for lst in self._ready():
            if lst.name == name:
                return str(lst.id)
        raise KeyError(f"no mailing list named {name!r}")

    def subscribers(self, list_id: str) -> list[dict[str, Any]]:
        """Every subscriber of a list, oldest first, as plain dicts."""
        return [_as_dict(s) for s in list(self.require_list(list_id).order)]

    # -- operations ---------------------------------------------------------------

    def all_lists(self) -> list[MailingList]:
        """The lists in creation order."""
        return self._ready()

    def get_list(self, list_id: str) -> MailingList | None:
        """The list with ``list_id``, or ``None``."""
        self._ready()
        return self._by_id.get(list_id)

    def require_list(self, list_id: str) -> MailingList:
        """The list with ``list_id``; a NOT_FOUND error otherwise."""
        lst = self.get_list(list_id)
        if lst is None:
            known = ", ".join(str(x.id) for x in self._ready()[:10])
            raise service_error(
                f"No mailing list with id {list_id!r}. Known ids include: {known}.", "NOT_FOUND"
            )
        return lst

    def create_list(self, name: str) -> MailingList:
        """A new, empty list; names are unique (case-insensitively)."""
        name = name.strip()
        if not name or len(name) > 100:
            raise service_error("name must be 1-100 characters.", "BAD_USER_INPUT")
        with self._writing:
            found = self._named(name)
            if found is not None:
                raise service_error(
                    f"A list named {found.name!r} already exists (id {found.id}).", "CONFLICT"
                )
            lst = self._add_list(self._ready(), name, _iso(datetime.now(UTC)))
            self.events.append("listChanged", list_id=str(lst.id), change="created")
            return lst

    def ensure_list(self, name: str) -> str:
        """The id of the list called ``name`` (any case), created if there is none."""
        with self._writing:
            found = self._named(name.strip())
            return str((found or self.create_list(name)).id)

    def _named(self, name: str) -> MailingList | None:
        return next((x for x in self._ready() if x.name.lower() == name.lower()), None)

    def upsert(self, list_id: str, items: Sequence[Mapping[str, Any]]) -> UpsertSubscribersPayload:
        """Create or update subscribers by email; identical input changes nothing.

        ``items`` are ``SubscriberInput`` values as mappings (``email``, and
        optionally ``name``, ``status``, ``tags``); a missing or null field keeps
        the current value.
        """
        with self._writing:
            return self._upsert(self.require_list(list_id), items)

    def _upsert(
        self, lst: MailingList, items: Sequence[Mapping[str, Any]]
    ) -> UpsertSubscribersPayload:
        if len(items) > MAX_UPSERT:
            raise service_error(
                f"upsertSubscribers accepts at most {MAX_UPSERT} inputs per call, got "
                f"{len(items)}; nothing was written. Split the batch.",
                "BAD_USER_INPUT",
            )
        now = _iso(datetime.now(UTC))
        members = lst.members
        written: list[Subscriber] = []
        errors: list[UserError] = []
        created = updated = unchanged = 0
        for index, item in enumerate(items):
            email = str(item["email"]).strip().lower()
            problem = _email_problem(email)
            if problem:
                errors.append(UserError(index=index, field="email", message=problem))
                continue
            name, status, tags = item.get("name"), item.get("status"), item.get("tags")
            if status is not None:
                status = SubscriptionStatus(status)
            if tags is not None:
                tags = [t for t in dict.fromkeys(t.strip() for t in tags) if t]
            sub = members.get(email)
            if sub is None:
                sub = self._add_subscriber(
                    lst,
                    email=email,
                    name=name,
                    status=status or SubscriptionStatus.SUBSCRIBED,
                    tags=tags or [],
                    created_at=now,
                )
                created += 1
                self.events.append("subscriberAdded", list_id=str(lst.id), email=email)
            elif (
                (name is None or name == sub.name)
                and (status is None or status is sub.status)
                and (tags is None or tags == sub.tags)
            ):
                unchanged += 1
            else:
                _set_status(lst, sub, status or sub.status)
                sub.name = sub.name if name is None else name
                sub.tags = sub.tags if tags is None else tags
                sub.updated_at = now
                updated += 1
            written.append(sub)
        if created or updated:
            self.events.append("listChanged", list_id=str(lst.id), change="subscribers")
        return UpsertSubscribersPayload(
            created=created,
            updated=updated,
            unchanged=unchanged,
            subscribers=written,
            user_errors=errors,
        )

    @overload
    def unsubscribe(
        self, list_id: str, email: str, *, missing_ok: Literal[False] = False
    ) -> Subscriber: ...

    @overload
    def unsubscribe(self, list_id: str, email: str, *, missing_ok: bool) -> Subscriber | None: ...

    def unsubscribe(
        self, list_id: str, email: str, *, missing_ok: bool = False
    ) -> Subscriber | None:
        """Mark a subscriber UNSUBSCRIBED (idempotent).

        Returns ``None`` for an email that is not on the list when ``missing_ok``;
        otherwise that is a NOT_FOUND error.
        """
        with self._writing:
            lst = self.require_list(list_id)
            sub = lst.members.get(email.strip().lower())
            if sub is None:
                if missing_ok:
                    return None
                raise service_error(f"{email!r} is not on list {list_id}.", "NOT_FOUND")
            if sub.status is not SubscriptionStatus.UNSUBSCRIBED:
                _set_status(lst, sub, SubscriptionStatus.UNSUBSCRIBED)
                sub.updated_at = _iso(datetime.now(UTC))
                self.events.append("listChanged", list_id=str(lst.id), change="unsubscribed")
            return sub

    # -- internals ----------------------------------------------------------------

    def _ready(self) -> list[MailingList]:
        lists = self._lists
        if lists is None:
            with self._lock:
                lists = self._lists
                if lists is None:
                    lists = self._seed()
                    self._lists = lists
        return lists

    def _seed(self) -> list[MailingList]:
        out: list[MailingList] = []
        everyone = people(self.seed, self.contacts, self.companies)
        rng = random.Random(f"mail:{self.seed}")
        random_, choice = rng.random, rng.choice
        statuses = list(SubscriptionStatus)
        for n, (name, share) in enumerate(_SEED_LISTS):
            lst = self._add_list(out, name, _iso(EPOCH - timedelta(days=400 - 90 * n)))
            for index in sorted(rng.sample(range(len(everyone)), round(len(everyone) * share))):
                person = everyone[index]
                r = random_()
                status = statuses[0] if r < 0.85 else statuses[1] if r < 0.97 else statuses[2]
                tags = [] if random_() < 0.5 else sorted({choice(_TAGS), choice(_TAGS)})
                self._add_subscriber(
                    lst,
                    email=person.email,
                    name=f"{person.first_name} {person.last_name}",
                    status=status,
                    tags=tags,
                    created_at=_iso(person.created_at),
                    updated_at=_iso(person.updated_at),
                )
        return out

    def _add_list(self, lists: list[MailingList], name: str, created_at: str) -> MailingList:
        digest = zlib.crc32(f"mail:{self.seed}:list:{len(lists)}".encode())
        lst = MailingList(
            id=strawberry.ID(f"lst_{digest:08x}"),
            name=name,
            created_at=created_at,
            members={},
            order=[],
            counts=dict.fromkeys(SubscriptionStatus, 0),
        )
        lists.append(lst)
        self._by_id[str(lst.id)] = lst
        return lst

    def _add_subscriber(
        self,
        lst: MailingList,
        *,
        email: str,
        name: str | None,
        status: SubscriptionStatus,
        tags: list[str],
        created_at: str,
        updated_at: str | None = None,
    ) -> Subscriber:
        sub = Subscriber(
            id=strawberry.ID(f"sub_{self._next_id:07d}"),
            email=email,
            name=name,
            status=status,
            list_id=lst.id,
            tags=tags,
            created_at=created_at,
            updated_at=updated_at or created_at,
        )
        self._next_id += 1
        lst.members[email] = sub
        lst.order.append(sub)
        lst.counts[status] += 1
        return sub


def _iso(ts: datetime) -> str:
    """:func:`~apinotebook.sandbox._seed.isoformat`, several times faster for UTC values."""
    text = ts.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else isoformat(ts)


def _set_status(lst: MailingList, sub: Subscriber, status: SubscriptionStatus) -> None:
    if status is not sub.status:
        lst.counts[sub.status] -= 1
        lst.counts[status] += 1
        sub.status = status


def _email_problem(email: str) -> str | None:
    if not email:
        return "email is empty."
    local, at, domain = email.rpartition("@")
    if not at or not local or "." not in domain.strip(".") or email.split() != [email]:
        return f"{email!r} is not an email address (expected name@domain.tld)."
    return None


def _as_dict(sub: Subscriber) -> dict[str, Any]:
    return {
        "id": str(sub.id),
        "email": sub.email,
        "name": sub.name,
        "status": sub.status.value,
        "listId": str(sub.list_id),
        "tags": list(sub.tags),
        "createdAt": sub.created_at,
        "updatedAt": sub.updated_at,
    }


# -- pagination -----------------------------------------------------------------


def page(
    lst: MailingList,
    *,
    first: int,
    after: str | None,
    status: SubscriptionStatus | None,
    since: str | None,
) -> Connection[Subscriber]:
    """One page of a list's subscribers, filtered by status and ``updated_at >= since``."""
    check_first(first, MAX_PAGE)
    kind = f"sub:{lst.id}"
    start = start_after(after, kind)
    rows = lst.order
    if status is None and since is None:
        return connection(rows, kind, start, first)

    def match(s: Subscriber) -> bool:
        return (status is None or s.status is status) and (since is None or s.updated_at >= since)

    total = lst.counts[status] if since is None and status else sum(map(match, rows))
    picked: list[int] = []
    i = start
    while i < len(rows) and len(picked) < first:
        if match(rows[i]):
            picked.append(i)
        i += 1
    has_next = any(match(rows[j]) for j in range(i, len(rows)))
    return connection(rows, kind, start, first, picked=picked, total=total, has_next=has_next)


def store_of(info: strawberry.Info) -> MailStore:
    """The store behind a request (resolvers' ``info.context["store"]``)."""
    store: MailStore = info.context["store"]
    return store
