"""The sandbox's authorization server (OAuth 2.0 + OpenID Connect), at ``/auth``.

=================================================  ===========================================
``GET  /auth/.well-known/openid-configuration``    discovery (OpenID Connect Discovery 1.0)
``GET  /auth/jwks``                                the RS256 public key of the ID tokens
``GET|POST /auth/authorize``                       login-and-consent page; redirects with
                                                   ``code`` and ``state`` (or ``error``)
``POST /auth/token``                               ``authorization_code`` (PKCE S256),
                                                   ``refresh_token`` (rotated),
                                                   ``client_credentials``, ``device_code``
``POST /auth/device_authorization``                RFC 8628 device and user codes
``GET|POST /auth/device``                          where the user types the code and decides
``POST /auth/revoke``                              RFC 7009 revocation
``POST /auth/introspect``                          RFC 7662 introspection
``GET  /auth/userinfo``                            the user's claims; a Bearer-protected
                                                   resource (401 ``invalid_token``)
=================================================  ===========================================

Credentials in ``sb.env``: ``AUTH_CLIENT_ID``/``AUTH_CLIENT_SECRET`` (a
confidential client: ``client_secret_basic`` or ``client_secret_post``, every
grant), ``AUTH_PUBLIC_CLIENT_ID`` (a public client: PKCE required, no
client credentials grant), ``AUTH_USERNAME``/``AUTH_PASSWORD`` (the user on
the consent page). Both clients may redirect to ``http://127.0.0.1/callback``
on any port. ``AUTH_ISSUER`` is the issuer URL.

Faults (``sb.set_faults("auth", ...)``): ``oauth_error`` forces an error code
on token requests (``oauth_error_grant`` picks a grant, ``oauth_error_count``
the number of requests), ``clock_skew`` moves the server's clock. Revoke
tokens with ``POST /auth/revoke`` or ``sb.state("auth").revoke_all()``.
Options (``Sandbox(options={"auth": {...}})``): ``access_ttl``,
``refresh_ttl``, ``code_ttl``, ``device_ttl``, ``device_interval``,
``slow_down_step``, ``rotate_refresh``.
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Any, cast
from urllib.parse import parse_qsl, unquote_plus, urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from apinotebook._exceptions import ConfigError
from apinotebook.sandbox._app import FAULTS_KEY
from apinotebook.sandbox._auth_pages import consent_page, device_page, message_page
from apinotebook.sandbox._auth_store import (
    DEVICE_GRANT,
    GRANTS,
    SCOPES,
    AuthStore,
    Client,
    OAuthError,
    User,
    clock,
)
from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._delegated import register_issuer
from apinotebook.sandbox._rest import make_app, options_of, rest_mount, store_of

__all__ = ["AuthStore", "build"]

_OPTIONS = (
    "access_ttl",
    "refresh_ttl",
    "code_ttl",
    "device_ttl",
    "device_interval",
    "slow_down_step",
    "rotate_refresh",
)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_USER_SCOPES = frozenset(SCOPES)
_LOOPBACK_REDIRECTS = ("http://127.0.0.1/callback", "http://[::1]/callback")


# -- helpers ------------------------------------------------------------------------------


def _store(request: Request) -> AuthStore:
    return cast(AuthStore, store_of(request))


def _now(request: Request) -> float:
    return clock(request.scope.get(FAULTS_KEY))


def _error(exc: OAuthError) -> JSONResponse:
    headers = dict(_NO_STORE)
    if exc.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="auth"'
    body = {"error": exc.error, "error_description": exc.description}
    return JSONResponse(body, status_code=exc.status, headers=headers)


async def _form(request: Request) -> dict[str, str]:
    """The form body; a repeated parameter or another media type is ``invalid_request``."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send application/x-www-form-urlencoded.")
    try:
        pairs = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "The body is not valid form encoding.") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise OAuthError("invalid_request", f"Parameter {key!r} is repeated.")
        form[key] = value
    return form


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    client_id, sep, secret = decoded.partition(":")
    if scheme.lower() != "basic" or not sep:
        raise OAuthError("invalid_client", "Malformed Basic credentials.", status=401)
    return unquote_plus(client_id), unquote_plus(secret)  # RFC 6749 section 2.3.1


async def _client_and_form(request: Request) -> tuple[Client, dict[str, str]]:
    form = await _form(request)
    return _store(request).authenticate_client(_basic(request), form), form


