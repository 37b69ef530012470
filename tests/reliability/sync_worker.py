"""The CRM integrations the reliability tests run, built from environment variables.

Run as a script it performs one run and prints its report as a JSON line;
the exit code is the report's (0 ok, 1 some records dead-lettered, 2 stopped).
The tests import it too, to build the same integrations in-process.

Environment (all but the last three are required for the target):

    SYNC_TARGET       ``mail`` (upsertSubscribers, idempotent by email) or
                      ``chat`` (one message per contact: not idempotent by
                      itself, so each post carries ``batch.idempotency_keys``)
    SYNC_STATE        the SQLite state file
    CRM_URL CRM_TOKEN, MAIL_URL MAIL_API_KEY MAIL_LIST_ID, CHAT_URL CHAT_TOKEN CHAT_CHANNEL_ID
    SYNC_BATCH_SIZE   records per destination call (default 50)
    SYNC_CONCURRENCY  batches in flight (default 1)
    SYNC_KILL_AFTER   SIGKILL this process right after its n-th destination write
                      returned, before the pipeline could checkpoint it
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from apinotebook import ApiKey, Bearer, RestClient
from apinotebook.graphql import GraphQLClient
from apinotebook.integration import Batch, Integration
from apinotebook.retry import Retry

UPSERT = """
mutation Upsert($listId: ID!, $input: [SubscriberInput!]!) {
  upsertSubscribers(listId: $listId, input: $input) { userErrors { index field message } }
}"""

#: Patient and quick: injected faults come back fast (``retry_after=0``).
RETRY = Retry(max_attempts=12, backoff=0.005, backoff_max=0.05, deadline=None)


def crm_client(url: str, token: str) -> RestClient:
    """The CRM, retrying reads through the injected faults."""
    return RestClient(url, auth=Bearer(token), retry=RETRY, history=None)


def mail_client(url: str, key: str) -> GraphQLClient:
    """The mail service (mutations are retried by the pipeline, not the client)."""
    return GraphQLClient(url, auth=ApiKey(key, header="X-API-Key"), retry=RETRY, history=None)


def chat_client(url: str, token: str) -> RestClient:
    """The chat service; posts with an ``Idempotency-Key`` are retried by the client."""
    return RestClient(url, auth=Bearer(token), retry=RETRY, history=None)


def crm_source(sync: Integration, crm: RestClient, *, page_size: int = 500) -> None:
    """Contacts changed since the checkpoint, in ``(updated_at, id)`` order."""

    @sync.source(key="id", cursor="updated_at")
    def contacts(since: str | None) -> Iterator[dict[str, Any]]:
        params = {"limit": page_size} | ({"updated_since": since} if since else {})
        yield from crm.paginate("/contacts", params=params)


# -- what each destination should end up holding ------------------------------------------


def subscriber_of(contact: dict[str, Any]) -> dict[str, Any] | None:
    """The mail mapping: opted-out contacts are filtered; a missing first name is invalid.

    An email without ``@`` is passed on: the mail API rejects it (``userErrors``).
    """
    if not contact["custom_fields"].get("newsletter_opt_in"):
        return None
    if not contact["first_name"]:
        raise ValueError(f"missing field first_name in contact {contact['id']}")
    return {"email": contact["email"], "name": f"{contact['first_name']} {contact['last_name']}"}


def expected_mail(contacts: list[dict[str, Any]]) -> dict[str, str]:
    """email -> name, for the contacts that must be on the list."""
    return {
        c["email"].lower(): f"{c['first_name']} {c['last_name']}"
        for c in contacts
        if c["custom_fields"].get("newsletter_opt_in") and c["first_name"] and "@" in c["email"]
    }


def list_figures(expected: dict[str, str], held: dict[str, str]) -> dict[str, int]:
    """What a mailing list holds against what it should: for the reliability figures."""
    return {
        "expected": len(expected),
        "held": len(held),
        "lost": len(set(expected) - set(held)),
        "unexpected": len(set(held) - set(expected)),
    }


def mail_outcomes(contacts: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Contact ids per outcome: ``written``, ``filtered``, ``dead``."""
    out: dict[str, set[str]] = {"written": set(), "filtered": set(), "dead": set()}
    for c in contacts:
        if not c["custom_fields"].get("newsletter_opt_in"):
            out["filtered"].add(c["id"])
        elif not c["first_name"] or "@" not in c["email"]:
            out["dead"].add(c["id"])
        else:
            out["written"].add(c["id"])
    return out


