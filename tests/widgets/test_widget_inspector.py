"""The Inspector: traits, initial state size, the message protocol, masking, fallbacks."""

from __future__ import annotations

import json
from typing import Any

import pytest
from widget_builders import TOKEN, rest_exchange, soap_exchange

from apinotebook import Attempt, ConfigError, Exchange, Request
from apinotebook.widgets import Inspector

STATE_BUDGET = 256 * 1024


def state_size(widget: Any) -> int:
    return len(json.dumps(widget.get_state(), default=str))


def ask(widget: Inspector, kind: str, **fields: Any) -> dict[str, Any]:
    reply = widget.handle_message({"type": kind, "id": "t-1", **fields})
    assert reply is not None and reply["id"] == "t-1"
    return reply


def test_tabs_and_status_line(contacts):
    w = Inspector(contacts)
    assert w.tabs == ["Body", "Table", "Headers", "Request", "Raw", "Timing", "Code"]
    assert w.summary["status"] == 200 and w.summary["ok"] is True
    assert w.summary["protocol"] == "rest" and w.summary["method"] == "POST"
    assert w.summary["elapsed_ms"] == 12.3 and w.summary["size"] == contacts.size
    assert [t["view"] for t in w.trees] == ["json"]
    assert [c["key"] for c in w.trees[0]["root"]["children"]["children"]] == ["data", "meta"]
    assert w.table == {"available": True, "rows": 250, "note": ""}


def test_large_body_keeps_the_first_view_small():
    big = {"items": [{"id": i, "name": f"item {i}", "text": "x" * 200} for i in range(20_000)]}
    ex = rest_exchange(big)
    assert ex.size > 4_000_000
    w = Inspector(ex)
    assert state_size(w) < STATE_BUDGET
    # the whole body is never in a trait
    assert "item 19999" not in json.dumps(w.get_state())
    page = ask(w, "children", view="json", path=["items"], offset=19_990, limit=100)
    assert [c["key"] for c in page["children"]] == list(range(19_990, 20_000))
    assert len(json.dumps(page)) < 16 * 1024


def test_raw_tab_pages_through_the_body():
    ex = rest_exchange({"items": ["x" * 1000] * 500})
    w = Inspector(ex)
    first = w.raw[0]
    assert first["which"] == "response" and first["more"] is True
    assert len(first["text"]) == 64 * 1024
    texts = [first["text"]]
    offset = len(first["text"])
    while True:
        page = ask(w, "raw", which="response", offset=offset, limit=65536)
        texts.append(page["text"])
        offset += len(page["text"])
        if not page["more"]:
            break
    assert json.loads("".join(texts)) == {"items": ["x" * 1000] * 500}


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"type": "children", "view": "json", "path": ["nope"]}, "does not exist"),
        ({"type": "children", "view": "json", "path": ["data", 9999]}, "does not exist"),
        ({"type": "children", "view": "json", "path": ["data"], "offset": -5}, "offset must be"),
        ({"type": "children", "view": "xml", "path": []}, "no tree view 'xml'; valid: json"),
        ({"type": "select", "view": "json", "path": [{"x": 1}]}, "does not exist"),
        ({"type": "search", "view": "json", "query": ""}, "type something"),
        ({"type": "raw", "which": "nope"}, "no nope body"),
        ({"type": "explode"}, "unknown request 'explode'"),
        ({"type": "not an identifier!"}, "unknown request"),
    ],
)
def test_bad_requests_get_error_replies_not_exceptions(contacts, message, error):
    w = Inspector(contacts)
    reply = w.handle_message({"id": 7, **message})
    assert reply is not None and reply["type"] == "error" and reply["id"] == 7
    assert error in reply["message"]


@pytest.mark.parametrize("content", [None, "text", 3, [], {"no": "type"}])
def test_non_requests_are_ignored(contacts, content):
    assert Inspector(contacts).handle_message(content) is None


def test_messages_are_answered_over_the_comm(contacts, monkeypatch):
    w = Inspector(contacts)
    sent: list[Any] = []
    monkeypatch.setattr(w, "send", lambda content, buffers=None: sent.append(content))
    w._on_message(w, {"type": "children", "id": "a", "view": "json", "path": ["meta"]}, [])
    w._on_message(w, {"type": "children", "id": "b", "view": "json", "path": ["zzz"]}, [])
    assert [m["id"] for m in sent] == ["a", "b"]
    assert sent[0]["type"] == "children" and sent[1]["type"] == "error"


