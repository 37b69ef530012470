"""Calendar: a Google-Calendar-like REST service (FastAPI), mounted at ``/calendar``.

======================================  ====================================================
``POST /oauth/token``                   OAuth2 client credentials (RFC 6749 §4.4)
``GET  /calendars``                     ``primary`` and ``team``
``GET  /calendars/{cal}``               one calendar
``GET  /calendars/{cal}/events``        ``maxResults``, ``pageToken``, ``timeMin``, ``timeMax``,
                                        ``showDeleted``; ``syncToken`` for incremental sync
``POST /calendars/{cal}/events``        create an event (201)
``GET|PATCH|DELETE .../events/{id}``    read; change (``If-Match`` honoured); delete (204)
``POST /calendars/{cal}/events/watch``  push signed notifications of changes to ``address``
``POST /channels/stop``                 stop a watch channel
``GET  /openapi.json``                  the OpenAPI document
======================================  ====================================================

The client authenticates with HTTP Basic (``CALENDAR_CLIENT_ID`` and
``CALENDAR_CLIENT_SECRET``) or with form fields and gets a Bearer token that
lives ``token_ttl`` seconds (option, default 3600). Token-endpoint errors
follow RFC 6749 §5.2 (``{"error": "invalid_client", "error_description"}``);
every other error is ``{"error": {"code", "message", "details"?}}``.

Incremental sync works like Google's: the last page of a full listing carries
``nextSyncToken``; ``?syncToken=`` returns only what changed since (deleted
events with ``"status": "cancelled"``), paginated the same way, and ends with
a fresh token. A token the service does not honour gets ``410 Gone``
(``sync_token_expired``): do a full sync again. Deleted events are kept as
tombstones, at most ``max_tombstones`` (option); purging one expires every
older token. Page and sync tokens are HMAC-sealed, so a tampered one is
simply unknown.
"""

from __future__ import annotations

import base64
import binascii
import functools
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
from typing import Annotated, Any, Literal, Self, cast
from urllib.parse import parse_qsl, unquote_plus, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2
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

from apinotebook._exceptions import ConfigError
from apinotebook.sandbox import _seed
from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._webhooks import WebhookDispatcher
from apinotebook.sandbox.chat import ApiError, BearerGate, ErrorBody, install_error_handlers

__all__ = ["MAX_TOMBSTONES", "TOKEN_TTL", "WATCH_TTL", "CalendarStore", "build"]

#: Access-token lifetime in seconds (option ``token_ttl``).
TOKEN_TTL = 3600
#: How long a watch channel lives, in seconds.
WATCH_TTL = 7 * 24 * 3600
#: Deleted events kept for incremental sync (option ``max_tombstones``).
MAX_TOMBSTONES = 10_000
SCOPE = "calendar"
_OPTIONS = ("token_ttl", "max_tombstones")
_CALENDARS = {"primary": ("Demo User", True), "team": ("Team", False)}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# -- models -------------------------------------------------------------------------