def message_of(contact: dict[str, Any]) -> dict[str, Any]:
    """The chat mapping: one message per contact with a usable email."""
    if "@" not in contact["email"]:
        raise ValueError(f"invalid email {contact['email']!r}")
    name = f"{contact['first_name']} {contact['last_name']}".strip()
    return {"text": f"{contact['id']}: welcome {name} <{contact['email']}>"}


def contact_of_message(text: str) -> str:
    """The contact id a chat message was posted for."""
    return text.partition(":")[0]


# -- the two integrations ----------------------------------------------------------------


def _killer(after: int | None) -> Callable[[], None]:
    count = {"writes": 0}

    def wrote() -> None:
        count["writes"] += 1
        if after is not None and count["writes"] >= after:
            os.kill(os.getpid(), signal.SIGKILL)

    return wrote


def build_mail(
    *,
    state: str,
    crm: RestClient,
    mail: GraphQLClient,
    list_id: str,
    batch_size: int = 100,
    concurrency: int = 1,
    kill_after: int | None = None,
    mapping: Callable[[dict[str, Any]], Any] = subscriber_of,
    page_size: int = 500,
) -> Integration:
    """CRM contacts -> mail subscribers (``upsertSubscribers``, idempotent by email)."""
    sync = Integration("crm-to-mail", state=state, progress=None)
    crm_source(sync, crm, page_size=page_size)
    sync.transform(mapping)
    wrote = _killer(kill_after)

    @sync.destination(batch_size=batch_size, concurrency=concurrency, retries=10, backoff=0.005)
    def upsert(batch: Batch) -> list[tuple[int, str]]:
        ex = mail.execute(UPSERT, {"listId": list_id, "input": list(batch)}).raise_for_status()
        wrote()
        errors = ex.data["upsertSubscribers"]["userErrors"]
        return [(e["index"], f"{e['field']}: {e['message']}") for e in errors]

    return sync


def build_chat(
    *,
    state: str,
    crm: RestClient,
    chat: RestClient,
    channel: str,
    batch_size: int = 50,
    concurrency: int = 1,
    kill_after: int | None = None,
) -> Integration:
    """CRM contacts -> one chat message each, made idempotent with ``Idempotency-Key``."""
    sync = Integration("crm-to-chat", state=state, progress=None)
    crm_source(sync, crm)
    sync.transform(message_of)
    wrote = _killer(kill_after)

    @sync.destination(batch_size=batch_size, concurrency=concurrency, retries=10, backoff=0.005)
    def post(batch: Batch) -> None:
        for message, key in batch.with_idempotency_keys():
            path = f"/channels/{channel}/messages"
            chat.post(path, json=message, headers={"Idempotency-Key": key}).raise_for_status()
            wrote()

    return sync


def main() -> int:
    """One run of ``SYNC_TARGET``; print the report; exit with its code."""
    env = os.environ
    target = env["SYNC_TARGET"]
    kill = int(env["SYNC_KILL_AFTER"]) if env.get("SYNC_KILL_AFTER") else None
    options: dict[str, Any] = {
        "state": env["SYNC_STATE"],
        "batch_size": int(env.get("SYNC_BATCH_SIZE", "50")),
        "concurrency": int(env.get("SYNC_CONCURRENCY", "1")),
        "kill_after": kill,
    }
    crm = crm_client(env["CRM_URL"], env["CRM_TOKEN"])
    if target == "mail":
        dest: Any = mail_client(env["MAIL_URL"], env["MAIL_API_KEY"])
        sync = build_mail(crm=crm, mail=dest, list_id=env["MAIL_LIST_ID"], **options)
    elif target == "chat":
        dest = chat_client(env["CHAT_URL"], env["CHAT_TOKEN"])
        sync = build_chat(crm=crm, chat=dest, channel=env["CHAT_CHANNEL_ID"], **options)
    else:
        print(f"SYNC_TARGET must be mail or chat, not {target!r}", file=sys.stderr)
        return 2
    try:
        report = sync.run()
    except Exception as exc:  # noqa: BLE001 - reported like the runtime would
        report = getattr(exc, "report", None)
        if report is None:
            raise
    finally:
        sync.close()
        crm.close()
        dest.close()
    print(json.dumps(report.to_dict(), default=str))
    return int(report.exit_code)


if __name__ == "__main__":
    raise SystemExit(main())
