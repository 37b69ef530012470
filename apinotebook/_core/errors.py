"""httpx's transport errors mapped to apinotebook's, and classified for retrying.

The mapping goes by httpx's exception types, never by the words of a message:

==========================  =====================  =============================
httpx                       apinotebook            retry kind (:mod:`~apinotebook.retry`)
==========================  =====================  =============================
``ConnectTimeout``          ``RequestTimeout``     ``"connect"``: nothing was sent
                            (``phase="connect"``)  so even a POST may be retried
``ReadTimeout``,            ``RequestTimeout``     ``"timeout"``: the server may
``WriteTimeout``,           (``phase=`` read,      have acted on the request
``PoolTimeout``             write, pool)
``ConnectError``            ``ConnectError``       ``"connect"``
``RemoteProtocolError``,    ``ProtocolError``      ``"protocol"``
``ReadError``,
``WriteError``
anything else               ``TransportError``     ``"protocol"``
==========================  =====================  =============================

A connect timeout stays a :class:`~apinotebook.RequestTimeout` (what callers
catch for "it took too long", and what the tests pin); its ``phase`` tells
the retry policy it is as safe to retry as a refused connection.
"""

from __future__ import annotations

from typing import Literal

import httpx

from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._exceptions import ConnectError, ProtocolError, RequestTimeout, TransportError
from apinotebook.retry import ErrorKind

__all__ = ["error_kind", "map_httpx_error"]

_PHASES: tuple[
    tuple[type[httpx.TimeoutException], Literal["connect", "read", "write", "pool"]], ...
]
_PHASES = (
    (httpx.ConnectTimeout, "connect"),
    (httpx.ReadTimeout, "read"),
    (httpx.WriteTimeout, "write"),
    (httpx.PoolTimeout, "pool"),
)


def map_httpx_error(exc: httpx.HTTPError, request: httpx.Request) -> TransportError:
    """Translate an httpx transport error into apinotebook's tree (no secrets in it)."""
    url = mask_url(str(request.url))
    detail = mask_text(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.ConnectTimeout):
        return RequestTimeout(
            f"Timed out connecting to {url} ({detail}). Is the host reachable?",
            url=url,
            phase="connect",
        )
    if isinstance(exc, httpx.TimeoutException):
        phase = next((name for kind, name in _PHASES if isinstance(exc, kind)), None)
        return RequestTimeout(
            f"{request.method} {url} timed out ({type(exc).__name__}). "
            "Raise timeout= if the server is just slow.",
            url=url,
            phase=phase,
        )
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(
            f"Could not connect to {url}: {detail}. Is the server running and the URL right?",
            url=url,
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return ProtocolError(
            f"The connection broke during {request.method} {url}: {detail}", url=url
        )
    return TransportError(f"{request.method} {url} failed: {detail}", url=url)


def error_kind(exc: TransportError) -> ErrorKind:
    """How the retry policy sees ``exc``: ``"connect"`` means nothing was sent."""
    if isinstance(exc, ConnectError):
        return "connect"
    if isinstance(exc, RequestTimeout):
        return "connect" if exc.phase == "connect" else "timeout"
    return "protocol"
