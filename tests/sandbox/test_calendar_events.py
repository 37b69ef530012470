"""The calendar service over a real loopback socket: events CRUD and watch channels."""

from __future__ import annotations

import json
import threading
import time

import pytest
from calendar_sandbox import (
    _all,
    _client,
    _error,
    _event,
    _sandbox,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from apinotebook._core.signing import SignatureError, verify
from apinotebook.sandbox import Mount, Sandbox


@pytest.fixture(scope="module")
def sb():
    """Shared by the tests whose changes cannot disturb the others."""
    with _sandbox() as box:
        yield box


@pytest.fixture(scope="module")
def api(sb):
    with _client(sb) as client:
        yield client


# -- events CRUD -------------------------------------------------------------------------


def test_event_crud(api):
    body = _event(
        "Offsite",
        "2026-12-11T09:00:00+01:00",
        description="Bring laptops",
        location="Lisbon",
        attendees=[
            {"email": "ada@example.com"},
            {"email": "bo@example.com", "responseStatus": "accepted"},
        ],
    )
    r = api.post("/calendars/primary/events", json=body)
    assert r.status_code == 201
    event = r.json()
    assert event["start"] == {"dateTime": "2026-12-11T08:00:00Z"} and event["status"] == "confirmed"
    assert event["attendees"][0] == {"email": "ada@example.com", "responseStatus": "needsAction"}
    url = f"/calendars/primary/events/{event['id']}"
    assert api.get(url).json() == event

    patched = api.patch(url, json={"summary": "Offsite (moved)", "description": None}).json()
    assert patched["summary"] == "Offsite (moved)" and patched["description"] == ""
    assert patched["location"] == "Lisbon" and patched["etag"] != event["etag"]
    assert patched["updated"] >= event["updated"] and patched["created"] == event["created"]
    stale = api.patch(url, json={"summary": "x"}, headers={"If-Match": event["etag"]})
    assert _error(stale, 412)["code"] == "precondition_failed"
    fresh = api.patch(url, json={"summary": "y"}, headers={"If-Match": patched["etag"]})
    assert fresh.status_code == 200
    late = {"end": {"dateTime": "2026-12-11T07:00:00Z"}}
    assert _error(api.patch(url, json=late), 422)["code"] == "invalid_time_range"

    assert api.delete(url).status_code == 204
    assert api.get(url).json()["status"] == "cancelled"
    assert _error(api.delete(url), 410)["code"] == "deleted"
    assert _error(api.patch(url, json={"summary": "z"}), 410)["code"] == "deleted"
    assert _error(api.get("/calendars/primary/events/nope"), 404)["code"] == "not_found"


def test_client_chosen_ids(api):
    body = _event(id="standup20261201")
    assert api.post("/calendars/primary/events", json=body).status_code == 201
    assert _error(api.post("/calendars/primary/events", json=body), 409)["code"] == "duplicate"
    assert api.post("/calendars/team/events", json=body).status_code == 201  # per calendar


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"summary": "no times"}',
        json.dumps(_event(start="2026-12-10T09:00:00")).encode(),  # no offset
        json.dumps({"start": {"dateTime": 1767225600}, "end": {"dateTime": 1767229200}}).encode(),
        json.dumps({"start": {"dateTime": "soon"}, "end": {"dateTime": "later"}}).encode(),
        json.dumps(
            {
                "start": {"dateTime": "2026-12-10T10:00:00Z"},
                "end": {"dateTime": "2026-12-10T09:00:00Z"},
            }
        ).encode(),
        json.dumps(_event(attendees=[{"email": "not-an-email"}])).encode(),
        json.dumps(_event(attendees=[{"email": "a@b.co", "responseStatus": "maybe"}])).encode(),
        json.dumps(_event(attendees=[{"email": f"a{i}@b.co"} for i in range(101)])).encode(),
        json.dumps(_event(colour="red")).encode(),
        json.dumps(_event(summary="x" * 1025)).encode(),
        json.dumps(_event(summary=7)).encode(),
        json.dumps(_event(id="UPPER-case")).encode(),
        json.dumps(_event(start="9999-12-31T23:00:00-05:00")).encode(),
    ],
)
def test_bad_event_bodies(api, body):
    r = api.post("/calendars/primary/events", content=body, headers=JSON)
    assert _error(r, 422)["code"] == "validation_error"


@pytest.mark.parametrize(
    "body",
    [{"start": None}, {"end": None}, {"status": "cancelled"}, {"start": {"dateTime": "x"}}, []],
)
def test_bad_patch_bodies(api, body):
    event_id = _all(api)[0][0]["id"]
    r = api.patch(f"/calendars/primary/events/{event_id}", json=body)
    assert _error(r, 422)["code"] == "validation_error"


def test_undecodable_and_oversized_bodies(api):
    for broken in (b"garbage", b"\xff\xfe\x00"):
        r = api.post("/calendars/primary/events", content=broken, headers=JSON)
        assert _error(r, 400)["code"] == "malformed_json"
    r = api.post("/calendars/primary/events", content=b"x" * (9 * 1024 * 1024), headers=JSON)
    assert _error(r, 413)["code"] == "payload_too_large"


