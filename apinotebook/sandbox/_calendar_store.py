"""The calendar's data: events (with tombstones), access tokens, watch channels.

:class:`CalendarStore` is what ``sb.state("calendar")`` returns; the request
bodies it takes (:class:`EventIn`, :class:`EventPatch`, :class:`WatchIn`) are
defined here too. The HTTP side is in :mod:`apinotebook.sandbox.calendar`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, Self, cast
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from apinotebook.sandbox import _seed
from apinotebook.sandbox._rest import bearer_error, bearer_token
from apinotebook.sandbox._webhooks import WebhookDispatcher

if TYPE_CHECKING:
    from apinotebook.sandbox._delegated import Delegation

__all__ = [
    "CALENDARS",
    "MAX_TOMBSTONES",
    "TOKEN_TTL",
    "WATCH_TTL",
    "CalendarEvent",
    "CalendarStore",
    "EventIn",
    "EventPatch",
    "WatchChannel",
    "WatchIn",
    "micros",
    "utc",
]

#: Access-token lifetime in seconds (option ``token_ttl``).
TOKEN_TTL = 3600
#: How long a watch channel lives, in seconds.
WATCH_TTL = 7 * 24 * 3600
#: Deleted events kept for incremental sync (option ``max_tombstones``).
MAX_TOMBSTONES = 10_000
#: The calendars: id -> (summary, primary).
CALENDARS = {"primary": ("Demo User", True), "team": ("Team", False)}


# -- models -------------------------------------------------------------------------


def _require_str(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 string like 2026-12-01T09:00:00Z")
    return value


def utc(value: datetime) -> datetime:
    """``value`` in UTC; a ValueError for years outside 1900-9999."""
    try:
        if not 1900 <= value.year <= 9999:
            raise OverflowError
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("time is out of range (years 1900-9999)") from None


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_require_str), AfterValidator(utc)]


class EventTime(BaseModel):
    """``{"dateTime": "2026-12-01T09:00:00Z", "timeZone"?: "Europe/Berlin"}``."""

    model_config = ConfigDict(extra="forbid")
    dateTime: Rfc3339
    timeZone: str | None = Field(default=None, max_length=64)


class Attendee(BaseModel):
    """A guest and their answer."""

    model_config = ConfigDict(extra="forbid")
    email: str = Field(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    responseStatus: Literal["needsAction", "declined", "tentative", "accepted"] = "needsAction"


class _EventFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    summary: str | None = Field(default=None, max_length=1024)
    description: str | None = Field(default=None, max_length=8192)
    location: str | None = Field(default=None, max_length=1024)
    attendees: list[Attendee] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _times(self) -> Self:
        start, end = getattr(self, "start", None), getattr(self, "end", None)
        for name, value in (("start", start), ("end", end)):
            if name in self.model_fields_set and value is None:
                raise ValueError(f"{name} cannot be null")
        if start is not None and end is not None and end.dateTime < start.dateTime:
            raise ValueError("end must not be before start")
        return self


class EventIn(_EventFields):
    """Body of ``POST``: ``start`` and ``end`` are required, ``id`` is optional."""

    id: str | None = Field(default=None, pattern=r"^[a-v0-9]{5,1024}$")
    start: EventTime
    end: EventTime


class EventPatch(_EventFields):
    """Body of ``PATCH``: only the fields sent change."""

    start: EventTime | None = None
    end: EventTime | None = None


class WatchIn(BaseModel):
    """Body of ``POST .../events/watch``."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+/=-]+$")
    address: str = Field(max_length=2048)
    token: str | None = Field(default=None, max_length=256)
    type: Literal["web_hook", "webhook"] = "web_hook"

    @field_validator("address")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("address must be an http:// or https:// URL")
        return value


def _rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def micros(ts: datetime) -> int:
    """Microseconds since the seed epoch (page tokens carry them)."""
    return (ts - _seed.EPOCH) // timedelta(microseconds=1)