# -- discovery and keys ---------------------------------------------------------------------


async def discovery(request: Request) -> Response:
    """``/.well-known/openid-configuration``."""
    store = _store(request)
    issuer = store.issuer
    doc = {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "device_authorization_endpoint": issuer + "/device_authorization",
        "revocation_endpoint": issuer + "/revoke",
        "introspection_endpoint": issuer + "/introspect",
        "userinfo_endpoint": issuer + "/userinfo",
        "jwks_uri": issuer + "/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": list(GRANTS),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": list(SCOPES),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "name", "preferred_username", "email", "email_verified"],
        "authorization_response_iss_parameter_supported": True,
    }
    return JSONResponse(doc)


async def jwks(request: Request) -> Response:
    """The public keys that verify ID tokens."""
    return JSONResponse(_store(request).jwks())


# -- the authorization endpoint ------------------------------------------------------------

_AUTHORIZE_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
)


class _NoRedirect(Exception):
    """An authorization request whose redirect URI cannot be trusted (RFC 6749 4.1.2.1)."""


def _redirect(uri: str, params: dict[str, str], issuer: str) -> RedirectResponse:
    params = {k: v for k, v in params.items() if v}
    params["iss"] = issuer  # RFC 9207: which server answered
    sep = "&" if "?" in uri else "?"
    return RedirectResponse(uri + sep + urlencode(params), status_code=302)


def _check_request(store: AuthStore, params: dict[str, str]) -> tuple[Client, str, str]:
    """The client, redirect URI and scope of a valid authorization request.

    Raises:
        _NoRedirect: unknown client or redirect URI: answer with a page.
        OAuthError: anything else: redirect back with the error.
    """
    client = store.client(params.get("client_id"))
    if client is None:
        raise _NoRedirect("Unknown client_id: check the client registration.")
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri or not client.redirect_allowed(redirect_uri):
        raise _NoRedirect(f"redirect_uri {redirect_uri!r} is not registered for this client.")
    if params.get("response_type") != "code":
        raise OAuthError("unsupported_response_type", "Only response_type=code is supported.")
    store.check_grant(client, "authorization_code")
    scope = store.check_scope(client, params.get("scope"))
    challenge = params.get("code_challenge")
    if challenge is None and client.public:
        raise OAuthError("invalid_request", "Public clients must use PKCE (code_challenge).")
    if challenge is not None and params.get("code_challenge_method") != "S256":
        raise OAuthError("invalid_request", "code_challenge_method must be S256.")
    if challenge is not None and not 43 <= len(challenge) <= 128:
        raise OAuthError("invalid_request", "code_challenge has the wrong length.")
    return client, redirect_uri, scope


def _consent(client: Client, scope: str, params: dict[str, str], **kwargs: Any) -> str:
    fields = {k: params[k] for k in _AUTHORIZE_FIELDS if params.get(k) is not None}
    scopes = [(s, SCOPES[s]) for s in scope.split()]
    return consent_page(client_name=client.name, scopes=scopes, fields=fields, **kwargs)


async def authorize(request: Request) -> Response:
    """Show the login-and-consent page (GET) or act on its form (POST)."""
    store = _store(request)
    if request.method == "POST":
        try:
            params = await _form(request)
        except OAuthError as exc:
            return HTMLResponse(message_page("Bad request", exc.description), status_code=400)
    else:
        params = dict(request.query_params)
    try:
        client, redirect_uri, scope = _check_request(store, params)
    except _NoRedirect as exc:
        return HTMLResponse(message_page("Bad request", str(exc)), status_code=400)
    except OAuthError as exc:
        answer = {"error": exc.error, "error_description": exc.description}
        return _redirect(params["redirect_uri"], {**answer, "state": params.get("state", "")},
                         store.issuer)  # fmt: skip
    state = params.get("state", "")
    if request.method == "GET":
        return HTMLResponse(_consent(client, scope, params), headers=_NO_STORE)
    if params.get("decision") != "approve":
        denied = {"error": "access_denied", "error_description": "The user said no."}
        return _redirect(redirect_uri, {**denied, "state": state}, store.issuer)
    user = store.login(params.get("username", ""), params.get("password", ""))
    if user is None:
        page = _consent(
            client,
            scope,
            params,
            error="Wrong username or password.",
            username=params.get("username", ""),
        )
        return HTMLResponse(page, status_code=401, headers=_NO_STORE)
    code = store.issue_code(
        client,
        redirect_uri=redirect_uri,
        scope=scope,
        user=user,
        challenge=params.get("code_challenge"),
        nonce=params.get("nonce"),
        now=_now(request),
    )
    return _redirect(redirect_uri, {"code": code, "state": state}, store.issuer)


