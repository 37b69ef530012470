"""The CRM's built-in mail connector: switched on over the CRM's REST API, checked in mail.

The CRM is driven with httpx, the mail list is read back with gql, both over
the sandbox's loopback socket.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXTransport

from apinotebook.sandbox import Sandbox, SandboxContext, _registry
from apinotebook.sandbox._context import credentials
from apinotebook.sandbox._crm_store import CrmStore
from apinotebook.sandbox._mail_store import MailStore
from apinotebook.sandbox._webhooks import WebhookDispatcher

pytestmark = pytest.mark.sandbox

CONTACTS = 300
_lists = (f"crm-sync-{n}" for n in itertools.count())
_emails = (f"apps.{n}@test.example" for n in itertools.count())

MEMBER = """
query($l: ID!, $e: String!) { subscriber(listId: $l, email: $e) { email name status } }
"""
PAGE = """
query($l: ID!, $after: String) {
  subscribers(listId: $l, first: 500, after: $after) {
    edges { node { email name status } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(services=("crm", "mail"), seed=4, contacts=CONTACTS, companies=10) as box:
        yield box


@pytest.fixture(scope="module")
def crm(sb: Sandbox) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {sb.env['CRM_TOKEN']}"}
    with httpx.Client(base_url=sb.urls["crm"], headers=headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def mail(sb: Sandbox) -> Iterator[Any]:
    transport = HTTPXTransport(url=sb.urls["mail"], headers={"X-API-Key": sb.env["MAIL_API_KEY"]})
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        yield session


@pytest.fixture
def synced(crm: httpx.Client) -> dict[str, Any]:
    """The connector switched on into a list of this test's own."""
    r = crm.put("/apps/mail", json={"enabled": True, "list": next(_lists)})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _contacts(crm: httpx.Client) -> list[dict[str, Any]]:
    rows, cursor = [], None
    while True:
        page = crm.get(
            "/contacts", params={"limit": 500, "cursor": cursor} if cursor else {"limit": 500}
        )
        rows += page.raise_for_status().json()["data"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return rows


def _members(mail: Any, list_id: str) -> dict[str, dict[str, Any]]:
    out, after = {}, None
    while True:
        variables = {"l": list_id, "after": after}
        page = mail.execute(GraphQLRequest(PAGE, variable_values=variables))["subscribers"]
        out.update({e["node"]["email"]: e["node"] for e in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            return out
        after = page["pageInfo"]["endCursor"]


def _member(mail: Any, list_id: str, email: str) -> dict[str, Any] | None:
    request = GraphQLRequest(MEMBER, variable_values={"l": list_id, "e": email})
    found: dict[str, Any] | None = mail.execute(request)["subscriber"]
    return found


def _valid(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain and " " not in email)


def _name(row: dict[str, Any]) -> str | None:
    return " ".join(p for p in (row["first_name"], row["last_name"]) if p) or None


# -- switching on ---------------------------------------------------------------------


def test_listed_and_read_only_token_cannot_switch(sb):
    with httpx.Client(headers={"Authorization": f"Bearer {sb.env['CRM_READONLY_TOKEN']}"}) as c:
        apps = c.get(sb.urls["crm"] + "/apps").json()["data"]
        details = c.get(sb.urls["crm"] + "/apps/mail").json()
        r = c.put(sb.urls["crm"] + "/apps/mail", json={"enabled": True})
    assert [(a["id"], a["kind"]) for a in apps] == [("mail", "native")]
    assert {k: details[k] for k in apps[0]} == apps[0]
    assert set(details["counts"]) == {
        "created", "updated", "unchanged", "unsubscribed", "skipped", "failed"
    }  # fmt: skip
    assert r.status_code == 403 and r.json()["error"]["code"] == "insufficient_scope"


def test_switching_on_copies_every_valid_contact(crm, mail, synced):
    contacts = _contacts(crm)
    valid = [c for c in contacts if _valid(c["email"])]
    messy = [c for c in contacts if not _valid(c["email"])]
    assert messy, "the seed has contacts with a broken email (messy_rate)"
    members = _members(mail, synced["list_id"])
    assert members == {
        c["email"].lower(): {"email": c["email"].lower(), "name": _name(c), "status": "SUBSCRIBED"}
        for c in valid
    }
    full = synced["last_full_sync"]
    assert full["contacts"] == len(contacts) and full["created"] == len(valid)
    assert full["skipped"] == len(messy) and full["failed"] == full["updated"] == 0
    assert synced["status"] == "active" and synced["enabled"] is True
    assert synced["counts"]["created"] == len(valid)
    assert synced["counts"]["skipped"] == len(messy)
    assert {e["contact_id"] for e in synced["last_errors"]} == {c["id"] for c in messy}
    assert all("not an email address" in e["message"] for e in synced["last_errors"])
    assert synced["last_sync_at"] == full["at"]


def test_into_an_existing_list_upserts_by_email(sb, crm, mail):
    """The seeded Newsletter already holds a fifth of the same people."""
    store: MailStore = sb.state("mail")
    list_id = store.list_id("Newsletter")
    before = {s["email"]: s for s in store.subscribers(list_id)}
    r = crm.put("/apps/mail", json={"enabled": True, "list": "newsletter"})  # any case
    assert r.status_code == 200 and r.json()["list_id"] == list_id
    full = r.json()["last_full_sync"]
    after = {s["email"]: s for s in store.subscribers(list_id)}
    valid = [c for c in _contacts(crm) if _valid(c["email"])]
    kept = [c for c in valid if c["email"].lower() in before]
    assert kept and full["updated"] + full["unchanged"] == len(kept)
    assert full["created"] == len(valid) - len(kept)
    for c in kept:  # the connector never re-subscribes who left, nor changes ids
        old, new = before[c["email"].lower()], after[c["email"].lower()]
        assert (new["id"], new["status"], new["tags"]) == (old["id"], old["status"], old["tags"])
        assert new["name"] == _name(c)
    assert _members(mail, list_id).keys() >= {c["email"].lower() for c in valid}


# -- keeping in sync -------------------------------------------------------------------


def test_new_and_changed_contacts_propagate(crm, mail, synced):
    list_id = synced["list_id"]
    email = next(_emails)
    created = crm.post("/contacts", json={"first_name": "Ada", "last_name": "Lee", "email": email})
    contact_id = created.raise_for_status().json()["id"]
    assert _member(mail, list_id, email) == {
        "email": email,
        "name": "Ada Lee",
        "status": "SUBSCRIBED",
    }

    crm.patch(f"/contacts/{contact_id}", json={"last_name": "Byron"}).raise_for_status()
    assert _member(mail, list_id, email)["name"] == "Ada Byron"

    moved = next(_emails)
    crm.patch(f"/contacts/{contact_id}", json={"email": moved.upper()}).raise_for_status()
    assert _member(mail, list_id, moved) == {
        "email": moved,
        "name": "Ada Byron",
        "status": "SUBSCRIBED",
    }
    assert _member(mail, list_id, email)["status"] == "UNSUBSCRIBED"  # the old address

    upserted = next(_emails)
    crm.put(f"/contacts/by-email/{upserted}", json={"first_name": "Bo"}).raise_for_status()
    assert _member(mail, list_id, upserted)["name"] == "Bo"

    crm.delete(f"/contacts/{contact_id}").raise_for_status()
    assert _member(mail, list_id, moved)["status"] == "UNSUBSCRIBED"

    status = crm.get("/apps/mail").json()
    counts = synced["counts"]
    assert status["counts"]["created"] == counts["created"] + 3  # email, moved, upserted
    assert status["counts"]["updated"] == counts["updated"] + 1  # the new last name
    assert status["counts"]["unsubscribed"] == 2
    results = [(a["event"], a["result"]) for a in status["activity"]]
    assert results[-6:] == [
        ("contact.created", "created"),
        ("contact.updated", "updated"),
        ("contact.updated", "created"),
        ("contact.updated", "unsubscribed"),
        ("contact.created", "created"),
        ("contact.deleted", "unsubscribed"),
    ]
    assert status["last_sync_at"] >= synced["last_sync_at"]


def test_an_unsubscribed_person_stays_unsubscribed(crm, mail, synced):
    contact = next(c for c in _contacts(crm) if _valid(c["email"]))
    email = contact["email"].lower()
    mutation = "mutation($l: ID!, $e: String!) { unsubscribe(listId: $l, email: $e) { status } }"
    mail.execute(GraphQLRequest(mutation, variable_values={"l": synced["list_id"], "e": email}))
    crm.patch(f"/contacts/{contact['id']}", json={"first_name": "Renamed"}).raise_for_status()
    member = _member(mail, synced["list_id"], email)
    assert member["status"] == "UNSUBSCRIBED" and member["name"].startswith("Renamed")


def test_messy_contacts_are_skipped_and_counted(crm, mail, synced):
    r = crm.post("/contacts", json={"first_name": "No", "email": "no-at-sign.example"})
    contact_id = r.raise_for_status().json()["id"]
    status = crm.get("/apps/mail").json()
    assert status["counts"]["skipped"] == synced["counts"]["skipped"] + 1
    assert status["last_errors"][-1]["contact_id"] == contact_id
    assert status["activity"][-1]["result"] == "skipped"
    assert _member(mail, synced["list_id"], "no-at-sign.example") is None


def test_switching_off_stops_propagation(crm, mail, synced):
    off = crm.put("/apps/mail", json={"enabled": False})
    assert off.status_code == 200
    assert (off.json()["enabled"], off.json()["status"]) == (False, "disabled")
    assert [(a["event"], a["result"]) for a in off.json()["activity"]][::-1][:1] == [
        ("app.disabled", "disabled")
    ]
    email = next(_emails)
    crm.post("/contacts", json={"email": email}).raise_for_status()
    assert _member(mail, synced["list_id"], email) is None
    assert crm.get("/apps/mail").json()["counts"] == off.json()["counts"]
    assert crm.get("/apps").json()["data"][0]["enabled"] is False
    on = crm.put("/apps/mail", json={"enabled": True})  # the same list: a full sync again
    assert on.json()["settings"]["list"] == synced["settings"]["list"]
    assert _member(mail, synced["list_id"], email)["status"] == "SUBSCRIBED"
    assert on.json()["last_full_sync"]["created"] == 1


def test_writes_outside_http_are_synced_too(sb, mail, synced):
    """A notebook (another thread) writing through the store is heard as well."""
    store: CrmStore = sb.state("crm")
    email = next(_emails)
    worker = threading.Thread(target=store.create_contact, args=({"email": email},))
    worker.start()
    worker.join()
    assert _member(mail, synced["list_id"], email)["status"] == "SUBSCRIBED"


def test_a_failing_mail_service_never_fails_the_crm_write(sb, crm, synced, monkeypatch):
    store: MailStore = sb.state("mail")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "upsert", broken)
    r = crm.post("/contacts", json={"email": next(_emails)})
    assert r.status_code == 201
    status = crm.get("/apps/mail").json()
    assert status["counts"]["failed"] == 1
    assert (
        status["last_errors"][-1]["message"] == "the mail service failed: RuntimeError: disk full"
    )
    assert status["activity"][-1]["result"] == "failed"


# -- errors --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/apps/slack", None, 404, "not_found"),
        ("PUT", "/apps/slack", {"enabled": True}, 404, "not_found"),
        ("PUT", "/apps/mail", {}, 422, "validation_error"),
        ("PUT", "/apps/mail", {"enabled": "yes"}, 422, "validation_error"),
        ("PUT", "/apps/mail", {"enabled": True, "list": ""}, 422, "validation_error"),
        ("PUT", "/apps/mail", {"enabled": True, "list": "x" * 101}, 422, "validation_error"),
        ("PUT", "/apps/mail", {"enabled": True, "lists": "A"}, 422, "validation_error"),
        ("PUT", "/apps/mail", [True], 422, "validation_error"),
        ("DELETE", "/apps/mail", None, 405, "method_not_allowed"),
    ],
)
def test_bad_requests(crm, method, path, body, status, code):
    r = crm.request(method, path, json=body)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_without_the_mail_service_it_is_unavailable():
    with Sandbox(services=("crm",), contacts=20, companies=2) as box:
        headers = {"Authorization": f"Bearer {box.env['CRM_TOKEN']}"}
        with httpx.Client(base_url=box.urls["crm"], headers=headers) as c:
            assert c.get("/apps").json()["data"][0]["status"] == "unavailable"
            r = c.put("/apps/mail", json={"enabled": True})
            assert r.status_code == 409 and r.json()["error"]["code"] == "app_unavailable"
            assert c.put("/apps/mail", json={"enabled": False}).status_code == 200
            assert c.get("/apps/mail").json()["status"] == "unavailable"
            assert c.post("/contacts", json={"email": "x@test.example"}).status_code == 201


def test_openapi_documents_the_apps(sb):
    doc = httpx.get(sb.urls["crm"] + "/openapi.json").json()
    put = doc["paths"]["/apps/{app_id}"]["put"]
    assert put["operationId"] == "updateApp" and {"403", "404", "409", "422"} <= set(
        put["responses"]
    )
    body = doc["components"]["schemas"]["AppSettingsIn"]
    assert set(body["properties"]) == {"enabled", "list"} and body["required"] == ["enabled"]


# -- the registry ------------------------------------------------------------------------


def _ctx(seed: int = 0) -> SandboxContext:
    return SandboxContext(
        base_url="http://127.0.0.1:1",
        seed=seed,
        contacts=10,
        companies=2,
        credentials=credentials(seed),
        webhooks=WebhookDispatcher(),
    )


def test_registry_is_per_context_and_forgets_dead_ones():
    ctx, other = _ctx(), _ctx()
    store = MailStore(seed=0, contacts=10, companies=2)
    _registry.provide(ctx, "mail", store)
    assert _registry.lookup(ctx, "mail") is store
    assert _registry.lookup(other, "mail") is None
    before = len(_registry._ENTRIES)
    del ctx  # nothing else holds it: gone at once, and so is its entry
    assert len(_registry._ENTRIES) == before - 1


def test_the_store_finds_mail_lazily():
    """The CRM is built before mail: it looks the service up on first use."""
    ctx = _ctx()
    crm = CrmStore.from_context(ctx)
    assert crm.get_app("mail")["status"] == "unavailable"
    _registry.provide(ctx, "mail", MailStore(seed=0, contacts=10, companies=2))
    assert [(a["enabled"], a["status"]) for a in crm.apps()] == [(False, "disabled")]
    assert crm.get_app("mail")["last_full_sync"] is None
    details = crm.configure_app("mail", enabled=True, list_name="Fresh")
    assert details["status"] == "active" and details["last_full_sync"]["contacts"] == 10
