"""Cassettes are HAR 1.2: valid against har-schema, and browsers' HAR files replay."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from har_corpus import browser_hars, har_errors

import apinotebook
from apinotebook import GraphQLClient, History, RestClient, Retry, UnmatchedRequestError

FAST = Retry(backoff=0, jitter=False)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


def service(request: httpx.Request) -> httpx.Response:
    """A little API of every shape HAR must hold."""
    path = request.url.path
    if path == "/old":
        return httpx.Response(301, headers={"Location": "https://api.example/v1/new"})
    if path == "/v1/logo":
        return httpx.Response(200, content=PNG, headers={"Content-Type": "image/png"})
    if path == "/graphql":
        return httpx.Response(200, json={"data": {"a": 1}})
    body = request.content.decode("latin-1")
    return httpx.Response(
        200,
        json={"path": path, "query": str(request.url.query), "got": body},
        headers={"X-Id": "7"},
    )


@pytest.fixture
def transport() -> httpx.MockTransport:
    return httpx.MockTransport(service)


@pytest.fixture
def recorded(tmp_path: Path, transport: httpx.MockTransport) -> Iterator[Path]:
    path = tmp_path / "shapes.har"
    rest = RestClient("https://api.example/v1", transport=transport, history=History(), retry=FAST)
    gql = GraphQLClient(
        "https://api.example/graphql", transport=transport, schema="type Query { a(n: Int): Int }"
    )
    with apinotebook.record(path):
        rest.get("/contacts", params={"b": 2, "a": "x y"})
        rest.post("/contacts", json={"name": "Zoë", "tags": ["a"]})
        rest.post("/form", data={"user": "ada", "password": "hunter2-secret"})
        rest.post("/upload", content=PNG, headers={"Content-Type": "application/octet-stream"})
        rest.get("/logo")
        rest.get("https://api.example/old")
        gql.execute("query A($n: Int) { a(n: $n) }", {"n": 1})
    rest.close()
    gql.close()
    yield path


def test_a_cassette_is_valid_har_with_custom_fields_only(recorded: Path) -> None:
    document = json.loads(recorded.read_text())
    assert har_errors(document) == []
    entries = document["log"]["entries"]
    assert len(entries) == 8  # the redirect is two round trips
    fields = [e["_apinotebook"] for e in entries]
    assert [f["protocol"] for f in fields] == ["rest"] * 7 + ["graphql"]
    assert fields[-1]["graphqlOperation"] == "A" and fields[-1]["operation"] == "A"
    logo = next(e for e in entries if e["request"]["url"].endswith("/logo"))
    assert logo["response"]["content"]["encoding"] == "base64"
    upload = next(e for e in entries if e["request"]["url"].endswith("/upload"))
    assert upload["request"]["postData"]["_encoding"] == "base64"
    assert b"hunter2-secret" not in recorded.read_bytes()


def test_the_checker_catches_what_is_not_har(recorded: Path) -> None:
    document = json.loads(recorded.read_text())
    entry = document["log"]["entries"][0]
    del entry["response"]["redirectURL"]
    entry["request"]["apinotebook"] = {"protocol": "rest"}  # a custom field needs its "_"
    entry["startedDateTime"] = "yesterday"
    errors = har_errors(document)
    assert any("redirectURL" in e for e in errors)
    assert any("request.apinotebook: not a HAR field" in e for e in errors)
    assert any("startedDateTime" in e or "yesterday" in e for e in errors)


def test_every_shape_replays_with_no_network(recorded: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"sent {request.url}")

    offline = httpx.MockTransport(refuse)
    rest = RestClient("https://api.example/v1", transport=offline, history=History(), retry=FAST)
    gql = GraphQLClient(
        "https://api.example/graphql", transport=offline, schema="type Query { a(n: Int): Int }"
    )
    with apinotebook.replay(recorded) as tape:
        assert rest.get("/contacts", params={"a": "x y", "b": 2}).json()["path"] == "/v1/contacts"
        assert rest.post("/contacts", json={"tags": ["a"], "name": "Zoë"}).json()["got"]
        assert rest.post("/form", data={"password": "other", "user": "ada"}).status == 200
        assert rest.post("/upload", content=PNG, headers={"Content-Type": "x/y"}).status == 200
        assert rest.get("/logo").content == PNG
        moved = rest.get("https://api.example/old")
        assert moved.replayed and moved.url.endswith("/v1/new") and moved.json()["path"]
        assert gql.execute("query A($n: Int) {\n  a(n: $n)\n}", {"n": 1}).data == {"a": 1}
        with pytest.raises(UnmatchedRequestError):
            rest.post("/upload", content=PNG + b"!", headers={"Content-Type": "x/y"})
    assert tape.played == 8


# -- HAR files saved by browsers and other tools -------------------------------------------


@pytest.fixture(scope="module")
def inputs() -> Path:
    return browser_hars()


def test_a_chrome_har_replays(inputs: Path) -> None:
    """reqres.in.har: saved by Chrome's dev tools (WebInspector), a POST and a PATCH."""
    path = inputs / "reqres.in.har"
    document = json.loads(path.read_text())
    assert document["log"]["creator"]["name"] == "WebInspector"
    recorded = [e["request"] for e in document["log"]["entries"]]
    bodies = [json.loads(r["postData"]["text"]) for r in recorded]
    answers = [json.loads(e["response"]["content"]["text"]) for e in document["log"]["entries"]]
    api = RestClient("https://reqres.in/api", history=History(), retry=FAST)
    with apinotebook.replay(path) as tape:
        # the same data, keys in another order: JSON is compared as data
        register = api.post("/register", json=dict(reversed(list(bodies[0].items()))))
        patched = api.patch("/users/2", json=bodies[1])
        with pytest.raises(UnmatchedRequestError, match=r"JSON body differs at \$\.") as info:
            api.patch("/users/2", json={**bodies[1], "job": "something else"})
    assert register.replayed and register.status == 200 and register.json() == answers[0]
    assert patched.json() == answers[1]
    assert info.value.closest == "PATCH https://reqres.in:443/api/users/2"
    assert tape.played == 2 and api.history is not None and len(api.history) == 2
    api.close()


