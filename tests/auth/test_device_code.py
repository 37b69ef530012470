"""The device authorization grant (RFC 8628) against the sandbox, end to end."""

from __future__ import annotations

import threading

import pytest

from apinotebook import AccessDeniedError, ExpiredTokenError, RestClient


def _approve_later(browser, user_code, *, approve=True, after=0.3):
    """The user approves on their phone a moment after the device starts polling."""
    timer = threading.Timer(after, browser.device, args=(user_code,), kwargs={"approve": approve})
    timer.start()
    return timer


def test_device_flow_end_to_end(sb, device_flow, browser):
    flow = device_flow()
    pending = flow.start()
    assert pending.verification_uri == sb.env["AUTH_ISSUER"] + "/device"
    assert pending.user_code in (pending.verification_uri_complete or "")
    assert len(pending.user_code) == 9 and pending.user_code[4] == "-"
    timer = _approve_later(browser, pending.user_code)
    before = sb.state("auth").grants["urn:ietf:params:oauth:grant-type:device_code"]
    tokens = flow.poll()
    timer.join()
    polls = sb.state("auth").grants["urn:ietf:params:oauth:grant-type:device_code"] - before
    assert polls >= 2  # authorization_pending at least once, then the tokens
    assert tokens.refresh_token is not None
    assert flow.id_token_claims["sub"] == "u_0001"
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        assert api.get("userinfo").json()["name"] == "Ada Lee"


def test_authorize_shows_url_and_code(sb, device_flow, browser, capsys):
    flow = device_flow()
    seen = {}

    def approve_when_shown():
        # the prompt is printed before polling starts; read it like a person would
        for _ in range(100):
            out = capsys.readouterr().out
            if "enter the code" in out:
                seen["out"] = out
                browser.device(out.rsplit("enter the code ", 1)[1].strip())
                return
            threading.Event().wait(0.05)

    worker = threading.Thread(target=approve_when_shown)
    worker.start()
    tokens = flow.authorize()
    worker.join()
    assert "Connect this device: open " + sb.env["AUTH_ISSUER"] + "/device" in seen["out"]
    assert tokens.access_token.reveal().startswith("at_")


def test_polling_too_fast_gets_slow_down_and_backs_off(sb, device_flow, browser):
    flow = device_flow()
    pending = flow.start()
    # the client ignores the server's interval: the server answers slow_down
    flow.slow_down_step = 0.2
    fast = type(pending)(**{**pending.__dict__, "interval": 0.0})
    timer = _approve_later(browser, pending.user_code, after=0.5)
    tokens = flow.poll(fast)
    timer.join()
    assert flow.slow_downs >= 1 and tokens is not None


def test_forced_slow_down_through_fault_settings(sb, device_flow, browser):
    sb.set_faults(
        "auth", oauth_error="slow_down", oauth_error_grant="device_code", oauth_error_count=2
    )
    flow = device_flow()
    pending = flow.start()
    browser.device(pending.user_code)  # approved at once: only the fault delays it
    tokens = flow.poll()
    assert flow.slow_downs == 2 and tokens is not None


def test_user_denies_the_device(device_flow, browser):
    flow = device_flow()
    pending = flow.start()
    timer = _approve_later(browser, pending.user_code, approve=False, after=0.1)
    with pytest.raises(AccessDeniedError, match="declined") as info:
        flow.poll()
    timer.join()
    assert info.value.error == "access_denied" and flow.tokens is None


def test_device_code_expires_with_clock_skew(sb, device_flow):
    flow = device_flow()
    flow.start()
    sb.set_faults("auth", clock_skew=3600)  # the server's clock jumps an hour ahead
    with pytest.raises(ExpiredTokenError, match="device flow again") as info:
        flow.poll()
    assert info.value.error == "expired_token"


def test_device_flow_of_the_confidential_client(sb, device_flow, browser):
    flow = device_flow(
        client_id=sb.env["AUTH_CLIENT_ID"],
        client_secret=sb.env["AUTH_CLIENT_SECRET"],
        auth_method="client_secret_post",
    )
    pending = flow.start()
    browser.device(pending.user_code)
    assert flow.poll().access_token is not None


def test_cancel_stops_polling(device_flow):
    flow = device_flow()
    pending = flow.start()
    slow = type(pending)(**{**pending.__dict__, "interval": 30.0})
    threading.Timer(0.2, flow.cancel).start()
    with pytest.raises(Exception, match="cancelled"):
        flow.poll(slow)
