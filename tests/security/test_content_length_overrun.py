"""A body longer than its Content-Length is a ProtocolError, not a silently cut body (issue 13).

httpx (h11) stops reading at the declared length and leaves the rest in its
buffer: the caller got the body cut short, and the next request on that
keep-alive connection failed with "illegal status line". The server here is a
raw socket, so it can break HTTP the way a broken server or proxy does.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from apinotebook import ProtocolError, RestClient
from apinotebook._core.bodies import _waiting_on_socket, overrun

EXTRA = b"EXTRA-BYTES"


def _reply(path: bytes) -> bytes:
    if path == b"/over":
        return (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello" + EXTRA
        )
    if path == b"/chunked":
        return (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
            b"5\r\nhello\r\n0\r\n\r\n"
        )
    return b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nright"


def _serve_connection(conn: socket.socket, accepted: list[int]) -> None:
    accepted.append(1)
    with conn, contextlib.suppress(OSError):  # the client may reset it at any time
        buffer = b""
        while True:
            while b"\r\n\r\n" not in buffer:
                data = conn.recv(65536)
                if not data:
                    return
                buffer += data
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            path = head.split(b" ")[1]
            conn.sendall(_reply(path))


@pytest.fixture
def raw_server() -> Iterator[tuple[str, list[int]]]:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[int] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=_serve_connection, args=(conn, accepted), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", accepted
    listener.close()


def test_raw_httpx_cuts_the_body_silently_and_breaks_the_next_request(raw_server):
    # the behaviour being fixed, so this test fails if httpx ever changes it
    url, _ = raw_server
    with httpx.Client(base_url=url) as client:
        assert client.get("/over").content == b"hello"
        with pytest.raises(httpx.RemoteProtocolError, match="illegal status line"):
            client.get("/ok")


def test_a_body_longer_than_its_content_length_is_a_protocol_error(raw_server):
    url, _ = raw_server
    with RestClient(url, history=False) as api:
        with pytest.raises(ProtocolError, match="past the declared Content-Length of 5") as err:
            api.get("/over")
        assert err.value.url == f"{url}/over"


def test_an_overrun_is_retried_like_any_broken_connection(raw_server):
    url, accepted = raw_server
    with RestClient(url, history=False, retry=3) as api:
        with pytest.raises(ProtocolError) as err:
            api.get("/over")
    assert err.value.attempts == 3
    assert len(accepted) == 3  # each attempt on a fresh connection


def test_the_overrun_connection_is_retired_not_reused(raw_server):
    url, accepted = raw_server
    with RestClient(url, history=False, retry=False) as api:
        with pytest.raises(ProtocolError):
            api.get("/over")
        ok = api.get("/ok")
        assert ok.text == "right"
        assert len(accepted) == 2  # a fresh connection; the broken one was closed


def test_well_formed_bodies_on_one_keep_alive_connection_are_not_flagged(raw_server):
    url, accepted = raw_server
    with RestClient(url, history=False) as api:
        texts = [api.get(path).text for path in ("/ok", "/chunked", "/ok", "/ok")]
    assert texts == ["right", "hello", "right", "right"]
    assert len(accepted) == 1  # reused throughout: no false alarm retired it


def test_the_async_path_refuses_an_overrun_too(raw_server):
    url, accepted = raw_server

    async def main() -> str:
        async with RestClient(url, history=False, retry=False) as api:
            with pytest.raises(ProtocolError, match="past the declared Content-Length"):
                await api.aget("/over")
            return (await api.aget("/ok")).text

    assert asyncio.run(main()) == "right"
    assert len(accepted) == 2


class _Stream:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def get_extra_info(self, name: str) -> object:
        return self.sock if name == "socket" else None


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self._network_stream = _Stream(sock)


def test_extra_bytes_still_on_the_socket_are_counted_without_being_consumed():
    ours, theirs = socket.socketpair()
    with ours, theirs:
        connection = _Connection(ours)
        assert _waiting_on_socket(connection) == 0  # nothing yet, and no blocking
        theirs.sendall(EXTRA)
        for _ in range(100):  # the bytes cross the pair at once; allow a scheduler hiccup
            if _waiting_on_socket(connection):
                break
        assert _waiting_on_socket(connection) == len(EXTRA)
        assert ours.recv(64) == EXTRA  # peeked, not consumed


def test_a_response_with_no_connection_underneath_has_no_overrun():
    response = httpx.Response(200, headers={"content-length": "5"}, content=b"hello")
    assert overrun(response) == 0


def test_connections_shared_by_concurrent_calls_are_not_mistaken_for_overruns(raw_server):
    # the check runs before the connection goes back to the pool: after that, another
    # thread's response on the same connection would look like bytes past this body
    url, _ = raw_server
    with RestClient(url, history=False, retry=False) as api:
        exchanges = api.gather([("GET", "/ok")] * 400, concurrency=16)
    assert [ex.text for ex in exchanges] == ["right"] * 400