def test_search_and_select(contacts):
    w = Inspector(contacts)
    found = ask(w, "search", view="json", query="user42@", limit=200)
    assert [m["location"] for m in found["matches"]] == ["$.data[42].email"]
    detail = ask(w, "select", view="json", path=found["matches"][0]["path"])
    assert detail["snippet"] == 'ex.json()["data"][42]["email"]'


def test_snippets_use_the_given_name(contacts):
    w = Inspector(contacts, name="people")
    assert ask(w, "select", view="json", path=["data"])["snippet"] == 'people.json()["data"]'
    assert ask(w, "table", offset=0, limit=1)["expression"] == "people.to_frame()"


def test_table_pages_and_masks(contacts):
    w = Inspector(contacts)
    page = ask(w, "table", offset=245, limit=50)
    assert page["columns"] == ["id", "email", "api_key", "tags"]
    assert page["total"] == 250 and len(page["rows"]) == 5
    assert page["rows"][0][:3] == ["245", "user245@example.com", "***"]


def test_table_unavailable_for_non_tabular_bodies():
    w = Inspector(rest_exchange({"status": "ok", "count": 3}))
    assert w.table["available"] is False and "no list of records" in w.table["note"]


def test_nothing_secret_in_any_tab_or_reply(contacts):
    w = Inspector(contacts)
    replies = [
        ask(w, "children", view="json", path=["data", 0]),
        ask(w, "children", view="json", path=["meta"]),
        ask(w, "select", view="json", path=["meta"]),
        ask(w, "select", view="json", path=["data", 0, "api_key"]),
        ask(w, "search", view="json", query="api_key"),
        ask(w, "raw", which="response", offset=0, limit=10**6),
        ask(w, "raw", which="request", offset=0, limit=10**6),
        ask(w, "table", offset=0, limit=100),
    ]
    everything = json.dumps(w.get_state()) + json.dumps(replies) + repr(w)
    everything += json.dumps(w._repr_mimebundle_()[0])
    assert TOKEN not in everything
    assert "Bearer ***" in json.dumps(w.request) and "api_key=***" in w.request["url"]
    assert ["x-token", "***"] in w.headers


def test_request_tab_and_timing():
    attempts = [
        Attempt(1, 503, None, 0.01, wait=0.5),
        Attempt(2, None, "ConnectError", 0.02, 1.0),
        Attempt(3, 200, None, 0.03),
    ]
    w = Inspector(rest_exchange({"ok": True}, attempts=attempts))
    assert w.request["method"] == "POST"
    assert json.loads(w.request["body"]["text"]) == {"email": "ada@example.com", "password": "***"}
    assert [a["status"] for a in w.timing["attempts"]] == [503, None, 200]
    assert w.timing["attempts"][0]["wait"] == 0.5 and w.summary["retries"] == 2


def test_code_tab_has_curl_and_python_without_secrets(contacts):
    w = Inspector(contacts)
    python = w.code["python"]
    assert 'auth=Bearer(Secret.from_env("API_TOKEN"))' in python
    assert 'params={"api_key": os.environ["API_KEY"]}' in python
    assert "json={'email': 'ada@example.com', 'password': '***'}" in python
    compile(python, "<code tab>", "exec")
    assert w.code["curl"].startswith("curl") and TOKEN not in w.code["curl"]


