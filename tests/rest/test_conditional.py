"""Conditional requests on RestClient: ETag / Last-Modified revalidation, 304 from memory.

Against the sandbox CRM (which serves ETags, 304 and 412) and a scripted
server for the edge cases a real API shows (Vary, no-store, weak tags).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from apinotebook import Bearer, History, RestClient
from apinotebook.sandbox import Sandbox


@pytest.fixture(scope="module")
def crm() -> Iterator[Sandbox]:
    box = Sandbox(services=("crm",), contacts=30, companies=2).start()
    yield box
    box.stop()


_OPEN: list[RestClient] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(box: Sandbox, **kwargs: object) -> RestClient:
    api = RestClient(
        box.urls["crm"], auth=Bearer(box.env["CRM_TOKEN"]), history=History(), **kwargs
    )
    _OPEN.append(api)
    return api


def test_a_second_get_revalidates_and_a_304_returns_the_remembered_body(crm):
    api = _client(crm)
    first = api.get("/contacts", params={"limit": 5})
    assert first.status == 200 and not first.from_cache
    assert "if-none-match" not in first.request.headers
    second = api.get("/contacts", params={"limit": 5})
    # on the wire: If-None-Match sent, 304 answered; to the caller: the body, from cache
    assert second.request.headers["if-none-match"] == first.headers["etag"]
    assert second.meta == {"cache": "revalidated", "wire_status": 304}
    assert second.from_cache and second.status == 200
    assert second.json() == first.json()
    assert "from cache (304 Not Modified)" in repr(second)
    assert [ex.from_cache for ex in api.history] == [False, True]


def test_a_write_forgets_the_remembered_answer_and_the_change_is_seen(crm):
    api = _client(crm)
    row = api.get("/contacts/c_000002").json()
    api.patch("/contacts/c_000002", json={"first_name": "Changed"}).raise_for_status()
    after = api.get("/contacts/c_000002")
    assert "if-none-match" not in after.request.headers  # forgotten by the PATCH
    assert not after.from_cache and after.json()["first_name"] == "Changed" != row["first_name"]


def test_a_change_by_someone_else_is_a_fresh_200_not_the_old_body(crm):
    api, other = _client(crm), _client(crm)
    api.get("/contacts/c_000003")
    other.patch("/contacts/c_000003", json={"last_name": "Elsewhere"}).raise_for_status()
    again = api.get("/contacts/c_000003")
    assert "if-none-match" in again.request.headers
    assert again.status == 200 and not again.from_cache
    assert again.json()["last_name"] == "Elsewhere"


def test_if_match_on_a_stale_etag_is_412_and_nothing_is_written(crm):
    api = _client(crm)
    seen = api.get("/contacts/c_000004")
    tag = seen.headers["etag"]
    ok = api.patch("/contacts/c_000004", json={"first_name": "One"}, headers={"If-Match": tag})
    assert ok.status == 200 and ok.headers["etag"] != tag
    stale = api.patch("/contacts/c_000004", json={"first_name": "Two"}, headers={"If-Match": tag})
    assert stale.status == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert api.get("/contacts/c_000004").json()["first_name"] == "One"


def test_if_modified_since_from_last_modified(crm):
    api = _client(crm, conditional=False)
    seen = api.get("/contacts/c_000005")
    since = seen.headers["last-modified"]
    raw = api.get("/contacts/c_000005", headers={"If-Modified-Since": since})
    assert raw.status == 304 and raw.content == b"" and not raw.from_cache


def test_the_callers_own_conditional_header_gets_the_raw_304(crm):
    api = _client(crm)
    seen = api.get("/contacts/c_000006")
    raw = api.get("/contacts/c_000006", headers={"If-None-Match": seen.headers["etag"]})
    assert raw.status == 304 and not raw.from_cache and raw.content == b""


def test_conditional_false_sends_no_validators(crm):
    api = _client(crm, conditional=False)
    api.get("/contacts/c_000007")
    again = api.get("/contacts/c_000007")
    assert "if-none-match" not in again.request.headers and not again.from_cache
    assert api.validators is None


def test_pagination_revalidates_every_page(crm):
    api = _client(crm)
    first = list(api.paginate("/contacts", params={"limit": 10}))
    count = len(api.history)
    second = list(api.paginate("/contacts", params={"limit": 10}))
    assert second == first
    again = list(api.history)[count:]
    assert again and all(ex.from_cache for ex in again)


def test_another_token_never_gets_the_remembered_body(crm):
    api = _client(crm)
    api.get("/contacts/c_000008")
    api.headers["Authorization"] = f"Bearer {crm.env['CRM_READONLY_TOKEN']}"
    other = api.get("/contacts/c_000008")
    assert "if-none-match" not in other.request.headers


# -- a scripted server for what the sandbox does not do ----------------------------------


def _server(responses: list[httpx.Response]) -> tuple[RestClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return responses[min(len(seen), len(responses)) - 1]

    api = RestClient("https://api.example", transport=httpx.MockTransport(handler), history=None)
    return api, seen


def test_no_store_and_vary_star_are_not_remembered():
    for headers in ({"ETag": '"a"', "Cache-Control": "no-store"}, {"ETag": '"a"', "Vary": "*"}):
        api, seen = _server([httpx.Response(200, json={"n": 1}, headers=headers)])
        api.get("/x")
        api.get("/x")
        assert "if-none-match" not in seen[1].headers


def test_vary_on_accept_keeps_representations_apart():
    api, seen = _server(
        [httpx.Response(200, json={"n": 1}, headers={"ETag": '"a"', "Vary": "Accept"})]
    )
    api.get("/x", headers={"Accept": "application/json"})
    api.get("/x", headers={"Accept": "application/json"})
    api.get("/x", headers={"Accept": "text/csv"})
    assert seen[1].headers["if-none-match"] == '"a"'
    assert "if-none-match" not in seen[2].headers


def test_a_304_merges_its_fresh_headers_and_drops_the_stale_budget():
    api, _ = _server(
        [
            httpx.Response(
                200,
                json={"n": 1},
                headers={"ETag": 'W/"a"', "RateLimit-Remaining": "10", "X-Trace": "one"},
            ),
            httpx.Response(304, headers={"ETag": 'W/"a"', "RateLimit-Remaining": "9"}),
            httpx.Response(304, headers={"ETag": 'W/"a"'}),
        ]
    )
    api.get("/x")
    second = api.get("/x")
    assert second.json() == {"n": 1} and second.headers["x-trace"] == "one"
    assert second.rate_limit is not None and second.rate_limit.remaining == 9
    third = api.get("/x")
    assert third.from_cache and third.rate_limit is None  # not the first answer's 10


def test_memory_is_bounded():
    api, _ = _server([httpx.Response(200, content=b"x" * 100, headers={"ETag": '"a"'})])
    assert api.validators is not None
    api.validators.max_entries = 3
    for i in range(10):
        api.get(f"/x/{i}")
    assert len(api.validators) == 3