@dataclass
class CalendarEvent:
    """An event; ``seq`` is the store's sequence number of its latest change."""

    id: str
    summary: str
    description: str
    location: str
    start: datetime
    end: datetime
    created: datetime
    updated: datetime
    attendees: list[dict[str, str]] = field(default_factory=list)
    zones: tuple[str | None, str | None] = (None, None)
    status: str = "confirmed"
    seq: int = 0

    @property
    def etag(self) -> str:
        """Changes with every change to the event."""
        return '"' + hashlib.sha256(f"{self.id}:{self.seq}".encode()).hexdigest()[:16] + '"'

    def to_json(self) -> dict[str, Any]:
        """The event as the API shows it."""
        start, end = ({"dateTime": _rfc3339(t)} for t in (self.start, self.end))
        for when, zone in ((start, self.zones[0]), (end, self.zones[1])):
            if zone:
                when["timeZone"] = zone
        return {
            "kind": "calendar#event",
            "id": self.id,
            "etag": self.etag,
            "status": self.status,
            "summary": self.summary,
            "description": self.description,
            "location": self.location,
            "start": start,
            "end": end,
            "attendees": [dict(a) for a in self.attendees],
            "created": _seed.isoformat(self.created),
            "updated": _seed.isoformat(self.updated),
        }


@dataclass(frozen=True)
class WatchChannel:
    """An open watch: notifications about ``calendar`` go to ``address``."""

    id: str
    resource_id: str
    calendar: str
    address: str
    token: str | None
    expiration_ms: int


