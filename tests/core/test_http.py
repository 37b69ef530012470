"""The shared send loop: retries, redirects, limits, error mapping and auth, mocked and real."""

from __future__ import annotations

import asyncio
import gzip
import json

import httpx
import pytest
from http_fakes import Recorder, client
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.routing import Route

from apinotebook import (
    ApiKey,
    Basic,
    Bearer,
    ConfigError,
    ConnectError,
    History,
    HTTPStatusError,
    OAuth2ClientCredentials,
    ProtocolError,
    RequestTimeout,
    ResponseTooLarge,
    RestClient,
    Retry,
    Secret,
)
from apinotebook._core.http import HttpCore
from apinotebook.sandbox import Mount, Sandbox


def test_retries_are_recorded_in_history():
    rec = Recorder(
        httpx.Response(503),
        httpx.Response(429, headers={"Retry-After": "0"}),
        httpx.Response(200, json={"ok": True}),
    )
    c = client(rec)
    ex = c.get("/x")
    assert ex.ok and ex.retries == 2
    assert [a.status for a in ex.attempts] == [503, 429, 200]
    assert [e.status for e in c.history] == [503, 429, 200]


def test_post_is_not_retried_without_idempotency_key():
    rec = Recorder(httpx.Response(503), httpx.Response(200))
    c = client(rec)
    assert c.post("/x", json={}).status == 503
    assert len(rec.requests) == 1
    rec2 = Recorder(httpx.Response(503), httpx.Response(201))
    c2 = client(rec2)
    assert c2.post("/x", json={}, headers={"Idempotency-Key": "k-1"}).status == 201
    assert len(rec2.requests) == 2


@pytest.mark.parametrize(
    ("error", "typed"),
    [
        (httpx.ConnectError("refused"), ConnectError),
        (httpx.ConnectTimeout("slow"), RequestTimeout),
        (httpx.ReadTimeout("slow"), RequestTimeout),
        (httpx.RemoteProtocolError("peer closed"), ProtocolError),
        (httpx.ReadError("reset"), ProtocolError),
    ],
)
def test_transport_errors_are_mapped_after_retries(error, typed):
    rec = Recorder(error)
    c = client(rec, retry=Retry(max_attempts=3, backoff=0))
    with pytest.raises(typed) as info:
        c.get("/x")
    assert info.value.attempts == 3 and len(rec.requests) == 3
    assert isinstance(info.value.__cause__, httpx.HTTPError) or info.value.__cause__ is None
    assert len(c.history) == 3 and all(e.status == 0 and e.error for e in c.history)


def test_connect_error_retried_even_for_post():
    rec = Recorder(httpx.ConnectError("refused"), httpx.Response(201))
    assert client(rec).post("/x", json={}).status == 201


