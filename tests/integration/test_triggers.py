"""Integrations started by webhooks, watch notifications and schedules, against the sandbox.

And the state connections their background threads open are closed.
"""

from __future__ import annotations

import gc
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from bridges import (
    chat_client,
    crm_client,
    crm_contacts,
    crm_to_mail,
    expected_subscribers,
    mail_client,
    new_channel,
    new_list,
    sandbox,
    subscribers,
    wait_for,
)

from apinotebook import RestClient
from apinotebook._core.signing import signature_header
from apinotebook.auth import OAuth2ClientCredentials
from apinotebook.integration import Batch, Integration

pytestmark = pytest.mark.sandbox


# -- triggers: webhooks and schedules ---------------------------------------------------


def test_crm_webhooks_deliver_changed_contacts(tmp_path, stack):
    with sandbox(("crm", "mail")) as sb:
        crm, mail = crm_client(sb, stack), mail_client(sb, stack)
        list_id = new_list(mail, "Webhook sync")
        sync = crm_to_mail(tmp_path, crm, mail, list_id)
        try:
            receiver = sync.on_webhook(
                "/hooks/crm",
                secret=sb.env["CRM_WEBHOOK_SECRET"],
                extract=lambda event: event["data"]["contact"],
            )
            hook = crm.post(
                "/webhooks",
                json={"url": receiver.url, "events": ["contact.created", "contact.updated"]},
            )
            assert hook.status == 201

            unsigned = httpx.post(receiver.url, json={"data": {"contact": {"id": "x"}}})
            assert unsigned.status_code == 401

            crm.post(
                "/contacts",
                json={"first_name": "Webb", "last_name": "Hook", "email": "webb@hooks.example"},
            ).raise_for_status()
            patched = crm_contacts(sb)[0]
            crm.patch(f"/contacts/{patched['id']}", json={"first_name": "Pat"})
            wanted = {"webb@hooks.example", patched["email"].lower()}
            wait_for(lambda: set(subscribers(sb, list_id)) == wanted)
            wait_for(lambda: sync.state["inbox"] == {"processed": 2})
            held = subscribers(sb, list_id)
            assert held[patched["email"].lower()]["name"] == f"Pat {patched['last_name']}"
            assert sync.last_report.trigger == "webhook" and sync.state["cursor"] is None

            # a poll afterwards skips what the webhooks delivered
            report = sync.run()
            assert report.written == len(expected_subscribers(crm_contacts(sb))) - 2
            assert report.skipped_duplicate == 2
        finally:
            sync.close()


def test_crm_webhook_as_a_change_notification_runs_the_poll(tmp_path, stack):
    with sandbox(("crm", "mail")) as sb:
        crm, mail = crm_client(sb, stack), mail_client(sb, stack)
        list_id = new_list(mail, "Notified sync")
        sync = crm_to_mail(tmp_path, crm, mail, list_id)
        try:
            sync.run()
            held = subscribers(sb, list_id)
            receiver = sync.on_webhook("/hooks/crm", secret=sb.env["CRM_WEBHOOK_SECRET"])
            crm.post("/webhooks", json={"url": receiver.url, "events": ["contact.updated"]})
            target = next(c for c in crm_contacts(sb) if c["email"].lower() in held)
            crm.patch(f"/contacts/{target['id']}", json={"last_name": "Notified"})
            email = target["email"].lower()
            wait_for(lambda: subscribers(sb, list_id)[email]["name"].endswith("Notified"))
            wait_for(lambda: sync.state["inbox"] == {"processed": 1})
            report = sync.last_report
            assert report.trigger == "webhook" and report.written == 1
            assert report.cursor_before is not None  # a normal run, from the checkpoint
        finally:
            sync.close()


def test_a_late_webhook_with_an_older_version_does_not_overwrite_a_newer_one(tmp_path, stack):
    """Senders retry, so events arrive out of order; an older version must not win."""
    with sandbox(("crm", "mail")) as sb:
        crm, mail = crm_client(sb, stack), mail_client(sb, stack)
        list_id = new_list(mail, "Late events")
        sync = crm_to_mail(tmp_path, crm, mail, list_id)
        try:
            target = next(c for c in crm_contacts(sb) if c["first_name"] and "@" in c["email"])
            path = f"/contacts/{target['id']}"
            older = crm.patch(path, json={"first_name": "Older"}).raise_for_status().json()
            crm.patch(path, json={"first_name": "Newer"}).raise_for_status()
            sync.run()
            email = target["email"].lower()
            assert subscribers(sb, list_id)[email]["name"].startswith("Newer")

            # the first delivery of the older change failed; its retry arrives now
            receiver = sync.on_webhook(
                "/hooks/crm",
                secret=sb.env["CRM_WEBHOOK_SECRET"],
                extract=lambda event: event["data"]["contact"],
            )
            event = {"id": "evt_late", "type": "contact.updated", "data": {"contact": older}}
            body = json.dumps(event).encode()
            signature = signature_header(sb.env["CRM_WEBHOOK_SECRET"], body)
            headers = {"X-Signature": signature, "X-Event-Id": "evt_late"}
            assert httpx.post(receiver.url, content=body, headers=headers).status_code == 202
            wait_for(lambda: sync.state["inbox"] == {"processed": 1})
            assert subscribers(sb, list_id)[email]["name"].startswith("Newer")
        finally:
            sync.close()


def calendar_events(cal: RestClient, since: str | None) -> Iterator[dict[str, Any]]:
    """Google-style sync: a full listing, then changes since the sync token."""
    params: dict[str, Any] = {"maxResults": 25} | ({"syncToken": since} if since else {})
    while True:
        page = cal.get("/calendars/primary/events", params=params).raise_for_status().json()
        yield from page["items"]
        if "nextPageToken" not in page:
            return page["nextSyncToken"]
        params = {"pageToken": page["nextPageToken"]}


