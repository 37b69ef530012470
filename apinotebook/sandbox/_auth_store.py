"""The authorization server's data and rules: clients, users, codes, tokens, keys.

Everything here is plain Python with no HTTP, so the rules read in one place
and :mod:`apinotebook.sandbox.auth_server` only translates requests. Every
refusal is an :class:`OAuthError` carrying an RFC 6749 section 5.2 or
RFC 8628 section 3.5 code. ``now`` is always passed in: the server's clock is
the real one plus the ``clock_skew`` fault.

Rules worth knowing (each one is tested):

- redirect URIs match exactly, except loopback ones (``http://127.0.0.1/...``,
  ``http://[::1]/...``, ``http://localhost/...``), which match on any port
  (RFC 8252 section 7.3);
- codes live ``code_ttl`` seconds and are single-use: a second exchange fails
  with ``invalid_grant`` and revokes every token the first one issued;
- PKCE (RFC 7636) is required of public clients and only ``S256`` is accepted;
- refresh tokens rotate: each refresh returns a new one, and presenting a used
  one again revokes the whole family (OAuth 2.0 Security BCP section 4.14);
- revoking a refresh token revokes the access tokens of its family (RFC 7009).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

__all__ = [
    "DEVICE_GRANT",
    "SCOPES",
    "AuthStore",
    "Client",
    "DeviceAuthorization",
    "OAuthError",
    "User",
]

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
GRANTS = ("authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT)
#: Every scope the server knows, with what the consent page says about it.
SCOPES = {
    "openid": "Sign you in (an ID token)",
    "profile": "Your name",
    "email": "Your email address",
    "offline_access": "Stay signed in (a refresh token)",
    "calendar.read": "Read your calendars",
    "calendar.write": "Change your calendars",
    "chat.read": "Read your chat channels",
    "chat.write": "Post in your chat channels",
    "crm.read": "Read the CRM",
}
_USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels: no words (RFC 8628 section 6.1)
_LOOPBACK = ("127.0.0.1", "[::1]", "localhost")


class OAuthError(Exception):
    """A refusal: ``{"error": error, "error_description": description}``."""

    def __init__(self, error: str, description: str, *, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


@dataclass(frozen=True)
class Client:
    """A registered client (RFC 6749 section 2)."""

    client_id: str
    secret: str | None
    name: str
    grants: frozenset[str]
    scopes: frozenset[str]
    redirect_uris: tuple[str, ...]

    @property
    def public(self) -> bool:
        """A client without a secret: PKCE is required, ``none`` is its auth method."""
        return self.secret is None

    def redirect_allowed(self, uri: str) -> bool:
        """Exact match, or a loopback URI on any port (RFC 8252 section 7.3)."""
        if uri in self.redirect_uris:
            return True
        got = urlsplit(uri)
        if got.scheme != "http" or got.fragment:
            return False
        host = got.netloc.rpartition(":")[0] if got.port is not None else got.netloc
        for registered in self.redirect_uris:
            want = urlsplit(registered)
            if want.scheme == "http" and want.netloc in _LOOPBACK and want.netloc == host:
                if (want.path, want.query) == (got.path, got.query):
                    return True
        return False


@dataclass(frozen=True)
class User:
    """Someone who can log in on the consent page."""

    sub: str
    username: str
    password: str
    name: str
    email: str


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scope: str
    sub: str
    challenge: str | None
    nonce: str | None
    expires_at: float
    auth_time: int
    used: bool = False
    family: str = ""


@dataclass
class _Token:
    kind: str  # "access" or "refresh"
    client_id: str
    sub: str | None
    scope: str
    expires_at: float
    family: str
    revoked: bool = False
    used: bool = False  # a rotated refresh token


@dataclass
class DeviceAuthorization:
    """One pending device authorization (RFC 8628)."""

    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    interval: float
    last_poll: float | None = None
    status: str = "pending"  # "approved", "denied", "used"
    sub: str | None = None


@dataclass
class AuthStore:
    """The authorization server's state. Thread-safe; ``sb.state("auth")`` returns it."""

    issuer: str
    clients: dict[str, Client]
    users: dict[str, User]
    access_ttl: float = 3600.0
    refresh_ttl: float = 30 * 86400.0
    code_ttl: float = 60.0
    device_ttl: float = 600.0
    device_interval: float = 5.0
    slow_down_step: float = 5.0
    rotate_refresh: bool = True
    #: token requests per grant type, refused ones included (``grants["refresh_token"]``)
    grants: Counter[str] = field(default_factory=Counter)
    _codes: dict[str, _Code] = field(default_factory=dict)
    _tokens: dict[str, _Token] = field(default_factory=dict)
    _devices: dict[str, DeviceAuthorization] = field(default_factory=dict)
    _key: RSAKey | None = None
    _forced: tuple[object, int] | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # -- keys ---------------------------------------------------------------------

    def key(self) -> RSAKey:
        """The signing key, made on first use (an RSA key costs ~50 ms)."""
        with self._lock:
            if self._key is None:
                kid = "sandbox-" + secrets.token_hex(4)
                params: Any = {"kid": kid, "use": "sig", "alg": "RS256"}
                self._key = RSAKey.generate_key(2048, parameters=params, private=True)
            return self._key

    def jwks(self) -> dict[str, Any]:
        """The public key set served at ``/auth/jwks``."""
        return dict(KeySet([self.key()]).as_dict(private=False))

    # -- clients and users ------------------------------------------------------------

    def client(self, client_id: str | None) -> Client | None:
        """The client called ``client_id``, if registered."""
        return self.clients.get(client_id or "")

    def authenticate_client(self, basic: tuple[str, str] | None, form: Mapping[str, str]) -> Client:
        """Who is calling: ``client_secret_basic``, ``client_secret_post`` or ``none``.

        Raises:
            OAuthError: ``invalid_request`` for two methods at once,
                ``invalid_client`` for an unknown client or a wrong or missing secret.
        """
        if basic is not None and ("client_secret" in form):
            raise OAuthError("invalid_request", "Use one client authentication method, not two.")
        if basic is not None:
            client_id, secret = basic
            if form.get("client_id") not in (None, client_id):
                raise OAuthError("invalid_request", "client_id differs from the Basic username.")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        client = self.client(client_id)
        if client is None:
            raise OAuthError("invalid_client", "Unknown client.", status=401)
        if client.public:
            if secret:
                raise OAuthError("invalid_client", "This public client has no secret.", status=401)
            return client
        if not secret:
            raise OAuthError("invalid_client", "This client must authenticate.", status=401)
        if not secrets.compare_digest(secret.encode(), (client.secret or "").encode()):
            raise OAuthError("invalid_client", "Wrong client secret.", status=401)
        return client

    def login(self, username: str, password: str) -> User | None:
        """The user with these credentials, or ``None``."""
        user = self.users.get(username)
        if user is None or not secrets.compare_digest(password.encode(), user.password.encode()):
            return None
        return user

    def check_scope(self, client: Client, requested: str | None, *, user: bool = True) -> str:
        """The granted scope: the request, checked against the client's and the server's.

        Raises:
            OAuthError: ``invalid_scope``.
        """
        asked = (requested or "").split()
        if not asked:
            asked = ["openid"] if user and "openid" in client.scopes else []
        unknown = [s for s in asked if s not in SCOPES]
        if unknown:
            raise OAuthError("invalid_scope", f"Unknown scope {unknown[0]!r}.")
        refused = [s for s in asked if s not in client.scopes]
        if refused:
            raise OAuthError("invalid_scope", f"This client may not ask for {refused[0]!r}.")
        if not user and {"openid", "offline_access"} & set(asked):
            raise OAuthError("invalid_scope", "openid and offline_access need a user.")
        return " ".join(dict.fromkeys(asked))

    def check_grant(self, client: Client, grant: str) -> None:
        """Raises ``unauthorized_client`` when ``client`` may not use ``grant``."""
        if grant not in client.grants or (grant == "client_credentials" and client.public):
            raise OAuthError("unauthorized_client", f"This client may not use the {grant} grant.")

    # -- faults -----------------------------------------------------------------------

    def forced_error(self, cfg: Any, grant: str) -> OAuthError | None:
        """The error the ``oauth_error`` fault forces on this token request, if any."""
        error = getattr(cfg, "oauth_error", None)
        if not error:
            return None
        only = getattr(cfg, "oauth_error_grant", None)
        if only and only not in (grant, grant.rpartition(":")[2]):
            return None
        with self._lock:
            count = getattr(cfg, "oauth_error_count", 0)
            seen = self._forced[1] if self._forced and self._forced[0] is cfg else 0
            if count and seen >= count:
                return None
            self._forced = (cfg, seen + 1)
        status = 401 if error == "invalid_client" else 400
        return OAuthError(
            error, f"{error} (injected by the sandbox's fault settings).", status=status
        )

    # -- authorization codes ------------------------------------------------------------

    def issue_code(
        self,
        client: Client,
        *,
        redirect_uri: str,
        scope: str,
        user: User,
        challenge: str | None,
        nonce: str | None,
        now: float,
    ) -> str:
        """A single-use authorization code."""
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Code(
                client.client_id,
                redirect_uri,
                scope,
                user.sub,
                challenge,
                nonce,
                now + self.code_ttl,
                int(now),
            )
        return code

    def exchange_code(self, client: Client, form: Mapping[str, str], now: float) -> dict[str, Any]:
        """``grant_type=authorization_code`` (RFC 6749 section 4.1.3, RFC 7636 section 4.6)."""
        code_value = form.get("code", "")
        if not code_value:
            raise OAuthError("invalid_request", "The code parameter is missing.")
        with self._lock:
            code = self._codes.get(code_value)
            if code is None or code.client_id != client.client_id:
                raise OAuthError("invalid_grant", "Unknown authorization code.")
            if code.used:
                self._revoke_family(code.family)
                raise OAuthError(
                    "invalid_grant",
                    "This code was already used; the tokens it gave are revoked.",
                )
            code.used = True
            code.family = secrets.token_hex(8)
        if now > code.expires_at:
            raise OAuthError("invalid_grant", "The authorization code expired.")
        if form.get("redirect_uri", "") != code.redirect_uri:
            raise OAuthError(
                "invalid_grant", "redirect_uri differs from the authorization request."
            )
        verifier = form.get("code_verifier")
        if code.challenge is not None:
            if not verifier:
                raise OAuthError("invalid_request", "The code_verifier parameter is missing.")
            if not compare_s256_code_challenge(verifier, code.challenge):
                raise OAuthError("invalid_grant", "code_verifier does not match the challenge.")
        elif verifier:
            raise OAuthError("invalid_grant", "A code_verifier was sent for a code without PKCE.")
        return self._tokens_for(
            client, code.sub, code.scope, now, family=code.family, nonce=code.nonce,
            auth_time=code.auth_time, refresh=True,
        )  # fmt: skip

    # -- refresh, client credentials --------------------------------------------------

    def refresh(self, client: Client, form: Mapping[str, str], now: float) -> dict[str, Any]:
        """``grant_type=refresh_token`` with rotation (RFC 6749 section 6)."""
        value = form.get("refresh_token", "")
        if not value:
            raise OAuthError("invalid_request", "The refresh_token parameter is missing.")
        with self._lock:
            token = self._tokens.get(value)
            if token is None or token.kind != "refresh" or token.client_id != client.client_id:
                raise OAuthError("invalid_grant", "Unknown refresh token.")
            if token.revoked:
                raise OAuthError("invalid_grant", "The refresh token was revoked.")
            if token.used:
                self._revoke_family(token.family)
                raise OAuthError(
                    "invalid_grant",
                    "This refresh token was already used (rotated); its family is revoked.",
                )
            if now > token.expires_at:
                raise OAuthError("invalid_grant", "The refresh token expired.")
            scope = token.scope
            if form.get("scope"):
                asked = form["scope"].split()
                if not set(asked) <= set(scope.split()):
                    raise OAuthError("invalid_scope", "A refresh may only narrow the scope.")
                scope = " ".join(asked)
            if self.rotate_refresh:
                token.used = True
        result = self._tokens_for(
            client,
            token.sub,
            scope,
            now,
            family=token.family,
            refresh=self.rotate_refresh,
            id_token=False,  # ID tokens come with a sign-in, not with a refresh
        )
        if not self.rotate_refresh:
            result["refresh_token"] = value
        return result

    def client_credentials(
        self, client: Client, form: Mapping[str, str], now: float
    ) -> dict[str, Any]:
        """``grant_type=client_credentials`` (RFC 6749 section 4.4): no user, no refresh."""
        scope = self.check_scope(client, form.get("scope"), user=False)
        return self._tokens_for(client, None, scope, now, family=secrets.token_hex(8))

    # -- device authorization (RFC 8628) ----------------------------------------------------

    def start_device(self, client: Client, scope: str, now: float) -> DeviceAuthorization:
        """A new device code and user code."""
        pick = secrets.choice
        user_code = "".join(pick(_USER_CODE_ALPHABET) for _ in range(8))
        user_code = f"{user_code[:4]}-{user_code[4:]}"
        auth = DeviceAuthorization(
            device_code=secrets.token_urlsafe(32),
            user_code=user_code,
            client_id=client.client_id,
            scope=scope,
            expires_at=now + self.device_ttl,
            interval=self.device_interval,
        )
        with self._lock:
            self._devices[auth.device_code] = auth
        return auth

    def device_by_user_code(self, user_code: str) -> DeviceAuthorization | None:
        """The pending authorization a user typed the code of (any case, dash optional)."""
        wanted = user_code.upper().replace("-", "").replace(" ", "")
        with self._lock:
            for auth in self._devices.values():
                if auth.user_code.replace("-", "") == wanted and auth.status == "pending":
                    return auth
        return None

    def decide_device(self, auth: DeviceAuthorization, user: User | None, approve: bool) -> None:
        """The user approved (with their login) or denied on the verification page."""
        with self._lock:
            auth.status = "approved" if approve else "denied"
            auth.sub = user.sub if user is not None else None

    def poll_device(self, client: Client, form: Mapping[str, str], now: float) -> dict[str, Any]:
        """``grant_type=urn:ietf:params:oauth:grant-type:device_code`` (RFC 8628 section 3.4)."""
        value = form.get("device_code", "")
        if not value:
            raise OAuthError("invalid_request", "The device_code parameter is missing.")
        with self._lock:
            auth = self._devices.get(value)
            if auth is None or auth.client_id != client.client_id or auth.status == "used":
                raise OAuthError("invalid_grant", "Unknown device code.")
            if now > auth.expires_at:
                raise OAuthError("expired_token", "The device code expired; start again.")
            if auth.status == "denied":
                raise OAuthError("access_denied", "The user denied the request.")
            last, auth.last_poll = auth.last_poll, now
            if auth.status == "pending":
                if last is not None and now - last < auth.interval:
                    auth.interval += self.slow_down_step
                    raise OAuthError("slow_down", f"Poll at most every {auth.interval:g} s.")
                raise OAuthError("authorization_pending", "The user has not decided yet.")
            auth.status = "used"
            sub = auth.sub
        return self._tokens_for(
            client, sub, auth.scope, now, family=secrets.token_hex(8), refresh=True
        )

    # -- tokens -----------------------------------------------------------------------

    def _tokens_for(
        self,
        client: Client,
        sub: str | None,
        scope: str,
        now: float,
        *,
        family: str,
        refresh: bool = False,
        nonce: str | None = None,
        auth_time: int | None = None,
        id_token: bool = True,
    ) -> dict[str, Any]:
        access = "at_" + secrets.token_urlsafe(24)
        result: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.access_ttl),
            "scope": scope,
        }
        with self._lock:
            self._tokens[access] = _Token(
                "access", client.client_id, sub, scope, now + self.access_ttl, family
            )
            if refresh and sub is not None and "refresh_token" in client.grants:
                value = "rt_" + secrets.token_urlsafe(32)
                self._tokens[value] = _Token(
                    "refresh", client.client_id, sub, scope, now + self.refresh_ttl, family
                )
                result["refresh_token"] = value
        if id_token and sub is not None and "openid" in scope.split():
            result["id_token"] = self.id_token(client, sub, scope, now, nonce, auth_time)
        return result

    def id_token(
        self,
        client: Client,
        sub: str,
        scope: str,
        now: float,
        nonce: str | None,
        auth_time: int | None,
    ) -> str:
        """An OpenID Connect ID token, signed RS256 with the JWKS key."""
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": client.client_id,
            "azp": client.client_id,
            "iat": int(now),
            "exp": int(now + self.access_ttl),
        }
        if nonce:
            claims["nonce"] = nonce
        if auth_time is not None:
            claims["auth_time"] = auth_time
        claims.update(self.profile(sub, scope))
        key = self.key()
        header = {"alg": "RS256", "kid": str(key.kid), "typ": "JWT"}
        encoded: str = jwt.encode(header, claims, key)
        return encoded

    def profile(self, sub: str, scope: str) -> dict[str, Any]:
        """The user's claims that ``scope`` allows."""
        user = next((u for u in self.users.values() if u.sub == sub), None)
        if user is None:
            return {}
        scopes = scope.split()
        claims: dict[str, Any] = {}
        if "profile" in scopes:
            claims.update(name=user.name, preferred_username=user.username)
        if "email" in scopes:
            claims.update(email=user.email, email_verified=True)
        return claims

    def access_token(self, value: str, now: float) -> _Token | None:
        """A live access token, or ``None`` (unknown, expired or revoked)."""
        with self._lock:
            token = self._tokens.get(value)
        if token is None or token.kind != "access" or token.revoked or now > token.expires_at:
            return None
        return token

    def introspect(self, value: str, now: float) -> dict[str, Any]:
        """RFC 7662: what a resource server may know about a token."""
        with self._lock:
            token = self._tokens.get(value)
        live = (
            token is not None and not token.revoked and not token.used and now <= token.expires_at
        )
        if token is None or not live:
            return {"active": False}
        info: dict[str, Any] = {
            "active": True,
            "client_id": token.client_id,
            "scope": token.scope,
            "exp": int(token.expires_at),
            "token_type": "Bearer" if token.kind == "access" else "refresh_token",
        }
        if token.sub:
            info["sub"] = token.sub
        return info

    def revoke(self, value: str, client: Client | None = None) -> bool:
        """Revoke a token (RFC 7009); a refresh token takes its family's access tokens along.

        With ``client``, only that client's tokens; returns whether one was revoked.
        """
        with self._lock:
            token = self._tokens.get(value)
            if token is None or (client is not None and token.client_id != client.client_id):
                return False
            token.revoked = True
            if token.kind == "refresh":
                self._revoke_family(token.family)
            return True

    def revoke_all(self, *, sub: str | None = None) -> int:
        """Revoke every token (of user ``sub``); returns how many were live."""
        n = 0
        with self._lock:
            for token in self._tokens.values():
                if not token.revoked and (sub is None or token.sub == sub):
                    token.revoked = True
                    n += 1
        return n

    def _revoke_family(self, family: str) -> None:
        if not family:
            return
        with self._lock:
            for token in self._tokens.values():
                if token.family == family:
                    token.revoked = True


def clock(cfg: Any) -> float:
    """The server's now: the real clock plus the ``clock_skew`` fault."""
    return time.time() + float(getattr(cfg, "clock_skew", 0.0) or 0.0)
