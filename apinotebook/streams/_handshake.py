"""The opening request of a WebSocket: URL, headers and auth, as for any HTTP call.

A WebSocket starts as an HTTP GET, so the package's auth objects apply to it
unchanged: the auth flow runs on an ``httpx.Request`` for the ``http(s)``
twin of the ``ws(s)`` URL, and whatever it set (an ``Authorization`` header,
an ``api_key`` query parameter, a token it fetched first for OAuth 2.0 client
credentials) goes into the handshake. The request is kept (masked when shown)
for the stream record.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from apinotebook._core.errors import map_httpx_error
from apinotebook._core.http import USER_AGENT
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ConfigError

__all__ = ["handshake_request", "http_twin", "ws_url"]

_TWINS = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def http_twin(url: str) -> httpx.URL:
    """``ws://h/p`` as ``http://h/p`` (``wss`` as ``https``); http(s) URLs unchanged."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"{mask_url(url)} is not a URL: {exc}") from exc
    scheme = _TWINS.get(parsed.scheme)
    if scheme is None or not parsed.host:
        raise ConfigError(
            f"A WebSocket URL must be absolute ws://, wss://, http:// or https://; got "
            f"{mask_url(url)!r}"
        )
    return parsed.copy_with(scheme=scheme)


def ws_url(url: httpx.URL) -> str:
    """The ``ws(s)`` form of an ``http(s)`` URL."""
    return str(url.copy_with(scheme="wss" if url.scheme == "https" else "ws"))


def handshake_request(
    url: str,
    *,
    auth: httpx.Auth | None,
    headers: Mapping[str, str] | None,
    params: Mapping[str, Any] | None,
    client: httpx.Client | None = None,
) -> httpx.Request:
    """The GET that opens the WebSocket, with the auth flow's headers and query applied.

    Requests the auth flow makes first (a token endpoint) are sent with ``client``.
    """
    target = http_twin(url)
    if params:
        target = target.copy_merge_params(dict(params))
    request = httpx.Request("GET", target, headers={"User-Agent": USER_AGENT, **(headers or {})})
    if auth is None:
        return request
    flow = auth.sync_auth_flow(request)
    step = next(flow)
    if step is request:  # header and query auth: no request of its own
        return request
    own = client or httpx.Client()  # made only when needed: a new client loads the CA store
    try:
        while step is not request:
            try:
                response = own.send(step)
                response.read()
            except httpx.HTTPError as exc:
                raise map_httpx_error(exc, step) from exc
            try:
                step = flow.send(response)
            except StopIteration:
                break
    finally:
        if client is None:
            own.close()
    return request
