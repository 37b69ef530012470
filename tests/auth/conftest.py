"""The user-delegated OAuth flows against the sandbox's real authorization server.

Nothing is mocked: the sandbox serves ``/auth`` on loopback, the flows start
their own loopback redirect receivers, and a "browser" (httpx) logs in on the
consent page and follows the redirect back to the receiver, as a person would.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from auth_helpers import Browser, unique

from apinotebook.auth import OAuth2AuthorizationCode, OAuth2DeviceCode
from apinotebook.sandbox import Sandbox

#: Short device-flow timings so the polling tests take a fraction of a second.
OPTIONS = {"auth": {"device_interval": 0.05, "slow_down_step": 0.05}}


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(services=("auth",), seed=7, options=OPTIONS) as box:
        yield box


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "sb" in request.fixturenames:
        request.getfixturevalue("sb").set_faults()


@pytest.fixture
def browser(sb: Sandbox) -> Browser:
    return Browser(sb)


@pytest.fixture
def code_flow(sb: Sandbox) -> Iterator[Any]:
    """Build authorization-code flows for the public client; closed afterwards."""
    made: list[OAuth2AuthorizationCode] = []

    def make(**kwargs: Any) -> OAuth2AuthorizationCode:
        issuer = sb.env["AUTH_ISSUER"]
        settings: dict[str, Any] = {
            "client_id": sb.env["AUTH_PUBLIC_CLIENT_ID"],
            "scope": "openid profile email",
            "name": unique(),
            "interactive": False,
            "wait_timeout": 10,
        }
        settings.update(kwargs)
        flow = OAuth2AuthorizationCode.from_issuer(issuer, **settings)
        made.append(flow)
        return flow

    yield make
    for flow in made:
        flow.cancel()
        flow.close()


@pytest.fixture
def device_flow(sb: Sandbox) -> Iterator[Any]:
    """Build device flows for the public client; closed afterwards."""
    made: list[OAuth2DeviceCode] = []

    def make(**kwargs: Any) -> OAuth2DeviceCode:
        settings: dict[str, Any] = {
            "client_id": sb.env["AUTH_PUBLIC_CLIENT_ID"],
            "scope": "openid profile",
            "name": unique(),
            "interactive": False,
        }
        settings.update(kwargs)
        flow = OAuth2DeviceCode.from_issuer(sb.env["AUTH_ISSUER"], **settings)
        flow.slow_down_step = 0.05  # RFC 8628 says 5 s; the sandbox's options match this
        made.append(flow)
        return flow

    yield make
    for flow in made:
        flow.cancel()
        flow.close()
