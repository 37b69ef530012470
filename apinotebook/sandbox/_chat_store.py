"""The chat service's workspace: channels, messages, incoming webhooks, idempotency keys.

:class:`ChatStore` is what ``sb.state("chat")`` returns; the HTTP side is in
:mod:`apinotebook.sandbox.chat`. The seed workspace is four channels with a
handful of messages, whatever the number of contacts.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apinotebook.sandbox import _seed
from apinotebook.sandbox._event_log import EventLog
from apinotebook.sandbox._rest import bearer_error, bearer_token

if TYPE_CHECKING:
    from apinotebook.sandbox._delegated import Delegation

__all__ = ["MAX_KEYS", "ChatChannel", "ChatStore", "IncomingHook"]

#: How many idempotency keys are remembered, oldest forgotten first.
MAX_KEYS = 100_000


@dataclass
class ChatChannel:
    """A channel and its messages, oldest first (``ts`` increases)."""

    id: str
    name: str
    topic: str
    created_at: str
    messages: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The channel as the API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "topic": self.topic,
            "created_at": self.created_at,
            "message_count": len(self.messages),
        }


@dataclass(frozen=True)
class IncomingHook:
    """An incoming webhook: whoever holds ``token`` may post into ``channel``."""

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
        self._channels: dict[str, ChatChannel] = {}
        self._ids: dict[str, str] = {}  # name -> id
        self._hooks: dict[str, IncomingHook] = {}  # token -> hook
        self._keys: OrderedDict[tuple[str, str, str], tuple[str, dict[str, Any]]] = OrderedDict()
        self._last_us = 0
        #: accepts the sandbox authorization server's user tokens (set by ``build``)
        self.delegation: Delegation | None = None
        self._count = 0
        self.events = EventLog()
        _seed_workspace(self)
        #: what the event socket pushes (``message``, ``channel_created``); the seed is not news
        self.events = EventLog()
        #: event sockets open right now (tests watch a client's close reach the server)
        self.sockets = 0

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

    def channels(self) -> list[ChatChannel]:
        """Every channel, in creation order."""
        return list(self._channels.values())

    def has_channel(self, name: str) -> bool:
        """Whether a channel called ``name`` exists."""
        return name in self._ids

    def get(self, channel_id: str) -> ChatChannel | None:
        """The channel with ``channel_id``, if any."""
        return self._channels.get(channel_id)

    def hook(self, token: str) -> IncomingHook | None:
        """The incoming webhook behind ``token``, if any."""
        return self._hooks.get(token)

    def page(
        self, channel: ChatChannel, limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], bool]:
        """Up to ``limit`` messages older than ``before``, newest first; and whether more."""
        msgs = channel.messages
        end = len(msgs) if before is None else bisect_left(msgs, before, key=lambda m: m["ts"])
        start = max(0, end - limit)
        return msgs[start:end][::-1], start > 0

    # -- writing ----------------------------------------------------------------

    def create_channel(self, name: str, topic: str = "", *, created_at: str = "") -> ChatChannel:
        """Add a channel; ``name`` must be new."""
        salt = 0
        while True:
            digest = hashlib.sha256(f"chat:{self.seed}:{name}:{salt}".encode()).hexdigest()
            cid = "C" + digest[:10].upper()
            if cid not in self._channels:
                break
            salt += 1
        when = created_at or _seed.isoformat(datetime.fromtimestamp(self.clock(), UTC))
        channel = ChatChannel(cid, name, topic, when)
        self._channels[cid] = channel
        self._ids[name] = cid
        self.events.append("channel_created", channel=channel.to_json())
        return channel

    def post(
        self,
        channel: ChatChannel,
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
        self.events.append("message", channel=channel.id, message=message)
        return message

    def authenticate(self, header: str | None) -> str:
        """Check an ``Authorization`` header; return the caller's idempotency scope.

        A user's token from the sandbox's authorization server (``delegation``)
        is accepted too: the scope is then the user.
        """
        if self.delegation is not None:
            grant = self.delegation.grant(header)
            if grant is not None:
                return "user:" + grant.sub
        message = "Send Authorization: Bearer $CHAT_TOKEN."
        given = bearer_token(header, realm="chat", code="not_authed", message=message).encode()
        if not hmac.compare_digest(given, self.token.encode()):
            message = "The Bearer token is not valid for this workspace."
            raise bearer_error(401, "invalid_auth", message, realm="chat", error="invalid_token")
        return "token:" + hashlib.sha256(given).hexdigest()[:16]

    def has_ts(self, channel: ChatChannel, ts: str) -> bool:
        """Whether ``channel`` holds a message with ``ts``."""
        i = bisect_left(channel.messages, ts, key=lambda m: m["ts"])
        return i < len(channel.messages) and channel.messages[i]["ts"] == ts

    def create_hook(self, channel: ChatChannel) -> IncomingHook:
        """A new incoming webhook for ``channel`` with an unguessable token."""
        token = secrets.token_urlsafe(24)
        hook_id = "W" + hashlib.sha256(token.encode()).hexdigest()[:10].upper()
        when = _seed.isoformat(datetime.fromtimestamp(self.clock(), UTC))
        hook = IncomingHook(hook_id, token, channel.id, when)
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
