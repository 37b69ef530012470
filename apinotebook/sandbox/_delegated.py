"""User-delegated access at the sandbox's resource servers (calendar, chat).

Real calendars and chat workspaces act for a *user*: the user signs in at the
identity provider (authorization code with PKCE in a notebook, the device flow
in a script) and consents to scopes such as ``calendar.read``; the API then
accepts that user's access token. The sandbox's calendar and chat do the same
with the sandbox's authorization server (``/auth``): an access token it issued
for the demo user, with the service's ``.read`` scope (reads) or ``.write``
scope (writes), is accepted next to the service's own machine credentials
(the calendar's client credentials, the chat's bot token).

The authorization servers of the running sandboxes register here by issuer, so
a resource server checks a token in memory, as a gateway in front of a real
API checks a JWT against its issuer.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from apinotebook.sandbox._auth_store import AuthStore
from apinotebook.sandbox._rest import bearer_error

__all__ = ["Delegation", "register_issuer"]

_ISSUERS: weakref.WeakValueDictionary[str, AuthStore] = weakref.WeakValueDictionary()


def register_issuer(store: AuthStore) -> None:
    """Make ``store``'s tokens acceptable to the resource servers that name its issuer."""
    _ISSUERS[store.issuer] = store


@dataclass(frozen=True)
class Grant:
    """Who a delegated token acts for and what it may do."""

    sub: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class Delegation:
    """Accepts the issuer's user tokens carrying ``<service>.read`` / ``<service>.write``."""

    issuer: str
    service: str

    def grant(self, header: str | None) -> Grant | None:
        """The user a header's Bearer token acts for, or ``None`` if it is not one of ours."""
        scheme, _, value = (header or "").partition(" ")
        store = _ISSUERS.get(self.issuer)
        if scheme.lower() != "bearer" or not value or store is None:
            return None
        token = store.access_token(value.strip(), time.time())
        if token is None or token.sub is None:
            return None
        mine = {f"{self.service}.read", f"{self.service}.write"}
        scopes = frozenset(token.scope.split()) & mine
        if not scopes:
            message = f"The token was not granted any {self.service} scope; ask for {sorted(mine)}."
            raise bearer_error(
                403, "insufficient_scope", message, realm=self.service, error="insufficient_scope"
            )
        return Grant(token.sub, scopes)

    def check(self, header: str | None, write: bool) -> bool:
        """``True`` when the header carries a user token allowed to read (or ``write``)."""
        grant = self.grant(header)
        if grant is None:
            return False
        if write and f"{self.service}.write" not in grant.scopes:
            message = f"Writing needs the {self.service}.write scope; this token has read only."
            raise bearer_error(
                403, "insufficient_scope", message, realm=self.service, error="insufficient_scope"
            )
        return True
