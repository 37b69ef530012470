"""Integrations across protocols, against the sandbox: REST, GraphQL, SOAP, webhooks, schedules.

Each bridge is run three times: a first run whose destination state is
checked exactly, a second run that must write nothing, and a run after one
source record changed that must carry exactly that change.
"""

from __future__ import annotations

import contextlib
import gc
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from apinotebook import ApiKey, Basic, Bearer, RestClient
from apinotebook._core.signing import signature_header
from apinotebook.auth import OAuth2ClientCredentials
from apinotebook.graphql import GraphQLClient
from apinotebook.integration import Batch, Integration
from apinotebook.sandbox import Sandbox
from apinotebook.soap import SoapClient

pytestmark = pytest.mark.sandbox

UPSERT = """
mutation Upsert($listId: ID!, $input: [SubscriberInput!]!) {
  upsertSubscribers(listId: $listId, input: $input) { userErrors { index field message } }
}"""

SUBSCRIBERS = """
query Subscribers($listId: ID!, $after: String, $since: String) {
  subscribers(listId: $listId, first: 100, after: $after, updatedSince: $since) {
    edges { node { email name status updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# -- helpers ----------------------------------------------------------------------------


@contextlib.contextmanager
def sandbox(services: tuple[str, ...], *, contacts: int = 120, **options: Any) -> Iterator[Sandbox]:
    """A sandbox of one's own (state changes in one test never reach another)."""
    opts = {"crm": {"messy_rate": options.pop("messy_rate", 0.05)}, **options}
    with Sandbox(contacts=contacts, seed=11, services=services, options=opts) as sb:
        yield sb


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    """Closes the clients a test opened."""
    with contextlib.ExitStack() as exits:
        yield exits


def crm_client(sb: Sandbox, stack: contextlib.ExitStack) -> RestClient:
    client = RestClient(sb.urls["crm"], auth=Bearer(sb.env["CRM_TOKEN"]), history=None)
    return stack.enter_context(client)


def mail_client(sb: Sandbox, stack: contextlib.ExitStack) -> GraphQLClient:
    key = ApiKey(sb.env["MAIL_API_KEY"], header="X-API-Key")
    return stack.enter_context(GraphQLClient(sb.urls["mail"], auth=key, history=None))


def chat_client(sb: Sandbox, stack: contextlib.ExitStack) -> RestClient:
    client = RestClient(sb.urls["chat"], auth=Bearer(sb.env["CHAT_TOKEN"]), history=None)
    return stack.enter_context(client)


def new_list(mail: GraphQLClient, name: str) -> str:
    ex = mail.execute("mutation New($n: String!) { createList(name: $n) { id } }", {"n": name})
    return str(ex.raise_for_status().data["createList"]["id"])


def new_channel(chat: RestClient, name: str) -> str:
    return str(chat.post("/channels", json={"name": name}).raise_for_status().json()["id"])


def crm_contacts(sb: Sandbox) -> list[dict[str, Any]]:
    """Every CRM contact now, read from the store (no HTTP)."""
    store, out, cursor = sb.state("crm"), [], None
    while True:
        page = store.list_contacts(limit=500, cursor=cursor)
        out += page["data"]
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]


def subscribers(sb: Sandbox, list_id: str) -> dict[str, dict[str, Any]]:
    return {s["email"]: s for s in sb.state("mail").subscribers(list_id)}


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the integration"
        time.sleep(0.02)


def merge_custom_fields(crm: RestClient, email: str, fields: dict[str, Any], **new: Any) -> bool:
    """Set custom fields on the contact with ``email`` (created with ``new`` if missing).

    A CRM upsert replaces ``custom_fields`` whole, so the fields already there are
    read first and kept. Returns whether the contact was created.
    """
    found = crm.get("/contacts", params={"email": email}).raise_for_status().json()["data"]
    body = {"custom_fields": {**(found[0]["custom_fields"] if found else {}), **fields}}
    if not found:
        body.update(new)
    crm.put(f"/contacts/by-email/{quote(email, safe='@')}", json=body).raise_for_status()
    return not found