def test_graphql_exchange_snippets_map_to_data_and_errors():
    body = {
        "data": {"list": {"edges": [{"node": {"email": "a@x"}}]}},
        "errors": [{"message": "partial"}],
    }
    request = Request(
        "POST",
        "https://mail.example/graphql",
        headers={"Content-Type": "application/json", "X-API-Key": TOKEN},
        content=json.dumps(
            {
                "query": "query Q { list { edges { node { email } } } }",
                "variables": {"first": 1},
                "operationName": "Q",
            }
        ).encode(),
    )
    ex = rest_exchange(body, protocol="graphql", request=request, operation="Q")
    w = Inspector(ex)
    assert w.summary["graphql_errors"] == 1
    path = ["data", "list", "edges", 0, "node", "email"]
    assert ask(w, "select", view="json", path=path)["snippet"] == (
        'ex.data["list"]["edges"][0]["node"]["email"]'
    )
    assert ask(w, "select", view="json", path=["errors", 0])["snippet"] == "ex.errors[0]"
    assert w.table["rows"] == 1
    python = w.code["python"]
    assert "client.execute(" in python and 'operation_name="Q"' in python
    assert 'os.environ["X_API_KEY"]' in python and TOKEN not in python
    compile(python, "<code tab>", "exec")


def test_soap_exchange_has_xml_and_data_trees_and_both_envelopes():
    w = Inspector(soap_exchange())
    assert [t["view"] for t in w.trees] == ["xml", "data"]
    assert [e["label"] for e in w.raw] == ["Response envelope", "Request envelope"]
    xml = ask(w, "select", view="xml", path=[0, 0, 0, 1, 0])
    assert (
        xml["location"] == "/soap:Envelope/soap:Body/b:GetInvoiceResponse/b:invoice/b:line[2]/b:sku"
    )
    data = ask(w, "select", view="data", path=["line", 0, "amount"])
    assert data["snippet"] == 'ex.data["line"][0]["amount"]'
    state = json.dumps(w.get_state())
    assert TOKEN not in state
    assert (
        "client.call(\"GetInvoice\", invoiceId='INV-1', filter={'year': '2024'})"
        in w.code["python"]
    )


def test_soap_fault_has_a_fault_tree():
    fault = {"code": "soap:Client", "message": "No invoice", "detail": {"code": "NOT_FOUND"}}
    w = Inspector(soap_exchange(fault=fault))
    assert [t["view"] for t in w.trees] == ["xml", "fault"]
    assert w.summary["fault"] == "soap:Client: No invoice" and w.summary["ok"] is False
    assert ask(w, "select", view="fault", path=["detail", "code"])["snippet"] == (
        'ex.fault["detail"]["code"]'
    )


@pytest.mark.parametrize(
    ("content", "ctype", "note", "trees"),
    [
        (b"", "application/json", "The body is empty.", []),
        (b"{not json", "application/json", "Expected JSON", []),
        (b"<html><body>Oops</body></html>", "text/html", "A text/html body", []),
        (b"hello", "text/plain", "A text/plain body", []),
        (b"<a><b>1</b></a>", "application/xml", "", ["xml"]),
        (b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', "application/xml", "DTD", []),
        (b"[1, 2, 3]", "", "", ["json"]),
    ],
)
def test_body_kinds(content, ctype, note, trees):
    ex = rest_exchange(content, headers={"content-type": ctype})
    w = Inspector(ex)
    assert note in w.body_note
    assert [t["view"] for t in w.trees] == trees


def test_failed_exchange_without_response():
    ex = Exchange(
        protocol="rest",
        request=Request("GET", "https://down.example/"),
        error=f"ConnectError: refused {TOKEN}",
    )
    w = Inspector(ex)
    assert w.summary["status"] == 0 and "refused ***" in w.summary["error"]
    assert w.raw == [] and "No response" in w.body_note


def test_fallbacks_and_cheap_repr(contacts):
    w = Inspector(contacts)
    assert repr(w).startswith("<Inspector rest POST https://api.example/contacts")
    data, _meta = w._repr_mimebundle_()
    assert set(data) == {"text/plain", "text/html", "application/vnd.jupyter.widget-view+json"}
    assert "apinotebook-exchange" in data["text/html"]


def test_only_exchanges():
    with pytest.raises(ConfigError, match="Inspector shows an Exchange, not dict"):
        Inspector({"a": 1})  # type: ignore[arg-type]


def test_close_drops_the_body(contacts):
    w = Inspector(contacts)
    w.close()
    assert w._trees == {} and w._cursors == {}


def test_exchange_displays_as_inspector_in_a_kernel(contacts, monkeypatch):
    from apinotebook._core import views

    monkeypatch.setattr(views, "in_kernel", lambda: True)
    bundle = contacts._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "text/html" in bundle and TOKEN not in bundle["text/html"]
