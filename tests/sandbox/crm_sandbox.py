"""Starting a sandbox CRM and talking to it with raw httpx, for the CRM tests."""

from __future__ import annotations

import random
from typing import Any

import httpx

from apinotebook.sandbox import Sandbox, SandboxContext
from apinotebook.sandbox._context import credentials
from apinotebook.sandbox._webhooks import WebhookDispatcher

OPERATIONS = {
    "listContacts", "createContact", "getContact", "updateContact", "replaceContact",
    "deleteContact", "upsertContactByEmail", "listCompanies", "createCompany", "getCompany",
    "updateCompany", "replaceCompany", "deleteCompany", "createWebhook", "listWebhooks",
    "getWebhook", "deleteWebhook", "listWebhookDeliveries", "listApps", "getApp", "updateApp",
}  # fmt: skip


def _start(**kwargs: Any) -> Sandbox:
    kwargs.setdefault("contacts", 200)
    kwargs.setdefault("companies", 10)
    return Sandbox(services=("crm",), **kwargs).start()


def _client(box: Sandbox, token: str | None = "CRM_TOKEN") -> httpx.Client:
    headers = {} if token is None else {"Authorization": f"Bearer {box.env.get(token, token)}"}
    return httpx.Client(base_url=box.urls["crm"], headers=headers, timeout=10)


def _error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert set(error) >= {"code", "message"} and error["message"]
    if code is not None:
        assert error["code"] == code
    return dict(error)


def _all(client: httpx.Client, path: str = "/contacts", **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10_000):
        query = {**params, **({"cursor": cursor} if cursor else {})}
        page = client.get(path, params=query).raise_for_status().json()
        rows.extend(page["data"])
        assert (page["next_cursor"] is None) == (not page["has_more"])
        if not page["has_more"]:
            return rows
        cursor = page["next_cursor"]
    raise AssertionError("pagination did not end")


def _new_contact(**fields: Any) -> dict[str, Any]:
    return {"first_name": "Test", "email": f"t{random.random()}@test.example", **fields}


def _context(
    *, seed: int = 0, contacts: int = 100, companies: int = 5, options: dict[str, Any] | None = None
) -> SandboxContext:
    return SandboxContext(
        base_url="http://127.0.0.1:1",
        seed=seed,
        contacts=contacts,
        companies=companies,
        credentials=credentials(seed),
        webhooks=WebhookDispatcher(),
        options=options or {},
    )
