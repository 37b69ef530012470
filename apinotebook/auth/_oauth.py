"""What every user-delegated OAuth 2.0 flow shares: tokens, refresh, revocation, discovery.

:class:`OAuth2Flow` is an ``httpx.Auth``, so the REST, GraphQL and SOAP
clients (sync and async) and plain httpx clients use it like any other auth.
Per request it sets ``Authorization: Bearer <access token>`` and:

- refreshes the access token *before* it expires (``expires_in`` minus
  ``leeway`` seconds), and once when the API answers 401 with
  ``WWW-Authenticate: Bearer error="invalid_token"`` (revoked early, or the
  server's clock runs ahead), keeping a rotated refresh token;
- shares one refresh among concurrent callers: threads wait on one lock and
  find the new token when they get it; async callers wait in a worker thread,
  so the event loop never blocks;
- raises :class:`~apinotebook.RefreshTokenRevoked` (and forgets the stored
  tokens) when the refresh token no longer works.

The token endpoint is called with the flow's own small ``httpx.Client``, not
through the API client: token requests carry the client secret, the PKCE
verifier and the refresh token, and are not recorded in the history. The
protocol pieces (client authentication, PKCE, authorization URLs and
responses, OpenID claims) come from Authlib; ID tokens are verified with
joserfc against the issuer's JWKS. Both are imported on first use, not with
the package (together they cost ~0.3 s of import time).
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

import httpx

from apinotebook._core.http import default_tls
from apinotebook._core.secrets import Secret, as_secret, mask_url, register_secret
from apinotebook._exceptions import (
    ConfigError,
    DecodeError,
    LoginRequired,
    OAuth2Error,
    RefreshTokenRevoked,
    TransportError,
)
from apinotebook.auth._tokens import TokenSet, TokenStore, resolve_store, store_lock

if TYPE_CHECKING:
    from joserfc.jwk import KeySet

__all__ = ["AUTH_METHODS", "OAuth2Flow", "discover"]

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
_ALGORITHMS = ["RS256", "ES256"]
_INVALID_TOKEN = re.compile(r'(?i)\berror\s*=\s*"?invalid_token"?')


def discover(issuer: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """The issuer's OpenID Connect discovery document (its ``issuer`` must match)."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        with httpx.Client(timeout=timeout, verify=default_tls()) as client:
            response = client.get(url)
    except httpx.HTTPError as exc:
        raise TransportError(f"Cannot read {url}: {exc}", url=url) from exc
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if response.status_code != 200 or not isinstance(doc, dict):
        raise DecodeError(f"{url} answered {response.status_code}, not a discovery document")
    if str(doc.get("issuer", "")).rstrip("/") != issuer.rstrip("/"):
        raise DecodeError(
            f"{url} names issuer {doc.get('issuer')!r}, not {issuer!r}: refusing to use it"
        )
    return doc


