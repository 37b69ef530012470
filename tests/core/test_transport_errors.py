"""httpx's errors mapped by type, never by the words of the message."""

from __future__ import annotations

import httpx
import pytest

from apinotebook import (
    ConnectError,
    History,
    ProtocolError,
    RequestTimeout,
    RestClient,
    Retry,
    TransportError,
)
from apinotebook._core.errors import error_kind, map_httpx_error

REQUEST = httpx.Request("POST", "https://connect.example/v1/x?api_key=k-err-1")


@pytest.mark.parametrize(
    ("error", "typed", "phase", "kind"),
    [
        (httpx.ConnectTimeout("timed out"), RequestTimeout, "connect", "connect"),
        (httpx.ReadTimeout("connect read"), RequestTimeout, "read", "timeout"),
        (httpx.WriteTimeout("slow"), RequestTimeout, "write", "timeout"),
        (httpx.PoolTimeout("slow"), RequestTimeout, "pool", "timeout"),
        (httpx.ConnectError("refused"), ConnectError, None, "connect"),
        (httpx.RemoteProtocolError("peer closed"), ProtocolError, None, "protocol"),
        (httpx.ReadError("reset"), ProtocolError, None, "protocol"),
        (httpx.WriteError("broken pipe"), ProtocolError, None, "protocol"),
        (httpx.DecodingError("bad gzip"), TransportError, None, "protocol"),
    ],
)
def test_mapping_table(error, typed, phase, kind):
    mapped = map_httpx_error(error, REQUEST)
    assert type(mapped) is typed
    assert getattr(mapped, "phase", None) == phase
    assert error_kind(mapped) == kind
    assert "k-err-1" not in str(mapped) and mapped.url is not None and "k-err-1" not in mapped.url


def test_the_word_connect_in_a_message_does_not_make_a_timeout_a_connect_failure():
    # the host is called "connect" and the message says "connection": still a read timeout
    mapped = map_httpx_error(httpx.ReadTimeout("connection read timed out"), REQUEST)
    assert error_kind(mapped) == "timeout"
    assert error_kind(RequestTimeout("Timed out connecting")) == "timeout"  # no phase: unknown


def scripted(*outcomes: httpx.Response | Exception) -> tuple[RestClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(outcomes)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    client = RestClient(
        "https://connect.example/v1",
        transport=httpx.MockTransport(handler),
        retry=Retry(backoff=0, jitter=False),
        history=History(),
    )
    return client, seen


def test_a_post_is_retried_after_a_connect_timeout():
    client, seen = scripted(httpx.ConnectTimeout("timed out"), httpx.Response(201))
    assert client.post("/x", json={}).status == 201
    assert len(seen) == 2


def test_a_post_is_not_retried_after_a_read_timeout_on_a_host_named_connect():
    client, seen = scripted(httpx.ReadTimeout("read timed out"), httpx.Response(201))
    with pytest.raises(RequestTimeout) as info:
        client.post("/x", json={})
    assert info.value.phase == "read" and info.value.attempts == 1
    assert len(seen) == 1
