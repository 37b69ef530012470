"""Redirects followed by hand, so credentials never cross an origin.

A hop to another scheme, host or port drops every header that is a credential
by name (``Authorization``, ``Cookie``, ``X-Auth-Key``, ...) or that carries a
registered secret under any name; a 303 (and a 301/302 after a POST) becomes a
GET without a body. Only http and https are followed.
"""

from __future__ import annotations

import httpx

from apinotebook._core.secrets import carries_secret, is_sensitive_header, mask_text, mask_url
from apinotebook._core.urls import same_origin
from apinotebook._exceptions import ProtocolError

__all__ = ["next_hop"]


def next_hop(
    request: httpx.Request, status: int, headers: httpx.Headers
) -> tuple[httpx.Request, bool]:
    """The next hop's request after a ``status`` redirect, and whether it leaves the origin."""
    location = headers["location"]
    try:
        url = request.url.join(location)
    except httpx.InvalidURL as exc:
        raise ProtocolError(
            f"the server redirected to an invalid URL ({mask_text(location)[:200]!r})"
        ) from exc
    if url.scheme not in ("http", "https"):
        raise ProtocolError(f"refusing to follow a redirect to {mask_url(str(url))}")
    method = request.method
    if status == 303 and method != "HEAD" or status in (301, 302) and method == "POST":
        method = "GET"
    cross = not same_origin(url, request.url)
    kept = httpx.Headers(
        [
            (k, v)
            for k, v in request.headers.multi_items()
            if k.lower() != "host"
            # credentials stay on their origin: by name, and by value (a Secret's or an
            # auth object's value under any header name)
            and not (cross and (is_sensitive_header(k) or carries_secret(v)))
            and not (method != request.method and k.lower() in ("content-length", "content-type"))
        ]
    )
    content = request.content if method == request.method else b""
    return httpx.Request(method, url, headers=kept, content=content), cross