def _require_str(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 string like 2026-12-01T09:00:00Z")
    return value


def _utc(value: datetime) -> datetime:
    try:
        if not 1900 <= value.year <= 9999:
            raise OverflowError
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("time is out of range (years 1900-9999)") from None


Rfc3339 = Annotated[AwareDatetime, BeforeValidator(_require_str), AfterValidator(_utc)]


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


class StopIn(BaseModel):
    """Body of ``POST /channels/stop``."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=64)
    resourceId: str = Field(max_length=128)


# -- the store ------------------------------------------------------------------------


def _rfc3339(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _micros(ts: datetime) -> int:
    return (ts - _seed.EPOCH) // timedelta(microseconds=1)


@dataclass
class _Event:
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
        return '"' + hashlib.sha256(f"{self.id}:{self.seq}".encode()).hexdigest()[:16] + '"'

    def to_json(self) -> dict[str, Any]:
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
class _Watch:
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
        self.events: dict[str, dict[str, _Event]] = {cal: {} for cal in _CALENDARS}
        self._key = secrets.token_bytes(16)
        self._tokens: OrderedDict[str, float] = OrderedDict()
        self._watches: dict[str, _Watch] = {}
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
        """Accept an ``Authorization`` header with a live token, or raise 401 (RFC 6750)."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "unauthenticated",
                "Send Authorization: Bearer <token>; get one from POST /calendar/oauth/token.",
                headers={"WWW-Authenticate": 'Bearer realm="calendar"'},
            )
        if not self.token_valid(token.strip()):
            raise ApiError(
                401,
                "invalid_token",
                "The access token expired or is unknown: get a new one from /calendar/oauth/token.",
                headers={"WWW-Authenticate": 'Bearer realm="calendar", error="invalid_token"'},
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

    def _touch(self, cal: str, event: _Event, at: datetime | None = None) -> None:
        self.seq += 1
        event.seq = self.seq
        event.updated = at or datetime.fromtimestamp(self.clock(), UTC)
        self.events[cal].pop(event.id, None)
        self.events[cal][event.id] = event  # the dict stays in sequence order

    def insert(self, cal: str, body: EventIn) -> _Event:
        """Create an event from a validated body."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        event = _Event(
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

    def update(self, cal: str, event: _Event, body: EventPatch) -> _Event:
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

    def delete(self, cal: str, event: _Event) -> None:
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
    ) -> tuple[list[_Event], bool]:
        """Events ending after ``low`` and starting before ``high``, by start, past ``after``."""
        found = [
            e
            for e in self.events[cal].values()
            if (deleted or e.status != "cancelled")
            and (low is None or e.end > low)
            and (high is None or e.start < high)
            and (after is None or (_micros(e.start), e.id) > after)
        ]
        found.sort(key=lambda e: (e.start, e.id))
        return found[:limit], len(found) > limit

    def changes(self, cal: str, after: int, limit: int) -> tuple[list[_Event], bool]:
        """Events changed after sequence number ``after``, oldest change first."""
        newer: list[_Event] = []
        for event in reversed(self.events[cal].values()):
            if event.seq <= after:
                break
            newer.append(event)
        newer.reverse()
        return newer[:limit], len(newer) > limit

    # -- watch channels -------------------------------------------------------------

    def watch(self, cal: str, body: WatchIn) -> _Watch:
        """Open a channel; a ``sync`` notification goes out at once, like Google's."""
        resource = "res_" + hashlib.sha256(f"{self.seed}:{cal}".encode()).hexdigest()[:16]
        expiration = int((self.clock() + WATCH_TTL) * 1000)
        channel = _Watch(body.id, resource, cal, body.address, body.token, expiration)
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

    def _notify(self, cal: str, kind: str, event: _Event) -> None:
        now_ms = self.clock() * 1000
        for channel in list(self._watches.values()):
            if channel.expiration_ms <= now_ms:
                del self._watches[channel.id]
            elif channel.calendar == cal:
                self._publish(channel, kind, event)

    def _publish(self, channel: _Watch, kind: str, event: _Event | None) -> None:
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
    made: list[tuple[str, _Event]] = []
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
            event = _Event(
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


# -- HTTP: the token endpoint -------------------------------------------------------------


def _store(request: Request) -> CalendarStore:
    return cast(CalendarStore, request.app.state.calendar)


StoreDep = Annotated[CalendarStore, Depends(_store)]


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = dict(_NO_STORE)
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="calendar"'
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=headers)


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, value = header.partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if scheme.lower() != "basic" or not sep:
        return None
    return unquote_plus(client_id), unquote_plus(secret)  # RFC 6749 §2.3.1 form-encodes them


async def issue_token(request: Request, store: StoreDep) -> Response:
    """Exchange client credentials for a Bearer token (RFC 6749 §4.4)."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        return _oauth_error(400, "invalid_request", "Send application/x-www-form-urlencoded.")
    try:
        body = (await request.body()).decode()
        pairs = parse_qsl(body, keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return _oauth_error(400, "invalid_request", "The body is not valid form encoding.")
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            return _oauth_error(400, "invalid_request", f"Parameter {key!r} is repeated.")
        form[key] = value
    header = request.headers.get("authorization")
    in_form = "client_id" in form or "client_secret" in form
    if header is not None and in_form:
        return _oauth_error(400, "invalid_request", "Authenticate one way: Basic or form fields.")
    given = _basic(header) if header is not None else None
    if header is None and in_form:
        given = form.get("client_id", ""), form.get("client_secret", "")
    if given is None:
        return _oauth_error(401, "invalid_client", "Client authentication missing or malformed.")
    ok_id = hmac.compare_digest(given[0].encode(), store.client_id.encode())
    ok_secret = hmac.compare_digest(given[1].encode(), store.client_secret.encode())
    if not (ok_id and ok_secret):
        return _oauth_error(401, "invalid_client", "Unknown client or wrong client secret.")
    grant = form.get("grant_type")
    if not grant:
        return _oauth_error(400, "invalid_request", "grant_type is required.")
    if grant != "client_credentials":
        message = f"Only grant_type=client_credentials is supported, not {grant!r}."
        return _oauth_error(400, "unsupported_grant_type", message)
    if form.get("scope", SCOPE).split() != [SCOPE]:
        return _oauth_error(400, "invalid_scope", f"The only scope is {SCOPE!r}.")
    token = {
        "access_token": store.issue_token(),
        "token_type": "Bearer",
        "expires_in": int(store.token_ttl),
        "scope": SCOPE,
    }
    return JSONResponse(token, headers=_NO_STORE)


# -- HTTP: the API ------------------------------------------------------------------------

_oauth2 = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/calendar/oauth/token", scopes={SCOPE: "read and write events"}
        )
    ),
    auto_error=False,
)


async def _authorized(
    request: Request,
    store: StoreDep,
    _: Annotated[str | None, Depends(_oauth2)],  # for OpenAPI
) -> None:
    """Accept a live Bearer token (the gate checked it already)."""
    store.authenticate(request.headers.get("authorization"))


Authorized = Annotated[None, Depends(_authorized)]
IfMatch = Annotated[str | None, Header(alias="If-Match", max_length=200)]


def _calendar(cal: str) -> dict[str, Any]:
    if cal not in _CALENDARS:
        raise ApiError(404, "calendar_not_found", f"No calendar {cal!r}; try 'primary' or 'team'.")
    summary, primary = _CALENDARS[cal]
    return {
        "kind": "calendar#calendarListEntry",
        "id": cal,
        "summary": summary,
        "timeZone": "UTC",
        "primary": primary,
        "accessRole": "owner",
    }


def _event(
    store: CalendarStore,
    cal: str,
    event_id: str,
    *,
    live: bool = False,
    if_match: str | None = None,
) -> _Event:
    """The event or 404; ``live`` refuses deleted ones (410), ``if_match`` stale ones (412)."""
    _calendar(cal)
    event = store.events[cal].get(event_id)
    if event is None:
        raise ApiError(404, "not_found", f"No event {event_id!r} in calendar {cal!r}.")
    if live and event.status == "cancelled":
        raise ApiError(410, "deleted", f"Event {event_id!r} has been deleted.")
    if if_match is not None and if_match.strip() not in ("*", event.etag):
        raise ApiError(412, "precondition_failed", f"The event's etag is now {event.etag}.")
    return event


def _time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("no offset")
        return _utc(parsed)
    except ValueError:
        raise ApiError(
            422,
            "validation_error",
            f"{name} must be RFC 3339 with an offset, like 2026-12-01T00:00:00Z "
            "(in a URL, encode + as %2B).",
        ) from None


async def list_calendars(_: Authorized) -> dict[str, Any]:
    """Every calendar."""
    return {"kind": "calendar#calendarList", "items": [_calendar(c) for c in _CALENDARS]}


async def get_calendar(cal: str, _: Authorized) -> dict[str, Any]:
    """One calendar."""
    return _calendar(cal)


async def list_events(
    cal: str,
    store: StoreDep,
    _: Authorized,
    max_results: Annotated[int, Query(alias="maxResults", ge=1, le=250)] = 50,
    page_token: Annotated[str | None, Query(alias="pageToken", max_length=4000)] = None,
    sync_token: Annotated[str | None, Query(alias="syncToken", max_length=500)] = None,
    time_min: Annotated[str | None, Query(alias="timeMin", max_length=64)] = None,
    time_max: Annotated[str | None, Query(alias="timeMax", max_length=64)] = None,
    show_deleted: Annotated[bool | None, Query(alias="showDeleted")] = None,
) -> dict[str, Any]:
    """A page of events: a full listing or, with ``syncToken``, the changes since."""
    entry = _calendar(cal)
    if sync_token is not None and (time_min is not None or time_max is not None):
        message = "syncToken cannot be combined with timeMin or timeMax."
        raise ApiError(400, "invalid_sync_request", message)
    query: dict[str, Any] = {"cal": cal, "sync": sync_token, "min": time_min, "max": time_max}
    query["deleted"] = show_deleted
    key: Any = None
    start_seq = store.seq
    if page_token is not None:
        state = store.unseal(page_token)
        if not isinstance(state, dict) or state["q"]["cal"] != cal:
            raise ApiError(400, "invalid_page_token", "pageToken is not one this API returned.")
        for name, given in query.items():
            if given is not None and given != state["q"][name]:
                message = f"pageToken belongs to a query with another {name}."
                raise ApiError(400, "invalid_page_token", message)
        query, key, start_seq = state["q"], state["k"], state["s"]
    out: dict[str, Any] = {"kind": "calendar#events", "summary": entry["summary"]}
    out["timeZone"] = "UTC"
    if query["sync"] is not None:
        # mid-way through the pages, ``key`` is the last change the client has seen
        since = store.read_sync_token(cal, query["sync"]) if key is None else int(key)
        if since is None or since < store.floor:
            message = "The sync token is unknown or expired: do a full sync."
            raise ApiError(410, "sync_token_expired", message)
        items, more = store.changes(cal, since, max_results)
        if more:
            out["nextPageToken"] = store.seal({"q": query, "k": items[-1].seq, "s": start_seq})
        else:
            out["nextSyncToken"] = store.sync_token(cal, store.seq)
    else:
        low, high = _time(query["min"], "timeMin"), _time(query["max"], "timeMax")
        if low is not None and high is not None and low >= high:
            raise ApiError(400, "invalid_time_range", "timeMax must be later than timeMin.")
        after = (int(key[0]), str(key[1])) if key is not None else None
        items, more = store.window(cal, low, high, bool(query["deleted"]), after, max_results)
        if more:
            last = [_micros(items[-1].start), items[-1].id]
            out["nextPageToken"] = store.seal({"q": query, "k": last, "s": start_seq})
        elif low is None and high is None:  # only a full listing can start a sync
            out["nextSyncToken"] = store.sync_token(cal, start_seq)
    out["items"] = [e.to_json() for e in items]
    return out


async def insert_event(cal: str, body: EventIn, store: StoreDep, _: Authorized) -> dict[str, Any]:
    """Create an event (201); a client-chosen ``id`` that exists gets 409."""
    _calendar(cal)
    if body.id is not None and body.id in store.events[cal]:
        raise ApiError(409, "duplicate", f"An event with id {body.id!r} already exists.")
    return store.insert(cal, body).to_json()


async def get_event(cal: str, event_id: str, store: StoreDep, _: Authorized) -> dict[str, Any]:
    """One event; a deleted one comes back with ``"status": "cancelled"``."""
    return _event(store, cal, event_id).to_json()


async def patch_event(
    cal: str,
    event_id: str,
    body: EventPatch,
    store: StoreDep,
    _: Authorized,
    if_match: IfMatch = None,
) -> dict[str, Any]:
    """Change the fields sent; an ``If-Match`` with a stale etag gets 412."""
    event = _event(store, cal, event_id, live=True, if_match=if_match)
    start = body.start.dateTime if body.start else event.start
    end = body.end.dateTime if body.end else event.end
    if end < start:
        raise ApiError(422, "invalid_time_range", "end must not be before start.")
    return store.update(cal, event, body).to_json()


async def delete_event(
    cal: str, event_id: str, store: StoreDep, _: Authorized, if_match: IfMatch = None
) -> Response:
    """Delete (cancel) an event: 204; deleting it again gets 410."""
    store.delete(cal, _event(store, cal, event_id, live=True, if_match=if_match))
    return Response(status_code=204)


async def watch_events(cal: str, body: WatchIn, store: StoreDep, _: Authorized) -> dict[str, Any]:
    """Push a signed notification to ``address`` on every change to ``cal``."""
    _calendar(cal)
    if store.has_watch(body.id):
        raise ApiError(409, "channel_id_not_unique", f"Channel id {body.id!r} is in use.")
    channel = store.watch(cal, body)
    out = {
        "kind": "api#channel",
        "id": channel.id,
        "resourceId": channel.resource_id,
        "resourceUri": store.resource_uri(cal),
        "expiration": str(channel.expiration_ms),
    }
    return out | ({"token": channel.token} if channel.token is not None else {})


async def stop_channel(body: StopIn, store: StoreDep, _: Authorized) -> Response:
    """Stop a watch channel: 204; an unknown id or resourceId gets 404."""
    if not store.stop(body.id, body.resourceId):
        raise ApiError(404, "channel_not_found", "No open channel with this id and resourceId.")
    return Response(status_code=204)


_FORM = {"type": "object", "required": ["grant_type"], "properties": {
    "grant_type": {"type": "string", "enum": ["client_credentials"]},
    "scope": {"type": "string"}, "client_id": {"type": "string"},
    "client_secret": {"type": "string"}}}  # fmt: skip
_ROUTES: tuple[tuple[str, Callable[..., Any], str, int], ...] = (
    ("/calendars", list_calendars, "GET", 200),
    ("/calendars/{cal}", get_calendar, "GET", 200),
    ("/calendars/{cal}/events", list_events, "GET", 200),
    ("/calendars/{cal}/events", insert_event, "POST", 201),
    ("/calendars/{cal}/events/watch", watch_events, "POST", 200),
    ("/calendars/{cal}/events/{event_id}", get_event, "GET", 200),
    ("/calendars/{cal}/events/{event_id}", patch_event, "PATCH", 200),
    ("/calendars/{cal}/events/{event_id}", delete_event, "DELETE", 204),
    ("/channels/stop", stop_channel, "POST", 204),
)


@functools.cache
def _router() -> APIRouter:
    router = APIRouter()
    body = {"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": _FORM}}}}
    router.add_api_route("/oauth/token", issue_token, methods=["POST"], openapi_extra=body)
    for path, endpoint, method, status in _ROUTES:
        router.add_api_route(path, endpoint, methods=[method], status_code=status)
    return router


def _app(store: CalendarStore) -> FastAPI:
    app = FastAPI(
        title="apinotebook calendar",
        version="1.0.0",
        summary="A Google-Calendar-like API: OAuth2 client credentials, events, sync, watch.",
        docs_url=None,
        redoc_url=None,
        responses={"4XX": {"model": ErrorBody, "description": "Error"}},
    )
    app.state.calendar = store
    app.include_router(_router())
    install_error_handlers(app)
    return app


def _positive(options: dict[str, Any], name: str, default: float) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f'options["calendar"]["{name}"] must be a positive number, not {value!r}')
    return value


def build(ctx: SandboxContext) -> list[Mount]:
    """The calendar service, mounted at ``/calendar``.

    Options (``Sandbox(options={"calendar": {...}})``): ``token_ttl`` (access
    token lifetime in seconds, default 3600) and ``max_tombstones`` (deleted
    events kept for incremental sync, default 10,000).
    """
    options = ctx.options.get("calendar") or {}
    if not isinstance(options, dict):
        raise ConfigError('options["calendar"] must be a mapping like {"token_ttl": 60}')
    for name in options:
        if name not in _OPTIONS:
            raise ConfigError.invalid_choice("calendar option", name, _OPTIONS)
    store = CalendarStore(
        ctx.seed,
        client_id=ctx.credentials["CALENDAR_CLIENT_ID"],
        client_secret=ctx.credentials["CALENDAR_CLIENT_SECRET"],
        webhooks=ctx.webhooks,
        webhook_secret=ctx.credentials["CALENDAR_WEBHOOK_SECRET"],
        token_ttl=_positive(options, "token_ttl", TOKEN_TTL),
        max_tombstones=int(_positive(options, "max_tombstones", MAX_TOMBSTONES)),
        resource_uri=lambda cal: ctx.url(f"/calendar/calendars/{cal}/events"),
    )
    return [
        Mount(
            prefix="/calendar",
            app=BearerGate(_app(store), store.authenticate, ("/oauth/token", "/openapi.json")),
            service="calendar",
            error_format="json",
            urls={"calendar": "/calendar"},
            env={"CALENDAR_URL": "/calendar", "CALENDAR_TOKEN_URL": "/calendar/oauth/token"},
            state=store,
        )
    ]