# -- the token endpoint ---------------------------------------------------------------------


async def token(request: Request) -> Response:
    """Every grant; errors as RFC 6749 section 5.2 says."""
    store = _store(request)
    try:
        client, form = await _client_and_form(request)
        grant = form.get("grant_type", "")
        store.grants[grant or "(none)"] += 1
        if not grant:
            raise OAuthError("invalid_request", "grant_type is required.")
        forced = store.forced_error(request.scope.get(FAULTS_KEY), grant)
        if forced is not None:
            raise forced
        if grant not in GRANTS:
            raise OAuthError("unsupported_grant_type", f"grant_type {grant!r} is not supported.")
        store.check_grant(client, grant)
        now = _now(request)
        if grant == "authorization_code":
            result = store.exchange_code(client, form, now)
        elif grant == "refresh_token":
            result = store.refresh(client, form, now)
        elif grant == "client_credentials":
            result = store.client_credentials(client, form, now)
        else:
            result = store.poll_device(client, form, now)
    except OAuthError as exc:
        return _error(exc)
    return JSONResponse(result, headers=_NO_STORE)


# -- device authorization (RFC 8628) ---------------------------------------------------------


async def device_authorization(request: Request) -> Response:
    """Start a device flow: device code, user code and where to type it."""
    store = _store(request)
    try:
        client, form = await _client_and_form(request)
        store.check_grant(client, DEVICE_GRANT)
        scope = store.check_scope(client, form.get("scope"))
        auth = store.start_device(client, scope, _now(request))
    except OAuthError as exc:
        return _error(exc)
    uri = store.issuer + "/device"
    body = {
        "device_code": auth.device_code,
        "user_code": auth.user_code,
        "verification_uri": uri,
        "verification_uri_complete": f"{uri}?{urlencode({'user_code': auth.user_code})}",
        "expires_in": int(store.device_ttl),
        # RFC 8628 says integer seconds; fractions only when an option asks for them (tests)
        "interval": int(auth.interval) if auth.interval.is_integer() else auth.interval,
    }
    return JSONResponse(body, headers=_NO_STORE)


async def device(request: Request) -> Response:
    """The page where the user types the code, logs in and decides."""
    store = _store(request)
    if request.method == "GET":
        return HTMLResponse(device_page(user_code=request.query_params.get("user_code", "")))
    try:
        form = await _form(request)
    except OAuthError as exc:
        return HTMLResponse(message_page("Bad request", exc.description), status_code=400)
    auth = store.device_by_user_code(form.get("user_code", ""))
    if auth is None or _now(request) > auth.expires_at:
        page = device_page(error="That code is unknown or expired.")
        return HTMLResponse(page, status_code=400)
    if form.get("decision") != "approve":
        store.decide_device(auth, None, approve=False)
        return HTMLResponse(message_page("Denied", "The device was not connected."))
    user: User | None = store.login(form.get("username", ""), form.get("password", ""))
    if user is None:
        page = device_page(user_code=auth.user_code, error="Wrong username or password.")
        return HTMLResponse(page, status_code=401)
    store.decide_device(auth, user, approve=True)
    return HTMLResponse(message_page("Connected", "You can go back to your device."))


# -- revocation, introspection, userinfo ------------------------------------------------------


async def revoke(request: Request) -> Response:
    """RFC 7009: 200 whether or not the token was known."""
    store = _store(request)
    try:
        client, form = await _client_and_form(request)
        if not form.get("token"):
            raise OAuthError("invalid_request", "The token parameter is missing.")
    except OAuthError as exc:
        return _error(exc)
    store.revoke(form["token"], client)
    return Response(status_code=200, headers=_NO_STORE)


async def introspect(request: Request) -> Response:
    """RFC 7662, for resource servers with client credentials."""
    store = _store(request)
    try:
        _, form = await _client_and_form(request)
    except OAuthError as exc:
        return _error(exc)
    return JSONResponse(store.introspect(form.get("token", ""), _now(request)), headers=_NO_STORE)


