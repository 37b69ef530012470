"""Chat: a Slack-like REST service (FastAPI), mounted at ``/chat``.

==================================  ========================================================
``GET  /channels``                  every channel
``POST /channels``                  ``{"name": "deals"}``: create a channel (Slack name rules)
``GET  /channels/{id}``             one channel
``GET  /channels/{id}/messages``    newest first, Slack-style envelope; ``limit``, ``cursor``
``POST /channels/{id}/messages``    ``{"text", "thread_ts"?}``; honours ``Idempotency-Key``
``POST /channels/{id}/webhooks``    create an incoming webhook: ``{"id", "url", "channel"}``
``POST /hooks/{token}``             post through an incoming webhook: no Bearer token, the
                                    URL is the secret; honours ``Idempotency-Key``
``GET  /openapi.json``              the OpenAPI document
==================================  ========================================================

Everything else needs ``Authorization: Bearer $CHAT_TOKEN``. Errors always look
like ``{"error": {"code", "message", "details"?}}``, FastAPI's validation
errors included. The same ``Idempotency-Key`` with the same body replays the
first message (``200`` and ``Idempotent-Replayed: true``); with a different
body it is refused (``422``). Keys are scoped per credential and channel and
the most recent :data:`MAX_KEYS` are kept.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import random
import re
import secrets
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from apinotebook._exceptions import ConfigError
from apinotebook._signing import SignatureError, verify
from apinotebook.sandbox import _seed
from apinotebook.sandbox._context import ASGIApp, Mount, Receive, SandboxContext, Scope, Send

__all__ = ["MAX_KEYS", "MAX_TEXT", "ChatStore", "build"]

#: Longest message text accepted (Slack truncates at 40,000 characters).
MAX_TEXT = 40_000
#: How many idempotency keys are remembered, oldest forgotten first.
MAX_KEYS = 100_000
#: Page sizes for ``GET /channels/{id}/messages``.
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000

_NAME = re.compile(r"[a-z0-9_-]{1,80}")
_NAME_RULES = (
    "Channel names may only contain lowercase letters, numbers, hyphens and underscores, "
    "and must be 80 characters or less"
)
_TS = r"^\d{10}\.\d{6}$"
_API_USER = ("U0APIBOT0", "api-bot")
_OPTIONS = ("require_signature",)


# -- models (request bodies, and the shapes the OpenAPI document shows) -------


class ChannelIn(BaseModel):
    """Body of ``POST /channels``."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200, examples=["deals"])
    topic: str = Field(default="", max_length=250)

    @field_validator("name")
    @classmethod
    def _slack_name(cls, value: str) -> str:
        if not _NAME.fullmatch(value):
            raise ValueError(_NAME_RULES)
        return value


class MessageIn(BaseModel):
    """Body of ``POST /channels/{id}/messages`` and ``POST /hooks/{token}``."""

    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=MAX_TEXT, examples=["Deal closed!"])
    thread_ts: str | None = Field(default=None, pattern=_TS, examples=["1767225600.000100"])

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must not be blank")
        return value


class Channel(BaseModel):
    """A channel."""

    id: str
    name: str
    topic: str
    created_at: str
    message_count: int


class Message(BaseModel):
    """A message; ``ts`` is unique and increasing, Slack-style."""

    id: str
    channel: str
    text: str
    user: str
    username: str
    ts: str
    created_at: str
    thread_ts: str | None


class ChannelList(BaseModel):
    """``GET /channels``."""

    ok: bool = True
    channels: list[Channel]


class ResponseMetadata(BaseModel):
    """Where the next page starts; ``next_cursor`` is empty on the last page."""

    next_cursor: str


class MessagePage(BaseModel):
    """One page of ``GET /channels/{id}/messages``, newest first."""

    ok: bool = True
    messages: list[Message]
    has_more: bool
    response_metadata: ResponseMetadata


class Webhook(BaseModel):
    """An incoming webhook: anyone holding ``url`` can post into ``channel``."""

    id: str
    url: str
    channel: str
    created_at: str


class ErrorInfo(BaseModel):
    """What went wrong."""

    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorInfo


