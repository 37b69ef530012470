"""The calendar service over a real loopback socket: OAuth2 tokens, listing, paging and sync."""

from __future__ import annotations

import dataclasses
import importlib
import json
import time

import httpx
import pytest
from calendar_sandbox import (
    TTL,
    _all,
    _client,
    _error,
    _event,
    _sandbox,
    _token,
)

from apinotebook import ConfigError
from apinotebook.sandbox import SandboxContext
from apinotebook.sandbox._context import credentials
from apinotebook.sandbox._seed import EPOCH
from apinotebook.sandbox._webhooks import WebhookDispatcher
from apinotebook.sandbox.calendar import CalendarStore, build


@pytest.fixture(scope="module")
def sb():
    """Shared by the tests whose changes cannot disturb the others."""
    with _sandbox() as box:
        yield box


@pytest.fixture(scope="module")
def untouched():
    """Its events stay the seed's: the tests that use it only read, or revoke tokens."""
    with _sandbox() as box:
        yield box


@pytest.fixture
def fresh():
    """A sandbox of one's own, for a test that deletes events and expires sync tokens."""
    with _sandbox() as box:
        yield box


@pytest.fixture(scope="module")
def api(sb):
    with _client(sb) as client:
        yield client


@pytest.fixture
def own(untouched):
    """A client of ``untouched`` with a token of its own."""
    with _client(untouched) as client:
        yield client


# -- OAuth2 client credentials --------------------------------------------------------------


def test_wiring(sb):
    assert sb.urls["calendar"] == sb.url + "/calendar"
    assert sb.env["CALENDAR_URL"] == sb.url + "/calendar"
    assert sb.env["CALENDAR_TOKEN_URL"] == sb.url + "/calendar/oauth/token"
    assert isinstance(sb.state("calendar"), CalendarStore)


def test_token_with_basic_and_with_form_fields(sb):
    url = sb.env["CALENDAR_TOKEN_URL"]
    cid, secret = sb.env["CALENDAR_CLIENT_ID"], sb.env["CALENDAR_CLIENT_SECRET"]
    basic = httpx.post(url, data={"grant_type": "client_credentials"}, auth=(cid, secret))
    form = httpx.post(
        url,
        data={"grant_type": "client_credentials", "client_id": cid, "client_secret": secret},
    )
    for r in (basic, form):
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        body = r.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == TTL
        assert body["scope"] == "calendar" and len(body["access_token"]) > 30
        headers = {"Authorization": f"Bearer {body['access_token']}"}
        assert httpx.get(sb.urls["calendar"] + "/calendars", headers=headers).status_code == 200
    assert basic.json()["access_token"] != form.json()["access_token"]


def _token_request(sb, *, auth=None, data=None, content=None, headers=None) -> httpx.Response:
    return httpx.post(
        sb.env["CALENDAR_TOKEN_URL"], auth=auth, data=data, content=content, headers=headers
    )


@pytest.mark.parametrize(
    ("case", "status", "error"),
    [
        ("wrong secret", 401, "invalid_client"),
        ("wrong id", 401, "invalid_client"),
        ("no client auth", 401, "invalid_client"),
        ("garbage basic", 401, "invalid_client"),
        ("both methods", 400, "invalid_request"),
        ("no grant", 400, "invalid_request"),
        ("password grant", 400, "unsupported_grant_type"),
        ("json body", 400, "invalid_request"),
        ("empty body", 400, "invalid_request"),
        ("repeated parameter", 400, "invalid_request"),
        ("bad scope", 400, "invalid_scope"),
    ],
)
def test_token_errors_follow_rfc_6749(sb, case, status, error):
    cid, secret = sb.env["CALENDAR_CLIENT_ID"], sb.env["CALENDAR_CLIENT_SECRET"]
    grant = {"grant_type": "client_credentials"}
    form = "application/x-www-form-urlencoded"
    request = {
        "wrong secret": {"auth": (cid, "nope"), "data": grant},
        "wrong id": {"auth": ("cal-client-nope", secret), "data": grant},
        "no client auth": {"data": grant},
        "garbage basic": {"data": grant, "headers": {"Authorization": "Basic !!!"}},
        "both methods": {"auth": (cid, secret), "data": grant | {"client_id": cid}},
        "no grant": {"auth": (cid, secret), "data": {"scope": "calendar"}},
        "password grant": {"auth": (cid, secret), "data": {"grant_type": "password"}},
        "json body": {"auth": (cid, secret), "content": json.dumps(grant).encode()},
        "empty body": {"auth": (cid, secret), "content": b"", "headers": {}},
        "repeated parameter": {
            "auth": (cid, secret),
            "content": b"grant_type=client_credentials&grant_type=client_credentials",
            "headers": {"Content-Type": form},
        },
        "bad scope": {"auth": (cid, secret), "data": grant | {"scope": "admin"}},
    }[case]
    r = _token_request(sb, **request)
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error and body["error_description"]
    if status == 401:
        assert r.headers["www-authenticate"].startswith("Basic")