class CalendarStore:
    """Calendars, events (with tombstones), access tokens and watch channels.

    Every change bumps one sequence number, and each calendar's events dict
    is kept in sequence order, so "what changed after N" walks it backwards
    from the end. Handlers run on the event loop and never await halfway
    through a change: no locks.

    Args:
        seed: seeds the events.
        client_id: the OAuth2 client id (``CALENDAR_CLIENT_ID``).
        client_secret: its secret (``CALENDAR_CLIENT_SECRET``).
        webhooks: delivers watch notifications; ``None`` sends none.
        webhook_secret: signs them (``CALENDAR_WEBHOOK_SECRET``).
        token_ttl: access-token lifetime in seconds.
        max_tombstones: deleted events kept for incremental sync.
        resource_uri: a calendar's events URL, for watch responses.
    """

    def __init__(
        self,
        seed: int,
        *,
        client_id: str,
        client_secret: str,
        webhooks: WebhookDispatcher | None = None,
        webhook_secret: str = "",
        token_ttl: float = TOKEN_TTL,
        max_tombstones: int = MAX_TOMBSTONES,
        resource_uri: Callable[[str], str] = lambda cal: f"/calendar/calendars/{cal}/events",
    ) -> None:
        self.seed = seed
        self.client_id, self.client_secret = client_id, client_secret
        self.webhooks, self.webhook_secret = webhooks, webhook_secret
        self.token_ttl, self.max_tombstones = token_ttl, max_tombstones
        self.resource_uri = resource_uri
        #: seconds since the epoch; tests replace it to expire tokens without sleeping
        self.clock: Callable[[], float] = time.time
        self.seq = 0
        #: sync tokens for sequence numbers below this have expired
        self.floor = 0
        self.events: dict[str, dict[str, CalendarEvent]] = {cal: {} for cal in CALENDARS}
        self._key = secrets.token_bytes(16)
        self._tokens: OrderedDict[str, float] = OrderedDict()
        #: accepts the sandbox authorization server's user tokens (set by ``build``)
        self.delegation: Delegation | None = None
        self._watches: dict[str, WatchChannel] = {}
        self._tombstones: deque[tuple[int, str, str]] = deque()
        _seed_events(self)

    # -- access tokens ------------------------------------------------------------

    def issue_token(self) -> str:
        """A new access token, valid for ``token_ttl`` seconds."""
        now = self.clock()
        tokens = self._tokens
        while tokens and (next(iter(tokens.values())) <= now or len(tokens) >= 10_000):
            tokens.popitem(last=False)
        token = "cal_at_" + secrets.token_urlsafe(32)
        tokens[token] = now + self.token_ttl
        return token

    def token_valid(self, token: str) -> bool:
        """Whether ``token`` was issued here and has not expired."""
        return self._tokens.get(token, 0.0) > self.clock()

    def authenticate(self, header: str | None) -> None:
        """Accept an ``Authorization`` header with a live token, or raise 401 (RFC 6750).

        A user's token from the sandbox's authorization server (``delegation``)
        is accepted too; the gate checked its scope for writes already.
        """
        if self.delegation is not None and self.delegation.grant(header) is not None:
            return
        message = "Send Authorization: Bearer <token>; get one from POST /calendar/oauth/token."
        token = bearer_token(header, realm="calendar", code="unauthenticated", message=message)
        if not self.token_valid(token):
            message = (
                "The access token expired or is unknown: get a new one from /calendar/oauth/token."
            )
            raise bearer_error(
                401, "invalid_token", message, realm="calendar", error="invalid_token"
            )

    def revoke_all_tokens(self) -> None:
        """Forget every access token: the next API call gets 401."""
        self._tokens.clear()

    # -- sealed page and sync tokens --------------------------------------------------

    def seal(self, payload: Any) -> str:
        """``payload`` as an opaque, tamper-evident token."""
        raw = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode())
        text = raw.decode().rstrip("=")
        return f"{text}.{hmac.new(self._key, text.encode(), 'sha256').hexdigest()[:20]}"

    def unseal(self, token: str) -> Any:
        """What :meth:`seal` sealed; ``None`` for anything else."""
        text, _, mac = token.rpartition(".")
        good = hmac.new(self._key, text.encode(), "sha256").hexdigest()[:20]
        if not text or not hmac.compare_digest(mac.encode(), good.encode()):
            return None
        try:
            return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        except (ValueError, binascii.Error):
            return None

    def sync_token(self, cal: str, seq: int) -> str:
        """A token meaning "changes to ``cal`` after ``seq``"."""
        return self.seal(["sync", cal, seq])

    def read_sync_token(self, cal: str, token: str) -> int | None:
        """The sequence number behind ``token``; ``None`` when unknown or expired."""
        payload = self.unseal(token)
        if not isinstance(payload, list) or payload[:2] != ["sync", cal]:
            return None
        seq = cast(int, payload[2])
        return seq if self.floor <= seq <= self.seq else None

    def expire_sync_tokens(self) -> None:
        """Make every sync token issued so far answer 410 Gone."""
        self.floor = self.seq + 1

    # -- events -----------------------------------------------------------------------

    def _touch(self, cal: str, event: CalendarEvent, at: datetime | None = None) -> None:
        self.seq += 1
        event.seq = self.seq
        event.updated = at or datetime.fromtimestamp(self.clock(), UTC)
        self.events[cal].pop(event.id, None)
        self.events[cal][event.id] = event  # the dict stays in sequence order

    def insert(self, cal: str, body: EventIn) -> CalendarEvent:
        """Create an event from a validated body."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        event = CalendarEvent(
            id=body.id or secrets.token_hex(13),
            summary=body.summary or "",
            description=body.description or "",
            location=body.location or "",
            start=body.start.dateTime,
            end=body.end.dateTime,
            created=now,
            updated=now,
            attendees=[a.model_dump() for a in body.attendees or ()],
            zones=(body.start.timeZone, body.end.timeZone),
        )
        self._touch(cal, event, now)
        self._notify(cal, "event.created", event)
        return event

    def update(self, cal: str, event: CalendarEvent, body: EventPatch) -> CalendarEvent:
        """Apply the fields ``body`` sets (the caller checked start <= end)."""
        sent = body.model_fields_set
        for name in ("summary", "description", "location"):
            if name in sent:
                setattr(event, name, getattr(body, name) or "")
        if body.start is not None:
            event.start, event.zones = body.start.dateTime, (body.start.timeZone, event.zones[1])
        if body.end is not None:
            event.end, event.zones = body.end.dateTime, (event.zones[0], body.end.timeZone)
        if "attendees" in sent:
            event.attendees = [a.model_dump() for a in body.attendees or ()]
        self._touch(cal, event)
        self._notify(cal, "event.updated", event)
        return event

    def delete(self, cal: str, event: CalendarEvent) -> None:
        """Cancel an event, keeping a tombstone for incremental sync."""
        event.status = "cancelled"
        self._touch(cal, event)
        self._tombstones.append((event.seq, cal, event.id))
        while len(self._tombstones) > self.max_tombstones:
            seq, old_cal, old_id = self._tombstones.popleft()
            self.events[old_cal].pop(old_id, None)
            self.floor = max(self.floor, seq)
        self._notify(cal, "event.deleted", event)

    def window(
        self,
        cal: str,
        low: datetime | None,
        high: datetime | None,
        deleted: bool,
        after: tuple[int, str] | None,
        limit: int,
    ) -> tuple[list[CalendarEvent], bool]:
        """Events ending after ``low`` and starting before ``high``, by start, past ``after``."""
        found = [
            e
            for e in self.events[cal].values()
            if (deleted or e.status != "cancelled")
            and (low is None or e.end > low)
            and (high is None or e.start < high)
            and (after is None or (micros(e.start), e.id) > after)
        ]
        found.sort(key=lambda e: (e.start, e.id))
        return found[:limit], len(found) > limit

    def changes(self, cal: str, after: int, limit: int) -> tuple[list[CalendarEvent], bool]:
        """Events changed after sequence number ``after``, oldest change first."""
        newer: list[CalendarEvent] = []
        for event in reversed(self.events[cal].values()):
            if event.seq <= after:
                break
            newer.append(event)
        newer.reverse()
        return newer[:limit], len(newer) > limit

    # -- watch channels -------------------------------------------------------------

    def watch(self, cal: str, body: WatchIn) -> WatchChannel:
        """Open a channel; a ``sync`` notification goes out at once, like Google's."""
        resource = "res_" + hashlib.sha256(f"{self.seed}:{cal}".encode()).hexdigest()[:16]
        expiration = int((self.clock() + WATCH_TTL) * 1000)
        channel = WatchChannel(body.id, resource, cal, body.address, body.token, expiration)
        self._watches[channel.id] = channel
        self._publish(channel, "sync", None)
        return channel

    def has_watch(self, channel_id: str) -> bool:
        """Whether a channel with this id is open."""
        return channel_id in self._watches

    def stop(self, channel_id: str, resource_id: str) -> bool:
        """Close a channel; ``False`` when no such channel is open."""
        channel = self._watches.get(channel_id)
        if channel is None or channel.resource_id != resource_id:
            return False
        del self._watches[channel_id]
        return True

    def _notify(self, cal: str, kind: str, event: CalendarEvent) -> None:
        now_ms = self.clock() * 1000
        for channel in list(self._watches.values()):
            if channel.expiration_ms <= now_ms:
                del self._watches[channel.id]
            elif channel.calendar == cal:
                self._publish(channel, kind, event)

    def _publish(self, channel: WatchChannel, kind: str, event: CalendarEvent | None) -> None:
        if self.webhooks is None:
            return
        data: dict[str, Any] = {
            "calendar": channel.calendar,
            "channel_id": channel.id,
            "channel_token": channel.token,
            "resource_id": channel.resource_id,
        }
        if event is not None:
            data["event"] = event.to_json()
        self.webhooks.publish(channel.address, kind, data=data, secret=self.webhook_secret)


