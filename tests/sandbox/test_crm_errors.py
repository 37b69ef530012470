"""The sandbox CRM's errors: bad, fuzzed, unknown and oversized requests get JSON errors."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

import pytest
from crm_sandbox import (
    _client,
    _error,
    _start,
)

from apinotebook.sandbox import Sandbox

pytestmark = pytest.mark.sandbox


@pytest.fixture(scope="module")
def scratch() -> Iterator[Sandbox]:
    """Shared by tests whose writes do not disturb each other."""
    box = _start(seed=1)
    yield box
    box.stop()


# -- errors ------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "where"),
    [
        ("POST", "/contacts", {"content": b"", "headers": JSON}, 422, ["body"]),
        ("POST", "/contacts", {"content": b"{oops", "headers": JSON}, 400, None),
        ("POST", "/contacts", {"content": b"\x8f\xff\x00\x13", "headers": JSON}, 400, None),
        ("POST", "/contacts", {"content": b'{"email":"a@b"}'}, 422, ["body"]),
        ("POST", "/contacts", {"json": [{"email": "a@b"}]}, 422, ["body"]),
        ("POST", "/contacts", {"json": {"email": 42}}, 422, ["body", "email"]),
        ("POST", "/contacts", {"json": {"email": ""}}, 422, ["body", "email"]),
        ("POST", "/contacts", {"json": {"first_name": "No email"}}, 422, ["body", "email"]),
        ("POST", "/contacts", {"json": {"email": "a@b", "tags": "vip"}}, 422, ["body", "tags"]),
        ("POST", "/contacts", {"json": {"email": "a@b", "lifecycle_stage": "boss"}}, 422,
         ["body", "lifecycle_stage"]),
        ("POST", "/contacts", {"json": {"email": "a@b", "custom_fields": {"x": {"y": 1}}}}, 422,
         ["body", "custom_fields"]),
        ("POST", "/contacts", {"content": b'{"email":"a@b","custom_fields":{"x":NaN}}',
          "headers": JSON}, 422, ["body", "custom_fields"]),
        ("POST", "/contacts", {"content": rb'{"email":"a@b","custom_fields":{"\udfff":1}}',
          "headers": JSON}, 422, ["body"]),
        ("POST", "/companies", {"content": rb'{"name":"\ud800"}', "headers": JSON}, 422,
         ["body", "name"]),
        ("POST", "/contacts", {"json": {"email": "a@b", "company_id": "co_9999"}}, 422,
         ["body", "company_id"]),
        ("POST", "/contacts", {"json": {"email": "a@b", "id": "c_000001"}}, 422, ["body", "id"]),
        ("PATCH", "/contacts/c_000001", {"json": {"email": None}}, 422, ["body", "email"]),
        ("POST", "/companies", {"json": {"name": ""}}, 422, ["body", "name"]),
        ("POST", "/webhooks", {"json": {"url": "ftp://x", "events": ["contact.created"]}}, 422,
         ["body", "url"]),
        ("POST", "/webhooks", {"json": {"url": "http://x", "events": []}}, 422, ["body", "events"]),
        ("GET", "/contacts?limit=0", {}, 422, ["query", "limit"]),
        ("GET", "/contacts?limit=501", {}, 422, ["query", "limit"]),
        ("GET", "/contacts?limit=ten", {}, 422, ["query", "limit"]),
        ("GET", "/contacts?cursor=bm90LWEtY3Vyc29y", {}, 422, ["query", "cursor"]),
        ("GET", "/contacts?cursor=%25%25%25", {}, 422, ["query", "cursor"]),
        ("GET", "/contacts?updated_since=yesterday", {}, 422, ["query", "updated_since"]),
        ("GET", "/contacts?updated_since=2025-10-01T00:00:00", {}, 422,
         ["query", "updated_since"]),
    ],
)  # fmt: skip
def test_bad_requests_get_json_errors(scratch, method, path, kwargs, status, where):
    with _client(scratch) as c:
        r = c.request(method, path, **kwargs)
    error = _error(r, status, "malformed_json" if status == 400 else "validation_error")
    if where is not None:
        assert error["details"][0]["loc"] == where
        assert error["details"][0]["message"] in error["message"]


def test_unknown_event_lists_the_valid_ones(scratch):
    with _client(scratch) as c:
        r = c.post(
            "/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["contact.exploded"]}
        )
    message = _error(r, 422, "validation_error")["message"]
    assert all(event in message for event in ("contact.created", "contact.deleted"))


def test_cursor_from_another_list_is_rejected(scratch):
    with _client(scratch) as c:
        cursor = c.get("/companies", params={"limit": 1}).json()["next_cursor"]
        r = c.get("/contacts", params={"cursor": cursor})
    assert "next_cursor" in _error(r, 422, "validation_error")["message"]


def _junk(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(8 if depth < 2 else 5)
    scalars = [
        None,
        True,
        -1,
        1.5e308,
        "",
        "x" * rng.randrange(300),
        "c_000001",
        "\ud800",
        float("nan"),
    ]
    if kind < 5:
        return rng.choice(scalars)
    if kind == 5:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["email", "first_name", "tags", "custom_fields", "company_id", "url", "events", "\udfff"]
    return {rng.choice(keys): _junk(rng, depth + 1) for _ in range(rng.randrange(5))}


FIELDS = ["first_name", "tags", "custom_fields", "custom_fields", "company_id", "name", "phone"]


def test_fuzzed_requests_never_get_a_server_error(scratch):
    rng = random.Random(1234)
    contact = {"email": "fuzz@test.example"}
    targets = [
        ("POST", "/contacts", contact), ("PATCH", "/contacts/c_000003", {}),
        ("PUT", "/contacts/c_000004", contact), ("PUT", "/contacts/by-email/fuzz@x.example", {}),
        ("POST", "/companies", {"name": "Fuzz"}), ("PATCH", "/companies/co_0002", {}),
        ("POST", "/webhooks", {}), ("GET", "/contacts", {}),
    ]  # fmt: skip
    types = ["application/json"] * 4 + ["text/plain", "application/x-www-form-urlencoded", None]
    statuses = set()
    with _client(scratch) as c:
        for i in range(300):
            method, path, base = rng.choice(targets)
            body = _junk(rng)
            if rng.random() < 0.7:  # one bad field in an otherwise good body
                body = {k: f"{i}{v}" for k, v in base.items()}
                body[rng.choice(FIELDS)] = _junk(rng)
            content = json.dumps(body).encode()
            if rng.random() < 0.2:
                content = rng.randbytes(rng.randrange(64))
            ctype = rng.choice(types)
            query = {
                "limit": rng.choice(["1", "0", "-5", "x", "500"]),
                "cursor": rng.choice(["", "%", "WyJ4IiwxXQ"]),
                "updated_since": rng.choice(["", "2025-13-01T00:00:00Z", "\u00ff"]),
            }
            headers = {"Content-Type": ctype} if ctype else {}
            r = c.request(method, path, content=content, headers=headers, params=query)
            statuses.add(r.status_code)
            assert r.status_code < 500, r.text
            if r.status_code >= 400:
                _error(r, r.status_code)
        assert c.get("/contacts", params={"limit": 500}).status_code == 200
    assert {200, 400, 422} <= statuses


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/contacts/c_999999"),
        ("GET", "/contacts/nonsense"),
        ("GET", "/contacts/c_" + "9" * 5000),
        ("PATCH", "/contacts/c_999999"),
        ("GET", "/companies/co_9999"),
        ("GET", "/webhooks/wh_9999"),
        ("GET", "/webhooks/wh_9999/deliveries"),
        ("GET", "/no/such/endpoint"),
        ("GET", "/docs"),
    ],
)
def test_not_found(scratch, method, path):
    with _client(scratch) as c:
        r = c.request(method, path, json={"title": "x"} if method == "PATCH" else None)
    _error(r, 404, "not_found")


def test_method_not_allowed(scratch):
    with _client(scratch) as c:
        _error(c.delete("/contacts"), 405, "method_not_allowed")


def test_oversized_body_gets_413_json(scratch):
    with _client(scratch) as c:
        r = c.post("/contacts", content=b" " * (9 * 1024 * 1024), headers=JSON)
    _error(r, 413, "payload_too_large")