@pytest.mark.parametrize(
    "header", [None, "Bearer nope", "Basic Zm9vOmJhcg==", "Bearer", b"Bearer caf\xc3\xa9"]
)
def test_api_needs_a_live_token(sb, header):
    headers = {} if header is None else {"Authorization": header}
    r = httpx.get(sb.urls["calendar"] + "/calendars/primary/events", headers=headers)
    err = _error(r, 401)
    assert r.headers["www-authenticate"].startswith("Bearer")
    if err["code"] == "invalid_token":
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert err["code"] == (
        "invalid_token" if header in ("Bearer nope", b"Bearer caf\xc3\xa9") else "unauthenticated"
    )


def test_auth_comes_before_the_body(sb):
    url = sb.urls["calendar"] + "/calendars/primary/events"
    r = httpx.post(url, content=b"{broken", headers={"Content-Type": "application/json"})
    assert _error(r, 401)["code"] == "unauthenticated"


def test_expired_and_revoked_tokens_get_401(untouched, own):
    sb, api = untouched, own
    state = sb.state("calendar")
    assert api.get("/calendars").status_code == 200
    state.clock = lambda: time.time() + TTL + 1
    try:
        r = api.get("/calendars")
        assert _error(r, 401)["code"] == "invalid_token"
        assert 'error="invalid_token"' in r.headers["www-authenticate"]
        fresh = {"Authorization": f"Bearer {_token(sb)}"}  # issued on the shifted clock
        assert api.get("/calendars", headers=fresh).status_code == 200
    finally:
        state.clock = time.time
    assert api.get("/calendars", headers=fresh).status_code == 200
    state.revoke_all_tokens()
    assert _error(api.get("/calendars", headers=fresh), 401)["code"] == "invalid_token"


@pytest.mark.parametrize("method", ["basic", "post"])
def test_the_package_auth_flow_refreshes_after_revocation(untouched, method):
    from apinotebook.auth import OAuth2ClientCredentials

    auth = OAuth2ClientCredentials(
        untouched.env["CALENDAR_TOKEN_URL"],
        untouched.env["CALENDAR_CLIENT_ID"],
        untouched.env["CALENDAR_CLIENT_SECRET"],
        auth_method=method,
    )
    with httpx.Client(base_url=untouched.urls["calendar"], auth=auth) as client:
        assert client.get("/calendars").status_code == 200
        untouched.state("calendar").revoke_all_tokens()
        assert client.get("/calendars").status_code == 200
    assert auth.fetches == 2


# -- listing, paging, sync ----------------------------------------------------------------------


def test_seed_is_deterministic():
    def events(seed: int) -> list[dict]:
        store = CalendarStore(seed, client_id="c", client_secret="s")
        return [e.to_json() for cal in ("primary", "team") for e in store.events[cal].values()]

    first = events(2)
    assert first == events(2) and first != events(3)
    store = CalendarStore(2, client_id="c", client_secret="s")
    primary = list(store.events["primary"].values())
    assert len(primary) == 40 and len(store.events["team"]) == 6
    assert all(e.start.year == 2026 and e.start.month == 12 for e in primary)
    assert all(e.created <= e.updated <= EPOCH for e in primary)


def test_calendars(api):
    listing = api.get("/calendars").json()
    assert [c["id"] for c in listing["items"]] == ["primary", "team"]
    assert api.get("/calendars/team").json()["primary"] is False
    assert _error(api.get("/calendars/nope"), 404)["code"] == "calendar_not_found"
    assert _error(api.get("/calendars/nope/events"), 404)["code"] == "calendar_not_found"


