"""The Inspector's contract section and the DiffView (kernel side)."""

from __future__ import annotations

import json

from widget_builders import rest_exchange

from apinotebook import Exchange, Request, Secret, show
from apinotebook.contract import check_contract, diff
from apinotebook.openapi import OpenAPIDocument
from apinotebook.widgets import Inspector
from apinotebook.widgets._diff import MAX_ROWS, DiffView

SPEC = {
    "openapi": "3.1.0",
    "info": {"title": "T", "version": "1"},
    "paths": {"/things": {"get": {"operationId": "listThings", "responses": {"200": {
        "description": "ok", "content": {"application/json": {"schema": {
            "type": "array", "items": {"type": "object", "required": ["id"],
                                       "properties": {"id": {"type": "integer"}}}}}}}}}}},
}  # fmt: skip


def things(body: object) -> Exchange:
    return rest_exchange(body, request=Request("GET", "https://api.test/things"))


def test_the_inspector_shows_a_checked_contract_and_nothing_otherwise():
    doc = OpenAPIDocument.load(SPEC)
    unchecked = things([{"id": 1}])
    assert Inspector(unchecked).contract == {}
    ok = things([{"id": 1}])
    check_contract(ok, doc)
    assert Inspector(ok).contract["ok"] is True
    secret = Secret("sekrit-contract-77", name="C_SECRET")
    bad = things([{"id": "sekrit-contract-77"}, {}])
    check_contract(bad, doc)
    state = Inspector(bad).contract
    assert [(v["path"], v["kind"]) for v in state["violations"]] == [
        ("$[0].id", "type"),
        ("$[1].id", "required"),
    ]
    assert secret.reveal() not in json.dumps(state)


def test_a_diff_is_shown_as_a_diffview():
    a = {"rows": [{"id": i, "v": i} for i in range(MAX_ROWS + 10)]}
    b = {"rows": [{"id": i, "v": -i} for i in range(1, MAX_ROWS + 11)]}
    found = diff(a, b)
    view = show(found)
    assert isinstance(view, DiffView)
    assert view.summary["total"] == len(found.changes) == MAX_ROWS + 10 + 1
    assert view.summary["counts"] == {"added": 1, "removed": 1, "changed": MAX_ROWS + 9, "type": 0}
    assert len(view.changes) == MAX_ROWS
    first = view.changes[0]
    assert first["kind"] == "removed" and first["path"] == "$.rows[id=0]" and first["new"] == ""
    assert "--- a" in repr(view) and "apinotebook-diff" in view._html_fallback()
