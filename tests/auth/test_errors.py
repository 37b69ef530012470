"""Every RFC 6749 section 5.2 and RFC 8628 section 3.5 error: reachable, and typed.

Each case is reached two ways: by a request the server really refuses, and
by the ``oauth_error`` fault setting. Either way the client raises the
subclass of :class:`~apinotebook.OAuth2Error` for the code.
"""

from __future__ import annotations

import pytest
from auth_helpers import sign_in, unique

from apinotebook import (
    AccessDeniedError,
    ExpiredTokenError,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    UnauthorizedClientError,
    UnsupportedGrantTypeError,
)
from apinotebook.auth._oauth import OAuth2Flow

DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


def _flow(sb, *, confidential=True, secret=None, method=None, **kwargs):
    env = sb.env
    return OAuth2Flow(
        token_url=env["AUTH_ISSUER"] + "/token",
        client_id=kwargs.pop(
            "client_id", env["AUTH_CLIENT_ID" if confidential else "AUTH_PUBLIC_CLIENT_ID"]
        ),
        client_secret=(secret or env["AUTH_CLIENT_SECRET"]) if confidential else None,
        auth_method=method,
        name=unique(),
        **kwargs,
    )


# (case, flow settings, token request form, expected class, expected code)
NATURAL = [
    ("no grant_type", {}, {}, InvalidRequestError, "invalid_request"),
    (
        "code without code_verifier (PKCE)",
        {},
        {"grant_type": "authorization_code"},
        InvalidRequestError,
        "invalid_request",
    ),
    (
        "wrong client secret",
        {"secret": "wrong-secret-value"},
        {"grant_type": "client_credentials"},
        InvalidClientError,
        "invalid_client",
    ),
    (
        "unknown client",
        {"client_id": "nobody"},
        {"grant_type": "client_credentials"},
        InvalidClientError,
        "invalid_client",
    ),
    (
        "public client asks for client credentials",
        {"confidential": False},
        {"grant_type": "client_credentials"},
        UnauthorizedClientError,
        "unauthorized_client",
    ),
    (
        "password grant",
        {},
        {"grant_type": "password", "username": "u", "password": "p"},
        UnsupportedGrantTypeError,
        "unsupported_grant_type",
    ),
    (
        "unknown scope",
        {},
        {"grant_type": "client_credentials", "scope": "admin"},
        InvalidScopeError,
        "invalid_scope",
    ),
    (
        "openid without a user",
        {},
        {"grant_type": "client_credentials", "scope": "openid"},
        InvalidScopeError,
        "invalid_scope",
    ),
    (
        "unknown code",
        {},
        {"grant_type": "authorization_code", "code": "nope", "code_verifier": "x" * 43},
        InvalidGrantError,
        "invalid_grant",
    ),
    (
        "unknown refresh token",
        {},
        {"grant_type": "refresh_token", "refresh_token": "rt_nope"},
        InvalidGrantError,
        "invalid_grant",
    ),
    (
        "unknown device code",
        {},
        {"grant_type": DEVICE, "device_code": "nope"},
        InvalidGrantError,
        "invalid_grant",
    ),
]


@pytest.mark.parametrize(
    ("settings", "form", "kind", "code"),
    [case[1:] for case in NATURAL],
    ids=[case[0] for case in NATURAL],
)
def test_natural_errors_are_typed(sb, settings, form, kind, code):
    flow = _flow(sb, **settings)
    try:
        with pytest.raises(kind) as info:
            flow._token_request(form)
    finally:
        flow.close()
    assert type(info.value) is kind and info.value.error == code
    assert info.value.status == (401 if code == "invalid_client" else 400)
    assert code in str(info.value)


FORCED = [
    ("invalid_request", InvalidRequestError),
    ("invalid_client", InvalidClientError),
    ("invalid_grant", InvalidGrantError),
    ("unauthorized_client", UnauthorizedClientError),
    ("unsupported_grant_type", UnsupportedGrantTypeError),
    ("invalid_scope", InvalidScopeError),
    ("access_denied", AccessDeniedError),
    ("expired_token", ExpiredTokenError),
    ("authorization_pending", OAuth2Error),
    ("slow_down", OAuth2Error),
]


@pytest.mark.parametrize(("code", "kind"), FORCED, ids=[c for c, _ in FORCED])
def test_every_error_can_be_forced_through_fault_settings(sb, code, kind):
    sb.set_faults("auth", oauth_error=code)
    flow = _flow(sb)
    try:
        with pytest.raises(kind) as info:
            flow._token_request({"grant_type": "client_credentials"})
    finally:
        flow.close()
    assert info.value.error == code and "injected" in str(info.value)


def test_forced_error_count_and_grant(sb):
    sb.set_faults(
        "auth",
        oauth_error="invalid_scope",
        oauth_error_grant="client_credentials",
        oauth_error_count=1,
    )
    flow = _flow(sb)
    try:
        with pytest.raises(InvalidScopeError):
            flow._token_request({"grant_type": "client_credentials"})
        assert flow._token_request({"grant_type": "client_credentials"})["access_token"]
    finally:
        flow.close()


def test_unknown_fault_code_is_refused(sb):
    from apinotebook import ConfigError

    with pytest.raises(ConfigError, match="Valid oauth_errors"):
        sb.set_faults("auth", oauth_error="invalid_everything")


def test_id_token_from_a_server_clock_far_ahead_fails_verification(sb, code_flow, browser):
    sb.set_faults("auth", clock_skew=3600)
    flow = code_flow()
    url = flow.start()
    page = browser.consent(url)
    assert page.status_code == 400
    with pytest.raises(OAuth2Error, match="issued in the future") as info:
        flow.wait(5)
    assert info.value.error == "invalid_id_token" and flow.tokens is None


def test_sign_in_works_within_the_leeway(sb, code_flow, browser):
    sb.set_faults("auth", clock_skew=20)  # a little skew is normal; the leeway absorbs it
    flow = code_flow()
    sign_in(flow, browser)
    assert flow.id_token_claims is not None


def test_id_token_signed_by_another_key_is_refused(sb, code_flow, browser):
    from apinotebook.sandbox import Sandbox

    with Sandbox(services=("auth",), seed=99) as other:  # another server, another key
        flow = code_flow(jwks_uri=other.env["AUTH_ISSUER"] + "/jwks")
        page = browser.consent(flow.start())
        assert page.status_code == 400 and "failed verification" in page.text
        with pytest.raises(OAuth2Error, match="failed verification") as info:
            flow.wait(5)
    assert info.value.error == "invalid_id_token" and flow.tokens is None


def test_redirect_from_another_issuer_is_refused(sb, code_flow):
    """RFC 9207: the ``iss`` of the redirect must be the flow's issuer (mix-up attacks)."""
    from urllib.parse import parse_qs, urlsplit

    flow = code_flow()
    url = flow.start()
    query = parse_qs(urlsplit(url).query)
    forged = (
        f"{query['redirect_uri'][0]}?code=abc&state={query['state'][0]}"
        "&iss=http%3A%2F%2F127.0.0.1%3A1%2Fevil"
    )
    with pytest.raises(InvalidRequestError, match="RFC 9207"):
        flow.complete(forged)
