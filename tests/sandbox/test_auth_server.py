"""The sandbox's authorization server over a real loopback socket, with raw httpx."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from apinotebook import ConfigError
from apinotebook.sandbox import Sandbox

VERIFIER = "v" * 20 + "erifier-" + "x" * 30
CHALLENGE = (
    base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
)
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    options = {"auth": {"code_ttl": 30, "device_interval": 0.2, "slow_down_step": 1}}
    with Sandbox(services=("auth",), seed=11, options=options) as box:
        yield box


@pytest.fixture(autouse=True)
def _clear_faults(sb):
    yield
    sb.set_faults()


@pytest.fixture
def http(sb) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sb.env["AUTH_ISSUER"], timeout=10) as client:
        yield client


def _authorize(sb, http, *, client="AUTH_PUBLIC_CLIENT_ID", redirect="http://127.0.0.1:5555/callback",
               challenge=CHALLENGE, scope="openid profile", approve=True, **extra):  # fmt: skip
    params = {
        "response_type": "code",
        "client_id": sb.env[client],
        "redirect_uri": redirect,
        "scope": scope,
        "state": "st-123",
        **({"code_challenge": challenge, "code_challenge_method": "S256"} if challenge else {}),
        **extra,
    }
    form = {
        **params,
        "username": sb.env["AUTH_USERNAME"],
        "password": sb.env["AUTH_PASSWORD"],
        "decision": "approve" if approve else "deny",
    }
    return http.post("/authorize", data=form)


def _code(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["code"][0]


def _exchange(sb, http, code, *, verifier=VERIFIER, redirect="http://127.0.0.1:5555/callback"):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect,
        "client_id": sb.env["AUTH_PUBLIC_CLIENT_ID"],
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    return http.post("/token", data=form)


def test_discovery_and_jwks(sb, http):
    doc = http.get("/.well-known/openid-configuration").json()
    issuer = sb.env["AUTH_ISSUER"]
    assert doc["issuer"] == issuer and doc["token_endpoint"] == issuer + "/token"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    keys = http.get("/jwks").json()["keys"]
    assert keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256" and "d" not in keys[0]


def test_consent_page_lists_scopes_and_keeps_the_request(sb, http):
    params = {
        "response_type": "code",
        "client_id": sb.env["AUTH_PUBLIC_CLIENT_ID"],
        "redirect_uri": "http://127.0.0.1:40000/callback",
        "scope": "openid email",
        "state": "s<1>",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    }
    page = http.get("/authorize?" + urlencode(params))
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Your email address" in page.text and 'value="s&lt;1&gt;"' in page.text
    assert "name=decision value=approve" in page.text


def test_code_flow_with_pkce_and_id_token(sb, http):
    answer = _authorize(sb, http, nonce="n-1")
    location = urlsplit(answer.headers["location"])
    query = parse_qs(location.query)
    assert (location.hostname, location.port) == ("127.0.0.1", 5555)
    assert query["state"] == ["st-123"] and query["iss"] == [sb.env["AUTH_ISSUER"]]
    tokens = _exchange(sb, http, query["code"][0])
    assert tokens.status_code == 200 and tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    assert body["token_type"] == "Bearer" and body["refresh_token"].startswith("rt_")
    keys = KeySet.import_key_set(http.get("/jwks").json())
    claims = jwt.decode(body["id_token"], keys, algorithms=["RS256"]).claims
    assert claims["nonce"] == "n-1" and claims["aud"] == sb.env["AUTH_PUBLIC_CLIENT_ID"]
    assert claims["iss"] == sb.env["AUTH_ISSUER"] and claims["exp"] > time.time()


@pytest.mark.parametrize(
    ("redirect", "allowed"),
    [
        ("http://127.0.0.1:1/callback", True),
        ("http://127.0.0.1:65000/callback", True),
        ("http://[::1]:8080/callback", True),
        ("http://127.0.0.1:5000/other", False),
        ("https://127.0.0.1:5000/callback", False),
        ("http://evil.example/callback", False),
        ("http://127.0.0.1.evil.example:80/callback", False),
        ("http://127.0.0.1:5000/callback#frag", False),
    ],
)
def test_loopback_redirects_on_any_port_only(sb, http, redirect, allowed):
    answer = _authorize(sb, http, redirect=redirect)
    if allowed:
        assert answer.status_code == 302 and answer.headers["location"].startswith(redirect)
    else:  # never redirect to an unregistered URI: a page says why (RFC 6749 4.1.2.1)
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "not registered" in answer.text


def test_codes_are_single_use(sb, http):
    code = _code(_authorize(sb, http))
    first = _exchange(sb, http, code)
    assert first.status_code == 200
    again = _exchange(sb, http, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # the tokens of the first exchange are revoked
    access = first.json()["access_token"]
    assert http.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_codes_are_short_lived(sb, http):
    code = _code(_authorize(sb, http))
    sb.set_faults("auth", clock_skew=31)  # code_ttl is 30 s in this sandbox
    answer = _exchange(sb, http, code)
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "The authorization code expired.",
    }


@pytest.mark.parametrize(
    ("verifier", "error"),
    [("w" * 50, "invalid_grant"), (None, "invalid_request")],
    ids=["wrong verifier", "no verifier"],
)
def test_pkce_is_verified(sb, http, verifier, error):
    code = _code(_authorize(sb, http))
    answer = _exchange(sb, http, code, verifier=verifier)
    assert answer.status_code == 400 and answer.json()["error"] == error


def test_redirect_uri_must_match_at_exchange(sb, http):
    code = _code(_authorize(sb, http))
    answer = _exchange(sb, http, code, redirect="http://127.0.0.1:6666/callback")
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"challenge": None}, "invalid_request"),  # public clients must use PKCE
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "openid admin"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"approve": False}, "access_denied"),
    ],
)
def test_authorization_errors_redirect_back(sb, http, changes, error):
    answer = _authorize(sb, http, **changes)
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["error"] == [error] and query["state"] == ["st-123"]
    assert "code" not in query


def test_refresh_rotation_and_reuse_detection(sb, http):
    tokens = _exchange(sb, http, _code(_authorize(sb, http))).json()
    form = {"grant_type": "refresh_token", "client_id": sb.env["AUTH_PUBLIC_CLIENT_ID"]}
    rotated = http.post("/token", data={**form, "refresh_token": tokens["refresh_token"]}).json()
    assert rotated["refresh_token"] != tokens["refresh_token"] and "id_token" not in rotated
    reuse = http.post("/token", data={**form, "refresh_token": tokens["refresh_token"]})
    assert (
        reuse.json()["error"] == "invalid_grant" and "family" in reuse.json()["error_description"]
    )
    # the whole family is gone, the newest refresh token included
    newest = http.post("/token", data={**form, "refresh_token": rotated["refresh_token"]})
    assert newest.json()["error"] == "invalid_grant"


def test_refresh_may_narrow_but_not_widen_the_scope(sb, http):
    tokens = _exchange(sb, http, _code(_authorize(sb, http))).json()
    form = {"grant_type": "refresh_token", "client_id": sb.env["AUTH_PUBLIC_CLIENT_ID"]}
    wider = http.post(
        "/token", data={**form, "refresh_token": tokens["refresh_token"], "scope": "openid email"}
    )
    assert wider.json()["error"] == "invalid_scope"
    narrower = http.post(
        "/token", data={**form, "refresh_token": tokens["refresh_token"], "scope": "openid"}
    )
    assert narrower.json()["scope"] == "openid"


def test_client_credentials_basic_and_post(sb, http):
    cid, secret = sb.env["AUTH_CLIENT_ID"], sb.env["AUTH_CLIENT_SECRET"]
    basic = http.post("/token", data={"grant_type": "client_credentials"}, auth=(cid, secret))
    post = http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    )
    for answer in (basic, post):
        assert answer.status_code == 200 and "refresh_token" not in answer.json()
    both = http.post(
        "/token",
        data={"grant_type": "client_credentials", "client_secret": secret},
        auth=(cid, secret),
    )
    assert both.json()["error"] == "invalid_request"
    wrong = http.post("/token", data={"grant_type": "client_credentials"}, auth=(cid, "nope"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    assert wrong.json()["error"] == "invalid_client"


def test_device_flow_pending_slow_down_and_tokens(sb, http):
    cid = sb.env["AUTH_PUBLIC_CLIENT_ID"]
    start = http.post("/device_authorization", data={"client_id": cid, "scope": "openid"}).json()
    assert re.fullmatch(r"[B-Z]{4}-[B-Z]{4}", start["user_code"])
    assert start["interval"] == 0.2 and start["expires_in"] == 600
    poll = {"grant_type": DEVICE, "device_code": start["device_code"], "client_id": cid}
    assert http.post("/token", data=poll).json()["error"] == "authorization_pending"
    assert http.post("/token", data=poll).json()["error"] == "slow_down"  # polled at once
    page = http.get("/device", params={"user_code": start["user_code"]})
    assert start["user_code"] in page.text
    decided = http.post(
        "/device",
        data={
            "user_code": start["user_code"].lower().replace("-", ""),  # people type it any way
            "username": sb.env["AUTH_USERNAME"],
            "password": sb.env["AUTH_PASSWORD"],
            "decision": "approve",
        },
    )
    assert decided.status_code == 200 and "Connected" in decided.text
    time.sleep(1.25)  # the interval grew by slow_down_step
    tokens = http.post("/token", data=poll).json()
    assert tokens["access_token"].startswith("at_") and "refresh_token" in tokens
    assert http.post("/token", data=poll).json()["error"] == "invalid_grant"  # single use


def test_device_flow_denied_and_expired(sb, http):
    cid = sb.env["AUTH_PUBLIC_CLIENT_ID"]
    denied = http.post("/device_authorization", data={"client_id": cid}).json()
    http.post("/device", data={"user_code": denied["user_code"], "decision": "deny"})
    poll = {"grant_type": DEVICE, "device_code": denied["device_code"], "client_id": cid}
    assert http.post("/token", data=poll).json()["error"] == "access_denied"
    late = http.post("/device_authorization", data={"client_id": cid}).json()
    sb.set_faults("auth", clock_skew=601)
    poll = {"grant_type": DEVICE, "device_code": late["device_code"], "client_id": cid}
    assert http.post("/token", data=poll).json()["error"] == "expired_token"


def test_revocation_introspection_and_userinfo(sb, http):
    tokens = _exchange(sb, http, _code(_authorize(sb, http, scope="openid email"))).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert http.get("/userinfo", headers=bearer).json() == {
        "sub": "u_0001",
        "email": "ada.lee@example.com",
        "email_verified": True,
    }
    cid, secret = sb.env["AUTH_CLIENT_ID"], sb.env["AUTH_CLIENT_SECRET"]
    info = http.post("/introspect", data={"token": tokens["access_token"]}, auth=(cid, secret))
    assert info.json()["active"] is True and info.json()["sub"] == "u_0001"
    public = sb.env["AUTH_PUBLIC_CLIENT_ID"]
    revoked = http.post("/revoke", data={"token": tokens["refresh_token"], "client_id": public})
    assert revoked.status_code == 200
    unknown = http.post("/revoke", data={"token": "whatever", "client_id": public})
    assert unknown.status_code == 200  # RFC 7009: no oracle
    denied = http.get("/userinfo", headers=bearer)
    assert denied.status_code == 401
    assert 'error="invalid_token"' in denied.headers["www-authenticate"]
    anonymous = http.get("/userinfo")
    assert anonymous.status_code == 401 and "error=" not in anonymous.headers["www-authenticate"]


def test_faults_are_validated_and_served(sb):
    sb.set_faults("auth", oauth_error="slow_down", clock_skew=-5)
    assert sb.faults["auth"]["oauth_error"] == "slow_down"
    assert sb.faults["auth"]["clock_skew"] == -5
    with pytest.raises(ConfigError):
        sb.set_faults("auth", oauth_error_count=-1)


def test_bad_options_are_refused():
    with pytest.raises(ConfigError, match="access_ttl"):
        Sandbox(services=("auth",), options={"auth": {"access_ttl": "long"}}).start()
    with pytest.raises(ConfigError, match="Valid auth options"):
        Sandbox(services=("auth",), options={"auth": {"token_life": 5}}).start()


def test_default_device_interval_is_whole_seconds():
    with Sandbox(services=("auth",)) as box:
        answer = httpx.post(
            box.env["AUTH_ISSUER"] + "/device_authorization",
            data={"client_id": box.env["AUTH_PUBLIC_CLIENT_ID"]},
        ).json()
    assert answer["interval"] == 5 and isinstance(answer["interval"], int)