def test_full_listing_pages_through_every_event_once(own):
    api = own
    items, last = _all(api, maxResults=7)
    assert len(items) == 40 and len({e["id"] for e in items}) == 40
    starts = [(e["start"]["dateTime"], e["id"]) for e in items]
    assert starts == sorted(starts)
    assert last["nextSyncToken"] and "nextPageToken" not in last
    first = api.get("/calendars/primary/events").json()
    assert len(first["items"]) == 40 and "nextSyncToken" in first  # default maxResults is 50
    event = first["items"][0]
    assert {
        "id",
        "summary",
        "start",
        "end",
        "attendees",
        "status",
        "created",
        "updated",
        "etag",
    } <= set(event)


def test_time_window(api):
    low, high = "2026-12-10T00:00:00Z", "2026-12-20T00:00:00+00:00"
    everything, _ = _all(api)
    expected = [
        e["id"]
        for e in everything
        if e["end"]["dateTime"] > low and e["start"]["dateTime"] < "2026-12-20T00:00:00Z"
    ]
    items, last = _all(api, timeMin=low, timeMax=high, maxResults=3)
    assert [e["id"] for e in items] == expected and 0 < len(expected) < 40
    assert "nextSyncToken" not in last  # a filtered listing cannot start a sync


def test_incremental_sync_sees_exactly_the_changes(api):
    before, last = _all(api, maxResults=10)
    token = last["nextSyncToken"]
    assert _all(api, syncToken=token)[0] == []

    created = api.post("/calendars/primary/events", json=_event("New")).json()
    api.patch(f"/calendars/primary/events/{created['id']}", json={"summary": "New, renamed"})
    updated = api.patch(f"/calendars/primary/events/{before[0]['id']}", json={"location": "Roof"})
    assert updated.status_code == 200
    assert api.delete(f"/calendars/primary/events/{before[1]['id']}").status_code == 204
    api.post("/calendars/team/events", json=_event("Elsewhere"))  # another calendar

    for page_size in (1, 2, 50):
        changes, last = _all(api, syncToken=token, maxResults=page_size)
        by_id = {e["id"]: e for e in changes}
        assert len(changes) == 3 == len(by_id)
        assert by_id[created["id"]]["summary"] == "New, renamed"
        assert by_id[before[0]["id"]]["location"] == "Roof"
        assert by_id[before[1]["id"]]["status"] == "cancelled"
    assert _all(api, syncToken=last["nextSyncToken"])[0] == []

    # a full listing hides the deleted event unless asked
    assert before[1]["id"] not in {e["id"] for e in _all(api)[0]}
    assert before[1]["id"] in {e["id"] for e in _all(api, showDeleted="true")[0]}


def test_changes_during_a_full_sync_show_up_in_the_next_incremental(api):
    page = api.get("/calendars/primary/events", params={"maxResults": 5}).json()
    late = api.post("/calendars/primary/events", json=_event("Late")).json()
    _, last = _all(api, pageToken=page["nextPageToken"], maxResults=5)
    changes, _ = _all(api, syncToken=last["nextSyncToken"])
    assert [e["id"] for e in changes] == [late["id"]]


@pytest.mark.parametrize("tamper", ["bogus", "", "x.y", "A" * 40, "swap-calendar", "flip"])
def test_unknown_sync_tokens_get_410(api, tamper):
    token = _all(api)[1]["nextSyncToken"]
    if tamper == "swap-calendar":
        r = api.get("/calendars/team/events", params={"syncToken": token})
    else:
        bad = token[:-1] + ("0" if token[-1] != "0" else "1") if tamper == "flip" else tamper
        r = api.get("/calendars/primary/events", params={"syncToken": bad})
    assert _error(r, 410)["code"] == "sync_token_expired"


