"""Delivery guarantees under injected faults, invalid records and revoked credentials.

The sandbox injects faults on both sides of a CRM -> Mail sync: 5xx, 429 with
``Retry-After``, connections dropped *after* the service handled the request
(the write happened, the client saw a failure) and latency. Whatever happens,
the mailing list must end up holding exactly the CRM's valid contacts, and
every other contact must be accounted for as filtered or dead-lettered.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
import sync_worker as worker

from apinotebook import ApiKey, Basic, Bearer, FatalIntegrationError, RestClient
from apinotebook.graphql import GraphQLClient
from apinotebook.integration import classify
from apinotebook.sandbox import Sandbox
from apinotebook.soap import SoapClient

FAULTS = {"error_rate": 0.10, "throttle_rate": 0.05, "retry_after": 0, "drop_rate": 0.02}


@contextlib.contextmanager
def world(contacts: int, *, messy_rate: float = 0.01) -> Iterator[dict[str, Any]]:
    """A sandbox with CRM and mail, clients, and a fresh mailing list."""
    options = {"crm": {"messy_rate": messy_rate}}
    with (
        Sandbox(contacts=contacts, seed=7, services=("crm", "mail"), options=options) as sb,
        worker.crm_client(sb.urls["crm"], sb.env["CRM_TOKEN"]) as crm,
        worker.mail_client(sb.urls["mail"], sb.env["MAIL_API_KEY"]) as mail,
    ):
        created = mail.execute('mutation { createList(name: "Reliability") { id } }')
        list_id = created.raise_for_status().data["createList"]["id"]
        yield {"sb": sb, "crm": crm, "mail": mail, "list_id": list_id}


def all_contacts(sb: Sandbox) -> list[dict[str, Any]]:
    store, out, cursor = sb.state("crm"), [], None
    while True:
        page = store.list_contacts(limit=500, cursor=cursor)
        out += page["data"]
        if not page["has_more"]:
            return out
        cursor = page["next_cursor"]


def held(sb: Sandbox, list_id: str) -> dict[str, str]:
    return {s["email"]: s["name"] for s in sb.state("mail").subscribers(list_id)}


def faults_seen(sb: Sandbox, service: str) -> dict[str, int]:
    stats = sb.stats().get(service, {})
    return {
        "requests": stats.get("total", 0),
        "5xx": sum(n for status, n in stats.items() if status[:1] == "5"),
        "429": stats.get("429", 0),
        "dropped": stats.get("dropped", 0),
    }


def test_10k_contacts_under_faults_on_both_sides(state_url, figures):
    with world(10_000) as w:
        sb = w["sb"]
        for service in ("crm", "mail"):
            sb.set_faults(service, latency=0.001, **FAULTS)
        sync = worker.build_mail(
            state=state_url,
            crm=w["crm"],
            mail=w["mail"],
            list_id=w["list_id"],
            batch_size=100,
            concurrency=4,
            page_size=100,
        )
        try:
            report = sync.run()
            contacts = all_contacts(sb)
            outcome = worker.mail_outcomes(contacts)

            # 0 lost, 0 duplicated: exactly the valid contacts, with their mapped names
            assert held(sb, w["list_id"]) == worker.expected_mail(contacts)
            # every record read is accounted for, and the counts match the destination
            assert report.read == len(contacts) == 10_000
            assert (
                report.written
                + report.dead_lettered
                + report.skipped_filtered
                + report.skipped_duplicate
                == report.read
            )
            assert report.written == len(outcome["written"])
            assert report.skipped_filtered == len(outcome["filtered"])
            letters = sync.dead_letters
            assert len(letters) == report.dead_lettered == len(outcome["dead"])
            assert {d.key for d in letters} == outcome["dead"]  # the messy ones, nothing else
            assert all("first_name" in d.error or "email" in d.error for d in letters), {
                d.error for d in letters
            }
            assert sync.state["seen"] == len(contacts)
            assert sync.state["cursor"] == max(c["updated_at"] for c in contacts)
            crm_faults, mail_faults = faults_seen(sb, "crm"), faults_seen(sb, "mail")
            for seen in (crm_faults, mail_faults):  # the faults did happen, on both sides
                assert seen["5xx"] + seen["429"] + seen["dropped"] >= 5, seen
            subs, expected = held(sb, w["list_id"]), worker.expected_mail(contacts)
            figures.update(
                scenario="10,000 contacts CRM -> Mail, faults on both sides",
                records=len(contacts),
                **worker.list_figures(expected, subs),
                dead_lettered=report.dead_lettered,
                retries=report.retries,
                seconds=round(report.duration, 2),
                faults={"crm": crm_faults, "mail": mail_faults},
            )

            # and a run afterwards, still under faults, writes nothing
            sb.set_faults("mail")  # count the mail's requests exactly
            before = sb.stats()["mail"]["total"]
            again = sync.run()
            assert again.written == 0 and again.read == again.skipped_duplicate
            assert sb.stats()["mail"]["total"] == before
        finally:
            sync.close()


def test_invalid_records_become_dead_letters_and_replay_resolves_them(state_url, figures):
    fix = {"names": False, "emails": False}

    def mapping(contact: dict[str, Any]) -> dict[str, Any] | None:
        email, first = contact["email"], contact["first_name"]
        if fix["emails"]:
            email = email.replace(" at ", "@")
        if fix["names"] and not first:
            first = email.split("@")[0].split(".")[0].title()
        return worker.subscriber_of(contact | {"email": email, "first_name": first})

    with world(400, messy_rate=0.08) as w:
        sb = w["sb"]
        sync = worker.build_mail(
            state=state_url,
            crm=w["crm"],
            mail=w["mail"],
            list_id=w["list_id"],
            batch_size=30,
            mapping=mapping,
        )
        try:
            contacts = all_contacts(sb)
            opted = [c for c in contacts if c["custom_fields"].get("newsletter_opt_in")]
            no_name = {c["id"] for c in opted if not c["first_name"]}
            bad_email = {c["id"] for c in opted if c["first_name"] and "@" not in c["email"]}
            assert no_name and bad_email

            report = sync.run()
            # the run went on past every invalid record ...
            assert report.status == "partial" and report.exit_code == 1
            assert report.written == len(opted) - len(no_name) - len(bad_email)
            assert held(sb, w["list_id"]) == worker.expected_mail(contacts)
            # ... and kept each one with its reason
            letters = {d.key: d for d in sync.dead_letters}
            assert set(letters) == no_name | bad_email
            for key in no_name:
                assert letters[key].stage == "transform" and letters[key].attempts == 1
                assert (
                    letters[key].error == f"ValueError: missing field first_name in contact {key}"
                )
            for key in bad_email:
                assert letters[key].stage == "destination"
                assert letters[key].error.startswith("email: ")
                assert " at " in letters[key].payload["email"]  # the source record, unchanged
            assert sync.dead_letters_frame()["key"].tolist() == [d.key for d in sync.dead_letters]

            figures.update(
                scenario="400 contacts, 8% invalid (no name, bad email)",
                records=len(contacts),
                written=report.written,
                dead_lettered=len(letters),
                reasons=sorted({d.error.split(":")[0] for d in letters.values()}),
                exit_code=report.exit_code,
            )

            # fix half of the mapping: those letters resolve, the others fail again
            fix["names"] = True
            first = sync.replay()
            assert first.written == len(no_name) and first.failed == len(bad_email)
            still = {d.key: d for d in sync.dead_letters}
            assert set(still) == bad_email and all(d.attempts == 2 for d in still.values())

            fix["emails"] = True
            second = sync.replay()
            assert second.ok and second.written == len(bad_email) and sync.dead_letters == []
            subs = held(sb, w["list_id"])
            assert len(subs) == len(opted) and all("@" in e for e in subs)
            assert sync.replay().read == 0  # nothing pending
            assert sync.run().written == 0  # and the next poll does not resend them
            figures["after_replays"] = {"dead_lettered": 0, "held": len(subs)}
        finally:
            sync.close()


def test_replay_does_not_overwrite_a_newer_version(state_url):
    """A record fixed at the source is delivered by the next poll; its old dead letter is stale."""
    fix = {"emails": False}

    def mapping(contact: dict[str, Any]) -> dict[str, Any] | None:
        email = contact["email"].replace(" at ", "@") if fix["emails"] else contact["email"]
        return worker.subscriber_of(contact | {"email": email})

    with world(300, messy_rate=0.05) as w:
        sb, crm = w["sb"], w["crm"]
        sync = worker.build_mail(
            state=state_url,
            crm=crm,
            mail=w["mail"],
            list_id=w["list_id"],
            mapping=mapping,
        )
        try:
            sync.run()
            letter = next(d for d in sync.dead_letters if d.stage == "destination")
            fixed_email = letter.payload["email"].replace(" at ", "@")
            # the data is fixed at the source (and the person renamed): the poll delivers it
            crm.patch(
                f"/contacts/{letter.key}", json={"email": fixed_email, "first_name": "Renamed"}
            ).raise_for_status()
            assert sync.run().written == 1
            assert held(sb, w["list_id"])[fixed_email.lower()].startswith("Renamed")

            fix["emails"] = True  # later, the mapping is fixed too, and the letters replayed
            sync.replay()
            assert held(sb, w["list_id"])[fixed_email.lower()].startswith("Renamed")
            assert letter.id not in {d.id for d in sync.dead_letters}
        finally:
            sync.close()


def test_revoked_token_stops_cleanly_with_state_unchanged(state_url, figures):
    with world(600) as w:
        sb, crm_store = w["sb"], w["sb"].state("crm")
        token = sb.env["CRM_TOKEN"]
        sync = worker.build_mail(
            state=state_url,
            crm=w["crm"],
            mail=w["mail"],
            list_id=w["list_id"],
            batch_size=50,
        )
        try:
            sync.run()
            contacts = all_contacts(sb)
            for c in contacts[:5]:
                w["crm"].patch(f"/contacts/{c['id']}", json={"last_name": "Changed"})
            before, subs = sync.state, held(sb, w["list_id"])

            crm_store.revoke(token)
            with pytest.raises(FatalIntegrationError, match="401") as info:
                sync.run()
            assert token not in str(info.value)
            report = info.value.report
            assert report.status == "failed" and report.exit_code == 2
            assert sync.last_report is report and report.written == 0
            after = sync.state
            assert after["cursor"] == before["cursor"] and after["seen"] == before["seen"]
            assert after["dead_letters"] == before["dead_letters"]
            assert sync.store.runs(1)[0]["status"] == "failed"
            assert held(sb, w["list_id"]) == subs
            figures.update(
                scenario="CRM token revoked between runs",
                exit_code=report.exit_code,
                written=report.written,
                cursor_unchanged=after["cursor"] == before["cursor"],
                seen_unchanged=after["seen"] == before["seen"],
            )

            crm_store.restore(token)
            resumed = sync.run()
            assert resumed.written == sum(
                c["id"] in worker.mail_outcomes(contacts)["written"] for c in contacts[:5]
            )
        finally:
            crm_store.restore(token)
            sync.close()


def test_credentials_revoked_mid_run_keep_the_delivered_prefix(state_url):
    with world(1_000) as w:
        sb, crm_store = w["sb"], w["sb"].state("crm")
        token = sb.env["CRM_TOKEN"]
        calls = {"n": 0}

        def mapping(contact: dict[str, Any]) -> Any:
            calls["n"] += 1
            if calls["n"] == 300:  # within the first page of 500: page 2 gets a 401
                crm_store.revoke(token)
            return worker.subscriber_of(contact)

        sync = worker.build_mail(
            state=state_url,
            crm=w["crm"],
            mail=w["mail"],
            list_id=w["list_id"],
            batch_size=50,
            mapping=mapping,
        )
        sync.read_ahead = 0  # page 2 must be read after the revocation, not ahead of it
        try:
            with pytest.raises(FatalIntegrationError, match="reading the source") as info:
                sync.run()
            assert info.value.report.exit_code == 2
            contacts = all_contacts(sb)
            # everything up to the checkpoint was handled; everything handled was delivered
            cursor, ids = sync.state["cursor"], [c["id"] for c in contacts]
            seen = set(sync.store.seen_fingerprints(ids))
            upto = {c["id"] for c in contacts if c["updated_at"] <= cursor}
            assert 0 < len(upto) <= len(seen) < len(contacts) and upto <= seen
            on_list = held(sb, w["list_id"])
            wanted = worker.expected_mail([c for c in contacts if c["id"] in seen])
            assert on_list == wanted

            crm_store.restore(token)
            sync.run()
            assert held(sb, w["list_id"]) == worker.expected_mail(contacts)
            assert sync.state["seen"] == len(contacts)
        finally:
            crm_store.restore(token)
            sync.close()


@pytest.mark.parametrize("exact", [False, True])
def test_destination_credentials_failure_is_fatal_and_writes_nothing(state_url, exact):
    with world(200) as w:
        sb = w["sb"]
        wrong = GraphQLClient(
            sb.urls["mail"], auth=ApiKey("mail_wrong-key", header="X-API-Key"), history=None
        )
        sync = worker.build_mail(state=state_url, crm=w["crm"], mail=wrong, list_id=w["list_id"])
        try:
            with pytest.raises(FatalIntegrationError, match="Check the credentials") as info:
                sync.run()
            assert info.value.report.exit_code == 2 and "wrong-key" not in str(info.value)
            assert sync.state["cursor"] is None and held(sb, w["list_id"]) == {}
            contacts = all_contacts(sb)
            seen = set(sync.store.seen_fingerprints(c["id"] for c in contacts))
            assert not seen & worker.mail_outcomes(contacts)["written"]  # none taken as delivered
            if exact:  # the state is exactly as before the run
                assert seen == set() and sync.dead_letters == []
        finally:
            sync.close()
            wrong.close()


# -- how real failures are classified ------------------------------------------------------


def failure(kind: str) -> BaseException:
    """Provoke one real failure from the sandbox; return what the client raised for it."""
    services = ("crm", "mail", "billing")
    with Sandbox(contacts=20, seed=3, services=services) as sb:
        env = sb.env
        try:
            if kind.startswith("graphql"):
                _graphql_failure(sb, kind)
            elif kind.startswith("soap"):
                _soap_failure(sb, kind)
            else:
                _rest_failure(sb, kind)
        except Exception as exc:  # noqa: BLE001 - the value under test
            assert env["CRM_TOKEN"] not in str(exc)
            return exc
    raise AssertionError(f"{kind}: nothing failed")


def _graphql_failure(sb: Sandbox, kind: str) -> None:
    key = "mail_wrong-key" if kind == "graphql-401" else sb.env["MAIL_API_KEY"]
    faults = {"graphql-503": {"error_rate": 1.0, "error_statuses": [503]},
              "graphql-429": {"throttle_rate": 1.0, "retry_after": 0}}  # fmt: skip
    auth = ApiKey(key, header="X-API-Key")
    with GraphQLClient(sb.urls["mail"], auth=auth, retry=False, history=None) as mail:
        if kind in faults:
            mail.schema  # noqa: B018 - fetched before the faults start
            sb.set_faults("mail", **faults[kind])
        mail.execute('mutation { createList(name: "x") { id } }').raise_for_status()


def _soap_failure(sb: Sandbox, kind: str) -> None:
    password = "wrong" if kind == "soap-401" else sb.env["BILLING_PASSWORD"]
    auth = Basic(sb.env["BILLING_USERNAME"], password)
    with SoapClient(sb.urls["billing"], auth=auth, retry=False, history=None) as billing:
        if kind == "soap-503":
            sb.set_faults("billing", error_rate=1.0, error_statuses=[503])
        billing.call("GetCustomer", customerId="CUST-00001").raise_for_status()


def _rest_failure(sb: Sandbox, kind: str) -> None:
    token = "crm_revoked" if kind == "rest-401" else sb.env["CRM_TOKEN"]
    with RestClient(sb.urls["crm"], auth=Bearer(token), retry=False, history=None) as crm:
        if kind == "rest-503":
            sb.set_faults("crm", error_rate=1.0, error_statuses=[503])
        body = {"lifecycle_stage": "nope"}
        crm.put("/contacts/by-email/x@y.example", json=body).raise_for_status()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("rest-401", "fatal"),
        ("rest-503", "transient"),
        ("rest-422", "record"),
        ("graphql-401", "fatal"),
        ("graphql-503", "transient"),
        ("graphql-429", "transient"),
        ("soap-401", "fatal"),
        ("soap-503", "transient"),
    ],
)  # fmt: skip
def test_real_failures_are_classified_for_the_retry_policy(kind, expected):
    assert classify(failure(kind)) == expected


def test_transient_graphql_failures_are_retried_not_dead_lettered(state_url):
    """A 5xx/429 from a GraphQL API is retried, even when the batch holds one record.

    (Were it taken for a record error, a one-record batch would go straight to
    the dead letters after a single attempt.)
    """
    with world(60, messy_rate=0) as w:
        w["sb"].set_faults("mail", error_rate=0.25, throttle_rate=0.05, retry_after=0)
        sync = worker.build_mail(
            state=state_url,
            crm=w["crm"],
            mail=w["mail"],
            list_id=w["list_id"],
            batch_size=1,
        )
        try:
            report = sync.run()
            assert report.dead_lettered == 0, [d.error for d in sync.dead_letters][:3]
            assert report.retries > 0
        finally:
            sync.close()