def crm_to_mail(
    tmp_path: Path, crm: RestClient, mail: GraphQLClient, list_id: str, name: str = "crm-to-mail"
) -> Integration:
    """Contacts with a first name become subscribers; bad emails are rejected by the mail API."""
    sync = Integration(name, state=tmp_path / f"{name}.db", progress=None)

    @sync.source(key="id", cursor="updated_at")
    def contacts(since: str | None) -> Iterator[dict[str, Any]]:
        params = {"limit": 50} | ({"updated_since": since} if since else {})
        yield from crm.paginate("/contacts", params=params)

    @sync.transform
    def to_subscriber(contact: dict[str, Any]) -> dict[str, Any] | None:
        if not contact["first_name"]:
            return None
        name = f"{contact['first_name']} {contact['last_name']}".strip()
        return {"email": contact["email"], "name": name, "tags": [contact["lifecycle_stage"]]}

    @sync.destination(batch_size=40, backoff=0)
    def upsert(batch: Batch) -> list[tuple[int, str]]:
        ex = mail.execute(UPSERT, {"listId": list_id, "input": list(batch)}).raise_for_status()
        errors = ex.data["upsertSubscribers"]["userErrors"]
        return [(e["index"], f"{e['field']}: {e['message']}") for e in errors]

    return sync


def expected_subscribers(contacts: list[dict[str, Any]]) -> dict[str, tuple[str, list[str]]]:
    return {
        c["email"].lower(): (f"{c['first_name']} {c['last_name']}".strip(), [c["lifecycle_stage"]])
        for c in contacts
        if c["first_name"] and "@" in c["email"]
    }


# -- REST -> GraphQL ---------------------------------------------------------------------


def test_rest_to_graphql_crm_contacts_to_mail_subscribers(tmp_path, stack):
    with sandbox(("crm", "mail")) as sb:
        crm, mail = crm_client(sb, stack), mail_client(sb, stack)
        list_id = new_list(mail, "CRM sync")
        sync = crm_to_mail(tmp_path, crm, mail, list_id)
        try:
            contacts = crm_contacts(sb)
            bad_email = {c["id"] for c in contacts if c["first_name"] and "@" not in c["email"]}
            no_name = {c["id"] for c in contacts if not c["first_name"]}
            assert bad_email and no_name  # the seed has both kinds of messy records

            first = sync.run()
            held = subscribers(sb, list_id)
            assert {e: (s["name"], s["tags"]) for e, s in held.items()} == expected_subscribers(
                contacts
            )
            assert first.read == len(contacts) and first.written == len(held)
            assert first.skipped_filtered == len(no_name)
            assert {d.key for d in sync.dead_letters} == bad_email
            assert all(d.stage == "destination" and "email" in d.error for d in sync.dead_letters)
            assert first.status == "partial" and first.exit_code == 1
            assert sync.state["cursor"] == max(c["updated_at"] for c in contacts)

            # a second run reads from the checkpoint, sends nothing, changes nothing
            calls = sb.stats()["mail"]["total"]
            again = sync.run()
            assert again.written == again.failed == 0 and again.read == again.skipped_duplicate
            assert sb.stats()["mail"]["total"] == calls
            assert subscribers(sb, list_id) == held

            # one contact changes: exactly that change arrives
            target = next(c for c in contacts if c["id"] not in bad_email | no_name)
            crm.patch(f"/contacts/{target['id']}", json={"first_name": "Zora"}).raise_for_status()
            third = sync.run()
            assert third.written == 1 and third.failed == 0
            after = subscribers(sb, list_id)
            email = target["email"].lower()
            assert after[email]["name"] == f"Zora {target['last_name']}"
            assert after[email]["updatedAt"] > held[email]["updatedAt"]
            unchanged = {e: s for e, s in after.items() if e != email}
            assert unchanged == {e: s for e, s in held.items() if e != email}
        finally:
            sync.close()


