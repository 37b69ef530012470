"""What every demo service is built from, and what it hands back.

A service module exposes ``build(ctx: SandboxContext) -> list[Mount]``. The
context carries the public base URL (known before the app is built, because
the socket is bound first: WSDL addresses are pinned at start-up), the seed,
the sizes, the credentials and the webhook dispatcher. Each :class:`Mount`
says where an ASGI app lives, which service it counts as for faults and
stats, how its errors look, and what it adds to ``sb.urls`` and ``sb.env``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from apinotebook.sandbox._webhooks import WebhookDispatcher

__all__ = ["ASGIApp", "Credentials", "ErrorFormat", "Mount", "SandboxContext", "credentials"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: How a service reports a generic error (oversized body, injected fault).
ErrorFormat = Literal["json", "graphql", "soap11"]

Credentials = dict[str, str]

#: Every credential the sandbox accepts, by environment-variable name.
CREDENTIAL_NAMES = (
    "CRM_TOKEN",  # read-write Bearer token
    "CRM_READONLY_TOKEN",  # Bearer token that gets 403 on writes
    "CRM_WEBHOOK_SECRET",  # signs contact.* webhook events
    "MAIL_API_KEY",  # X-API-Key header
    "BILLING_USERNAME",  # HTTP Basic or WS-Security UsernameToken
    "BILLING_PASSWORD",
    "FARES_SKYHIGH_KEY",  # REST provider: X-API-Key
    "FARES_BLUEJET_TOKEN",  # GraphQL provider: Bearer
    "FARES_AEROCORP_USERNAME",  # SOAP provider: WS-Security
    "FARES_AEROCORP_PASSWORD",
    "CHAT_TOKEN",  # Bearer
    "CHAT_SIGNING_SECRET",  # signs incoming-webhook deliveries
    "CALENDAR_CLIENT_ID",  # OAuth2 client credentials
    "CALENDAR_CLIENT_SECRET",
    "CALENDAR_WEBHOOK_SECRET",  # signs watch notifications
    "AUTH_CLIENT_ID",  # authorization server: a confidential client
    "AUTH_CLIENT_SECRET",
    "AUTH_PUBLIC_CLIENT_ID",  # a public client (PKCE, no secret)
    "AUTH_USERNAME",  # the demo user who logs in on the consent page
    "AUTH_PASSWORD",
)


def credentials(seed: int) -> Credentials:
    """Credentials for a seed: stable across runs, different across seeds."""
    out: Credentials = {}
    for name in CREDENTIAL_NAMES:
        digest = hashlib.sha256(f"apinotebook-sandbox:{seed}:{name}".encode()).hexdigest()
        if name.endswith("_USERNAME"):
            out[name] = name.split("_")[0].lower() + "-demo"
        elif name.endswith("_CLIENT_ID"):
            short = {"CALENDAR": "cal", "AUTH": "nb"}.get(name.split("_")[0], "app")
            kind = "public-" if "_PUBLIC_" in name else ""
            out[name] = f"{short}-{kind}client-" + digest[:12]
        else:
            prefix = name.split("_")[0].lower()
            out[name] = f"{prefix}_{digest[:32]}"
    return out


@dataclass(frozen=True)
class SandboxContext:
    """Everything a service needs to build itself."""

    base_url: str
    seed: int
    contacts: int
    companies: int
    credentials: Credentials
    webhooks: WebhookDispatcher
    options: dict[str, Any] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """Absolute public URL of ``path`` (which starts with ``/``)."""
        return self.base_url.rstrip("/") + path


@dataclass
class Mount:
    """An ASGI app mounted at ``prefix``.

    Attributes:
        prefix: path prefix such as ``/crm`` or ``/fares/skyhigh``; the app sees
            ``root_path`` set to it and ``path`` with the prefix removed.
        app: the ASGI application.
        service: name for faults and stats (``crm``, ``fares.skyhigh``, ...).
        error_format: how generic errors (413, injected 5xx) are rendered.
        urls: entries for ``sb.urls``: ``{"crm": "/crm"}`` or nested mappings
            (``{"fares": {"skyhigh": "/fares/skyhigh"}}``); paths are relative
            to the base URL.
        env: extra environment variables (URLs) for ``sb.env``, paths as above.
        credential_of: picks the rate-limit key out of the request headers
            (lower-case names); by default the Authorization or X-API-Key value.
        state: the service's own data, for tests and the admin API.
    """

    prefix: str
    app: ASGIApp
    service: str
    error_format: ErrorFormat = "json"
    urls: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    credential_of: Callable[[dict[str, str]], str] | None = None
    state: Any = None