class OAuth2Flow(httpx.Auth):
    """Base of the user-delegated flows; see :mod:`apinotebook.auth` for the public ones.

    Args:
        token_url: the token endpoint.
        client_id: the client identifier.
        client_secret: the secret of a confidential client; ``None`` for a
            public client (then ``auth_method`` is ``"none"``).
        auth_method: ``client_secret_basic`` (default with a secret),
            ``client_secret_post`` or ``none``.
        scope: space-separated scopes (or a list).
        name: the tokens' name in the store; an exported script that builds
            the flow with the same name (and store) reuses the refresh token.
        store: ``"memory"`` (default), ``"keyring"``, ``"file"`` or a store object.
        leeway: seconds before expiry at which the access token is refreshed.
        revocation_url: the RFC 7009 endpoint, for :meth:`revoke`.
        issuer, jwks_uri: verify ID tokens (set by :meth:`from_issuer`).
        timeout: seconds for each token-endpoint call.
    """

    requires_response_body = False

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str | Secret | None = None,
        auth_method: str | None = None,
        scope: str | Sequence[str] | None = None,
        name: str | None = None,
        store: str | TokenStore | None = None,
        leeway: float = 60.0,
        revocation_url: str | None = None,
        issuer: str | None = None,
        jwks_uri: str | None = None,
        userinfo_url: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        method = auth_method or ("client_secret_basic" if client_secret else "none")
        if method not in AUTH_METHODS:
            raise ConfigError.invalid_choice("auth_method", method, AUTH_METHODS)
        if method != "none" and client_secret is None:
            raise ConfigError(f"auth_method={method!r} needs a client_secret")
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = as_secret(client_secret) if client_secret is not None else None
        self.auth_method = method
        self.scope: str | None = (
            scope if scope is None or isinstance(scope, str) else " ".join(scope)
        )
        self.name = name or _default_name(token_url, client_id, self.scope)
        self.store = resolve_store(store)
        self.leeway = leeway
        self.revocation_url = revocation_url
        self.issuer = issuer
        self.jwks_uri = jwks_uri
        self.userinfo_url = userinfo_url
        self.timeout = timeout
        self._lock = threading.RLock()
        self._obtain_lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._tokens: TokenSet | None = None
        self._loaded = False
        self._jwks: KeySet | None = None
        self._id_claims: dict[str, Any] | None = None
        #: token-endpoint calls that refreshed the access token
        self.refreshes = 0

    # -- discovery ----------------------------------------------------------------------

    @classmethod
    def from_issuer(cls, issuer: str, **kwargs: Any) -> Self:
        """Build the flow from the issuer's ``/.well-known/openid-configuration``.

        The endpoints come from the document (the flow's own keyword arguments
        win); ID tokens are then verified against the issuer's JWKS.
        """
        doc = discover(issuer, timeout=float(kwargs.get("timeout", 30.0)))
        return cls(**{**cls._discovered(doc), **kwargs})

    @classmethod
    def _discovered(cls, doc: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "token_url": doc["token_endpoint"],
            "revocation_url": doc.get("revocation_endpoint"),
            "issuer": doc["issuer"],
            "jwks_uri": doc.get("jwks_uri"),
            "userinfo_url": doc.get("userinfo_endpoint"),
        }

    # -- tokens -------------------------------------------------------------------------

    @property
    def tokens(self) -> TokenSet | None:
        """The current tokens (read from the store the first time), or ``None``."""
        with self._lock:
            if not self._loaded:
                self._tokens = self.store.load(self.name)
                self._loaded = True
            return self._tokens

    @property
    def authorized(self) -> bool:
        """Whether the flow holds tokens (possibly expired but refreshable)."""
        return self.tokens is not None

    @property
    def id_token_claims(self) -> dict[str, Any] | None:
        """The claims of the last ID token, verified against the issuer's JWKS."""
        return dict(self._id_claims) if self._id_claims is not None else None

    def access_token(self) -> str:
        """A valid access token: refreshed first if it expires within ``leeway`` seconds."""
        with self._lock:
            tokens = self.tokens
            if tokens is not None and tokens.expired(self.leeway):
                tokens = self._refresh_locked(tokens)
            if tokens is not None:
                return tokens.access_token.reveal()
        return self._obtain_once().access_token.reveal()

    def refresh(self) -> TokenSet:
        """Refresh now (rotating the refresh token when the server does)."""
        with self._lock:
            tokens = self.tokens
            fresh = self._refresh_locked(tokens) if tokens is not None else None
        return fresh if fresh is not None else self._obtain_once()

    def _refresh_after_reject(self, rejected: str) -> str:
        """The API refused ``rejected``: refresh once, unless another caller already did."""
        with self._lock:
            tokens = self.tokens
            if tokens is not None and tokens.access_token.reveal() != rejected:
                return tokens.access_token.reveal()
            fresh = self._refresh_locked(tokens) if tokens is not None else None
        if fresh is None:
            self.forget()  # a rejected token without a refresh token is of no use
            fresh = self._obtain_once()
        return fresh.access_token.reveal()

    def _obtain_once(self) -> TokenSet:
        """Sign in (without holding the token lock: the redirect arrives on another thread).

        One sign-in at a time; callers that waited find its tokens.
        """
        with self._obtain_lock:
            tokens = self.tokens
            if tokens is not None and not tokens.expired(self.leeway):
                return tokens
            return self._obtain()

    def _refresh_locked(self, tokens: TokenSet) -> TokenSet | None:
        """Refresh with the refresh token (the lock is held); ``None`` when there is none.

        The store is read first: another flow object with the same name (a
        re-run notebook cell) or another process (an exported script) may have
        refreshed already, and presenting the rotated-away refresh token again
        would make the server revoke the whole family.
        """
        with store_lock(self.store, self.name):  # and one process at a time (file store)
            return self._refresh_with(tokens)

    def _refresh_with(self, tokens: TokenSet) -> TokenSet | None:
        stored = self.store.load(self.name)
        if stored is not None and stored != tokens:
            self._tokens = tokens = stored
            if not stored.expired(self.leeway):
                return stored
        if tokens.refresh_token is None:
            return None
        form = {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token.reveal()}
        try:
            payload = self._token_request(form)
        except OAuth2Error as exc:
            if exc.error != "invalid_grant":
                raise
            self.forget()
            raise RefreshTokenRevoked(
                f"{exc} The refresh token of {self.name!r} no longer works (revoked, expired "
                "or already rotated); the stored tokens were forgotten: authorize() again.",
                error=exc.error,
                description=exc.description,
                status=exc.status,
            ) from exc
        self.refreshes += 1
        return self._accept(payload, previous=tokens)

    def _obtain(self) -> TokenSet:
        """Get tokens with no refresh token at hand; the flows override this."""
        raise LoginRequired(
            f"No tokens for {self.name!r}: run authorize() first.", error="login_required"
        )

    def _accept(
        self, payload: dict[str, Any], *, previous: TokenSet | None = None, nonce: str | None = None
    ) -> TokenSet:
        """Store a token response (verifying its ID token) and return it."""
        if not isinstance(payload.get("access_token"), str) or not payload["access_token"]:
            raise DecodeError(f"The token response from {self.token_url} has no access_token")
        tokens = TokenSet.from_response(payload, previous)
        if tokens.id_token is not None:
            self._id_claims = self._verify_id_token(tokens.id_token.reveal(), nonce)
        with self._lock:
            self._tokens, self._loaded = tokens, True
            self.store.save(self.name, tokens)
        return tokens

    def set_tokens(self, tokens: TokenSet) -> None:
        """Use (and store) tokens obtained elsewhere."""
        with self._lock:
            self._tokens, self._loaded = tokens, True
            self.store.save(self.name, tokens)

    def forget(self) -> None:
        """Drop the tokens from memory and from the store (nothing is sent)."""
        with self._lock:
            self._tokens, self._loaded, self._id_claims = None, True, None
            self.store.delete(self.name)

    def revoke(self) -> None:
        """Revoke the refresh token (and access token) at the server, then forget them.

        Needs ``revocation_url`` (filled in by :meth:`from_issuer`).
        """
        if self.revocation_url is None:
            raise ConfigError("revoke() needs revocation_url= (or build the flow from_issuer())")
        with self._lock:
            tokens = self.tokens
            if tokens is not None:
                for kind, token in (
                    ("refresh_token", tokens.refresh_token),
                    ("access_token", tokens.access_token),
                ):
                    if token is not None:
                        form = {"token": token.reveal(), "token_type_hint": kind}
                        self._post(self.revocation_url, form, allow_empty=True)
            self.forget()

    # -- the token endpoint -----------------------------------------------------------------

    def _client(self) -> httpx.Client:
        with self._lock:
            if self._http is None or self._http.is_closed:
                self._http = httpx.Client(
                    timeout=self.timeout, follow_redirects=False, verify=default_tls()
                )
            return self._http

    def close(self) -> None:
        """Close the token endpoint's connection pool."""
        with self._lock:
            if self._http is not None:
                self._http.close()

    def _token_request(self, form: Mapping[str, str]) -> dict[str, Any]:
        return self._post(self.token_url, form)

    def _post(
        self, url: str, form: Mapping[str, str], *, allow_empty: bool = False
    ) -> dict[str, Any]:
        """POST a form with client authentication; the JSON answer, or a typed error."""
        from authlib.oauth2.auth import ClientAuth

        body = urlencode(dict(form))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        secret = self.client_secret.reveal() if self.client_secret is not None else None
        auth = ClientAuth(self.client_id, secret, self.auth_method)
        _, headers, body = auth.prepare("POST", url, headers, body)
        where = mask_url(url)
        try:
            response = self._client().post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            raise TransportError(f"Cannot reach {where}: {type(exc).__name__}", url=where) from exc
        try:
            payload = response.json() if response.content else {}
        except ValueError:
            payload = None
        if isinstance(payload, dict) and isinstance(payload.get("error"), str):
            description = payload.get("error_description")
            raise OAuth2Error.from_code(
                payload["error"],
                description if isinstance(description, str) else None,
                where=where,
                status=response.status_code,
            )
        if response.status_code >= 400 or not isinstance(payload, dict):
            raise DecodeError(f"{where} answered {response.status_code} without an OAuth2 body")
        for key in ("access_token", "refresh_token", "id_token", "device_code"):
            value = payload.get(key)
            if isinstance(value, str):
                register_secret(value)
        if not payload and not allow_empty:
            raise DecodeError(f"{where} answered an empty body")
        return payload

    # -- ID tokens ------------------------------------------------------------------------

    def _keys(self, *, fresh: bool = False) -> KeySet:
        from joserfc.errors import JoseError
        from joserfc.jwk import KeySet

        if self.jwks_uri is None:
            raise ConfigError("verifying an ID token needs jwks_uri= (or from_issuer())")
        with self._lock:
            if self._jwks is None or fresh:
                try:
                    response = self._client().get(self.jwks_uri)
                    self._jwks = KeySet.import_key_set(response.json())
                except (httpx.HTTPError, ValueError, JoseError) as exc:
                    raise DecodeError(f"Cannot read the JWKS at {self.jwks_uri}: {exc}") from exc
            return self._jwks

    def _verify_id_token(self, id_token: str, nonce: str | None) -> dict[str, Any] | None:
        """The verified claims; ``None`` without an issuer and JWKS to check them against."""
        if self.jwks_uri is None or self.issuer is None:
            return None
        from authlib.oidc.core import CodeIDToken
        from joserfc import jwt
        from joserfc.errors import JoseError

        try:
            try:
                decoded = jwt.decode(id_token, self._keys(), algorithms=_ALGORITHMS)
            except JoseError:  # a rotated key: read the JWKS once more
                decoded = jwt.decode(id_token, self._keys(fresh=True), algorithms=_ALGORITHMS)
            options = {
                "iss": {"essential": True, "value": self.issuer},
                "aud": {"essential": True, "value": self.client_id},
            }
            claims = CodeIDToken(decoded.claims, decoded.header, options, {"nonce": nonce})
            claims.validate(leeway=int(self.leeway))
        except (JoseError, ValueError) as exc:
            raise OAuth2Error(
                f"The ID token from {self.issuer} failed verification: {exc}",
                error="invalid_id_token",
            ) from exc
        return dict(claims)

    # -- httpx.Auth ---------------------------------------------------------------------------

    def _current_if_fresh(self) -> str | None:
        tokens = self._tokens if self._loaded else None
        if tokens is None or tokens.expired(self.leeway):
            return None
        return tokens.access_token.reveal()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Send with a fresh token; refresh once on ``401 invalid_token``."""
        token = self._current_if_fresh() or self.access_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if _rejected(response):
            fresh = self._refresh_after_reject(token)
            if fresh != token:
                request.headers["Authorization"] = f"Bearer {fresh}"
                yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """As :meth:`auth_flow`; token work runs in a worker thread, never on the loop."""
        token = self._current_if_fresh()
        if token is None:
            token = await asyncio.to_thread(self.access_token)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if _rejected(response):
            fresh = await asyncio.to_thread(self._refresh_after_reject, token)
            if fresh != token:
                request.headers["Authorization"] = f"Bearer {fresh}"
                yield request

    def __repr__(self) -> str:
        secret = ", client_secret=Secret('***')" if self.client_secret is not None else ""
        state = "authorized" if self._tokens is not None else "not authorized"
        return (
            f"{type(self).__name__}(client_id={self.client_id!r}{secret}, "
            f"name={self.name!r}, store={self.store!r}) <{state}>"
        )


def _rejected(response: httpx.Response) -> bool:
    if response.status_code != 401:
        return False
    challenge = response.headers.get("www-authenticate", "")
    return challenge.lower().startswith("bearer") and bool(_INVALID_TOKEN.search(challenge))


def _default_name(token_url: str, client_id: str, scope: str | None) -> str:
    host = httpx.URL(token_url).host or "oauth"
    raw = f"{host}-{client_id}" + (f"-{'+'.join(scope.split())}" if scope else "")
    return re.sub(r"[^A-Za-z0-9._-]", "-", raw)[:100].strip("-._") or "oauth"
