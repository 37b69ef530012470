"""How the services of one sandbox find each other in process.

Each service is built on its own by ``build(ctx)``, and the context is frozen
and shared, so it cannot carry them. A native connector (the CRM's built-in
mail sync) lives *inside* one vendor and talks to the other through its Python
API, the way a vendor's own integrations skip the public API. So a service
that offers such an API registers it here with :func:`provide`, keyed by the
identity of the context it was built for, and a connector finds it with
:func:`lookup` lazily, on first use: the services are built in order (the
CRM before mail), and a service that is not served is simply not found.

An entry lives as long as its context: it is dropped when the context is
garbage-collected, so a stopped sandbox leaves nothing behind. The
:class:`typing.Protocol` classes below are what each service offers, so mypy
checks the provider against what the connector uses.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

from apinotebook.sandbox._context import SandboxContext

__all__ = ["ItemError", "MailingApi", "UpsertResult", "lookup", "provide"]


class ItemError(Protocol):
    """One input item a batch write refused."""

    @property
    def index(self) -> int:
        """Position in the input."""

    @property
    def message(self) -> str:
        """Why it was refused."""


class UpsertResult(Protocol):
    """What a batch upsert did."""

    @property
    def created(self) -> int:
        """Items that were new."""

    @property
    def updated(self) -> int:
        """Items that changed."""

    @property
    def unchanged(self) -> int:
        """Items that were already like this."""

    @property
    def user_errors(self) -> Sequence[ItemError]:
        """Items refused (and skipped)."""


class MailingApi(Protocol):
    """What the mail service offers in process (:class:`~._mail_store.MailStore`)."""

    def ensure_list(self, name: str) -> str:
        """The id of the list called ``name`` (any case), created if there is none."""

    def upsert(self, list_id: str, items: Sequence[Mapping[str, Any]]) -> UpsertResult:
        """``upsertSubscribers``: create or update subscribers keyed by email."""

    def unsubscribe(self, list_id: str, email: str, *, missing_ok: bool) -> object:
        """Mark a subscriber UNSUBSCRIBED; ``None`` if absent and ``missing_ok``."""


Service = Literal["mail"]

_LOCK = threading.Lock()
_ENTRIES: dict[int, tuple[weakref.ref[SandboxContext], dict[Service, MailingApi]]] = {}


def provide(ctx: SandboxContext, service: Service, api: MailingApi) -> None:
    """Offer ``api`` to the other services built for ``ctx``."""
    key = id(ctx)
    with _LOCK:
        entry = _ENTRIES.get(key)
        if entry is None or entry[0]() is not ctx:  # new, or an old context's id reused
            ref = weakref.ref(ctx, lambda dead: _forget(key, dead))
            entry = _ENTRIES[key] = (ref, {})
        entry[1][service] = api


def lookup(ctx: SandboxContext, service: Service) -> MailingApi | None:
    """What ``service`` offers to the services built for ``ctx``; ``None`` if not served."""
    with _LOCK:
        entry = _ENTRIES.get(id(ctx))
        if entry is None or entry[0]() is not ctx:
            return None
        return entry[1].get(service)


def _forget(key: int, dead: weakref.ref[SandboxContext]) -> None:
    with _LOCK:
        entry = _ENTRIES.get(key)
        if entry is not None and entry[0] is dead:
            del _ENTRIES[key]