def test_a_form_saved_as_params_only_replays(inputs: Path) -> None:
    """Advanced REST Client saves a form post as ``params`` with no ``text``."""
    path = inputs / "url-encoded-body-no-text-field.har"
    api = RestClient("https://reqres.in/api", history=History(), retry=FAST)
    with apinotebook.replay(path):
        created = api.post("/users", data={"user": "test", "password": "not-the-recorded-one"})
        with pytest.raises(UnmatchedRequestError, match="body differs"):
            api.post("/users", data={"user": "someone-else", "password": "test"})
    assert created.status == 201 and created.json()["user"] == "test"
    api.close()


def test_a_redirect_saved_by_chrome_is_followed_from_the_cassette(inputs: Path) -> None:
    path = inputs / "apple-with-cookies.har"
    site = RestClient(history=History(), retry=FAST)
    with apinotebook.replay(path):
        home = site.get("https://apple.com/")
    assert home.replayed and home.status == 200 and home.url == "https://www.apple.com/"
    assert home.meta["redirects"] == ["https://www.apple.com/"]
    assert "<html" in home.text[:2000].lower()
    site.close()


@pytest.mark.parametrize(
    "name",
    [
        "reqres.in.har",
        "string-problematic-characters.har",
        "url-encoded-body-no-text-field.har",
        "login.har",
        "apple-with-cookies.har",
        "apple-buy-a-mac.har",
    ],
)
def test_every_entry_of_a_browser_har_answers_its_own_request(inputs: Path, name: str) -> None:
    path = inputs / name
    cassette = apinotebook.Cassette(path, mode="replay").load()
    entries = json.loads(path.read_text())["log"]["entries"]
    assert len(cassette) == len(entries) > 0
    for entry in cassette.entries:
        request = entry.har["request"]
        post = request.get("postData", {})
        text = post.get("text") or urlencode(
            [(p["name"], p["value"]) for p in post.get("params", [])]
        )
        live = httpx.Request(
            request["method"],
            request["url"],
            headers=[(h["name"], h["value"]) for h in request["headers"] if h["name"][:1] != ":"],
            content=text.encode(),
        )
        raw = cassette.answer(live, entry.protocol, None)
        assert raw is not None and raw.status == entry.har["response"]["status"]


def test_an_error_in_the_block_ejects_the_cassette_and_keeps_what_was_recorded(
    tmp_path: Path, transport: httpx.MockTransport
) -> None:
    from apinotebook._core import cassette as hook

    path = tmp_path / "partial.har"
    rest = RestClient("https://api.example/v1", transport=transport, history=History(), retry=FAST)
    with pytest.raises(RuntimeError, match="cell failed"), apinotebook.record(path):
        rest.get("/contacts")
        raise RuntimeError("cell failed")
    assert hook.active() is None
    assert len(json.loads(path.read_text())["log"]["entries"]) == 1
    with apinotebook.replay(path), pytest.raises(UnmatchedRequestError, match="closest"):
        rest.get("/companies")
    assert hook.active() is None
    rest.close()
