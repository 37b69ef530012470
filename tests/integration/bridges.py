"""Sandboxes, clients and the bridges the cross-protocol integration tests run."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from apinotebook import ApiKey, Bearer, RestClient
from apinotebook.graphql import GraphQLClient
from apinotebook.integration import Batch, Integration
from apinotebook.sandbox import Sandbox

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


@contextlib.contextmanager
def sandbox(services: tuple[str, ...], *, contacts: int = 120, **options: Any) -> Iterator[Sandbox]:
    """A sandbox of one's own (state changes in one test never reach another)."""
    opts = {"crm": {"messy_rate": options.pop("messy_rate", 0.05)}, **options}
    with Sandbox(contacts=contacts, seed=11, services=services, options=opts) as sb:
        yield sb


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