def test_redirect_same_origin_keeps_auth_cross_origin_drops_it():
    seen: list[tuple[str, str | None, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(
            (
                str(request.url),
                request.headers.get("authorization"),
                request.headers.get("x-api-key"),
            )
        )
        if request.url.path == "/v1/start":
            return httpx.Response(302, headers={"Location": "/v1/moved"})
        if request.url.path == "/v1/moved":
            return httpx.Response(307, headers={"Location": "https://evil.example/steal"})
        return httpx.Response(200, json={})

    c = client(handler, auth=Bearer("redir-token-123"), headers={"X-API-Key": "k-redirect-1"})
    ex = c.get("/start")
    assert ex.ok and ex.url == "https://evil.example/steal"
    assert seen[0][1] == "Bearer redir-token-123" and seen[1][1] == "Bearer redir-token-123"
    assert seen[2][1] is None and seen[2][2] is None
    assert ex.meta["redirects"] == ["https://api.example/v1/moved", "https://evil.example/steal"]


def test_303_turns_post_into_get():
    def handler(request):
        if request.method == "POST":
            return httpx.Response(303, headers={"Location": "/v1/result"})
        return httpx.Response(
            200, json={"method": request.method, "body": request.content.decode()}
        )

    ex = client(handler).post("/submit", json={"a": 1})
    assert ex.json() == {"method": "GET", "body": ""}


def test_redirect_loop_is_a_protocol_error():
    rec = Recorder(httpx.Response(302, headers={"Location": "/v1/again"}))
    with pytest.raises(ProtocolError, match="more than 20 redirects"):
        client(rec).get("/again")


def test_response_size_limit():
    big = httpx.Response(200, content=b"x" * 5000)
    with pytest.raises(ResponseTooLarge, match="max_response_size"):
        client(Recorder(big), max_response_size=1000).get("/big")
    assert (
        client(Recorder(httpx.Response(200, content=b"x" * 5000)), max_response_size=None)
        .get("/big")
        .size
        == 5000
    )


def test_streamed_body_over_limit_without_content_length():
    def handler(request):
        return httpx.Response(200, content=iter([b"a" * 600, b"b" * 600]))

    with pytest.raises(ResponseTooLarge):
        client(handler, max_response_size=1000).get("/stream")


def test_async_size_limit_declared_streamed_and_compressed():
    packed = gzip.compress(b"z" * 5000)  # small on the wire, over the limit once decoded

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/declared":
            return httpx.Response(200, content=b"x" * 5000)
        if request.url.path == "/gzip":
            return httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=packed)

        async def chunks():
            yield b"a" * 600
            yield b"b" * 600

        return httpx.Response(200, content=chunks())

    async def main() -> list[str]:
        c = RestClient(
            "https://api.example",
            transport=httpx.MockTransport(handler),
            max_response_size=1000,
            history=None,
        )
        seen = []
        for path in ("/declared", "/stream", "/gzip"):
            with pytest.raises(ResponseTooLarge):
                await c.aget(path)
            seen.append(path)
        return seen

    assert len(packed) < 1000
    assert asyncio.run(main()) == ["/declared", "/stream", "/gzip"]


def test_gzip_body_is_counted_after_decoding():
    packed = gzip.compress(b"z" * 5000)
    response = httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=packed)
    assert len(packed) < 1000
    with pytest.raises(ResponseTooLarge):
        client(Recorder(response), max_response_size=1000).get("/gzip")
    ok = httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=packed)
    assert client(Recorder(ok), max_response_size=10_000).get("/gzip").content == b"z" * 5000


def test_raise_for_status_option():
    c = client(Recorder(httpx.Response(404, json={"error": "nope"})), raise_for_status=True)
    with pytest.raises(HTTPStatusError, match="404 Not Found"):
        c.get("/missing")


@pytest.mark.parametrize(
    ("auth", "check"),
    [
        (
            Bearer(Secret("bear-123456")),
            lambda r: r.headers["authorization"] == "Bearer bear-123456",
        ),
        (Basic("ada", "pw-123456"), lambda r: r.headers["authorization"].startswith("Basic ")),
        (ApiKey("key-123456"), lambda r: r.headers["x-api-key"] == "key-123456"),
        (ApiKey("key-123456", query="api_key"), lambda r: r.url.params["api_key"] == "key-123456"),
        (ApiKey("key-123456", cookie="sid"), lambda r: r.headers["cookie"] == "sid=key-123456"),
    ],
)
def test_auth_flows(auth, check):
    rec = Recorder(httpx.Response(200, json={}))
    ex = client(rec, auth=auth).get("/x")
    assert check(rec.requests[0])
    assert "123456" not in json.dumps(ex.to_dict())


def test_api_key_in_one_place_only():
    with pytest.raises(ConfigError, match="only one of"):
        ApiKey("k", header="X-Key", query="key")


