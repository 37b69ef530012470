"""The webhook receiver: slow clients are dropped, connections are capped, replays stored once."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apinotebook._core.signing import signature_header
from apinotebook.integration import StateStore, WebhookReceiver

SECRET = "whsec-security-test"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    s = StateStore(tmp_path / "state.db", "hooks")
    yield s
    s.close()


@pytest.fixture
def receiver(store: StateStore) -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(
        store=store,
        path="/hook",
        secret=SECRET,
        header_timeout=0.5,
        body_timeout=0.5,
        max_connections=4,
    ).start()
    yield r
    r.stop()


def _connect(receiver: WebhookReceiver) -> socket.socket:
    url = httpx.URL(receiver.url)
    sock = socket.create_connection((url.host, url.port or 80), timeout=5)
    return sock


def _closed_within(sock: socket.socket, trickle: bytes, seconds: float) -> float | None:
    """Send ``trickle`` a byte at a time; the seconds until the server hung up, or None."""
    started = time.monotonic()
    sock.settimeout(0.1)
    for byte in trickle:
        if time.monotonic() - started > seconds:
            return None
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return time.monotonic() - started
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - started
        if data == b"" or data.startswith(b"HTTP/1.1 408"):
            return time.monotonic() - started
    return None


def test_a_client_that_trickles_its_headers_is_dropped(receiver: WebhookReceiver) -> None:
    sock = _connect(receiver)
    try:
        head = b"POST /hook HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 200
        took = _closed_within(sock, head, seconds=4)
        assert took is not None and took < 2.0, took
    finally:
        sock.close()


def test_a_client_that_trickles_its_body_is_dropped(receiver: WebhookReceiver) -> None:
    sock = _connect(receiver)
    try:
        sock.sendall(b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{")
        took = _closed_within(sock, b"a" * 400, seconds=4)
        assert took is not None and took < 2.0, took
    finally:
        sock.close()


def test_connections_are_capped_and_served_again_after(
    receiver: WebhookReceiver, store: StateStore
) -> None:
    idle = [_connect(receiver) for _ in range(4)]
    try:
        time.sleep(0.1)
        extra = _connect(receiver)
        extra.settimeout(2)
        try:
            reply = extra.recv(4096)
        except OSError:
            reply = b""
        finally:
            extra.close()
        assert reply.startswith(b"HTTP/1.1 503"), reply
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.7)  # the idle ones are gone after header_timeout at the latest
    body = json.dumps({"id": "evt-1", "n": 1}).encode()
    ok = httpx.post(
        receiver.url, content=body, headers={"X-Signature": signature_header(SECRET, body)}
    )
    assert ok.status_code == 202


def _post(receiver: WebhookReceiver, body: bytes, signature: str, event_id: str) -> httpx.Response:
    headers = {"X-Signature": signature, "X-Event-Id": event_id}
    return httpx.post(receiver.url, content=body, headers=headers)


@pytest.mark.parametrize(
    "body", [b'{"type": "contact.created", "n": 7}', b'{"id": "evt_9", "n": 7}']
)
def test_a_replay_with_a_new_event_id_is_stored_once(
    receiver: WebhookReceiver, store: StateStore, body: bytes
) -> None:
    signature = signature_header(SECRET, body)
    first = _post(receiver, body, signature, "evt-original")
    replayed = _post(receiver, body, signature, "evt-forged-1")
    again = _post(receiver, body, signature, "evt-forged-2")
    assert first.status_code == replayed.status_code == again.status_code == 202
    assert first.json()["duplicate"] is False
    assert replayed.json()["duplicate"] is True and again.json()["duplicate"] is True
    assert len(store.pending_events()) == 1


def test_a_redelivery_with_a_fresh_signature_is_stored_once(
    receiver: WebhookReceiver, store: StateStore
) -> None:
    body = b'{"id": "evt_42", "type": "contact.updated"}'
    now = int(time.time())
    first = _post(receiver, body, signature_header(SECRET, body, now - 10), "evt_42")
    second = _post(receiver, body, signature_header(SECRET, body, now), "evt_42")
    assert first.json()["duplicate"] is False and second.json()["duplicate"] is True
    assert len(store.pending_events()) == 1


def test_distinct_signed_events_are_stored_separately(
    receiver: WebhookReceiver, store: StateStore
) -> None:
    for n in range(3):
        body = json.dumps({"id": f"evt_{n}"}).encode()
        assert _post(receiver, body, signature_header(SECRET, body), "same").status_code == 202
    assert len(store.pending_events()) == 3
