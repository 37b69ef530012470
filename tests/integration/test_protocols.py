"""Integrations across protocols, against the sandbox: REST, GraphQL and SOAP.

Each bridge is run three times: a first run whose destination state is
checked exactly, a second run that must write nothing, and a run after one
source record changed that must carry exactly that change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from bridges import (
    SUBSCRIBERS,
    chat_client,
    crm_client,
    crm_contacts,
    crm_to_mail,
    expected_subscribers,
    mail_client,
    merge_custom_fields,
    new_channel,
    new_list,
    sandbox,
    subscribers,
)

from apinotebook import Basic, RestClient
from apinotebook.integration import Batch, Integration
from apinotebook.soap import SoapClient

pytestmark = pytest.mark.sandbox


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
