"""The send loop's cassette hook: a tape answers or keeps each round trip, sync and async."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
import pytest

from apinotebook import History, RestClient, Retry
from apinotebook._core import cassette as hook
from apinotebook._core.cassette import Raw, ReplayedHeaders


class Tape:
    def __init__(self, answers: dict[str, Raw] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[tuple[str, str, str | None]] = []
        self.kept: list[tuple[str, int]] = []

    def answer(self, request: httpx.Request, protocol: str, operation: str | None) -> Raw | None:
        self.asked.append((request.url.path, protocol, operation))
        return self.answers.get(request.url.path)

    def keep(self, request: httpx.Request, outcome: Raw, protocol: str, operation: str | None):
        self.kept.append((request.url.path, outcome.status))


def raw(status: int, body: bytes = b"{}") -> Raw:
    headers = ReplayedHeaders({"content-type": "application/json"})
    return Raw(status, headers, body, 0.001, datetime.now(UTC))


@pytest.fixture
def sent() -> list[str]:
    return []


@pytest.fixture
def client(sent: list[str]):
    def serve(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if request.url.path == "/v1/moved":
            return httpx.Response(302, headers={"Location": "/v1/here"})
        return httpx.Response(200, json={"live": request.url.path})

    c = RestClient("https://api.example/v1", transport=httpx.MockTransport(serve),
                   history=History(), retry=Retry(backoff=0, jitter=False))  # fmt: skip
    yield c
    c.close()


def test_no_tape_sends(client, sent):
    assert hook.active() is None
    ex = client.get("/a")
    assert sent == ["/v1/a"] and not ex.replayed


def test_a_tape_answers_without_sending(client, sent):
    tape = Tape({"/v1/a": raw(201, b'{"from": "tape"}')})
    hook.install(tape)
    try:
        ex = client.get("/a")
        live = asyncio.run(client.aget("/b"))
    finally:
        hook.uninstall(tape)
    assert ex.status == 201 and ex.json() == {"from": "tape"} and ex.replayed
    assert repr(ex).endswith(" · replayed>") and "replayed" not in repr(live)
    assert sent == ["/v1/b"] and not live.replayed
    assert tape.asked == [("/v1/a", "rest", None), ("/v1/b", "rest", None)]
    assert tape.kept == [("/v1/b", 200)]  # only what went on the wire is kept
    assert client.history.last is live and len(client.history) == 2


def test_each_redirect_hop_goes_through_the_tape(client, sent):
    tape = Tape()
    hook.install(tape)
    try:
        ex = client.get("/moved")
    finally:
        hook.uninstall(tape)
    assert ex.status == 200 and tape.kept == [("/v1/moved", 302), ("/v1/here", 200)]


def test_the_innermost_tape_answers_and_the_outer_one_comes_back(client, sent):
    outer, inner = Tape({"/v1/a": raw(200, b'{"t": 1}')}), Tape({"/v1/a": raw(200, b'{"t": 2}')})
    hook.install(outer)
    hook.install(inner)
    try:
        assert client.get("/a").json() == {"t": 2}
        hook.uninstall(inner)
        assert hook.active() is outer and client.get("/a").json() == {"t": 1}
    finally:
        hook.uninstall(inner)
        hook.uninstall(outer)
    assert hook.active() is None and sent == []
