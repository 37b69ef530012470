"""paginate() against the sandbox services over real sockets."""

from __future__ import annotations

import gc
import importlib.util
import math

import pytest

from apinotebook import RestClient

# -- the sandbox services ---------------------------------------------------------------


def _sandbox_services(monkeypatch: pytest.MonkeyPatch, *wanted: str) -> tuple[str, ...]:
    """The wanted services; registers ones whose module exists but is not in SERVICES yet."""
    if importlib.util.find_spec("fastapi") is None:
        pytest.skip("needs the sandbox extra")
    from apinotebook.sandbox import _runner

    present = tuple(s for s in wanted if importlib.util.find_spec(f"apinotebook.sandbox.{s}"))
    if not present:
        pytest.skip(f"sandbox services {wanted} are not there yet")
    missing = [s for s in present if s not in _runner.SERVICES]
    if missing:
        monkeypatch.setattr(_runner, "SERVICES", (*_runner.SERVICES, *missing))
    return present


@pytest.mark.sandbox
def test_sandbox_crm_1234_contacts_each_exactly_once(monkeypatch):
    if "crm" not in _sandbox_services(monkeypatch, "crm"):
        pytest.skip("no CRM service")
    from apinotebook import Bearer, Secret
    from apinotebook.sandbox import Sandbox

    with Sandbox(contacts=1234, services=("crm",)) as sb:
        crm = RestClient(sb.urls["crm"], auth=Bearer(Secret(sb.env["CRM_TOKEN"])), history=None)
        pages = crm.paginate("/contacts", params={"limit": 100})
        ids = [contact["id"] for contact in pages]
        crm.close()
    assert len(ids) == len(set(ids)) == 1234
    assert pages.paginator_name == "cursor" and pages.pages == 13


@pytest.mark.sandbox
def test_sandbox_chat_slack_cursor(monkeypatch):
    if "chat" not in _sandbox_services(monkeypatch, "chat"):
        pytest.skip("no chat service")
    from apinotebook import Bearer, Secret
    from apinotebook.sandbox import Sandbox

    with Sandbox(services=("chat",)) as sb:
        chat = RestClient(sb.urls["chat"], auth=Bearer(Secret(sb.env["CHAT_TOKEN"])), history=None)
        channel = chat.get("/channels").json()["channels"][0]["id"]
        for n in range(12):
            chat.post(
                f"/channels/{channel}/messages", json={"text": f"note {n}"}
            ).raise_for_status()
        expected = chat.get(f"/channels/{channel}/messages", params={"limit": 1000}).json()
        pages = chat.paginate(f"/channels/{channel}/messages", params={"limit": 4})
        got = [m["ts"] for m in pages]
        chat.close()
    assert got == [m["ts"] for m in expected["messages"]]  # newest first, none repeated
    assert len(got) >= 12 and len(set(got)) == len(got)
    assert "response_metadata.next_cursor" in repr(pages.paginator)
    assert pages.pages == math.ceil(len(got) / 4)


@pytest.mark.sandbox
def test_concurrent_pages_over_real_sockets_leave_nothing_open():
    """Each concurrent window runs in its own event loop; its connections must close with it."""
    if importlib.util.find_spec("starlette") is None:
        pytest.skip("needs the sandbox extra")
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from apinotebook.sandbox import Mount, Sandbox

    rows = [{"id": i} for i in range(95)]

    async def listing(request: StarletteRequest) -> JSONResponse:
        offset = int(request.query_params.get("offset", 0))
        limit = int(request.query_params.get("limit", 10))
        return JSONResponse({"data": rows[offset : offset + limit], "total": len(rows),
                             "offset": offset, "limit": limit})  # fmt: skip

    app = Starlette(routes=[Route("/rows", listing)])
    mounts = [Mount(prefix="/demo", app=app, service="demo", urls={"demo": "/demo"})]
    with Sandbox(services=(), extra_mounts=mounts) as sb:
        api = RestClient(sb.urls["demo"], history=None)
        pages = api.paginate("/rows", concurrency=2)  # windows of 8 pages: two event loops
        ids = [row["id"] for row in pages]
        api.close()
    gc.collect()  # a leaked socket warns here, inside the test (warnings are errors)
    assert ids == list(range(95))
    assert pages.pages == 10
