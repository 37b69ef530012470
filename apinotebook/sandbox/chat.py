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
``WS   /events``                    the workspace's events, socket-mode style (streams)
``GET  /assistant/stream``          a generated reply over Server-Sent Events, token by token
``GET  /openapi.json``              the OpenAPI document
==================================  ========================================================

The two streams are described in :mod:`apinotebook.sandbox._chat_stream`.

Everything else needs ``Authorization: Bearer $CHAT_TOKEN``. Errors always look
like ``{"error": {"code", "message", "details"}}``, FastAPI's validation
errors included (see :mod:`apinotebook.sandbox._rest`). The same
``Idempotency-Key`` with the same body replays the first message (``200`` and
``Idempotent-Replayed: true``); with a different body it is refused (``422``).
Keys are scoped per credential and channel and the most recent :data:`MAX_KEYS`
are kept.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator

from apinotebook._core.signing import SignatureError, verify
from apinotebook.sandbox._chat_store import MAX_KEYS, ChatChannel, ChatStore
from apinotebook.sandbox._chat_stream import assistant_stream, event_socket
from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._delegated import Delegation
from apinotebook.sandbox._rest import ApiError, make_app, options_of, rest_mount, store_of

__all__ = ["MAX_KEYS", "MAX_TEXT", "ChatStore", "build"]

#: Longest message text accepted (Slack truncates at 40,000 characters).
MAX_TEXT = 40_000
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


# -- HTTP -----------------------------------------------------------------------


def _store(request: Request) -> ChatStore:
    return cast(ChatStore, store_of(request))


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


def _channel(store: ChatStore, channel_id: str) -> ChatChannel:
    channel = store.get(channel_id)
    if channel is None:
        raise ApiError(404, "channel_not_found", f"No channel with id {channel_id!r}.")
    return channel


def _post(
    store: ChatStore,
    channel: ChatChannel,
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
    add(
        "/assistant/stream",
        assistant_stream,
        methods=["GET"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    router.add_api_websocket_route("/events", event_socket)
    return router


@functools.cache
def _app() -> FastAPI:
    summary = "A Slack-like chat API: channels, messages, incoming webhooks."
    return make_app(_router(), title="apinotebook chat", summary=summary)


def build(ctx: SandboxContext) -> list[Mount]:
    """The chat service, mounted at ``/chat``.

    Options (``Sandbox(options={"chat": {...}})``): ``require_signature`` makes
    incoming webhooks refuse posts without a valid ``X-Signature``
    (HMAC with ``CHAT_SIGNING_SECRET``, see :mod:`apinotebook._core.signing`).
    """
    options = options_of(ctx, "chat", _OPTIONS)
    store = ChatStore(
        ctx.seed,
        token=ctx.credentials["CHAT_TOKEN"],
        signing_secret=ctx.credentials["CHAT_SIGNING_SECRET"],
        hook_url=lambda token: ctx.url(f"/chat/hooks/{token}"),
        require_signature=bool(options.get("require_signature", False)),
    )
    delegation = store.delegation = Delegation(ctx.url("/auth"), "chat")  # users' tokens
    mount = rest_mount(
        "chat",
        _app,
        store,
        check=lambda header, write: delegation.check(header, write) or store.authenticate(header),
        public=("/openapi.json", "/hooks/"),
    )
    return [mount]
