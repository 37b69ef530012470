"""The sandbox CRM: auth, CRUD, pagination, idempotency, its OpenAPI document and webhooks."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from crm_sandbox import (
    OPERATIONS,
    _all,
    _client,
    _context,
    _error,
    _new_contact,
    _start,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from apinotebook._core.signing import SIGNATURE_HEADER, verify
from apinotebook.sandbox import Mount, Sandbox, crm
from apinotebook.sandbox._crm_store import CrmStore

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def big() -> Iterator[Sandbox]:
    """1,234 contacts; no test writes to it."""
    box = _start(seed=7, contacts=1234, companies=20)
    yield box
    box.stop()


@pytest.fixture(scope="module")
def scratch() -> Iterator[Sandbox]:
    """Shared by tests whose writes do not disturb each other."""
    box = _start(seed=1)
    yield box
    box.stop()


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    """A CRM of its own for tests that need to know every write they make."""
    box = _start(seed=2)
    yield box
    box.stop()


# -- auth ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token", "read", "write"),
    [
        (None, 401, 401),
        ("not-a-token", 401, 401),
        ("CRM_READONLY_TOKEN", 200, 403),
        ("CRM_TOKEN", 200, 201),
    ],
)
def test_auth_matrix(scratch, token, read, write):
    with _client(scratch, token) as c:
        r = c.get("/contacts", params={"limit": 1})
        w = c.post("/contacts", json=_new_contact())
    assert (r.status_code, w.status_code) == (read, write)
    for resp in (r, w):
        if resp.status_code == 401:
            _error(resp, 401, "unauthorized")
            assert resp.headers["www-authenticate"].startswith("Bearer")
        elif resp.status_code == 403:
            _error(resp, 403, "insufficient_scope")


def test_auth_comes_before_body_parsing(scratch):
    with _client(scratch, None) as c:
        r = c.post("/contacts", content=b"{not json", headers={"Content-Type": "application/json"})
    _error(r, 401, "unauthorized")


def test_revoked_token_gets_401(scratch):
    store: CrmStore = scratch.state("crm")
    token = scratch.env["CRM_TOKEN"]
    with _client(scratch) as c:
        assert c.get("/contacts/c_000001").status_code == 200
        store.revoke(token)
        try:
            r = c.get("/contacts/c_000001")
            assert "revoked" in _error(r, 401, "unauthorized")["message"]
        finally:
            store.restore(token)
        assert c.get("/contacts/c_000001").status_code == 200


# -- CRUD --------------------------------------------------------------------------------


def test_contact_crud_round_trip(scratch):
    with _client(scratch) as c:
        company = c.post("/companies", json={"name": "Round Trip Ltd", "city": "Lyon"})
        assert company.status_code == 201
        co = company.json()
        assert co["id"].startswith("co_") and company.headers["location"].endswith(co["id"])
        body = _new_contact(company_id=co["id"], tags=["vip"], custom_fields={"score": 3})
        created = c.post("/contacts", json=body)
        assert created.status_code == 201
        contact = created.json()
        assert contact["id"].startswith("c_") and contact["lifecycle_stage"] == "lead"
        assert contact["created_at"] == contact["updated_at"]
        assert c.get(f"/contacts/{contact['id']}").json() == contact

        patched = c.patch(f"/contacts/{contact['id']}", json={"title": "CTO"}).json()
        assert patched["title"] == "CTO" and patched["tags"] == ["vip"]
        assert patched["updated_at"] >= contact["updated_at"]

        replaced = c.put(f"/contacts/{contact['id']}", json={"email": body["email"]}).json()
        assert (
            replaced["title"] is None and replaced["tags"] == [] and replaced["company_id"] is None
        )
        assert replaced["created_at"] == contact["created_at"]

        c.patch(f"/contacts/{contact['id']}", json={"company_id": co["id"]}).raise_for_status()
        ids = [row["id"] for row in _all(c, company_id=co["id"])]
        assert ids == [contact["id"]]
        _error(c.delete(f"/companies/{co['id']}"), 409, "conflict")

        assert c.delete(f"/contacts/{contact['id']}").status_code == 204
        _error(c.get(f"/contacts/{contact['id']}"), 404, "not_found")
        _error(c.delete(f"/contacts/{contact['id']}"), 404, "not_found")
        assert c.get("/contacts", params={"email": body["email"]}).json()["data"] == []
        assert c.delete(f"/companies/{co['id']}").status_code == 204
        _error(c.get(f"/companies/{co['id']}"), 404, "not_found")


def test_company_updates(scratch):
    with _client(scratch) as c:
        co = c.post("/companies", json={"name": "Before"}).json()
        after = c.patch(f"/companies/{co['id']}", json={"name": "After"}).json()
        assert after["name"] == "After" and after["updated_at"] >= co["updated_at"]
        put = c.put(f"/companies/{co['id']}", json={"name": "Put", "domain": "put.example"})
        assert put.json()["domain"] == "put.example" and put.json()["id"] == co["id"]
        assert _all(c, "/companies")[-1]["id"] == co["id"]


def test_duplicate_email_is_a_conflict(scratch):
    with _client(scratch) as c:
        existing = c.get("/contacts/c_000005").json()
        r = c.post("/contacts", json=_new_contact(email=existing["email"].upper()))
    assert "c_000005" in _error(r, 409, "conflict")["message"]


def test_filters(big):
    with _client(big) as c:
        first = c.get("/contacts/c_000010").json()
        found = c.get("/contacts", params={"email": first["email"].upper()}).json()["data"]
        assert [row["id"] for row in found] == ["c_000010"]
        rows = _all(c, company_id=first["company_id"], limit=7)
        assert rows and all(row["company_id"] == first["company_id"] for row in rows)
        assert "c_000010" in {row["id"] for row in rows}
        both = {"email": first["email"], "company_id": "co_9999"}
        assert c.get("/contacts", params=both).json()["data"] == []


# -- pagination --------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [100, 500])
def test_pagination_collects_every_id_once(big, limit):
    with _client(big) as c:
        rows = _all(c, limit=limit)
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == 1234
    keys = [(row["updated_at"], row["id"]) for row in rows]
    assert keys == sorted(keys)


def test_default_page_size_and_last_page(big):
    with _client(big) as c:
        page = c.get("/contacts").json()
        assert len(page["data"]) == 50 and page["has_more"]
        last = _all(c, limit=500)[-1]
        tail = c.get("/contacts", params={"updated_since": last["updated_at"]}).json()
    assert tail == {"data": [last], "next_cursor": None, "has_more": False}


def test_updated_since_is_inclusive_and_combines_with_cursor(big):
    with _client(big) as c:
        pivot = c.get("/contacts", params={"limit": 150}).json()["data"][-1]
        rows = _all(c, updated_since=pivot["updated_at"], limit=40)
        offset = c.get("/contacts", params={"updated_since": "2025-07-05T08:00:00+02:00"})
    assert rows[0] == pivot and len(rows) == 1234 - 149
    assert all(row["updated_at"] >= pivot["updated_at"] for row in rows)
    assert all(row["updated_at"] >= "2025-07-05T06:00:00.000Z" for row in offset.json()["data"])


def test_updates_move_records_to_the_end(sb):
    with _client(sb) as c:
        before = _all(c, limit=64)
        checkpoint = before[-1]["updated_at"]
        moved = [before[i]["id"] for i in (3, 0, 50)]
        for contact_id in moved:
            c.patch(f"/contacts/{contact_id}", json={"title": "Moved"}).raise_for_status()
        after = _all(c, limit=64)
        since = _all(c, updated_since=checkpoint, limit=2)
    assert [row["id"] for row in after[-3:]] == moved
    assert sorted(row["id"] for row in after) == sorted(row["id"] for row in before)
    assert [row["id"] for row in since if row["id"] != before[-1]["id"]] == moved


def test_index_stays_sorted_under_random_writes():
    ctx = _context(seed=5, contacts=300, companies=6)
    store = CrmStore.from_context(ctx)
    rng = random.Random(5)
    live = [f"c_{n:06d}" for n in range(1, 301)]
    for step in range(400):
        action = rng.random()
        if action < 0.5:
            fields = {"title": f"t{step}", "company_id": f"co_{rng.randrange(1, 7):04d}"}
            store.update_contact(rng.choice(live), fields, replace=False)
        elif action < 0.7:
            live.append(store.create_contact(_new_contact(company_id="co_0002"))[0]["id"])
        else:
            store.delete_contact(live.pop(rng.randrange(len(live))))
    rows = _store_all(store)
    assert sorted(row["id"] for row in rows) == sorted(live)
    assert [(r["updated_at"], r["id"]) for r in rows] == sorted(
        (r["updated_at"], r["id"]) for r in rows
    )
    for company in ("co_0002", "co_0005"):
        expected = [r["id"] for r in rows if r["company_id"] == company]
        assert [r["id"] for r in _store_all(store, company_id=company)] == expected


def _store_all(store: CrmStore, **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = store.list_contacts(limit=37, cursor=cursor, **filters)
        rows += page["data"]
        if not page["has_more"]:
            return rows
        cursor = page["next_cursor"]


# -- idempotency -------------------------------------------------------------------------


def test_idempotency_key(scratch):
    body = _new_contact()
    key = {"Idempotency-Key": f"key-{random.random()}"}
    with _client(scratch) as c:
        first = c.post("/contacts", json=body, headers=key)
        again = c.post("/contacts", json=body, headers=key)
        other = c.post("/contacts", json={**body, "first_name": "Other"}, headers=key)
        found = c.get("/contacts", params={"email": body["email"]}).json()["data"]
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and len(found) == 1
    assert "different request body" in _error(other, 422, "idempotency_key_reused")["message"]


def test_upsert_by_email(scratch):
    email = f"Upsert.{random.random()}@Test.example"
    with _client(scratch) as c:
        created = c.put(f"/contacts/by-email/{email}", json={"first_name": "Ada"})
        same = c.put(f"/contacts/by-email/{email.lower()}", json={"first_name": "Ada"})
        changed = c.put(f"/contacts/by-email/{email}", json={"lifecycle_stage": "customer"})
        mismatch = c.put(f"/contacts/by-email/{email}", json={"email": "other@test.example"})
    assert created.status_code == 201 and created.json()["email"] == email
    assert same.status_code == 200 and same.json() == created.json()
    assert changed.status_code == 200 and changed.json()["id"] == created.json()["id"]
    assert changed.json()["first_name"] == "Ada" and changed.json()["lifecycle_stage"] == "customer"
    assert changed.json()["updated_at"] >= created.json()["updated_at"]
    assert _error(mismatch, 422, "validation_error")["details"][0]["loc"] == ["body", "email"]


def test_unchanged_patch_keeps_updated_at(scratch):
    with _client(scratch) as c:
        contact = c.get("/contacts/c_000020").json()
        same = c.patch("/contacts/c_000020", json={"title": contact["title"]}).json()
        whole = {k: contact[k] for k in crm.ContactIn.model_fields}
        put = c.put("/contacts/c_000020", json=whole).json()
    assert same == contact and put == contact


# -- OpenAPI ------------------------------------------------------------------------------


def test_openapi_document_validates(big):
    # a dev dependency: the Python 3.13 "core" run has no validator
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(httpx.get(big.urls["crm"] + "/openapi.json").json())


def test_openapi_document(big):
    r = httpx.get(big.urls["crm"] + "/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    ops = {op["operationId"]: op for item in doc["paths"].values() for op in item.values()}
    assert set(ops) == OPERATIONS
    assert all(op.get("summary") for op in ops.values())
    assert doc["servers"][0]["url"] == big.urls["crm"]
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearerAuth": []}]
    assert {"401", "403", "404", "422"} <= set(ops["updateContact"]["responses"])
    assert "Idempotency-Key" in {p["name"] for p in ops["createContact"]["parameters"]}
    assert set(doc["webhooks"]) == {"contact.created", "contact.updated", "contact.deleted"}
    # a client built from the document reaches the API
    url = doc["servers"][0]["url"] + "/contacts/{contact_id}".format(contact_id="c_000001")
    token = {"Authorization": f"Bearer {big.env['CRM_TOKEN']}"}
    assert httpx.get(url, headers=token).json()["id"] == "c_000001"


# -- webhooks -----------------------------------------------------------------------------


class _Receiver:
    """A second sandbox that records webhook deliveries and fails the first one."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

        async def hook(request: Request) -> JSONResponse:
            self.received.append((dict(request.headers), await request.body()))
            if len(self.received) == 1:
                return JSONResponse({"error": "try again later"}, status_code=500)
            return JSONResponse({"ok": True})

        app = Starlette(routes=[Route("/in", hook, methods=["POST"])])
        self.box = Sandbox(services=(), extra_mounts=[Mount("/hook", app, "hook")])

    @property
    def url(self) -> str:
        return self.box.url + "/hook/in"


