"""The OpenAPI client against the sandbox CRM."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from apinotebook import History, RestClient

# -- the sandbox CRM ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crm() -> Any:
    pytest.importorskip("fastapi")
    from apinotebook.sandbox import _runner
    from apinotebook.sandbox._runner import Sandbox

    if importlib.util.find_spec("apinotebook.sandbox.crm") is None:
        pytest.skip("the sandbox CRM is not there yet")
    services = _runner.SERVICES
    if "crm" not in services:  # the CRM module exists but is not registered yet
        _runner.SERVICES = (*services, "crm")
    try:
        with Sandbox(services=("crm",), contacts=30, seed=5) as sb:
            yield sb
    finally:
        _runner.SERVICES = services


@pytest.mark.sandbox
def test_crm_end_to_end(crm: Any) -> None:
    from apinotebook import Bearer

    history = History()
    c = RestClient.from_openapi(
        crm.urls["crm"] + "/openapi.json", auth=Bearer(crm.env["CRM_TOKEN"]), history=history
    )
    with c:
        _crm_calls(c, crm, history)
    assert crm.env["CRM_TOKEN"] not in repr(c)


def _crm_calls(c: Any, crm: Any, history: History) -> None:
    from apinotebook import HTTPStatusError

    assert c.base_url == crm.urls["crm"] + "/"
    assert {"listContacts", "createContact", "getContact"} <= set(c.operations.ids())
    assert c.operation("getContact").signature() == "getContact(contact_id: str)"
    page = c.call("listContacts", limit=5).raise_for_status().json()
    assert len(page["data"]) == 5
    created = c.call(
        "createContact",
        body={"email": "ada.openapi@example.com", "first_name": "Ada"},
        idempotency_key="openapi-test-1",
    ).raise_for_status()
    contact_id = created.json()["id"]
    fetched = c.call("getContact", contact_id=contact_id).raise_for_status().json()
    assert fetched["email"] == "ada.openapi@example.com"
    missing = c.call("getContact", contact_id="c/../nope")
    assert missing.status == 404
    with pytest.raises(HTTPStatusError):
        missing.raise_for_status()
    assert [e.operation for e in history][-4:] == [
        "listContacts",
        "createContact",
        "getContact",
        "getContact",
    ]