# -- watch channels ---------------------------------------------------------------------


class _Receiver:
    """Collects webhook deliveries on a second sandbox."""

    def __init__(self) -> None:
        self.url = ""
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self.changed = threading.Condition()

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        with self.changed:
            self.deliveries.append((dict(request.headers), body))
            self.changed.notify_all()
        return Response(status_code=204)

    def of(self, channel_id: str) -> list[tuple[dict[str, str], bytes]]:
        """The deliveries for one watch channel."""
        return [
            (headers, body)
            for headers, body in self.deliveries
            if json.loads(body)["data"]["channel_id"] == channel_id
        ]

    def wait_for(self, channel_id: str, n: int, timeout: float = 10.0) -> list[tuple[dict, bytes]]:
        """Wait until ``n`` deliveries for ``channel_id`` arrived."""
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.of(channel_id)) >= n, timeout)
            return self.of(channel_id)


@pytest.fixture(scope="module")
def receiver():
    rec = _Receiver()
    app = Starlette(routes=[Route("/hook", rec.hook, methods=["POST"])])
    mount = Mount(prefix="/receiver", app=app, service="receiver")
    with Sandbox(services=(), extra_mounts=[mount]) as box:
        rec.url = box.url + "/receiver/hook"
        yield rec


def test_watch_sends_signed_notifications_until_stopped(sb, api, receiver):
    body = {"id": "chan-1", "address": receiver.url, "token": "target=crm"}
    r = api.post("/calendars/primary/events/watch", json=body)
    assert r.status_code == 200
    channel = r.json()
    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1"
    assert channel["resourceId"] and int(channel["expiration"]) > time.time() * 1000
    assert channel["resourceUri"] == sb.urls["calendar"] + "/calendars/primary/events"

    created = api.post("/calendars/primary/events", json=_event("Watched")).json()
    api.patch(f"/calendars/primary/events/{created['id']}", json={"summary": "Watched 2"})
    api.post("/calendars/team/events", json=_event("Not watched"))
    api.delete(f"/calendars/primary/events/{created['id']}")
    got = receiver.wait_for("chan-1", 4)
    secret = sb.env["CALENDAR_WEBHOOK_SECRET"]
    by_type = {}
    for headers, raw in got:  # concurrent deliveries: the order is not guaranteed
        verify(secret, raw, headers["x-signature"])
        payload = json.loads(raw)
        assert headers["x-event-type"] == payload["type"] and headers["x-event-id"] == payload["id"]
        by_type[payload["type"]] = payload["data"]
    assert sorted(by_type) == ["event.created", "event.deleted", "event.updated", "sync"]
    for data in by_type.values():
        assert data["channel_token"] == "target=crm" and data["calendar"] == "primary"
        assert data["resource_id"] == channel["resourceId"]
    assert "event" not in by_type["sync"]
    assert by_type["event.created"]["event"]["summary"] == "Watched"
    assert by_type["event.updated"]["event"]["summary"] == "Watched 2"
    assert by_type["event.deleted"]["event"]["status"] == "cancelled"
    with pytest.raises(SignatureError, match="does not match"):
        verify("wrong-secret", got[1][1], got[1][0]["x-signature"])

    stop = {"id": "chan-1", "resourceId": channel["resourceId"]}
    assert _error(api.post("/channels/stop", json=stop | {"resourceId": "res_x"}), 404)
    assert api.post("/channels/stop", json=stop).status_code == 204
    dispatcher = sb.app.webhooks
    sent = len(dispatcher.history(url_prefix=receiver.url))
    api.post("/calendars/primary/events", json=_event("After stop"))
    assert len(dispatcher.history(url_prefix=receiver.url)) == sent  # published synchronously
    assert _error(api.post("/channels/stop", json=stop), 404)["code"] == "channel_not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"id": "c", "address": "ftp://example.com/x"},
        {"id": "c", "address": "not a url"},
        {"id": "has space", "address": "http://127.0.0.1/x"},
        {"address": "http://127.0.0.1/x"},
        {"id": "c", "address": "http://127.0.0.1/x", "type": "email"},
        {"id": "c", "address": "http://127.0.0.1/x", "token": "t" * 257},
    ],
)
def test_bad_watch_bodies(api, body):
    assert (
        _error(api.post("/calendars/primary/events/watch", json=body), 422)["code"]
        == "validation_error"
    )


def test_channel_ids_are_unique(api, receiver):
    body = {"id": "dup", "address": receiver.url}
    opened = api.post("/calendars/primary/events/watch", json=body)
    assert opened.status_code == 200
    r = api.post("/calendars/team/events/watch", json=body)
    assert _error(r, 409)["code"] == "channel_id_not_unique"
    stop = {"id": "dup", "resourceId": opened.json()["resourceId"]}  # no notifications later
    assert api.post("/channels/stop", json=stop).status_code == 204