def test_expired_sync_tokens_get_410(fresh):
    state = fresh.state("calendar")
    with _client(fresh) as api:
        token = _all(api)[1]["nextSyncToken"]
        state.max_tombstones = 1
        ids = [e["id"] for e in _all(api)[0][:2]]
        api.delete(f"/calendars/primary/events/{ids[0]}")
        assert api.get("/calendars/primary/events", params={"syncToken": token}).status_code == 200
        api.delete(f"/calendars/primary/events/{ids[1]}")  # purges the first tombstone
        r = api.get("/calendars/primary/events", params={"syncToken": token})
        assert _error(r, 410)["code"] == "sync_token_expired"
        token = _all(api)[1]["nextSyncToken"]
        state.expire_sync_tokens()
        assert api.get("/calendars/primary/events", params={"syncToken": token}).status_code == 410


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"syncToken": "x", "timeMin": "2026-12-01T00:00:00Z"}, 400, "invalid_sync_request"),
        ({"syncToken": "x", "timeMax": "2026-12-01T00:00:00Z"}, 400, "invalid_sync_request"),
        (
            {"timeMin": "2026-12-02T00:00:00Z", "timeMax": "2026-12-01T00:00:00Z"},
            400,
            "invalid_time_range",
        ),
        ({"timeMin": "yesterday"}, 422, "validation_error"),
        ({"timeMin": "2026-12-01T00:00:00"}, 422, "validation_error"),  # no offset
        ({"timeMax": "0001-01-01T00:00:00+01:00"}, 422, "validation_error"),
        ({"maxResults": 0}, 422, "validation_error"),
        ({"maxResults": 251}, 422, "validation_error"),
        ({"maxResults": "many"}, 422, "validation_error"),
        ({"showDeleted": "perhaps"}, 422, "validation_error"),
        ({"pageToken": "garbage"}, 400, "invalid_page_token"),
    ],
)
def test_bad_list_parameters(api, params, status, code):
    r = api.get("/calendars/primary/events", params=params)
    assert _error(r, status)["code"] == code


def test_page_tokens_belong_to_their_query(api):
    params = {"timeMin": "2026-12-15T00:00:00Z", "maxResults": 2}
    first = api.get("/calendars/primary/events", params=params).json()
    token = first["nextPageToken"]
    other = {"pageToken": token, "timeMin": "2026-12-05T00:00:00Z"}
    assert (
        _error(api.get("/calendars/primary/events", params=other), 400)["code"]
        == "invalid_page_token"
    )
    assert _error(api.get("/calendars/team/events", params={"pageToken": token}), 400)
    rest, _ = _all(api, pageToken=token)  # the filters travel in the token
    everything, _ = _all(api, timeMin="2026-12-15T00:00:00Z")
    assert [e["id"] for e in first["items"] + rest] == [e["id"] for e in everything]
    assert len(everything) < len(_all(api)[0])


# -- the rest ------------------------------------------------------------------------------


def test_openapi_document(sb, api):
    doc = httpx.get(sb.urls["calendar"] + "/openapi.json").json()
    assert doc["servers"] == [{"url": "/calendar"}]
    flow = doc["components"]["securitySchemes"]["OAuth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/calendar/oauth/token"
    assert {"/oauth/token", "/calendars/{cal}/events", "/channels/stop"} <= set(doc["paths"])
    assert "HTTPValidationError" not in json.dumps(doc)
    assert _error(api.get("/docs"), 404)["code"] == "not_found"  # no CDN-backed doc pages
    try:
        from openapi_spec_validator import validate
    except ImportError:  # a dev-only dependency
        return
    validate(doc)


def test_options_are_checked():
    ctx = SandboxContext(
        base_url="http://127.0.0.1:1",
        seed=0,
        contacts=10,
        companies=5,
        credentials=credentials(0),
        webhooks=WebhookDispatcher(),
    )
    assert build(ctx)[0].state.token_ttl == 3600
    for options, message in [
        ({"token_tl": 5}, "token_ttl"),
        ({"token_ttl": 0}, "positive"),
        ({"token_ttl": True}, "positive"),
        ({"max_tombstones": "many"}, "positive"),
    ]:
        with pytest.raises(ConfigError, match=message):
            build(dataclasses.replace(ctx, options={"calendar": options}))


def test_the_stdlib_calendar_is_not_shadowed():
    stdlib = importlib.import_module("calendar")
    assert "apinotebook" not in (stdlib.__file__ or "") and stdlib.monthrange(2026, 12) == (1, 31)
    ours = importlib.import_module("apinotebook.sandbox.calendar")
    assert ours is not stdlib and hasattr(ours, "build")
    assert importlib.import_module("http.cookiejar").timegm is stdlib.timegm  # stdlib users