# -- SOAP -> REST ------------------------------------------------------------------------


def unpaid_invoices(billing: SoapClient) -> Counter[str]:
    counts: Counter[str] = Counter()
    for status in ("OPEN", "OVERDUE"):
        page = 1
        while True:
            data = billing.call("ListInvoices", status=status, page=page, pageSize=100)
            data = data.raise_for_status().data
            counts.update(i["customerId"] for i in data["invoice"])
            if page * data["pageSize"] >= data["total"]:
                break
            page += 1
    return counts


def pay_an_invoice(store: Any, customer_id: str) -> None:
    """Mark the customer's first unpaid invoice PAID in the billing system's data."""
    customer = store.customer(customer_id)
    number = int(customer_id[5:])
    invoices = store.invoices_of(customer)
    unpaid = next(i for i in invoices if i.status != "PAID")
    store._invoices[number] = tuple(
        replace(i, status="PAID") if i is unpaid else i for i in invoices
    )
    heads, starts = store._all_heads()
    index = next(
        k for k, h in enumerate(heads) if h.customer == number and f"{h.number}" == unpaid.id[10:]
    )
    paid = heads[index]._replace(status="PAID")
    store._heads = (heads[:index] + (paid,) + heads[index + 1 :], starts)


def billing_fields(customer: dict[str, Any], unpaid: int) -> dict[str, Any]:
    return {
        "billing_id": customer["id"],
        "balance_due": str(Decimal(customer["balanceDue"]).quantize(Decimal("0.01"))),
        "unpaid_invoices": unpaid,
        "currency": customer["currency"],
    }


def test_soap_to_rest_billing_invoices_into_crm_custom_fields(tmp_path, stack):
    with sandbox(("crm", "billing"), contacts=80, messy_rate=0) as sb:
        crm = crm_client(sb, stack)
        billing = SoapClient(
            sb.urls["billing"],
            auth=Basic(sb.env["BILLING_USERNAME"], sb.env["BILLING_PASSWORD"]),
            history=None,
        )
        sync = Integration("billing-to-crm", state=tmp_path / "b.db", progress=None)

        @sync.source(key="id")  # no cursor: a content hash tells versions apart
        def customers(since: Any) -> Iterator[dict[str, Any]]:
            unpaid, page = unpaid_invoices(billing), 1
            while True:
                data = billing.call("ListCustomers", page=page, pageSize=25)
                data = data.raise_for_status().data
                for customer in data["customer"]:
                    yield {**customer, "unpaid": unpaid[customer["id"]]}
                if page * data["pageSize"] >= data["total"]:
                    return
                page += 1

        @sync.transform
        def to_contact(customer: dict[str, Any]) -> dict[str, Any]:
            first, _, last = customer["name"].partition(" ")
            return {
                "email": customer["email"],
                "first_name": first,
                "last_name": last,
                "custom_fields": billing_fields(customer, customer["unpaid"]),
            }

        @sync.destination(batch_size=20, backoff=0)
        def upsert(batch: Batch) -> None:
            for rec in batch:
                merge_custom_fields(
                    crm,
                    rec["email"],
                    rec["custom_fields"],
                    first_name=rec["first_name"],
                    last_name=rec["last_name"],
                )

        try:
            store = sb.state("billing")
            before = {c["email"]: c for c in crm_contacts(sb)}
            known = [c for c in store.customers() if c.email in before]
            external = [c for c in store.customers() if c.email not in before]
            assert known and external

            first = sync.run()
            assert first.ok and first.written == len(store.customers())
            after = {c["email"]: c for c in crm_contacts(sb)}
            assert len(after) == len(before) + len(external)
            unpaid = unpaid_invoices(billing)
            for customer in store.customers():
                fields = after[customer.email]["custom_fields"]
                assert fields["billing_id"] == customer.id
                assert fields["balance_due"] == str(store.balance_due(customer))
                assert fields["unpaid_invoices"] == unpaid[customer.id]
            for customer in known:  # what the CRM knew is kept
                old = before[customer.email]["custom_fields"]
                assert after[customer.email]["custom_fields"]["lead_score"] == old["lead_score"]
            for email, contact in before.items():  # contacts billing does not know: untouched
                if not any(c.email == email for c in store.customers()):
                    assert after[email] == contact

            again = sync.run()
            assert again.ok and again.written == 0 and again.skipped_duplicate == again.read
            assert {c["email"]: c for c in crm_contacts(sb)} == after

            payer = next(c for c in known if unpaid[c.id] > 0)
            pay_an_invoice(store, payer.id)
            third = sync.run()
            assert third.ok and third.written == 1
            final = {c["email"]: c for c in crm_contacts(sb)}
            fields = final[payer.email]["custom_fields"]
            assert fields["unpaid_invoices"] == unpaid[payer.id] - 1
            assert fields["balance_due"] == str(store.balance_due(payer))
            assert {e: c for e, c in final.items() if e != payer.email} == {
                e: c for e, c in after.items() if e != payer.email
            }
        finally:
            sync.close()
            billing.close()


