"""The calendar and the chat act for a user: tokens from the sandbox's authorization server.

The demo user signs in with the device flow (the way a script or a remote kernel
does); ``sb.approve_device`` is the user typing the code on their phone. The
calendar's client credentials and the chat's bot token keep working for
machine-to-machine use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from apinotebook import Bearer, OAuth2ClientCredentials, RestClient, SandboxError, Secret
from apinotebook.auth import OAuth2DeviceCode
from apinotebook.sandbox import Sandbox

OPTIONS = {"auth": {"device_interval": 0.05}}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(services=("auth", "calendar", "chat"), options=OPTIONS) as box:
        yield box


def _signed_in(sb: Sandbox, scope: str) -> OAuth2DeviceCode:
    flow = OAuth2DeviceCode.from_issuer(
        sb.env["AUTH_ISSUER"], client_id=sb.env["AUTH_PUBLIC_CLIENT_ID"], scope=scope,
        name=f"delegated-{scope.replace(' ', '-')}", interactive=False,
    )  # fmt: skip
    pending = flow.start()
    sb.approve_device(pending.user_code)
    flow.poll(pending)
    return flow


def test_the_users_token_reads_and_writes_the_calendar(sb):
    flow = _signed_in(sb, "calendar.read calendar.write offline_access")
    with RestClient(sb.urls["calendar"], auth=flow, history=None) as cal:
        assert cal.get("/calendars").status == 200
        created = cal.post("/calendars/primary/events", json={
            "summary": "Signed in as a user",
            "start": {"dateTime": "2026-12-02T09:00:00Z"},
            "end": {"dateTime": "2026-12-02T10:00:00Z"},
        })  # fmt: skip
        assert created.status == 201, created.text
    flow.close()


def test_read_only_consent_cannot_write(sb):
    flow = _signed_in(sb, "calendar.read chat.read")
    with RestClient(sb.urls["calendar"], auth=flow, history=None) as cal:
        assert cal.get("/calendars").status == 200
        refused = cal.post("/calendars/primary/events", json={"summary": "x"})
        assert refused.status == 403
        assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
    with RestClient(sb.urls["chat"], auth=flow, history=None) as chat:
        assert chat.get("/channels").status == 200
        assert chat.post("/channels", json={"name": "nope"}).status == 403
    flow.close()


def test_a_token_for_another_service_is_refused(sb):
    flow = _signed_in(sb, "chat.read chat.write")
    with RestClient(sb.urls["calendar"], auth=flow, history=None) as cal:
        refused = cal.get("/calendars")
    assert refused.status == 403 and "calendar" in refused.json()["error"]["message"]
    with RestClient(sb.urls["chat"], auth=flow, history=None) as chat:
        made = chat.post("/channels", json={"name": "delegated"})
        assert made.status == 201, made.text
    flow.close()


def test_a_revoked_user_token_is_401(sb):
    flow = _signed_in(sb, "calendar.read")
    token = flow.access_token()
    sb.state("auth").revoke(token)
    with RestClient(sb.urls["calendar"], auth=Bearer(token), history=None) as cal:
        assert cal.get("/calendars").status == 401
    flow.close()


def test_machine_credentials_still_work(sb):
    env = sb.env
    m2m = OAuth2ClientCredentials(
        env["CALENDAR_TOKEN_URL"], env["CALENDAR_CLIENT_ID"], Secret(env["CALENDAR_CLIENT_SECRET"])
    )
    with RestClient(sb.urls["calendar"], auth=m2m, history=None) as cal:
        assert cal.get("/calendars").status == 200
    with RestClient(sb.urls["chat"], auth=Bearer(env["CHAT_TOKEN"]), history=None) as chat:
        assert chat.get("/channels").status == 200


def test_approve_device_refuses_an_unknown_code(sb):
    with pytest.raises(SandboxError, match="refused the code"):
        sb.approve_device("NOPE-NOPE")


def test_the_approval_can_come_while_the_flow_polls(sb):
    """The user approves on another device while the flow is polling."""
    flow = OAuth2DeviceCode.from_issuer(
        sb.env["AUTH_ISSUER"], client_id=sb.env["AUTH_PUBLIC_CLIENT_ID"],
        scope="calendar.read", name="delegated-interactive",
    )  # fmt: skip
    started = flow.start()  # the code the script shows
    approver = threading.Thread(target=sb.approve_device, args=(started.user_code,))
    approver.start()
    flow.poll(started)
    approver.join()
    with RestClient(sb.urls["calendar"], auth=flow, history=None) as cal:
        assert cal.get("/calendars").status == 200
    flow.close()
