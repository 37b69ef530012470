"""%%sse, %%ws and %%graphql subscriptions in a real IPython shell, against the sandbox."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from apinotebook import ApiKey, Bearer, GraphQLClient, History, RestClient
from apinotebook.sandbox import Sandbox
from apinotebook.sandbox._chat_stream import assistant_reply


@pytest.fixture(scope="module")
def sb():
    with Sandbox(services=("chat", "mail"), seed=4) as box:
        yield box


@pytest.fixture
def ns(ip, sb):
    chat = RestClient(sb.urls["chat"], auth=Bearer(sb.env["CHAT_TOKEN"]), history=History())
    key = ApiKey(sb.env["MAIL_API_KEY"], header="X-API-Key")
    mail = GraphQLClient(sb.urls["mail"], auth=key, history=History())
    saved = dict(ip.user_ns)
    ip.user_ns.update(chat=chat, mail=mail, question="magic words")
    yield ip.user_ns
    for name in set(ip.user_ns) - set(saved):
        del ip.user_ns[name]
    ip.user_ns.update(saved)
    chat.close()
    mail.close()


def test_sse_cell_reads_the_stream_and_binds_the_events(ip, ns, capsys):
    ip.run_cell_magic(
        "sse", "chat --json --out reply", "GET /assistant/stream?prompt={{question}}&length=5"
    )
    events = ns["reply"]
    tokens = "".join(e.data["token"] for e in events if e.event == "token")
    assert tokens == "".join(assistant_reply("magic words", 4, 5))
    assert events[-1].event == "done" and ns["_"] is events
    assert capsys.readouterr().out.count("[token ") == 5
    record = ns["chat"].history.last
    assert record.kind == "sse" and record.closed


def test_sse_limit_stops_early_and_closes(ip, ns):
    ip.run_cell_magic("sse", "chat --limit 3", "/assistant/stream?prompt=x&length=50")
    assert len(ns["_"]) == 3
    record = ns["chat"].history.last
    assert record.closed and record.count == 3


def test_ws_cell_sends_lines_and_collects_messages(ip, ns, sb):
    start = sb.state("chat").events.last
    channel = sb.state("chat").create_channel("magic-ws")
    sb.state("chat").post(channel, "hi", ("U1", "u"))
    ip.run_cell_magic(
        "ws", "chat --limit 3 --json --out got", f'/events?since={start}\n{{"envelope_id": "0"}}'
    )
    got = ns["got"]
    assert [m["type"] for m in got] == ["hello", "event", "event"]
    record = ns["chat"].history.last
    assert record.kind == "websocket" and record.closed and record.close_code == 1000
    assert [m.direction for m in record][0] == "send"


def test_graphql_cell_with_a_subscription_streams_results(ip, ns, sb):
    store = sb.state("mail")
    list_id = store.ensure_list("magic")
    start = store.events.last
    store.upsert(list_id, [{"email": f"m{i}@example.org"} for i in range(3)])
    ns["vars"] = {"after": start}
    ip.run_cell_magic(
        "graphql",
        "mail --variables vars --out added --limit 3",
        "subscription ($after: Int) { subscriberAdded(after: $after) { subscriber { email } } }",
    )
    assert len(ns["added"]) == 3  # stops at the limit
    emails = [r.data["subscriberAdded"]["subscriber"]["email"] for r in ns["added"]]
    assert emails == [f"m{i}@example.org" for i in range(3)]


@pytest.mark.parametrize(
    ("magic", "line", "cell", "message"),
    [
        ("sse", "", "/x", "name one client"),
        ("sse", "chat --limit 0", "/x", "positive whole number"),
        ("sse", "chat --nope", "/x", "unknown option --nope"),
        ("sse", "chat", "\n  \n", "needs a path"),
        ("ws", "missing", "/events", "no variable 'missing'"),
        ("sse", "chat", "/channels", "not an event stream"),
        ("graphql", "mail --limit many", "subscription { listChanged { offset } }", "--limit"),
    ],
)
def test_mistakes_are_one_paragraph(ip, ns, magic, line, cell, message):
    with pytest.raises(UsageError, match=message):
        ip.run_cell_magic(magic, line, cell)