# -- REST -> REST with Idempotency-Key ---------------------------------------------------


def crm_to_chat(
    tmp_path: Path,
    crm: RestClient,
    chat: RestClient,
    channel: str,
    *,
    crash_after: int | None = None,
) -> Integration:
    """A message per contact (and per change): chat posts are not idempotent by themselves."""
    sync = Integration("crm-to-chat", state=tmp_path / "chat.db", progress=None)
    posted = {"n": 0}

    @sync.source(key="id", cursor="updated_at")
    def contacts(since: str | None) -> Iterator[dict[str, Any]]:
        params = {"limit": 50} | ({"updated_since": since} if since else {})
        yield from crm.paginate("/contacts", params=params)

    @sync.transform
    def to_message(contact: dict[str, Any]) -> dict[str, Any]:
        if "@" not in contact["email"]:
            raise ValueError(f"invalid email {contact['email']!r}")
        return {"text": message_text(contact)}

    @sync.destination(batch_size=10, backoff=0)
    def post(batch: Batch) -> None:
        for record, key in batch.with_idempotency_keys():
            path = f"/channels/{channel}/messages"
            chat.post(path, json=record, headers={"Idempotency-Key": key}).raise_for_status()
            posted["n"] += 1
            if crash_after is not None and posted["n"] == crash_after:
                raise KeyboardInterrupt  # the process dies after the write, before the checkpoint

    return sync


def message_text(contact: dict[str, Any]) -> str:
    return (
        f"{contact['id']}: {contact['first_name']} {contact['last_name']} <{contact['email']}> "
        f"is a {contact['lifecycle_stage']}"
    )


def test_rest_to_rest_with_idempotency_keys(tmp_path, stack):
    with sandbox(("crm", "chat"), contacts=60) as sb:
        crm, chat = crm_client(sb, stack), chat_client(sb, stack)
        channel = new_channel(chat, "crm-feed")
        sync = crm_to_chat(tmp_path, crm, chat, channel)
        try:
            contacts = crm_contacts(sb)
            valid = [c for c in contacts if "@" in c["email"]]
            first = sync.run()
            texts = [m["text"] for m in sb.state("chat").messages(channel)]
            assert sorted(texts) == sorted(message_text(c) for c in valid)
            assert first.written == len(valid) and first.dead_lettered == len(contacts) - len(valid)

            again = sync.run()
            assert again.written == 0 and len(sb.state("chat").messages(channel)) == len(valid)

            target = valid[3]
            crm.patch(f"/contacts/{target['id']}", json={"lifecycle_stage": "churned"})
            third = sync.run()
            messages = sb.state("chat").messages(channel)
            assert third.written == 1 and len(messages) == len(valid) + 1
            assert messages[-1]["text"] == message_text(target | {"lifecycle_stage": "churned"})
        finally:
            sync.close()


