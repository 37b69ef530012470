"""The Exchange as a pure value, and the bad-input corpus for decoding."""

import json

import pytest

from apinotebook import (
    DecodeError,
    Exchange,
    GraphQLResponseError,
    HTTPStatusError,
    Request,
    Secret,
    SoapFault,
)

JSON = {"content-type": "application/json"}


def make(content=b"", status=200, headers=None, protocol="rest", **kw):
    return Exchange(
        protocol=protocol,
        request=Request("GET", "https://api.example/v1/items?limit=2"),
        status=status,
        headers=JSON if headers is None else headers,
        content=content,
        elapsed=0.0123,
        **kw,
    )


def test_built_without_network_and_decoded_lazily():
    ex = make(b'{"data": [{"id": 1, "tags": ["a"]}, {"id": 2, "tags": []}]}')
    assert ex.ok and ex.status == 200 and ex.reason == "OK"
    assert ex.json()["data"][1]["id"] == 2
    assert ex.data is ex.json()  # cached
    assert ex.to_frame("data")["id"].tolist() == [1, 2]
    assert ex.size == len(ex.content)
    assert ex.raise_for_status() is ex


def test_repr_is_short_and_stable():
    text = repr(make(b"{}"))
    assert text.startswith("<Exchange rest GET https://api.example/v1/items?limit=2 → 200 OK")
    assert "0x" not in text and len(text) < 160


@pytest.mark.parametrize(
    ("content", "headers", "fragment"),
    [
        (b"{not json", JSON, "malformed JSON"),
        (
            b"<html><body>502 Bad Gateway</body></html>",
            {"content-type": "text/html"},
            "HTML or XML, not JSON",
        ),
        (b"plain words", {"content-type": "text/plain"}, "text/plain, not JSON"),
        (b"", JSON, "is empty"),
        (b"   ", JSON, "is empty"),
        (b'{"a": "\xff\xfe"}', JSON, "not valid UTF-8"),
        (b'{"truncated": [1, 2', JSON, "malformed JSON"),
    ],
)
def test_bad_bodies_raise_decode_error(content, headers, fragment):
    ex = make(content, headers=headers)
    with pytest.raises(DecodeError, match=fragment) as info:
        ex.json()
    assert info.value.exchange is ex


def test_data_for_rest_bodies():
    assert make(b"").data is None
    assert make(b"hello", headers={"content-type": "text/plain"}).data == "hello"
    assert make(b"[1, 2]", headers={}).data == [1, 2]
    with pytest.raises(DecodeError):
        _ = make(b"{oops", headers=JSON).data


def test_text_uses_declared_charset_and_replaces_bad_bytes():
    ex = make("héllo".encode("latin-1"), headers={"content-type": "text/plain; charset=latin-1"})
    assert ex.text == "héllo"
    assert "\ufffd" in make(b"\xff", headers={"content-type": "text/plain"}).text
    bogus = make(b"abc", headers={"content-type": "text/plain; charset=no-such-codec"})
    assert bogus.text == "abc"


@pytest.mark.parametrize("status", [400, 401, 404, 422, 500, 503])
def test_error_status_raises_with_exchange(status):
    ex = make(b'{"error": "nope"}', status=status)
    assert not ex.ok
    with pytest.raises(HTTPStatusError, match=str(status)) as info:
        ex.raise_for_status()
    assert info.value.exchange is ex and info.value.status == status


def test_graphql_200_with_errors_keeps_partial_data():
    body = {
        "data": {"list": {"name": "N", "engagement": None}},
        "errors": [{"message": "engagement timed out", "path": ["list", "engagement"]}],
    }
    ex = make(json.dumps(body).encode(), protocol="graphql")
    assert not ex.ok
    assert ex.data == body["data"] and ex.errors[0]["path"] == ["list", "engagement"]
    with pytest.raises(GraphQLResponseError, match="engagement timed out") as info:
        ex.raise_for_status()
    assert info.value.data == body["data"] and info.value.errors == body["errors"]


def test_graphql_non_object_body_is_a_decode_error():
    ex = make(b"[1]", protocol="graphql")
    with pytest.raises(DecodeError, match="JSON object"):
        _ = ex.data
    assert ex.errors == []


def test_soap_payload_and_fault():
    ok = make(
        b"<xml/>", protocol="soap", payload={"id": "C1"}, headers={"content-type": "text/xml"}
    )
    assert ok.data == {"id": "C1"} and ok.ok
    fault = {"code": "soap:Client", "message": "Customer not found", "detail": {"code": "NF"}}
    bad = make(b"<xml/>", status=500, protocol="soap", meta={"fault": fault})
    with pytest.raises(SoapFault, match="Customer not found") as info:
        bad.raise_for_status()
    assert info.value.code == "soap:Client" and info.value.detail == {"code": "NF"}


def test_secrets_masked_in_every_rendering():
    token = Secret("exch-secret-token-1")
    ex = Exchange(
        protocol="rest",
        request=Request(
            "POST",
            "https://api.example/login?api_key=exch-secret-token-1",
            {"Authorization": f"Bearer {token.reveal()}", "Content-Type": "application/json"},
            b'{"password": "hunter2-long", "user": "ada"}',
        ),
        status=401,
        headers={"content-type": "application/json", "set-cookie": "session=abcdef123"},
        content=b'{"echo": "exch-secret-token-1"}',
    )
    renderings = [repr(ex), ex._repr_html_(), json.dumps(ex.to_dict()), ex.summary()]
    for text in renderings:
        assert "exch-secret-token-1" not in text
        assert "hunter2-long" not in text
        assert "abcdef123" not in text
    with pytest.raises(HTTPStatusError) as info:
        ex.raise_for_status()
    assert "exch-secret-token-1" not in str(info.value)
    revealed = json.dumps(ex.to_dict(reveal_secrets=True))
    assert "exch-secret-token-1" in revealed and "hunter2-long" in revealed


def test_failed_exchange_without_response():
    ex = make(status=0, error="ConnectError: refused", headers={})
    assert not ex.ok and ex.reason == "no response"
    assert "failed: ConnectError" in repr(ex)


def test_replace_and_unknown_protocol():
    ex = make(b"{}")
    other = ex.replace(status=404)
    assert other.status == 404 and ex.status == 200
    with pytest.raises(Exception, match="Valid protocols"):
        make(protocol="ftp")
