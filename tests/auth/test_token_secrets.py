"""Tokens never leak: not in reprs, curl strings, HAR files, the history or error messages."""

from __future__ import annotations

import json
import logging

from auth_helpers import sign_in

from apinotebook import History, RestClient


def _every_secret(flow):
    tokens = flow.tokens
    values = [tokens.access_token.reveal(), tokens.refresh_token.reveal()]
    if tokens.id_token is not None:
        values.append(tokens.id_token.reveal())
    return values


def test_tokens_are_masked_in_every_rendering(sb, code_flow, browser, tmp_path, caplog):
    flow = code_flow()
    sign_in(flow, browser)
    history = History()
    caplog.set_level(logging.DEBUG)
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=history) as api:
        api.get("userinfo")
        sb.state("auth").revoke(flow.tokens.access_token.reveal())
        exchange = api.get("userinfo")  # 401, refresh, retry: a second token in play
        # a response that echoes a token back in its body is masked by value too
        echo = api.post("introspect", data={"token": flow.tokens.refresh_token.reveal()})
    secrets = _every_secret(flow)
    assert flow.refreshes == 1
    har = history.to_har(tmp_path / "calls.har")
    renderings = {
        "repr(flow)": repr(flow),
        "repr(tokens)": repr(flow.tokens),
        "repr(exchange)": repr(exchange),
        "to_curl": exchange.to_curl(),
        "to_dict": json.dumps(exchange.to_dict(), default=str),
        "echo": json.dumps(echo.to_dict(), default=str),
        "har": json.dumps(har),
        "har file": (tmp_path / "calls.har").read_text(),
        "history frame": history.to_frame().to_string(),
        "logs": caplog.text,
    }
    for where, text in renderings.items():
        for secret in secrets:
            assert secret not in text, f"a token leaked into {where}"
    assert "Bearer ***" in renderings["to_curl"]
    # the curl string can still be revealed on purpose
    assert flow.tokens.access_token.reveal() in exchange.to_curl(reveal_secrets=True)


def test_token_requests_stay_out_of_the_history(sb, code_flow, browser):
    history = History()
    flow = code_flow()
    sign_in(flow, browser)
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=history) as api:
        sb.state("auth").revoke(flow.tokens.access_token.reveal())
        api.get("userinfo")
    urls = [ex.url for ex in history]
    assert urls and all(url.endswith("/userinfo") for url in urls)


def test_errors_carry_no_secret(sb):
    from apinotebook import InvalidClientError
    from apinotebook.auth._oauth import OAuth2Flow

    flow = OAuth2Flow(
        token_url=sb.env["AUTH_ISSUER"] + "/token",
        client_id=sb.env["AUTH_CLIENT_ID"],
        client_secret="a-wrong-secret-123",
        name="errors-no-secret",
    )
    try:
        flow._token_request({"grant_type": "client_credentials"})
    except InvalidClientError as exc:
        assert "a-wrong-secret-123" not in str(exc) and "a-wrong-secret-123" not in repr(flow)
    else:  # pragma: no cover
        raise AssertionError("the wrong secret was accepted")
    finally:
        flow.close()
