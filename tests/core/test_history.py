import json
import threading

import httpx
import jsonschema
import pytest

from apinotebook import ConfigError, Exchange, History, Request, RestClient, Secret

# The parts of the HAR 1.2 spec (http://www.softwareishard.com/blog/har-12-spec/) that
# importers check: required fields and their types.
_NV = {
    "type": "object",
    "required": ["name", "value"],
    "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
}
HAR_SCHEMA = {
    "type": "object",
    "required": ["log"],
    "properties": {
        "log": {
            "type": "object",
            "required": ["version", "creator", "entries"],
            "properties": {
                "version": {"const": "1.2"},
                "creator": {"type": "object", "required": ["name", "version"]},
                "entries": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": [
                            "startedDateTime",
                            "time",
                            "request",
                            "response",
                            "cache",
                            "timings",
                        ],
                        "properties": {
                            "startedDateTime": {"type": "string", "format": "date-time"},
                            "time": {"type": "number", "minimum": 0},
                            "request": {
                                "type": "object",
                                "required": [
                                    "method",
                                    "url",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "queryString",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "headers": {"type": "array", "items": _NV},
                                    "queryString": {"type": "array", "items": _NV},
                                    "postData": {
                                        "type": "object",
                                        "required": ["mimeType", "text"],
                                    },
                                },
                            },
                            "response": {
                                "type": "object",
                                "required": [
                                    "status",
                                    "statusText",
                                    "httpVersion",
                                    "cookies",
                                    "headers",
                                    "content",
                                    "redirectURL",
                                    "headersSize",
                                    "bodySize",
                                ],
                                "properties": {
                                    "content": {"type": "object", "required": ["size", "mimeType"]}
                                },
                            },
                            "timings": {"type": "object", "required": ["send", "wait", "receive"]},
                        },
                    },
                },
            },
        }
    },
}


def ex(i: int, **kw) -> Exchange:
    return Exchange(
        protocol="rest",
        request=Request("GET", f"https://h/x/{i}"),
        status=200,
        headers={"content-type": "application/json"},
        content=b'{"i": %d}' % i,
        **kw,
    )


def test_bounded_and_ordered():
    h = History(maxlen=3)
    for i in range(5):
        h.append(ex(i))
    assert len(h) == 3 and [e.url[-1] for e in h] == ["2", "3", "4"]
    assert h.last.url.endswith("4") and h[0].url.endswith("2") and len(h[1:]) == 2
    h.maxlen = 2
    assert [e.url[-1] for e in h] == ["3", "4"]
    h.clear()
    assert len(h) == 0 and h.last is None
    with pytest.raises(ConfigError):
        History(maxlen=0)


def test_listeners_and_thread_safety():
    h = History(maxlen=10_000)
    seen = []
    h.subscribe(seen.append)

    def broken(_):
        raise RuntimeError("a broken view")

    h.subscribe(broken)
    threads = [
        threading.Thread(target=lambda: [h.append(ex(i)) for i in range(500)]) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(h) == 2000 and len(seen) == 2000


def test_to_frame_columns():
    h = History()
    h.append(ex(1))
    frame = h.to_frame()
    assert list(frame.columns) == [
        "time",
        "protocol",
        "operation",
        "method",
        "url",
        "status",
        "elapsed_ms",
        "size",
        "error",
    ]
    assert frame.loc[0, "status"] == 200
    assert History().to_frame().empty


def test_har_is_valid_and_masked(tmp_path):
    token = Secret("har-secret-token-42")

    def handler(request):
        return httpx.Response(
            200,
            json={"echo": request.headers.get("authorization")},
            headers={"set-cookie": "session=har-cookie-value"},
        )

    h = History()
    client = RestClient(
        "https://api.example/v1?api_key=har-secret-token-42",
        transport=httpx.MockTransport(handler),
        history=h,
        headers={"Authorization": f"Bearer {token.reveal()}"},
    )
    client.post("/login", json={"password": "har-password-1", "user": "ada"})
    client.get("/binary")
    h.append(
        Exchange(
            protocol="rest",
            request=Request("GET", "https://h/bin"),
            status=200,
            headers={"content-type": "application/octet-stream"},
            content=b"\xff\x00",
        )
    )
    path = tmp_path / "out.har"
    har = h.to_har(path)
    text = path.read_text()
    jsonschema.validate(json.loads(text), HAR_SCHEMA)
    assert har["log"]["entries"][0]["request"]["postData"]["mimeType"] == "application/json"
    for secret in ("har-secret-token-42", "har-password-1", "har-cookie-value"):
        assert secret not in text
    assert har["log"]["entries"][-1]["response"]["content"]["encoding"] == "base64"


def test_without_bodies_keeps_metadata_and_sizes():
    h = History(maxlen=5, bodies=False)
    heard = []
    h.subscribe(heard.append)
    full = Exchange(
        protocol="rest",
        request=Request("POST", "https://h/x", {"content-type": "application/json"}, b'{"a": 1}'),
        status=201,
        headers={"content-type": "application/json"},
        content=b'{"big": "' + b"x" * 10_000 + b'"}',
        payload={"decoded": True},
    )
    h.append(full)
    kept = h.last
    assert kept is not full and heard == [full]  # listeners still get the whole exchange
    assert kept.content == b"" and kept.request.content == b"" and kept.payload is None
    assert (kept.status, kept.method, kept.url) == (201, "POST", "https://h/x")
    assert kept.size == len(full.content) and kept.meta["request_bytes"] == 8
    assert full.content.startswith(b'{"big"')  # the caller's exchange is untouched


def test_production_block_drops_bodies_then_restores():
    from apinotebook._history import history, production

    own = History(maxlen=50)
    before = (history.bodies, history.maxlen)
    with production(own, maxlen=7):
        assert history.bodies is False and history.maxlen <= 7 and own.bodies is False
        own.append(ex(1))
        assert own.last.content == b"" and own.last.size == len(b'{"i": 1}')
    assert (history.bodies, history.maxlen) == before and own.bodies is True
