"""GraphQLClient.subscribe against the sandbox's mail service (strawberry, both protocols)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from apinotebook import ConfigError, QueryValidationError
from apinotebook.streams import StreamRecord, SubscriptionResult

ADDED = """
subscription Added($list: ID, $after: Int) {
  subscriberAdded(listId: $list, after: $after) { offset subscriber { email } }
}
"""
UPSERT = """
mutation Up($list: ID!, $input: [SubscriberInput!]!) {
  upsertSubscribers(listId: $list, input: $input) { created }
}
"""


def _new_list(mail, name):
    return mail.execute("mutation ($n: String!) { createList(name: $n) { id } }", {"n": name}).data[
        "createList"
    ]["id"]


def _add(mail, list_id, emails):
    for email in emails:
        assert mail.execute(UPSERT, {"list": list_id, "input": [{"email": email}]}).ok


def _emails(n, tag):
    return [f"{tag}{i}@example.org" for i in range(n)]


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws"])
def test_results_arrive_over_both_subprotocols(clean, mail, hist, subprotocol):
    list_id = _new_list(mail, f"subs-{subprotocol}")
    start = clean.state("mail").events.last
    _add(mail, list_id, _emails(3, subprotocol))
    sub = mail.subscribe(ADDED, {"list": list_id, "after": start}, subprotocols=[subprotocol])
    got = []
    for result in sub:
        assert isinstance(result, SubscriptionResult) and result.ok
        got.append(result.data["subscriberAdded"]["subscriber"]["email"])
        if len(got) == 3:
            break
    assert got == _emails(3, subprotocol)
    assert sub.socket.subprotocol == subprotocol
    record = sub.socket.record
    assert isinstance(record, StreamRecord) and record.protocol == "graphql"
    assert record.operation == "Added" and record.closed
    sent = [m.json()["type"] for m in record if m.direction == "send"]
    stop = "stop" if subprotocol == "graphql-ws" else "complete"
    assert sent[0] == "connection_init" and sent[-1] == stop


def test_live_results_follow_mutations(clean, mail):
    list_id = _new_list(mail, "subs-live")
    sub = mail.subscribe("subscription { listChanged { offset change list { id } } }")
    writer = threading.Timer(0.3, _add, (mail, list_id, ["live@example.org"]))
    changes = []
    with sub:
        writer.start()
        for result in sub:
            change = result.data["listChanged"]
            if change["list"]["id"] == list_id:
                changes.append(change["change"])
                break
    writer.join()
    assert changes == ["subscribers"]


def test_a_bad_subscription_is_refused_before_anything_is_sent(clean, mail, hist):
    mail.schema  # noqa: B018 - fetch the schema first
    before = len(hist)
    with pytest.raises(QueryValidationError, match="nope"):
        mail.subscribe("subscription { nope }")
    with pytest.raises(ConfigError, match="not a subscription"):
        mail.subscribe("{ lists { totalCount } }")
    assert len(hist) == before


def test_reconnect_and_resume_lose_nothing_and_duplicate_nothing(clean, mail):
    list_id = _new_list(mail, "subs-faults")
    start = clean.state("mail").events.last
    emails = _emails(25, "drop")
    _add(mail, list_id, emails)
    clean.set_faults("mail", stream_drop_after=4)

    def resume(last):
        return {"after": last.data["subscriberAdded"]["offset"]} if last else {}

    sub = mail.subscribe(ADDED, {"list": list_id, "after": start}, reconnect=10, resume=resume)
    got, offsets = [], []
    for result in sub:
        offsets.append(result.data["subscriberAdded"]["offset"])
        got.append(result.data["subscriberAdded"]["subscriber"]["email"])
        if len(got) == len(emails):
            break
    assert got == emails
    assert offsets == sorted(set(offsets))
    assert sub.socket.record.count > 0


def test_async_iteration(clean, mail):
    list_id = _new_list(mail, "subs-async")
    start = clean.state("mail").events.last
    _add(mail, list_id, _emails(2, "async"))

    async def main():
        got = []
        async with mail.subscribe(ADDED, {"list": list_id, "after": start}) as sub:
            async for result in sub:
                got.append(result.data["subscriberAdded"]["subscriber"]["email"])
                if len(got) == 2:
                    break
        return got, sub

    got, sub = asyncio.run(main())
    assert got == _emails(2, "async")
    assert sub.socket.record.closed and sub.socket.close_code == 1000


def test_errors_come_back_as_results(clean, mail):
    sub = mail.subscribe(ADDED, {"list": "lst_does_not_exist"}, validate=True)
    result = next(iter(sub))
    assert not result.ok and "No mailing list" in result.errors[0]["message"]
    with pytest.raises(Exception, match="No mailing list"):
        result.raise_for_errors()
    sub.close()
