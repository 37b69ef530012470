"""The simple auth flows: a token, a password, an API key, client credentials, WS-Security."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Mapping
from typing import Any

import httpx

from apinotebook._core.secrets import Secret, as_secret, register_secret
from apinotebook._exceptions import ConfigError, HTTPStatusError

__all__ = ["ApiKey", "Basic", "Bearer", "OAuth2ClientCredentials", "WsseUsernameToken"]


class Bearer(httpx.Auth):
    """``Authorization: Bearer <token>``.

    Args:
        token: the token, as a string or a :class:`Secret`.
        scheme: the scheme word, for APIs that want ``token`` or ``Bot``.
    """

    def __init__(self, token: str | Secret, *, scheme: str = "Bearer") -> None:
        self.token = as_secret(token)
        self.scheme = scheme

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Set the header."""
        request.headers.update(self.static_headers())
        yield request

    def static_headers(self) -> dict[str, str]:
        """The header this auth sets (the clients set it without running a flow)."""
        return {"Authorization": f"{self.scheme} {self.token.reveal()}"}

    def __repr__(self) -> str:
        return f"Bearer({self.token!r})"


class Basic(httpx.BasicAuth):
    """HTTP Basic authentication (RFC 7617); the password is a :class:`Secret`."""

    def __init__(self, username: str, password: str | Secret) -> None:
        self.username = username
        self.password = as_secret(password)
        super().__init__(username, self.password.reveal())
        # the header carries base64("user:password"): mask that value too
        register_secret(self._auth_header.partition(" ")[2])

    def __repr__(self) -> str:
        return f"Basic({self.username!r}, {self.password!r})"


class ApiKey(httpx.Auth):
    """An API key in a header, a query parameter or a cookie.

    Exactly one of ``header``, ``query`` or ``cookie`` names where the key
    goes; with none given, it goes in the ``X-API-Key`` header.

    >>> ApiKey("k-123456", query="api_key")
    ApiKey(Secret('***'), query='api_key')
    """

    def __init__(
        self,
        key: str | Secret,
        *,
        header: str | None = None,
        query: str | None = None,
        cookie: str | None = None,
    ) -> None:
        places = (("header", header), ("query", query), ("cookie", cookie))
        given = [(kind, name) for kind, name in places if name is not None]
        if len(given) > 1:
            raise ConfigError(
                "ApiKey goes in one place: give only one of header=, query= or cookie= "
                f"(got {', '.join(k for k, _ in given)})"
            )
        self.key = as_secret(key)
        self.location, self.name = given[0] if given else ("header", "X-API-Key")
        if not self.name:
            raise ConfigError(f"ApiKey {self.location} name must not be empty")

    def static_headers(self) -> dict[str, str]:
        """The header this key goes in (empty for query and cookie keys)."""
        return {self.name: self.key.reveal()} if self.location == "header" else {}

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Put the key where it belongs."""
        value = self.key.reveal()
        if self.location == "header":
            request.headers[self.name] = value
        elif self.location == "query":
            request.url = request.url.copy_merge_params({self.name: value})
        else:
            cookies = request.headers.get("Cookie")
            pair = f"{self.name}={value}"
            request.headers["Cookie"] = f"{cookies}; {pair}" if cookies else pair
        yield request

    def __repr__(self) -> str:
        return f"ApiKey({self.key!r}, {self.location}={self.name!r})"


class OAuth2ClientCredentials(httpx.Auth):
    """OAuth 2.0 client credentials grant (RFC 6749 section 4.4).

    Fetches a token from ``token_url`` on first use, caches it, refreshes it
    ``leeway`` seconds before it expires, and once more if the API answers
    401 (the token was revoked early). The access token is registered as a
    secret, so it is masked everywhere.

    Args:
        token_url: the token endpoint.
        client_id: the client identifier.
        client_secret: the client secret.
        scope: space-separated scopes to request.
        auth_method: ``"basic"`` sends the client credentials with HTTP Basic
            (the RFC's recommendation); ``"post"`` sends them as form fields.
        leeway: seconds before expiry at which the token counts as expired.
        extra_params: more form fields for the token request (``audience``).
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | Secret,
        *,
        scope: str | None = None,
        auth_method: str = "basic",
        leeway: float = 30.0,
        extra_params: Mapping[str, str] | None = None,
    ) -> None:
        if auth_method not in ("basic", "post"):
            raise ConfigError.invalid_choice("auth_method", auth_method, ("basic", "post"))
        self.token_url = token_url
        self.client_id = client_id
        self.client_secret = as_secret(client_secret)
        self.scope = scope
        self.auth_method = auth_method
        self.leeway = leeway
        self.extra_params = dict(extra_params or {})
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        #: how many tokens were fetched (shown by the inspector's Timing tab)
        self.fetches = 0

    # -- token handling -------------------------------------------------------

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials", **self.extra_params}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Accept": "application/json"}
        if self.auth_method == "post":
            form["client_id"] = self.client_id
            form["client_secret"] = self.client_secret.reveal()
            return httpx.Request("POST", self.token_url, data=form, headers=headers)
        request = httpx.Request("POST", self.token_url, data=form, headers=headers)
        basic = httpx.BasicAuth(self.client_id, self.client_secret.reveal())
        return next(basic.auth_flow(request))

    def _store(self, response: httpx.Response) -> None:
        try:
            payload: Any = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200 or not isinstance(payload, dict):
            error = payload.get("error") if isinstance(payload, dict) else None
            detail = f" ({error})" if error else ""
            raise HTTPStatusError(
                f"OAuth2 token request to {self.token_url} failed with "
                f"{response.status_code}{detail}. Check the client id and secret."
            )
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise HTTPStatusError(
                f"OAuth2 token response from {self.token_url} has no access_token"
            )
        register_secret(token)
        expires_in = payload.get("expires_in")
        ttl = float(expires_in) if isinstance(expires_in, int | float | str) else 3600.0
        with self._lock:
            self._token = token
            self._expires_at = time.monotonic() + ttl - self.leeway
            self.fetches += 1

    def _valid_token(self) -> str | None:
        with self._lock:
            if self._token is not None and time.monotonic() < self._expires_at:
                return self._token
            return None

    def invalidate(self) -> None:
        """Forget the cached token; the next request fetches a new one."""
        with self._lock:
            self._token = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Fetch or reuse the token; refresh once on 401."""
        token = self._valid_token()
        if token is None:
            self._store((yield self._token_request()))
            token = self._valid_token() or ""
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self.invalidate()
            self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._valid_token() or ''}"
            yield request

    def __repr__(self) -> str:
        return (
            f"OAuth2ClientCredentials({self.token_url!r}, {self.client_id!r}, "
            f"{self.client_secret!r})"
        )


class WsseUsernameToken:
    """WS-Security UsernameToken for SOAP (``PasswordText``, or digest).

    Pass it as ``auth=`` to :class:`~apinotebook.SoapClient`; the envelope gets
    a ``wsse:Security`` header built by zeep's ``UsernameToken``.
    """

    def __init__(self, username: str, password: str | Secret, *, digest: bool = False) -> None:
        self.username = username
        self.password = as_secret(password)
        self.digest = digest

    def zeep_wsse(self) -> Any:
        """The zeep plugin object that signs envelopes."""
        from zeep.wsse.username import UsernameToken

        return UsernameToken(  # type: ignore[no-untyped-call]
            self.username, self.password.reveal(), use_digest=self.digest
        )

    def __repr__(self) -> str:
        kind = ", digest=True" if self.digest else ""
        return f"WsseUsernameToken({self.username!r}, {self.password!r}{kind})"
