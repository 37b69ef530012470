"""The chat service over a real loopback socket, with httpx."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from apinotebook import ConfigError
from apinotebook._core.signing import signature_header
from apinotebook.sandbox import Sandbox, SandboxContext
from apinotebook.sandbox._context import credentials
from apinotebook.sandbox._webhooks import WebhookDispatcher
from apinotebook.sandbox.chat import MAX_TEXT, ChatStore, build

_names = (f"test-{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def sb():
    with Sandbox(services=("chat",), seed=5) as box:
        yield box


@pytest.fixture(scope="module")
def api(sb):
    headers = {"Authorization": f"Bearer {sb.env['CHAT_TOKEN']}"}
    with httpx.Client(base_url=sb.urls["chat"], headers=headers) as client:
        yield client


@pytest.fixture
def channel(api) -> str:
    r = api.post("/channels", json={"name": next(_names)})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _error(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/json"
    err = r.json()["error"]
    assert set(err) <= {"code", "message", "details"} and err["message"]
    return err


# -- wiring, auth, seed ---------------------------------------------------------------


def test_urls_env_and_state(sb):
    assert sb.urls["chat"] == sb.url + "/chat"
    assert sb.env["CHAT_URL"] == sb.url + "/chat"
    assert isinstance(sb.state("chat"), ChatStore)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "not_authed"),
        ({"Authorization": "Bearer nope"}, "invalid_auth"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "not_authed"),
        ({"Authorization": b"Bearer caf\xc3\xa9"}, "invalid_auth"),
    ],
)
def test_auth_is_required(sb, headers, code):
    for method, path in [("GET", "/channels"), ("POST", "/channels/x/messages")]:
        r = httpx.request(method, sb.urls["chat"] + path, headers=headers, json={"text": "hi"})
        assert _error(r, 401)["code"] == code
        assert r.headers["www-authenticate"].startswith("Bearer")


def test_auth_comes_before_the_body(sb):
    url = sb.urls["chat"] + "/channels/x/messages"
    r = httpx.post(url, content=b"{broken", headers={"Content-Type": "application/json"})
    assert _error(r, 401)["code"] == "not_authed"
    assert _error(httpx.get(sb.urls["chat"] + "/nope"), 401)  # no map of the API for strangers


def test_seed_channels_and_messages(sb, api):
    names = [c["name"] for c in api.get("/channels").json()["channels"]]
    assert names[:4] == ["general", "sales", "alerts", "random"]
    state = sb.state("chat")
    general = state.messages("#general")
    assert len(general) == 5 and general[-1]["thread_ts"] == general[0]["ts"]
    assert all(m["channel"] == state.channel_id("general") for m in general)
    # the same seed gives the same workspace; another seed another one
    again = ChatStore(5, token="t")
    assert again.messages("general") == state.messages("general")
    assert again.channel_id("sales") == state.channel_id("sales")
    assert ChatStore(6, token="t").messages("general") != general
    with pytest.raises(KeyError, match="general"):
        state.channel_id("nope")


def test_build_is_fast_and_checks_options():
    ctx = SandboxContext(
        base_url="http://127.0.0.1:1",
        seed=0,
        contacts=100_000,
        companies=50,
        credentials=credentials(0),
        webhooks=WebhookDispatcher(),
    )
    build(ctx)  # warm FastAPI's route construction
    start = time.perf_counter()
    build(ctx)
    assert time.perf_counter() - start < 0.2
    bad = dataclasses.replace(ctx, options={"chat": {"require_signatur": True}})
    with pytest.raises(ConfigError, match="require_signature"):
        build(bad)


# -- channels -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Deals", "two words", "dot.name", "#hash", "", "x" * 81, "ümlaut", None, 7, ["a"]],
)
def test_channel_name_rules(api, name):
    r = api.post("/channels", json={"name": name})
    err = _error(r, 422)
    assert err["code"] == "validation_error" and err["details"][0]["loc"][:2] == ["body", "name"]


def test_create_get_and_duplicate_channel(api):
    name = "q1_deals-" + "x" * 71  # 80 characters: the longest allowed
    r = api.post("/channels", json={"name": name, "topic": "money"})
    assert r.status_code == 201
    created = r.json()
    assert created["id"].startswith("C") and created["message_count"] == 0
    assert api.get(f"/channels/{created['id']}").json() == created
    assert _error(api.post("/channels", json={"name": name}), 409)["code"] == "name_taken"
    assert _error(api.get("/channels/CNOPE"), 404)["code"] == "channel_not_found"


# -- messages and pagination ---------------------------------------------------------------


def test_post_then_page_through_everything_once(api, channel):
    posted = []
    for i in range(23):
        r = api.post(f"/channels/{channel}/messages", json={"text": f"message {i}"})
        assert r.status_code == 201
        posted.append(r.json())
    assert all(a["ts"] < b["ts"] for a, b in itertools.pairwise(posted))
    first = posted[0]
    assert first["channel"] == channel and first["thread_ts"] is None
    assert set(first) == {
        "id",
        "channel",
        "text",
        "user",
        "username",
        "ts",
        "created_at",
        "thread_ts",
    }

    seen, cursor, pages = [], "", 0
    while True:
        params = {"limit": 5} | ({"cursor": cursor} if cursor else {})
        page = api.get(f"/channels/{channel}/messages", params=params).json()
        pages += 1
        assert page["ok"] is True
        seen += page["messages"]
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if pages == 2:  # a message arriving mid-way is newer: it must not shift the pages
            api.post(f"/channels/{channel}/messages", json={"text": "late"})
        if not cursor:
            break
    assert pages == 5
    assert [m["id"] for m in seen] == [m["id"] for m in reversed(posted)]


def test_thread_replies(api, channel):
    parent = api.post(f"/channels/{channel}/messages", json={"text": "parent"}).json()
    body = {"text": "reply", "thread_ts": parent["ts"]}
    reply = api.post(f"/channels/{channel}/messages", json=body)
    assert reply.status_code == 201 and reply.json()["thread_ts"] == parent["ts"]
    missing = {"text": "reply", "thread_ts": "1000000000.000001"}
    r = api.post(f"/channels/{channel}/messages", json=missing)
    assert _error(r, 422)["code"] == "thread_not_found"


# -- idempotency ------------------------------------------------------------------------


def test_same_key_same_body_replays(sb, api, channel):
    url = f"/channels/{channel}/messages"
    first = api.post(url, json={"text": "once"}, headers={"Idempotency-Key": "k-1"})
    again = api.post(url, json={"text": "once"}, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert [m["text"] for m in sb.state("chat").messages(channel)] == ["once"]


def test_same_key_different_body_is_refused(sb, api, channel):
    url = f"/channels/{channel}/messages"
    api.post(url, json={"text": "first"}, headers={"Idempotency-Key": "k-2"})
    r = api.post(url, json={"text": "second"}, headers={"Idempotency-Key": "k-2"})
    err = _error(r, 422)
    assert err["code"] == "idempotency_key_reused" and "k-2" in err["message"]
    r = api.post(url, json={"text": "first", "thread_ts": None}, headers={"Idempotency-Key": "k-2"})
    assert r.status_code == 200  # the same message, spelled differently
    assert len(sb.state("chat").messages(channel)) == 1


def test_keys_are_scoped_per_channel(api, channel):
    other = api.post("/channels", json={"name": next(_names)}).json()["id"]
    a = api.post(
        f"/channels/{channel}/messages", json={"text": "x"}, headers={"Idempotency-Key": "s"}
    )
    b = api.post(
        f"/channels/{other}/messages", json={"text": "x"}, headers={"Idempotency-Key": "s"}
    )
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


def test_concurrent_posts_with_one_key_make_one_message(sb, channel):
    url = f"{sb.urls['chat']}/channels/{channel}/messages"
    headers = {"Authorization": f"Bearer {sb.env['CHAT_TOKEN']}", "Idempotency-Key": "race"}
    barrier = threading.Barrier(12)

    def post(_: int) -> httpx.Response:
        with httpx.Client() as client:
            barrier.wait()
            return client.post(url, json={"text": "race"}, headers=headers)

    with ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(post, range(12)))
    assert sorted(r.status_code for r in responses) == [200] * 11 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(sb.state("chat").messages(channel)) == 1


def test_old_keys_are_forgotten_beyond_the_bound():
    store = ChatStore(0, token="t", max_keys=3)
    for i in range(5):
        store.remember(("s", "c", str(i)), "fp", {"id": i})
    assert store.recall(("s", "c", "0")) is None and store.recall(("s", "c", "4")) is not None


# -- incoming webhooks ----------------------------------------------------------------------


def test_incoming_webhook(sb, api, channel):
    r = api.post(f"/channels/{channel}/webhooks")
    assert r.status_code == 201
    hook = r.json()
    assert hook["url"].startswith(sb.url + "/chat/hooks/") and hook["channel"] == channel
    with httpx.Client() as anonymous:  # the URL is the secret: no Bearer token
        posted = anonymous.post(hook["url"], json={"text": "from CI"})
        assert posted.status_code == 201 and posted.json()["username"] == "incoming-webhook"
        keyed = [
            anonymous.post(hook["url"], json={"text": "deploy"}, headers={"Idempotency-Key": "d"})
            for _ in range(2)
        ]
        assert [r.status_code for r in keyed] == [201, 200]
        assert keyed[1].headers["idempotent-replayed"] == "true"
        r = anonymous.post(hook["url"], json={"text": "other"}, headers={"Idempotency-Key": "d"})
        assert _error(r, 422)["code"] == "idempotency_key_reused"
        assert _error(anonymous.post(hook["url"] + "x", json={"text": "?"}), 404)["code"]
    assert [m["text"] for m in sb.state("chat").messages(channel)] == ["from CI", "deploy"]


def test_incoming_webhook_signatures(sb, api, channel):
    url = api.post(f"/channels/{channel}/webhooks").json()["url"]
    body = b'{"text": "signed"}'
    secret = sb.env["CHAT_SIGNING_SECRET"]
    headers = {"Content-Type": "application/json"}
    good = httpx.post(
        url, content=body, headers=headers | {"X-Signature": signature_header(secret, body)}
    )
    assert good.status_code == 201
    forged = headers | {"X-Signature": signature_header("wrong", body)}
    assert _error(httpx.post(url, content=body, headers=forged), 401)["code"] == "invalid_signature"
    state = sb.state("chat")
    state.require_signature = True
    try:
        assert (
            _error(httpx.post(url, content=body, headers=headers), 401)["code"]
            == "invalid_signature"
        )
    finally:
        state.require_signature = False
    assert httpx.post(url, content=body, headers=headers).status_code == 201


# -- bad input ---------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("content", "headers", "field"),
    [
        (b"", JSON, "body"),
        (b"", {}, "body"),
        (b"garbage", {"Content-Type": "text/plain"}, "body"),
        (b"[1, 2]", JSON, "body"),
        (b"null", JSON, "body"),
        (b"{}", JSON, "text"),
        (b'{"text": 5}', JSON, "text"),
        (b'{"text": null}', JSON, "text"),
        (b'{"text": ""}', JSON, "text"),
        (b'{"text": " \\n "}', JSON, "text"),
        (b'{"text": "hi", "extra": 1}', JSON, "extra"),
        (b'{"text": "hi", "thread_ts": "yesterday"}', JSON, "thread_ts"),
        (('{"text": "' + "x" * (MAX_TEXT + 1) + '"}').encode(), JSON, "text"),
    ],
)
def test_bad_message_bodies(api, channel, content, headers, field):
    r = api.post(f"/channels/{channel}/messages", content=content, headers=headers)
    err = _error(r, 422)
    assert err["code"] == "validation_error"
    assert field in err["details"][0]["loc"] or err["details"][0]["loc"] == ["body"]


@pytest.mark.parametrize("content", [b"garbage", b'{"text": "x"', b"\xff\xfe\x00"])
def test_broken_json_is_400(api, channel, content):
    r = api.post(f"/channels/{channel}/messages", content=content, headers=JSON)
    assert _error(r, 400)["code"] == "malformed_json"


def test_longest_text_is_accepted(api, channel):
    r = api.post(f"/channels/{channel}/messages", json={"text": "x" * MAX_TEXT})
    assert r.status_code == 201


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"cursor": "garbage"}, {"cursor": "bmV4dA"}],
)
def test_bad_list_parameters(api, channel, params):
    r = api.get(f"/channels/{channel}/messages", params=params)
    assert _error(r, 422)["code"] in ("validation_error", "invalid_cursor")


@pytest.mark.parametrize("key", ["", "k" * 256])
def test_bad_idempotency_keys(api, channel, key):
    r = api.post(
        f"/channels/{channel}/messages", json={"text": "x"}, headers={"Idempotency-Key": key}
    )
    assert _error(r, 422)["details"][0]["loc"] == ["header", "Idempotency-Key"]


def test_oversized_body_is_413_json(api, channel):
    r = api.post(f"/channels/{channel}/messages", content=b"x" * (9 * 1024 * 1024), headers=JSON)
    assert _error(r, 413)["code"] == "payload_too_large"


def test_unknown_routes_and_methods(api):
    assert _error(api.get("/nope"), 404)["code"] == "not_found"
    assert _error(api.delete("/channels"), 405)["code"] == "method_not_allowed"
    assert _error(api.get("/docs"), 404)["code"] == "not_found"  # no CDN-backed doc pages


def test_openapi_document(sb):
    doc = httpx.get(sb.urls["chat"] + "/openapi.json").json()  # public, like the spec
    assert doc["servers"] == [{"url": "/chat"}]
    assert {"/channels", "/channels/{channel_id}/messages", "/hooks/{token}"} <= set(doc["paths"])
    post = doc["paths"]["/channels/{channel_id}/messages"]["post"]
    assert "201" in post["responses"] and "HTTPValidationError" not in str(doc)
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    try:
        from openapi_spec_validator import validate
    except ImportError:  # a dev-only dependency
        return
    validate(doc)