# -- errors ---------------------------------------------------------------------


class ApiError(Exception):
    """An error response in the service's JSON shape."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers, self.details = headers, details


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    details: list[dict[str, Any]] | None = None,
) -> JSONResponse:
    """``{"error": {"code", "message", "details"?}}`` with ``status``."""
    info: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        info["details"] = details
    return JSONResponse({"error": info}, status_code=status, headers=headers)


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


async def _on_api_error(request: Request, exc: Exception) -> Response:
    err = cast(ApiError, exc)
    return error_response(
        err.status, err.code, err.message, headers=err.headers, details=err.details
    )


async def _on_http_error(request: Request, exc: Exception) -> Response:
    err = cast(HTTPException, exc)
    path = request.url.path
    if err.status_code == 404:
        message = f"No endpoint at {path}; see {request.scope.get('root_path', '')}/openapi.json"
    elif err.status_code == 405:
        message = f"{request.method} is not allowed on {path}"
    else:
        message = str(err.detail)
    code = _HTTP_CODES.get(err.status_code, f"http_{err.status_code}")
    if err.status_code == 400 and "parsing the body" in message:  # FastAPI: undecodable bytes
        code, message = "malformed_json", "The body is not JSON (or not UTF-8)."
    return error_response(err.status_code, code, message, headers=err.headers)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    details = []
    for item in cast(RequestValidationError, exc).errors():
        loc = [str(part) for part in item.get("loc", ())]
        msg = str(item.get("msg", "invalid"))
        if item.get("type") == "json_invalid":  # broken JSON is a 400, like the CRM's
            reason = item.get("ctx", {}).get("error", "?")
            return error_response(400, "malformed_json", f"The body is not JSON: {reason}.")
        if item.get("type") == "missing" and loc == ["body"]:
            msg = "a JSON body is required"
        details.append({"loc": loc, "message": msg, "type": str(item.get("type", ""))})
    summary = "; ".join(f"{'.'.join(d['loc'])}: {d['message']}" for d in details[:3])
    return error_response(422, "validation_error", summary or "invalid request", details=details)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal_error", f"Unexpected {type(exc).__name__}.")


class BearerGate:
    """Check credentials before FastAPI reads the body.

    An anonymous request with a broken body gets 401, not 422, and nothing
    about the API's shape leaks to a caller without a token.

    Args:
        app: the service's app.
        check: raises :class:`ApiError` for a bad ``Authorization`` header.
        public: paths (below the mount prefix) that need no credentials, or
            prefixes of them when they end with ``/``.
    """

    def __init__(
        self, app: ASGIApp, check: Callable[[str | None], object], public: tuple[str, ...]
    ) -> None:
        self.app, self.check, self.public = app, check, public

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")).removeprefix(str(scope.get("root_path", "")))
        if scope["type"] == "http" and not any(
            path == p or (p.endswith("/") and path.startswith(p)) for p in self.public
        ):
            try:
                self.check(Headers(scope=scope).get("authorization"))
            except ApiError as exc:
                response = error_response(
                    exc.status, exc.code, exc.message, headers=exc.headers, details=exc.details
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error, FastAPI's own included, as ``{"error": {...}}``."""
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(HTTPException, _on_http_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(Exception, _on_unexpected)


# -- the store ------------------------------------------------------------------


@dataclass
class _Channel:
    id: str
    name: str
    topic: str
    created_at: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "topic": self.topic,
            "created_at": self.created_at,
            "message_count": len(self.messages),
        }


@dataclass(frozen=True)
class _Hook:
    id: str
    token: str
    channel: str
    created_at: str