def test_calendar_watch_notifications_trigger_sync_token_runs(tmp_path, stack):
    with sandbox(("calendar", "chat")) as sb:
        auth = OAuth2ClientCredentials(
            sb.env["CALENDAR_TOKEN_URL"],
            sb.env["CALENDAR_CLIENT_ID"],
            sb.env["CALENDAR_CLIENT_SECRET"],
        )
        cal = RestClient(sb.urls["calendar"], auth=auth, history=None)
        chat = chat_client(sb, stack)
        channel = new_channel(chat, "calendar-feed")
        sync = Integration("calendar-to-chat", state=tmp_path / "cal.db", progress=None)
        sync.source(key="id")(lambda since: calendar_events(cal, since))

        @sync.transform
        def to_message(event: dict[str, Any]) -> dict[str, Any]:
            return {"text": f"{event['id']} {event['status']}: {event['summary']}"}

        @sync.destination(batch_size=10, backoff=0)
        def post(batch: Batch) -> None:
            for record, key in batch.with_idempotency_keys():
                chat.post(
                    f"/channels/{channel}/messages", json=record, headers={"Idempotency-Key": key}
                ).raise_for_status()

        def texts() -> list[str]:
            return [m["text"] for m in sb.state("chat").messages(channel)]

        try:
            receiver = sync.on_webhook("/hooks/calendar", secret=sb.env["CALENDAR_WEBHOOK_SECRET"])
            seeded = len(sb.state("calendar").events["primary"])
            watch = {"id": "crm-sync-1", "address": receiver.url}
            cal.post("/calendars/primary/events/watch", json=watch).raise_for_status()
            # the "sync" notification: a full sync (the event is marked processed after the run)
            wait_for(lambda: sync.state["inbox"].get("processed") == 1)
            assert len(texts()) == seeded
            token = sync.state["cursor"]
            assert token and sync.last_report.trigger == "webhook"

            event = {
                "summary": "Kick-off",
                "start": {"dateTime": "2026-12-02T09:00:00Z"},
                "end": {"dateTime": "2026-12-02T10:00:00Z"},
            }
            made = cal.post("/calendars/primary/events", json=event).raise_for_status().json()
            wait_for(lambda: sync.state["inbox"].get("processed") == 2)
            assert f"{made['id']} confirmed: Kick-off" in texts() and sync.state["cursor"] != token
            assert len(texts()) == seeded + 1 and sync.last_report.read == 1
            assert sync.state["inbox"].get("pending", 0) == 0
        finally:
            sync.close()
            cal.close()


def test_schedule_polls_with_the_cursor(tmp_path, stack):
    with sandbox(("crm", "mail")) as sb:
        crm, mail = crm_client(sb, stack), mail_client(sb, stack)
        list_id = new_list(mail, "Scheduled sync")
        sync = crm_to_mail(tmp_path, crm, mail, list_id)
        try:
            scheduler = sync.every(0.2)
            wait_for(lambda: scheduler.runs >= 2)
            cursor = sync.state["cursor"]
            assert cursor is not None
            crm.post(
                "/contacts",
                json={"first_name": "Sched", "last_name": "Uled", "email": "sched@poll.example"},
            ).raise_for_status()
            wait_for(lambda: "sched@poll.example" in subscribers(sb, list_id))
            sync.stop()
            assert not scheduler.running and sync.state["cursor"] > cursor
            runs = [r["report"] for r in sync.store.runs(100)][::-1]
            assert all(r["trigger"] == "schedule" for r in runs)
            assert runs[0]["cursor_before"] is None and runs[0]["read"] == len(crm_contacts(sb)) - 1
            later = runs[1:]
            assert later and all(r["cursor_before"] is not None for r in later)
            assert all(
                r["read"] <= 2 for r in later
            )  # only the checkpoint's record and the new one
            assert sum(r["written"] for r in later) == 1
        finally:
            sync.close()


# -- state connections -------------------------------------------------------------------


def test_state_connections_of_background_threads_are_closed(tmp_path, monkeypatch):
    """``close()`` must close the SQLite connections the receiver and processor threads opened.

    ``StateStore`` keeps one connection per thread, and each webhook request runs
    in a new thread of ``ThreadingHTTPServer``; Python 3.13 reports a connection
    nobody closed as an unclosed ``sqlite3.Connection``.
    """
    from apinotebook.integration import _state_sqlite

    class Tracked(sqlite3.Connection):
        closed = False

        def close(self) -> None:
            self.closed = True
            super().close()

    opened: list[Tracked] = []
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        conn = real_connect(*args, **kwargs, factory=Tracked)
        opened.append(conn)
        return conn

    monkeypatch.setattr(_state_sqlite.sqlite3, "connect", connect)
    got: list[Any] = []
    sync = Integration("threads", state=tmp_path / "t.db", progress=None)
    sync.source(key="id")(lambda since: iter(()))
    sync.destination(lambda batch: got.extend(batch))
    receiver = sync.on_webhook("/hook", secret="s3cret", extract=lambda event: event)
    for n in range(3):
        body = f'{{"id": "evt{n}"}}'.encode()
        headers = {"X-Signature": signature_header("s3cret", body)}
        assert httpx.post(receiver.url, content=body, headers=headers).status_code == 202
    wait_for(lambda: len(got) == 3)
    sync.close()
    still_open = sum(not c.closed for c in opened)
    opened.clear()  # the threads are gone: collect their connections within this test
    gc.collect()
    assert still_open == 0, f"{still_open} SQLite connections left open after close()"