async def userinfo(request: Request) -> Response:
    """The user's claims, for a live access token with ``openid`` (RFC 6750 errors)."""
    store = _store(request)
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        challenge = 'Bearer realm="auth"'
        body = {"error": "invalid_request", "error_description": "A Bearer token is required."}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})
    live = store.access_token(value.strip(), _now(request))
    if live is None:
        description = "The access token is expired, revoked or unknown."
        challenge = f'Bearer realm="auth", error="invalid_token", error_description="{description}"'
        body = {"error": "invalid_token", "error_description": description}
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": challenge})
    if live.sub is None or "openid" not in live.scope.split():
        challenge = 'Bearer realm="auth", error="insufficient_scope", scope="openid"'
        body = {"error": "insufficient_scope", "error_description": "Needs the openid scope."}
        return JSONResponse(body, status_code=403, headers={"WWW-Authenticate": challenge})
    return JSONResponse({"sub": live.sub, **store.profile(live.sub, live.scope)})


# -- the app -----------------------------------------------------------------------------------

_ROUTES: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("/.well-known/openid-configuration", discovery, ("GET",)),
    ("/jwks", jwks, ("GET",)),
    ("/authorize", authorize, ("GET", "POST")),
    ("/token", token, ("POST",)),
    ("/device_authorization", device_authorization, ("POST",)),
    ("/device", device, ("GET", "POST")),
    ("/revoke", revoke, ("POST",)),
    ("/introspect", introspect, ("POST",)),
    ("/userinfo", userinfo, ("GET",)),
)


@functools.cache
def _app() -> FastAPI:
    router = APIRouter()
    for path, endpoint, methods in _ROUTES:
        router.add_api_route(path, endpoint, methods=list(methods))
    summary = "An OAuth 2.0 and OpenID Connect authorization server for the sandbox."
    return make_app(router, title="apinotebook authorization server", summary=summary)


def _number(options: dict[str, Any], name: str, default: float) -> float:
    value = options.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f'options["auth"]["{name}"] must be a number >= 0, not {value!r}')
    return float(value)


def make_store(ctx: SandboxContext, issuer: str) -> AuthStore:
    """The server's clients, users and settings for a sandbox."""
    options = options_of(ctx, "auth", _OPTIONS)
    cred = ctx.credentials
    confidential = Client(
        client_id=cred["AUTH_CLIENT_ID"],
        secret=cred["AUTH_CLIENT_SECRET"],
        name="Sandbox integration (confidential)",
        grants=frozenset(GRANTS),
        scopes=_USER_SCOPES,
        redirect_uris=_LOOPBACK_REDIRECTS,
    )
    public = Client(
        client_id=cred["AUTH_PUBLIC_CLIENT_ID"],
        secret=None,
        name="Sandbox notebook (public)",
        grants=frozenset({"authorization_code", "refresh_token", DEVICE_GRANT}),
        scopes=_USER_SCOPES - {"crm.read"},
        redirect_uris=_LOOPBACK_REDIRECTS,
    )
    user = User(
        sub="u_0001",
        username=cred["AUTH_USERNAME"],
        password=cred["AUTH_PASSWORD"],
        name="Ada Lee",
        email="ada.lee@example.com",
    )
    return AuthStore(
        issuer=issuer,
        clients={c.client_id: c for c in (confidential, public)},
        users={user.username: user},
        access_ttl=_number(options, "access_ttl", 3600),
        refresh_ttl=_number(options, "refresh_ttl", 30 * 86400),
        code_ttl=_number(options, "code_ttl", 60),
        device_ttl=_number(options, "device_ttl", 600),
        device_interval=_number(options, "device_interval", 5),
        slow_down_step=_number(options, "slow_down_step", 5),
        rotate_refresh=bool(options.get("rotate_refresh", True)),
    )


def build(ctx: SandboxContext) -> list[Mount]:
    """The authorization server, mounted at ``/auth``; ``sb.state("auth")`` is its store."""
    store = make_store(ctx, ctx.url("/auth"))
    register_issuer(store)  # the calendar and chat accept its user tokens
    mount = rest_mount(
        "auth",
        _app,
        store,
        check=lambda header, write: None,  # each endpoint authenticates its own way
        public=("/",),
        env={"AUTH_ISSUER": "/auth"},
    )
    return [mount]