class ChatStore:
    """The workspace: channels, messages, incoming webhooks, idempotency keys.

    Handlers run on the server's event loop and never await while they change
    the store, so API calls need no locks. Tests read it through
    :meth:`messages` and :meth:`channel_id`.

    Args:
        seed: seeds the channels' ids and the seed messages.
        token: the Bearer token (``CHAT_TOKEN``).
        signing_secret: verifies ``X-Signature`` on incoming-webhook posts.
        hook_url: builds a webhook's absolute URL from its token.
        require_signature: refuse incoming-webhook posts without ``X-Signature``.
        max_keys: how many idempotency keys to remember.
    """

    def __init__(
        self,
        seed: int,
        *,
        token: str,
        signing_secret: str = "",
        hook_url: Callable[[str], str] = lambda token: f"/chat/hooks/{token}",
        require_signature: bool = False,
        max_keys: int = MAX_KEYS,
    ) -> None:
        self.seed = seed
        self.token = token
        self.signing_secret = signing_secret
        self.hook_url = hook_url
        self.require_signature = require_signature
        self.max_keys = max_keys
        #: seconds since the epoch; replace to control message timestamps
        self.clock: Callable[[], float] = time.time
        self._channels: dict[str, _Channel] = {}
        self._ids: dict[str, str] = {}  # name -> id
        self._hooks: dict[str, _Hook] = {}  # token -> hook
        self._keys: OrderedDict[tuple[str, str, str], tuple[str, dict[str, Any]]] = OrderedDict()
        self._last_us = 0
        self._count = 0
        _seed_workspace(self)

    # -- reading (also for tests) ---------------------------------------------

    def channel_id(self, name: str) -> str:
        """The id of the channel called ``name`` (``"general"`` or ``"#general"``)."""
        try:
            return self._ids[name.removeprefix("#")]
        except KeyError:
            raise KeyError(f"no channel named {name!r}; channels: {sorted(self._ids)}") from None

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Copies of a channel's messages, oldest first; ``channel`` is a name or an id."""
        found = self._channels.get(channel) or self._channels[self.channel_id(channel)]
        return [dict(m) for m in found.messages]

    def channels(self) -> list[_Channel]:
        """Every channel, in creation order."""
        return list(self._channels.values())

    def has_channel(self, name: str) -> bool:
        """Whether a channel called ``name`` exists."""
        return name in self._ids

    def get(self, channel_id: str) -> _Channel | None:
        """The channel with ``channel_id``, if any."""
        return self._channels.get(channel_id)

    def hook(self, token: str) -> _Hook | None:
        """The incoming webhook behind ``token``, if any."""
        return self._hooks.get(token)

    def page(
        self, channel: _Channel, limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` messages older than ``before``, newest first; and whether more."""
        msgs = channel.messages
        end = len(msgs) if before is None else bisect_left(msgs, before, key=lambda m: m["ts"])
        start = max(0, end - limit)
        return msgs[start:end][::-1], start > 0

    # -- writing ----------------------------------------------------------------

    def create_channel(self, name: str, topic: str = "", *, created_at: str = "") -> _Channel:
        """Add a channel; ``name`` must be new."""
        salt = 0
        while True:
            digest = hashlib.sha256(f"chat:{self.seed}:{name}:{salt}".encode()).hexdigest()
            cid = "C" + digest[:10].upper()
            if cid not in self._channels:
                break
            salt += 1
        when = created_at or _seed.isoformat(datetime.fromtimestamp(self.clock(), UTC))
        channel = _Channel(cid, name, topic, when)
        self._channels[cid] = channel
        self._ids[name] = cid
        return channel

    def post(
        self,
        channel: _Channel,
        text: str,
        user: tuple[str, str],
        *,
        thread_ts: str | None = None,
        at: float | None = None,
    ) -> dict[str, Any]:
        """Append a message; its ``ts`` is unique and later than every earlier one."""
        micros = max(round((self.clock() if at is None else at) * 1_000_000), self._last_us + 1)
        self._last_us = micros
        self._count += 1
        seconds, fraction = divmod(micros, 1_000_000)
        message = {
            "id": f"M{self._count:08d}",
            "channel": channel.id,
            "text": text,
            "user": user[0],
            "username": user[1],
            "ts": f"{seconds:010d}.{fraction:06d}",
            "created_at": _seed.isoformat(datetime.fromtimestamp(micros / 1e6, UTC)),
            "thread_ts": thread_ts,
        }
        channel.messages.append(message)
        return message

    def authenticate(self, header: str | None) -> str:
        """Check an ``Authorization`` header; return the caller's idempotency scope."""
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "not_authed",
                "Send Authorization: Bearer $CHAT_TOKEN.",
                headers={"WWW-Authenticate": 'Bearer realm="chat"'},
            )
        given = token.strip().encode()
        if not hmac.compare_digest(given, self.token.encode()):
            raise ApiError(
                401,
                "invalid_auth",
                "The Bearer token is not valid for this workspace.",
                headers={"WWW-Authenticate": 'Bearer realm="chat", error="invalid_token"'},
            )
        return "token:" + hashlib.sha256(given).hexdigest()[:16]

    def has_ts(self, channel: _Channel, ts: str) -> bool:
        """Whether ``channel`` holds a message with ``ts``."""
        i = bisect_left(channel.messages, ts, key=lambda m: m["ts"])
        return i < len(channel.messages) and channel.messages[i]["ts"] == ts

    def create_hook(self, channel: _Channel) -> _Hook:
        """A new incoming webhook for ``channel`` with an unguessable token."""
        token = secrets.token_urlsafe(24)
        hook_id = "W" + hashlib.sha256(token.encode()).hexdigest()[:10].upper()
        when = _seed.isoformat(datetime.fromtimestamp(self.clock(), UTC))
        hook = _Hook(hook_id, token, channel.id, when)
        self._hooks[token] = hook
        return hook

    def recall(self, key: tuple[str, str, str]) -> tuple[str, dict[str, Any]] | None:
        """The fingerprint and message stored under an idempotency key."""
        return self._keys.get(key)

    def remember(self, key: tuple[str, str, str], fingerprint: str, msg: dict[str, Any]) -> None:
        """Store an idempotency key, forgetting the oldest beyond ``max_keys``."""
        self._keys[key] = (fingerprint, msg)
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)


_CHANNELS = (
    ("general", "Company-wide announcements"),
    ("sales", "Deals, leads and wins"),
    ("alerts", "Automated alerts from integrations"),
    ("random", "Everything else"),
)
_TEXTS = {
    "general": (
        "Welcome to the workspace, everyone!",
        "Reminder: all-hands on Friday at 15:00 UTC.",
        "The planning doc is ready for comments.",
        "The office is closed on Monday for maintenance.",
    ),
    "sales": (
        "Closed the renewal with {company}!",
        "New lead from {company}: they want a demo next week.",
        "{company} asked for a revised quote.",
        "Pipeline review moves to Thursday.",
    ),
    "alerts": (
        "[warning] CRM sync lag above 5 minutes",
        "[resolved] CRM sync lag back to normal",
        "[error] Billing export failed: upstream timeout (retrying)",
        "[info] Nightly backup completed in 4m12s",
    ),
    "random": (
        "Anyone up for lunch at the new ramen place?",
        "The office plant is thriving, as ever.",
        "Podcast recommendations for the commute?",
        "Happy birthday, {first}!",
    ),
}


def _seed_workspace(store: ChatStore) -> None:
    """Four channels with four messages each and one thread reply, all from the seed."""
    rng = random.Random(f"chat:{store.seed}")
    people = _seed.people(store.seed, 12)
    users = [
        ("U" + hashlib.sha256(f"{store.seed}:{p.index}".encode()).hexdigest()[:8].upper(),
         f"{p.first_name}.{p.last_name}".lower())
        for p in people
    ]  # fmt: skip
    companies = _seed.companies(store.seed, 20)
    start = _seed.EPOCH - timedelta(days=300)
    for i, (name, topic) in enumerate(_CHANNELS):
        store.create_channel(name, topic, created_at=_seed.isoformat(start + timedelta(days=i)))
    start = _seed.EPOCH - timedelta(days=2)
    slot = 0
    for round_ in range(4):
        for name, _ in _CHANNELS:
            who = rng.randrange(len(users))
            text = _TEXTS[name][round_].format(
                company=companies[rng.randrange(len(companies))].name,
                first=people[rng.randrange(len(people))].first_name,
            )
            at = start + timedelta(minutes=41 * slot, microseconds=rng.randrange(2400 * 10**6))
            poster = ("U0ALERTS0", "monitoring") if name == "alerts" else users[who]
            store.post(store._channels[store.channel_id(name)], text, poster, at=at.timestamp())
            slot += 1
    general = store._channels[store.channel_id("general")]
    at = start + timedelta(minutes=41 * slot)
    reply = "Thanks! Glad to be here."
    store.post(general, reply, users[-1], thread_ts=general.messages[0]["ts"], at=at.timestamp())


# -- HTTP -----------------------------------------------------------------------


def _store(request: Request) -> ChatStore:
    return cast(ChatStore, request.app.state.chat)


_bearer = HTTPBearer(auto_error=False, description="The CHAT_TOKEN credential.")

StoreDep = Annotated[ChatStore, Depends(_store)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", min_length=1, max_length=255, description="Replay-safe key."),
]


async def _caller(
    request: Request,
    store: StoreDep,
    _: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],  # for OpenAPI
) -> str:
    """The idempotency scope of the caller (the gate checked the token already)."""
    return store.authenticate(request.headers.get("authorization"))


CallerDep = Annotated[str, Depends(_caller)]


def _channel(store: ChatStore, channel_id: str) -> _Channel:
    channel = store.get(channel_id)
    if channel is None:
        raise ApiError(404, "channel_not_found", f"No channel with id {channel_id!r}.")
    return channel


def _post(
    store: ChatStore,
    channel: _Channel,
    body: MessageIn,
    *,
    scope: str,
    key: str | None,
    user: tuple[str, str],
    response: Response,
) -> dict[str, Any]:
    """Post once per idempotency key; no ``await`` in here, so it is atomic."""
    fingerprint = ""
    if key is not None:
        canonical = json.dumps(body.model_dump(), sort_keys=True).encode()
        fingerprint = hashlib.sha256(canonical).hexdigest()
        seen = store.recall((scope, channel.id, key))
        if seen is not None:
            if seen[0] != fingerprint:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    f"Idempotency-Key {key!r} was already used on this channel with a "
                    "different body. Use a new key for a new message.",
                )
            response.status_code = 200
            response.headers["Idempotent-Replayed"] = "true"
            return seen[1]
    if body.thread_ts is not None and not store.has_ts(channel, body.thread_ts):
        raise ApiError(
            422, "thread_not_found", f"No message with ts {body.thread_ts} in this channel."
        )
    message = store.post(channel, body.text, user, thread_ts=body.thread_ts)
    if key is not None:
        store.remember((scope, channel.id, key), fingerprint, message)
    return message


def _encode_cursor(ts: str) -> str:
    return base64.urlsafe_b64encode(f"next_ts:{ts}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    ts = raw.removeprefix("next_ts:")
    if not raw.startswith("next_ts:") or not re.fullmatch(_TS, ts):
        raise ApiError(422, "invalid_cursor", "cursor is not one this API returned in next_cursor.")
    return ts


async def list_channels(store: StoreDep, _: CallerDep) -> dict[str, Any]:
    """Every channel, oldest first."""
    return {"ok": True, "channels": [c.to_json() for c in store.channels()]}


async def create_channel(body: ChannelIn, store: StoreDep, _: CallerDep) -> dict[str, Any]:
    """Create a channel; names follow Slack's rules and must be unused."""
    if store.has_channel(body.name):
        raise ApiError(409, "name_taken", f"A channel named {body.name!r} already exists.")
    return store.create_channel(body.name, body.topic).to_json()


async def get_channel(channel_id: str, store: StoreDep, _: CallerDep) -> dict[str, Any]:
    """One channel."""
    return _channel(store, channel_id).to_json()


async def list_messages(
    channel_id: str,
    store: StoreDep,
    _: CallerDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Messages newest first; pass ``response_metadata.next_cursor`` back as ``cursor``."""
    channel = _channel(store, channel_id)
    before = _decode_cursor(cursor) if cursor else None
    messages, more = store.page(channel, limit, before)
    next_cursor = _encode_cursor(messages[-1]["ts"]) if more else ""
    return {
        "ok": True,
        "messages": messages,
        "has_more": more,
        "response_metadata": {"next_cursor": next_cursor},
    }


async def post_message(
    channel_id: str,
    body: MessageIn,
    store: StoreDep,
    caller: CallerDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Post a message (201); a repeated ``Idempotency-Key`` replays the first one (200)."""
    channel = _channel(store, channel_id)
    return _post(
        store, channel, body, scope=caller, key=idempotency_key, user=_API_USER, response=response
    )


async def create_webhook(channel_id: str, store: StoreDep, _: CallerDep) -> dict[str, Any]:
    """Create an incoming webhook; its URL is the only secret needed to post."""
    hook = store.create_hook(_channel(store, channel_id))
    return {
        "id": hook.id,
        "url": store.hook_url(hook.token),
        "channel": hook.channel,
        "created_at": hook.created_at,
    }


async def post_via_webhook(
    token: str,
    body: MessageIn,
    request: Request,
    store: StoreDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Post through an incoming webhook; ``X-Signature`` is verified when present."""
    hook = store.hook(token)
    if hook is None:
        raise ApiError(404, "no_such_hook", "No incoming webhook at this URL.")
    header = request.headers.get("x-signature")
    if header is not None or store.require_signature:
        try:
            verify(store.signing_secret, await request.body(), header)
        except SignatureError as exc:
            raise ApiError(401, "invalid_signature", str(exc)) from None
    channel = _channel(store, hook.channel)
    user = ("B" + hook.id[1:], "incoming-webhook")
    scope = "hook:" + hook.id
    return _post(
        store, channel, body, scope=scope, key=idempotency_key, user=user, response=response
    )


@functools.cache
def _router() -> APIRouter:
    router = APIRouter()
    add = router.add_api_route
    add("/channels", list_channels, methods=["GET"], response_model=ChannelList)
    add("/channels", create_channel, methods=["POST"], status_code=201, response_model=Channel)
    add("/channels/{channel_id}", get_channel, methods=["GET"], response_model=Channel)
    add(
        "/channels/{channel_id}/messages",
        list_messages,
        methods=["GET"],
        response_model=MessagePage,
    )
    add(
        "/channels/{channel_id}/messages",
        post_message,
        methods=["POST"],
        status_code=201,
        response_model=Message,
    )
    add(
        "/channels/{channel_id}/webhooks",
        create_webhook,
        methods=["POST"],
        status_code=201,
        response_model=Webhook,
    )
    add(
        "/hooks/{token}",
        post_via_webhook,
        methods=["POST"],
        status_code=201,
        response_model=Message,
    )
    return router


def _app(store: ChatStore) -> FastAPI:
    app = FastAPI(
        title="apinotebook chat",
        version="1.0.0",
        summary="A Slack-like chat API: channels, messages, incoming webhooks.",
        docs_url=None,
        redoc_url=None,
        responses={"4XX": {"model": ErrorBody, "description": "Error"}},
    )
    app.state.chat = store
    app.include_router(_router())
    install_error_handlers(app)
    return app


def build(ctx: SandboxContext) -> list[Mount]:
    """The chat service, mounted at ``/chat``.

    Options (``Sandbox(options={"chat": {...}})``): ``require_signature`` makes
    incoming webhooks refuse posts without a valid ``X-Signature``
    (HMAC with ``CHAT_SIGNING_SECRET``, see :mod:`apinotebook._signing`).
    """
    options = ctx.options.get("chat") or {}
    if not isinstance(options, dict):
        raise ConfigError('options["chat"] must be a mapping like {"require_signature": True}')
    for name in options:
        if name not in _OPTIONS:
            raise ConfigError.invalid_choice("chat option", name, _OPTIONS)
    store = ChatStore(
        ctx.seed,
        token=ctx.credentials["CHAT_TOKEN"],
        signing_secret=ctx.credentials["CHAT_SIGNING_SECRET"],
        hook_url=lambda token: ctx.url(f"/chat/hooks/{token}"),
        require_signature=bool(options.get("require_signature", False)),
    )
    return [
        Mount(
            prefix="/chat",
            app=BearerGate(_app(store), store.authenticate, ("/openapi.json", "/hooks/")),
            service="chat",
            error_format="json",
            urls={"chat": "/chat"},
            env={"CHAT_URL": "/chat"},
            state=store,
        )
    ]
