"""One sandbox (chat and mail) for the stream tests, and clients for it."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from apinotebook import ApiKey, Bearer, GraphQLClient, History, RestClient
from apinotebook.sandbox import Sandbox


@pytest.fixture(scope="module")
def sb():
    with Sandbox(services=("chat", "mail"), seed=11) as box:
        yield box


@pytest.fixture
def clean(sb):
    """No faults before and after the test."""
    sb.set_faults()
    yield sb
    sb.set_faults()


@pytest.fixture
def hist() -> History:
    return History()


@pytest.fixture
def chat(sb, hist):
    with RestClient(sb.urls["chat"], auth=Bearer(sb.env["CHAT_TOKEN"]), history=hist) as client:
        yield client


@pytest.fixture
def mail(sb, hist):
    auth = ApiKey(sb.env["MAIL_API_KEY"], header="X-API-Key")
    with GraphQLClient(sb.urls["mail"], auth=auth, history=hist) as client:
        yield client


def _wait_until(check: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def wait_until():
    """Poll ``check`` (the server side settles a moment after the client)."""
    return _wait_until
