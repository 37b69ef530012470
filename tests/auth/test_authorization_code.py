"""Authorization code with PKCE, end to end: consent page, loopback redirect, exchange."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from auth_helpers import sign_in, unique

from apinotebook import (
    AccessDeniedError,
    InvalidGrantError,
    InvalidRequestError,
    LoginRequired,
    OAuth2AuthorizationCode,
    OAuth2Error,
    RestClient,
)


def test_sign_in_end_to_end(sb, code_flow, browser):
    flow = code_flow()
    url = flow.start()
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256
    assert query["state"][0] and query["nonce"][0]
    redirect = urlsplit(query["redirect_uri"][0])
    assert redirect.hostname == "127.0.0.1" and redirect.port and redirect.path == "/callback"

    page = browser.consent(url)
    assert page.status_code == 200 and "You are signed in" in page.text
    assert str(page.url).startswith(query["redirect_uri"][0])  # the loopback receiver answered
    tokens = flow.wait(5)
    assert tokens.refresh_token is not None and tokens.expires_in() > 3000
    # the ID token was verified against the JWKS; its claims are readable
    claims = flow.id_token_claims
    assert claims["sub"] == "u_0001" and claims["aud"] == flow.client_id
    assert claims["iss"] == sb.env["AUTH_ISSUER"] and claims["name"] == "Ada Lee"

    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        me = api.get("userinfo")
    assert me.status == 200 and me.json()["email"] == "ada.lee@example.com"


def test_the_receiver_stops_after_one_redirect(code_flow, browser):
    flow = code_flow()
    url = flow.start()
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    browser.consent(url)
    flow.wait(5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(redirect_uri + "?code=x&state=y", timeout=2)


def test_paste_fallback_without_a_browser_on_the_kernel(sb, code_flow, browser):
    """The browser runs elsewhere: the redirect never reaches the kernel; paste the URL."""
    flow = code_flow()
    url = flow.start()
    with httpx.Client(follow_redirects=False, timeout=10) as remote_browser:
        page = remote_browser.get(url)
        form = dict(
            (k, v) for k, v in parse_qs(urlsplit(url).query).items() for v in [v[0]]
        )  # the same request the hidden fields carry
        form.update(
            username=sb.env["AUTH_USERNAME"], password=sb.env["AUTH_PASSWORD"], decision="approve"
        )
        assert page.status_code == 200
        answer = remote_browser.post(str(page.url), data=form)
    assert answer.status_code == 302
    tokens = flow.complete(answer.headers["location"])
    assert tokens.access_token.reveal().startswith("at_")
    assert flow.wait(0) is not None  # complete() also ends the wait


def test_confidential_client_with_basic_and_post(sb, code_flow, browser):
    for method in ("client_secret_basic", "client_secret_post"):
        flow = code_flow(
            client_id=sb.env["AUTH_CLIENT_ID"],
            client_secret=sb.env["AUTH_CLIENT_SECRET"],
            auth_method=method,
        )
        sign_in(flow, browser)
        assert flow.tokens is not None and flow.tokens.refresh_token is not None


def test_extra_authorization_params_reach_the_url(code_flow):
    flow = code_flow(extra_params={"audience": "https://api.example", "prompt": "consent"})
    query = parse_qs(urlsplit(flow.start()).query)
    assert query["audience"] == ["https://api.example"] and query["prompt"] == ["consent"]


def test_user_denies(code_flow, browser):
    flow = code_flow()
    page = browser.consent(flow.start(), approve=False)
    assert page.status_code == 400 and "access_denied" in page.text
    with pytest.raises(AccessDeniedError) as info:
        flow.wait(5)
    assert info.value.error == "access_denied"
    assert flow.tokens is None


def test_wrong_password_stays_on_the_page(code_flow, browser):
    flow = code_flow()
    page = browser.consent(flow.start(), password="not-the-password")
    assert page.status_code == 401 and "Wrong username or password" in page.text
    with pytest.raises(LoginRequired, match="flow.complete"):
        flow.wait(0.2)


def test_state_mismatch_is_refused(code_flow, browser):
    flow = code_flow()
    url = flow.start()
    redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    with pytest.raises(InvalidRequestError, match="state does not match"):
        flow.complete(f"{redirect_uri}?code=abc&state=forged")
    # a forged redirect that reaches the receiver gets an error page and changes nothing
    answer = httpx.get(f"{redirect_uri}?code=abc&state=forged", timeout=5)
    assert answer.status_code == 400 and "state does not match" in answer.text
    assert (
        httpx.get(redirect_uri.replace("/callback", "/favicon.ico"), timeout=5).status_code == 404
    )
    assert flow.tokens is None
    # the receiver is still listening for the real redirect
    assert browser.consent(url).status_code == 200
    assert flow.wait(5).access_token is not None


def test_a_code_cannot_be_exchanged_twice(sb, code_flow):
    flow = code_flow()
    url = flow.start()
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    form = {
        **query,
        "username": sb.env["AUTH_USERNAME"],
        "password": sb.env["AUTH_PASSWORD"],
        "decision": "approve",
    }
    answer = httpx.post(sb.env["AUTH_ISSUER"] + "/authorize", data=form, timeout=10)
    location = answer.headers["location"]
    verifier = flow._pending.verifier.reveal()
    first = flow.complete(location)
    # the same redirect again: the flow refuses it (one redirect per authorization)
    with pytest.raises(InvalidRequestError, match="No authorization is in progress"):
        flow.complete(location)
    # a replay of the code at the token endpoint is invalid_grant, typed
    code = parse_qs(urlsplit(location).query)["code"][0]
    replay = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": query["redirect_uri"],
        "code_verifier": verifier,
    }
    with pytest.raises(InvalidGrantError, match="already used"):
        flow._token_request(replay)
    # and the tokens the code gave were revoked (RFC 6749 section 4.1.2)
    with RestClient(sb.env["AUTH_ISSUER"], history=False) as api:
        answer = api.get(
            "userinfo", headers={"Authorization": f"Bearer {first.access_token.reveal()}"}
        )
    assert answer.status == 401


def test_no_tokens_and_not_interactive_raises_login_required(sb, code_flow):
    flow = code_flow()
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        with pytest.raises(LoginRequired, match="authorize"):
            api.get("userinfo")


def test_errors_from_the_redirect_are_typed(sb):
    flow = OAuth2AuthorizationCode.from_issuer(
        sb.env["AUTH_ISSUER"],
        client_id=sb.env["AUTH_PUBLIC_CLIENT_ID"],
        scope="openid not-a-scope",
        name=unique(),
        interactive=False,
    )
    try:
        url = flow.start()
        # the server redirects straight back with invalid_scope: no consent page
        answer = httpx.get(url, follow_redirects=True, timeout=10)
        assert answer.status_code == 400
        with pytest.raises(OAuth2Error) as info:
            flow.wait(5)
        assert info.value.error == "invalid_scope"
    finally:
        flow.cancel()
        flow.close()


def test_the_first_api_call_signs_in_when_interactive(sb, code_flow, browser):
    """No tokens yet: the call shows the link, waits for the redirect, then goes on."""
    import threading

    flow = code_flow(interactive=True, open_browser=False)
    result = {}

    def call():
        with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
            result["status"] = api.get("userinfo").status

    worker = threading.Thread(target=call)
    worker.start()
    for _ in range(200):  # the link is shown (printed here, outside Jupyter)
        pending = flow._pending
        if pending is not None:
            break
        worker.join(0.02)
    page = browser.consent(pending.url)
    worker.join(10)
    assert page.status_code == 200 and result == {"status": 200}


def test_device_prompt_in_a_script_is_one_line(sb, capsys):
    from apinotebook.auth._loopback import show_prompt

    show_prompt("http://127.0.0.1/device", title="Connect this device", user_code="BCDF-GHJK")
    assert capsys.readouterr().out == (
        "Connect this device: open http://127.0.0.1/device and enter the code BCDF-GHJK\n"
    )
