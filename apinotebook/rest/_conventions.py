"""API conventions a REST client options into: the version header and the HTTP cache.

- ``version=("X-API-Version", "2024-01-01")`` (or ``"X-API-Version: 2024-01-01"``)
  is a default header every request carries;
- ``cache=`` puts `hishel <https://hishel.com>`_ (the ``cache`` extra) in front of
  the transport: stored ``GET`` answers are read from a SQLite file, so re-running
  a notebook does not spend the API's rate limit again. What is stored never
  holds a credential: the request's ``Authorization``, ``Cookie`` and API-key
  headers and the response's ``Set-Cookie`` are dropped before hishel writes,
  the stored URL is masked, and the credentials enter the cache key only as a
  digest (two users of one cache file never see each other's answers).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from apinotebook._core.conditional import CACHE_META
from apinotebook._core.http import default_tls
from apinotebook._core.secrets import carries_secret, is_sensitive_header, mask_url
from apinotebook._exceptions import ConfigError, MissingExtraError

__all__ = ["HttpCache", "cache_transports", "version_header"]

#: the RFC 9211 ``Cache-Status`` entry the cache adds: ``apinotebook; hit``
CACHE_NAME = "apinotebook"


def version_header(value: tuple[str, str] | str | None) -> tuple[str, str] | None:
    """``version=`` as ``(header, value)``."""
    if value is None:
        return None
    if isinstance(value, str):
        name, sep, text = value.partition(":")
        pair = (name.strip(), text.strip()) if sep else ("", "")
    elif isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        pair = (value[0].strip(), value[1].strip())
    else:
        pair = ("", "")
    if not pair[0] or not pair[1] or any(c in pair[0] for c in " \t\r\n"):
        raise ConfigError(
            f"version= takes (header, value) or 'Header: value', e.g. "
            f"('X-API-Version', '2024-01-01'), not {value!r}"
        )
    return pair


@dataclass(frozen=True)
class HttpCache:
    """An on-disk HTTP cache for exploration (hishel, SQLite).

    Args:
        path: the SQLite file (default ``~/.cache/apinotebook/http-cache.sqlite``).
        ttl: seconds a stored answer is served (``None``: until removed).
        rfc: ``False`` (exploration): serve every stored successful ``GET`` until
            ``ttl``, whatever its caching headers say; ``True``: follow RFC 9111
            (``Cache-Control``, revalidation with ``ETag``).
    """

    path: str | Path | None = None
    ttl: float | None = 3600.0
    rfc: bool = False

    @property
    def file(self) -> Path:
        """Where the cache is stored."""
        if self.path is not None:
            return Path(self.path).expanduser()
        root = Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser()
        return root / "apinotebook" / "http-cache.sqlite"


def _resolve(cache: Any) -> HttpCache | None:
    if isinstance(cache, HttpCache) or cache is None or cache is False:
        return cache or None
    if cache is True or isinstance(cache, str | Path):
        return HttpCache(path=None if cache is True else cache)
    raise ConfigError(f"cache= takes True, a path or an HttpCache, not {type(cache).__name__}")


def cache_transports(
    cache: Any, transport: httpx.BaseTransport | None, verify: Any
) -> tuple[httpx.BaseTransport | None, httpx.AsyncBaseTransport | None]:
    """The sync and async transports for a client with ``cache=`` (async calls bypass it)."""
    settings = _resolve(cache)
    if settings is None:
        return transport, None
    try:
        import hishel
        from hishel.httpx import CacheTransport
    except ImportError as exc:
        raise MissingExtraError("The HTTP cache (cache=)", "cache", module="hishel") from exc
    tls = default_tls() if verify is True else verify
    inner = transport if transport is not None else httpx.HTTPTransport(verify=tls)
    outer: httpx.AsyncBaseTransport | None = None
    if isinstance(inner, httpx.AsyncBaseTransport):
        outer = inner
    elif transport is None:
        outer = httpx.AsyncHTTPTransport(verify=tls)
    settings.file.parent.mkdir(parents=True, exist_ok=True)

    class _Storage(hishel.SqliteStorage):
        def create_entry(
            self, request: Any, response: Any, key: str, *, ttl: Any = None, tti: Any = None
        ) -> Any:
            return super().create_entry(
                _stored_request(request), _stored_response(response), key, ttl=ttl, tti=tti
            )

    storage = _Storage(database_path=settings.file, default_ttl=settings.ttl)

    class _Cache(CacheTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            request.extensions = {**request.extensions, "caching": {"key": _key(request)}}
            response = super().handle_request(request)
            status = response.extensions.get("caching") or {}
            if status.get("from_cache"):
                response.headers["Cache-Status"] = f"{CACHE_NAME}; hit"
            return response

    return _Cache(inner, storage=storage, rfc=settings.rfc), outer


def _key(request: httpx.Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url}".encode())
    for name, value in sorted(request.headers.multi_items()):
        if is_sensitive_header(name) or carries_secret(value):
            digest.update(f"\0{name}\0{value}".encode())
    return digest.hexdigest()


def _stored_request(request: Any) -> Any:
    import hishel

    headers = {
        name: [v for v in request.headers.get_list(name) or [] if not carries_secret(v)]
        for name in request.headers
        if not is_sensitive_header(name)
    }
    return hishel.Request(
        method=request.method, url=mask_url(request.url), headers=hishel.Headers(headers)
    )


def _stored_response(response: Any) -> Any:
    import hishel

    headers = {
        name: [v for v in response.headers.get_list(name) or [] if not carries_secret(v)]
        for name in response.headers
        if name.lower() not in ("set-cookie", "set-cookie2")
    }
    return hishel.Response(
        status_code=response.status_code, headers=hishel.Headers(headers), stream=response.stream
    )


def cache_state(headers: httpx.Headers) -> str | None:
    """``"hit"`` when the cache answered (its ``Cache-Status`` entry)."""
    value = headers.get("cache-status", "")
    return "hit" if value.startswith(f"{CACHE_NAME}; hit") else None


__all__ += ["CACHE_META", "cache_state"]