def _wait_delivered(c: httpx.Client, hook_id: str, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        data = c.get(f"/webhooks/{hook_id}/deliveries").json()["data"]
        if len(data) >= count and all(d["delivered"] for d in data):
            return list(data)
        time.sleep(0.05)
    raise AssertionError(f"not delivered in time: {data}")


def test_webhooks_are_signed_retried_and_delivered(sb):
    receiver = _Receiver()
    secret = sb.env["CRM_WEBHOOK_SECRET"]
    with receiver.box, _client(sb) as c:
        events = ["contact.created", "contact.updated", "contact.created"]
        hook = c.post("/webhooks", json={"url": receiver.url, "events": events})
        assert hook.status_code == 201
        hook_id = hook.json()["id"]
        assert hook.json()["events"] == ["contact.created", "contact.updated"]
        gone = c.post("/webhooks", json={"url": receiver.url, "events": ["contact.deleted"]})
        assert [h["id"] for h in c.get("/webhooks").json()["data"]] == [hook_id, gone.json()["id"]]

        contact = c.post("/contacts", json=_new_contact()).json()
        first = _wait_delivered(c, hook_id, 1)
        assert [a["status"] for a in first[0]["attempts"]] == [500, 200]

        c.patch(f"/contacts/{contact['id']}", json={"title": "Boss"}).raise_for_status()
        c.patch(f"/contacts/{contact['id']}", json={"title": "Boss"}).raise_for_status()  # no-op
        deliveries = _wait_delivered(c, hook_id, 2)
        assert [d["event_type"] for d in deliveries] == ["contact.created", "contact.updated"]

        c.delete(f"/contacts/{contact['id']}").raise_for_status()
        assert _wait_delivered(c, gone.json()["id"], 1)[0]["event_type"] == "contact.deleted"
        assert len(c.get(f"/webhooks/{hook_id}/deliveries").json()["data"]) == 2

        assert c.delete(f"/webhooks/{hook_id}").status_code == 204
        _error(c.get(f"/webhooks/{hook_id}"), 404, "not_found")

    assert len(receiver.received) == 4  # one failed attempt, then created, updated, deleted
    failed, created, updated, deleted = receiver.received
    assert failed[1] == created[1]  # the retry sends the same signed body
    for headers, body in receiver.received:
        verify(secret, body, headers[SIGNATURE_HEADER.lower()])
        with pytest.raises(ValueError, match="does not match"):
            verify("wrong-secret", body, headers[SIGNATURE_HEADER.lower()])
    event = json.loads(created[1])
    assert event["type"] == "contact.created" and event["data"]["contact"]["id"] == contact["id"]
    assert json.loads(updated[1])["data"]["contact"]["title"] == "Boss"
    assert json.loads(deleted[1])["type"] == "contact.deleted"