def test_oauth2_client_credentials_fetches_caches_and_refreshes_on_401():
    state = {"tokens": 0, "valid": set()}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            assert request.headers["authorization"].startswith("Basic ")
            assert b"grant_type=client_credentials" in request.content
            state["tokens"] += 1
            token = f"access-token-{state['tokens']:04d}"
            state["valid"] = {token}
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        return httpx.Response(200 if bearer in state["valid"] else 401, json={})

    auth = OAuth2ClientCredentials("https://api.example/oauth/token", "cid", "csecret-123456")
    c = client(handler, auth=auth)
    assert c.get("/a").ok and c.get("/b").ok
    assert state["tokens"] == 1  # cached
    state["valid"] = set()  # the server revokes every token
    ex = c.get("/c")
    assert ex.ok and state["tokens"] == 2 and auth.fetches == 2
    assert "access-token" not in json.dumps(ex.to_dict())


def test_oauth2_bad_client_is_a_clear_error():
    def handler(request):
        return httpx.Response(401, json={"error": "invalid_client"})

    auth = OAuth2ClientCredentials("https://api.example/oauth/token", "cid", "wrong-secret")
    with pytest.raises(HTTPStatusError, match="invalid_client"):
        client(handler, auth=auth).get("/x")


# -- against a real server over loopback -------------------------------------------


async def _echo(request: StarletteRequest) -> JSONResponse:
    return JSONResponse({"n": request.query_params.get("n")})


@pytest.fixture(scope="module")
def server():
    app = Starlette(routes=[Route("/echo", _echo, methods=["GET", "POST"])])
    mounts = [Mount(prefix="/demo", app=app, service="demo", urls={"demo": "/demo"})]
    with Sandbox(services=(), extra_mounts=mounts, seed=5) as sb:
        yield sb


def test_real_faults_are_survived_by_retries(server):
    server.set_faults(
        "demo", error_rate=0.2, drop_rate=0.1, truncate_rate=0.1, throttle_rate=0.1, retry_after=0
    )
    try:
        history = History(maxlen=10_000)
        with RestClient(
            server.urls["demo"], retry=Retry(max_attempts=8, backoff=0.001), history=history
        ) as c:
            results = [c.get("/echo", params={"n": i}).json()["n"] for i in range(60)]
        assert results == [str(i) for i in range(60)]
        failed = [e for e in history if not e.ok]
        assert failed, "faults were injected, so some attempts must have failed"
        assert {e.status for e in failed} & {0, 429, 500, 502, 503}
    finally:
        server.set_faults("demo")


def test_real_connect_error(server):
    with RestClient("http://127.0.0.1:9", retry=False, history=None) as c:
        with pytest.raises(ConnectError, match="Could not connect"):
            c.get("/x")


def test_static_auth_header_with_an_innocent_name_does_not_cross_origins():
    seen: list[tuple[str, str | None]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.host, request.headers.get("x-shop-access")))
        if request.url.host == "api.example":
            return httpx.Response(302, headers={"Location": "https://other.example/x"})
        return httpx.Response(200, json={})

    client(handler, auth=ApiKey("shop-key-123456", header="X-Shop-Access")).get("/start")
    assert seen == [("api.example", "shop-key-123456"), ("other.example", None)]


@pytest.mark.parametrize(
    "base", ["https://api.example/v1/", "https://api.example", "http://h:8080/a/b"]
)
@pytest.mark.parametrize(
    "path",
    ["contacts", "/contacts/1", "https://elsewhere.example/abs", "//other.test/x", "a b/ü",
     "", "./x", "x#frag"],
)  # fmt: skip
def test_urls_are_joined_exactly_as_httpx_joins_them(base, path):
    core = HttpCore(base_url=base, history=None)
    raw = httpx.Client(base_url=base)
    for _ in range(2):  # the second build comes from the join cache
        ours = core.build_request("GET", path, params={"p": "1"})
        assert str(ours.url) == str(raw.build_request("GET", path, params={"p": "1"}).url)


def test_the_join_cache_follows_the_base_url():
    core = HttpCore(base_url="https://a.example/v1/", history=None)
    assert str(core.build_request("GET", "x").url) == "https://a.example/v1/x"
    core._client.base_url = "https://b.example/v2/"
    assert str(core.build_request("GET", "x").url) == "https://b.example/v2/x"
