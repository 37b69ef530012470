"""The one origin rule: where credentials may go.

Redirects (:mod:`apinotebook._core.http`), next-page links
(:mod:`apinotebook.paginate`) and WSDL imports (:mod:`apinotebook.soap`) all
ask the same question, "is this URL on the same origin as that one?", and
answer it here, the way browsers do (RFC 6454): scheme, host and port, with
the scheme and host compared case-insensitively and a default port equal to
no port (``https://a.example`` is ``https://A.example:443/``).
"""

from __future__ import annotations

import httpx

__all__ = ["DEFAULT_PORTS", "Origin", "origin", "same_origin"]

#: The port a URL of this scheme means when it names none.
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}

#: ``(scheme, host, port)``; the port is ``None`` only for a scheme with no default.
Origin = tuple[str, str, int | None]


def origin(url: str | httpx.URL) -> Origin:
    """The origin of ``url``: lower-case scheme and host, and the port (default filled in).

    Raises:
        ValueError: ``url`` cannot be parsed, has a port out of range, or has
            no scheme or no host (a relative URL, ``file:``).
    """
    if not isinstance(url, httpx.URL):
        try:
            url = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"not a valid URL: {exc}") from exc
    scheme, host, port = url.scheme, url.host, url.port  # httpx lower-cases scheme and host
    if not scheme or not host:  # relative, or file: (an opaque origin: same as none)
        raise ValueError("not a valid URL for an origin: it has no scheme or no host")
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"not a valid URL: port {port} is out of range")
    return (scheme, host, port or DEFAULT_PORTS.get(scheme))


def same_origin(a: str | httpx.URL, b: str | httpx.URL) -> bool:
    """Whether ``a`` and ``b`` share an origin (an unparseable URL shares none)."""
    try:
        return origin(a) == origin(b)
    except ValueError:
        return False
