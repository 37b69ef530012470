"""Refresh: before expiry, on 401 invalid_token, with rotation, once for many callers."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time

import pytest
from auth_helpers import sign_in

from apinotebook import RefreshTokenRevoked, RestClient

REFRESH = "refresh_token"


def _signed_in(code_flow, browser, **kwargs):
    flow = code_flow(**kwargs)
    sign_in(flow, browser)
    return flow


def _expire(flow):
    """Make the client believe its access token is about to expire (the server does not)."""
    flow.set_tokens(dataclasses.replace(flow.tokens, expires_at=time.time() + 5))


def test_refresh_before_expiry(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser, leeway=60)
    grants = sb.state("auth").grants
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        first = flow.tokens
        assert api.get("userinfo").status == 200
        assert flow.refreshes == 0  # an hour left: no refresh
        _expire(flow)  # 5 s left, under the 60 s leeway
        before = grants[REFRESH]
        assert api.get("userinfo").status == 200
    assert flow.refreshes == 1 and grants[REFRESH] == before + 1
    assert flow.tokens.access_token != first.access_token
    # rotation: a new refresh token, and the old one is dead
    assert flow.tokens.refresh_token != first.refresh_token


def test_refresh_on_401_invalid_token(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        assert api.get("userinfo").status == 200
        # revoked early at the server: the client thinks it is valid for an hour
        sb.state("auth").revoke(flow.tokens.access_token.reveal())
        answer = api.get("userinfo")
    assert answer.status == 200 and flow.refreshes == 1


def test_refresh_on_401_after_clock_skew(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        sb.set_faults("auth", clock_skew=7200)  # the server's clock runs two hours ahead
        answer = api.get("userinfo")
    assert answer.status == 200 and flow.refreshes == 1


def test_a_plain_401_is_not_a_reason_to_refresh(sb, code_flow, browser):
    """Only ``WWW-Authenticate: Bearer error="invalid_token"`` triggers a refresh."""
    flow = code_flow(scope="profile")  # no openid: userinfo answers 403, not 401
    sign_in(flow, browser)
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        assert api.get("userinfo").status == 403
    assert flow.refreshes == 0


def test_rotated_refresh_token_reuse_revokes_the_family(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    old = flow.tokens
    flow.refresh()
    assert flow.tokens.refresh_token != old.refresh_token
    # an attacker replays the old refresh token: refused, and the family is revoked
    stolen = dataclasses.replace(old, expires_at=0)
    thief = code_flow()
    thief.set_tokens(stolen)
    with pytest.raises(RefreshTokenRevoked):
        thief.refresh()
    with pytest.raises(RefreshTokenRevoked, match="authorize"):
        flow.refresh()  # the legitimate holder's current token went with the family


def test_revoked_refresh_token_stops_cleanly(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    sb.state("auth").revoke(flow.tokens.refresh_token.reveal())
    _expire(flow)
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        with pytest.raises(RefreshTokenRevoked) as info:
            api.get("userinfo")
    assert info.value.error == "invalid_grant"
    assert "authorize() again" in str(info.value)
    assert flow.tokens is None and flow.store.load(flow.name) is None  # forgotten


def test_forced_invalid_grant_on_refresh_through_faults(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    sb.set_faults("auth", oauth_error="invalid_grant", oauth_error_grant="refresh_token")
    with pytest.raises(RefreshTokenRevoked):
        flow.refresh()


def test_concurrent_threads_share_one_refresh(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    grants = sb.state("auth").grants
    _expire(flow)
    before = grants[REFRESH]
    n = 12
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:

        def call():
            barrier.wait()
            statuses.append(api.get("userinfo").status)

        threads = [threading.Thread(target=call) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert statuses == [200] * n
    assert grants[REFRESH] == before + 1 and flow.refreshes == 1


def test_gather_after_revocation_refreshes_once(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    grants = sb.state("auth").grants
    with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
        sb.state("auth").revoke(flow.tokens.access_token.reveal())
        before = grants[REFRESH]
        results = api.gather([("GET", "userinfo")] * 10, concurrency=10)
    assert [r.status for r in results] == [200] * 10
    assert grants[REFRESH] == before + 1


def test_concurrent_async_calls_share_one_refresh(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    grants = sb.state("auth").grants
    _expire(flow)
    before = grants[REFRESH]

    async def main():
        async with RestClient(sb.env["AUTH_ISSUER"], auth=flow, history=False) as api:
            return await asyncio.gather(*(api.aget("userinfo") for _ in range(10)))

    results = asyncio.run(main())
    assert [r.status for r in results] == [200] * 10
    assert grants[REFRESH] == before + 1


def test_revoke_at_the_server(sb, code_flow, browser):
    flow = _signed_in(code_flow, browser)
    tokens = flow.tokens
    flow.revoke()
    assert flow.tokens is None
    store = sb.state("auth")
    assert store.introspect(tokens.refresh_token.reveal(), time.time()) == {"active": False}
    assert store.introspect(tokens.access_token.reveal(), time.time()) == {"active": False}


def test_two_flows_with_one_name_do_not_trip_reuse_detection(sb, code_flow, browser):
    """A re-run cell builds a second flow object; the first one, still in use, refreshes."""
    first = _signed_in(code_flow, browser)
    second = code_flow(name=first.name)  # the same memory-store entry
    assert second.tokens == first.tokens
    _expire(second)  # second's access token is about to expire
    first.refresh()  # rotates: second's cached refresh token is now the rotated-away one
    with RestClient(sb.env["AUTH_ISSUER"], auth=second, history=False) as api:
        assert api.get("userinfo").status == 200  # not RefreshTokenRevoked
    with RestClient(sb.env["AUTH_ISSUER"], auth=first, history=False) as api:
        assert api.get("userinfo").status == 200  # and the family is still alive
