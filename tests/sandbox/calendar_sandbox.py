"""Starting a sandbox calendar and talking to it with raw httpx, for the calendar tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import httpx

from apinotebook.sandbox import Sandbox

TTL = 600


@contextlib.contextmanager
def _sandbox() -> Iterator[Sandbox]:
    options = {"calendar": {"token_ttl": TTL}}
    with Sandbox(services=("calendar",), seed=2, options=options) as box:
        yield box


def _token(sb: Sandbox) -> str:
    auth = (sb.env["CALENDAR_CLIENT_ID"], sb.env["CALENDAR_CLIENT_SECRET"])
    r = httpx.post(
        sb.env["CALENDAR_TOKEN_URL"], data={"grant_type": "client_credentials"}, auth=auth
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def _client(sb: Sandbox) -> httpx.Client:
    headers = {"Authorization": f"Bearer {_token(sb)}"}
    return httpx.Client(base_url=sb.urls["calendar"], headers=headers)


def _error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) <= {"code", "message", "details"} and err["message"]
    return err


def _event(summary: str = "Planning", start: str = "2026-12-10T09:00:00Z", **extra) -> dict:
    end = start.replace("T09", "T10")
    return {"summary": summary, "start": {"dateTime": start}, "end": {"dateTime": end}} | extra


def _all(api: httpx.Client, cal: str = "primary", **params) -> tuple[list[dict], dict]:
    """Every item of a listing, following nextPageToken; and the last page."""
    items, token = [], None
    while True:
        page_params = params | ({"pageToken": token} if token else {})
        r = api.get(f"/calendars/{cal}/events", params=page_params)
        assert r.status_code == 200, r.text
        page = r.json()
        items += page["items"]
        token = page.get("nextPageToken")
        if token is None:
            return items, page
        assert "nextSyncToken" not in page