_TITLES = (
    "Team standup", "1:1 with {first}", "Quarterly planning", "Customer call: {company}",
    "Design review", "Lunch with {first}", "Sprint retro", "Budget review",
    "Demo for {company}", "Focus time", "Board prep", "Vendor sync: {company}",
)  # fmt: skip
_PLACES = ("", "Room Juniper", "Room Cedar", "Video call", "Cafe Lumen", "Main office")
_ANSWERS = ("needsAction", "accepted", "accepted", "tentative", "declined")


def _seed_events(store: CalendarStore) -> None:
    """40 events across December 2026 on ``primary`` and 6 on ``team``."""
    rng = random.Random(f"calendar:{store.seed}")
    people = _seed.people(store.seed, 24)
    companies = _seed.companies(store.seed, 20)
    made: list[tuple[str, CalendarEvent]] = []
    for cal, count in (("primary", 40), ("team", 6)):
        for i in range(count):
            start = datetime(2026, 12, rng.randrange(1, 32), rng.randrange(8, 18), tzinfo=UTC)
            start += timedelta(minutes=rng.choice((0, 15, 30, 45)))
            created = _seed.EPOCH - timedelta(
                days=rng.randrange(1, 90), seconds=rng.randrange(9999)
            )
            updated = min(created + timedelta(seconds=rng.randrange(20 * 86400)), _seed.EPOCH)
            title = rng.choice(_TITLES).format(
                first=rng.choice(people).first_name, company=rng.choice(companies).name
            )
            guests = rng.sample(people, rng.randrange(4))
            event = CalendarEvent(
                id=hashlib.sha256(f"calendar:{store.seed}:{cal}:{i}".encode()).hexdigest()[:20],
                summary=title,
                description=f"Agenda for {title.lower()}." if rng.random() < 0.5 else "",
                location=rng.choice(_PLACES),
                start=start,
                end=start + timedelta(minutes=rng.choice((15, 30, 45, 60, 90, 120))),
                created=created,
                updated=updated,
                attendees=[
                    {"email": p.email, "responseStatus": rng.choice(_ANSWERS)} for p in guests
                ],
            )
            made.append((cal, event))
    for cal, event in sorted(made, key=lambda item: (item[1].updated, item[1].id)):
        store._touch(cal, event, event.updated)