def test_rest_to_rest_redelivery_after_a_crash_posts_nothing_twice(tmp_path, stack):
    with sandbox(("crm", "chat"), contacts=40, messy_rate=0) as sb:
        crm, chat = crm_client(sb, stack), chat_client(sb, stack)
        channel = new_channel(chat, "crm-feed")
        crashing = crm_to_chat(tmp_path, crm, chat, channel, crash_after=15)
        with pytest.raises(KeyboardInterrupt):
            crashing.run()
        crashing.close()
        # batches 1 (10 posts) was checkpointed; batch 2 posted 5 messages, then "crashed"
        assert len(sb.state("chat").messages(channel)) == 15
        sync = crm_to_chat(tmp_path, crm, chat, channel)
        try:
            assert sync.state["seen"] == 10
            report = sync.run()
            assert report.ok and report.written == 30  # the 5 re-posts are idempotent replays
            per_contact = Counter(
                m["text"].split(":")[0] for m in sb.state("chat").messages(channel)
            )
            assert len(per_contact) == 40 and set(per_contact.values()) == {1}
        finally:
            sync.close()


# -- GraphQL -> REST ---------------------------------------------------------------------


def test_graphql_to_rest_mail_subscribers_into_crm(tmp_path, stack):
    with sandbox(("crm", "mail"), contacts=150, messy_rate=0) as sb:
        crm, mail = crm_client(sb, stack), mail_client(sb, stack)
        list_id = sb.state("mail").list_id("Newsletter")
        sync = Integration("mail-to-crm", state=tmp_path / "m.db", progress=None)

        @sync.source(key="email", cursor="updatedAt")
        def subs(since: str | None) -> Iterator[dict[str, Any]]:
            yield from mail.paginate(
                SUBSCRIBERS, "subscribers", {"listId": list_id, "since": since}
            )

        @sync.transform
        def to_fields(sub: dict[str, Any]) -> dict[str, Any]:
            return {"email": sub["email"], "newsletter": sub["status"].lower()}

        @sync.destination(batch_size=25, backoff=0)
        def upsert(batch: Batch) -> None:
            for rec in batch:
                merge_custom_fields(crm, rec["email"], {"newsletter": rec["newsletter"]})

        try:
            before = {c["email"]: c for c in crm_contacts(sb)}
            subs_now = subscribers(sb, list_id)
            assert subs_now and set(subs_now) <= set(before)

            first = sync.run()
            assert first.ok and first.written == len(subs_now)
            after = {c["email"]: c for c in crm_contacts(sb)}
            assert set(after) == set(before)
            for email, contact in after.items():
                if email in subs_now:
                    wanted = subs_now[email]["status"].lower()
                    assert contact["custom_fields"] == {
                        **before[email]["custom_fields"],
                        "newsletter": wanted,
                    }
                else:
                    assert contact == before[email]

            again = sync.run()
            assert again.written == 0 and {c["email"]: c for c in crm_contacts(sb)} == after

            email = next(e for e, s in subs_now.items() if s["status"] == "SUBSCRIBED")
            mail.execute(
                "mutation U($l: ID!, $e: String!) { unsubscribe(listId: $l, email: $e) { id } }",
                {"l": list_id, "e": email},
            ).raise_for_status()
            third = sync.run()
            assert third.ok and third.written == 1
            final = {c["email"]: c for c in crm_contacts(sb)}
            assert final[email]["custom_fields"]["newsletter"] == "unsubscribed"
            assert {e: c for e, c in final.items() if e != email} == {
                e: c for e, c in after.items() if e != email
            }
        finally:
            sync.close()


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
    from apinotebook.integration import _state

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

    monkeypatch.setattr(_state.sqlite3, "connect", connect)
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
