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
import hmac
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, cast
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2
from pydantic import BaseModel, ConfigDict, Field

from apinotebook._exceptions import ConfigError
from apinotebook.sandbox._calendar_store import (
    CALENDARS,
    MAX_TOMBSTONES,
    TOKEN_TTL,
    WATCH_TTL,
    CalendarEvent,
    CalendarStore,
    EventIn,
    EventPatch,
    WatchIn,
    micros,
    utc,
)
from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._delegated import Delegation
from apinotebook.sandbox._rest import ApiError, make_app, options_of, rest_mount, store_of

__all__ = ["MAX_TOMBSTONES", "TOKEN_TTL", "WATCH_TTL", "CalendarStore", "build"]

SCOPE = "calendar"
_OPTIONS = ("token_ttl", "max_tombstones")
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class StopIn(BaseModel):
    """Body of ``POST /channels/stop``."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(max_length=64)
    resourceId: str = Field(max_length=128)


# -- HTTP: the token endpoint -------------------------------------------------------------


def _store(request: Request) -> CalendarStore:
    return cast(CalendarStore, store_of(request))


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
    if cal not in CALENDARS:
        raise ApiError(404, "calendar_not_found", f"No calendar {cal!r}; try 'primary' or 'team'.")
    summary, primary = CALENDARS[cal]
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
) -> CalendarEvent:
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
        return utc(parsed)
    except ValueError:
        raise ApiError(
            422,
            "validation_error",
            f"{name} must be RFC 3339 with an offset, like 2026-12-01T00:00:00Z "
            "(in a URL, encode + as %2B).",
        ) from None


async def list_calendars(_: Authorized) -> dict[str, Any]:
    """Every calendar."""
    return {"kind": "calendar#calendarList", "items": [_calendar(c) for c in CALENDARS]}


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
            last = [micros(items[-1].start), items[-1].id]
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


@functools.cache
def _app() -> FastAPI:
    summary = "A Google-Calendar-like API: OAuth2 client credentials, events, sync, watch."
    return make_app(_router(), title="apinotebook calendar", summary=summary)


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
    options = options_of(ctx, "calendar", _OPTIONS)
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
    delegation = store.delegation = Delegation(ctx.url("/auth"), "calendar")  # users' tokens
    mount = rest_mount(
        "calendar",
        _app,
        store,
        check=lambda header, write: (
            None if delegation.check(header, write) else store.authenticate(header)
        ),
        public=("/oauth/token", "/openapi.json"),
        env={"CALENDAR_TOKEN_URL": "/calendar/oauth/token"},
    )
    return [mount]
