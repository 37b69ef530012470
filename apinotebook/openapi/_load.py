"""Read an OpenAPI document from a URL, a file, text or a dict.

Remote documents are fetched over the caller's transport with the caller's
``spec_auth``; the parsed document goes to :mod:`apinotebook.openapi._refs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from apinotebook._core.errors import map_httpx_error
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import SpecError
from apinotebook.openapi._refs import parse_document, read_file

__all__ = ["SpecFetcher", "load_spec"]


class _Borrowed(httpx.BaseTransport):
    """The caller's transport, used without closing it (the client keeps using it)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the wrapped transport."""
        return self._inner.handle_request(request)


class SpecFetcher:
    """Fetches the spec and the documents it refers to, over the client's transport."""

    def __init__(self, kwargs: Mapping[str, Any], auth: httpx.Auth | None) -> None:
        transport = kwargs.get("transport")
        self._settings: dict[str, Any] = {
            "transport": _Borrowed(transport) if transport is not None else None,
            "timeout": kwargs.get("timeout", 30.0),
            "verify": kwargs.get("verify", True),
            "follow_redirects": True,
            "auth": auth,
            "headers": {"Accept": "application/json, application/yaml;q=0.9, */*;q=0.5"},
        }

    def __call__(self, url: str) -> Any:
        shown = mask_url(url)
        with httpx.Client(**self._settings) as client:
            request = client.build_request("GET", url)
            try:
                response = client.send(request)
            except httpx.HTTPError as exc:
                raise map_httpx_error(exc, request) from exc
        if response.status_code >= 400:
            hint = " Pass spec_auth= if it needs credentials." if response.status_code in (
                401, 403) else ""  # fmt: skip
            raise SpecError(
                f"fetching the OpenAPI document {shown} answered HTTP {response.status_code}.{hint}"
            )
        return parse_document(response.content, source=f"the document at {shown}")


def _looks_like_text(spec: str) -> bool:
    head = spec.lstrip("\ufeff \t\r\n")[:200]
    return "\n" in spec.strip() or head.startswith(("{", "[", "openapi", "swagger"))


def load_spec(spec: Any, fetch: SpecFetcher) -> tuple[Any, str | None, str]:
    """The parsed document, its URI (``None`` for text/dicts) and a name for messages."""
    if isinstance(spec, Mapping):
        return spec, None, "the given dict"
    if isinstance(spec, bytes):
        return parse_document(spec, source="the given text"), None, "the given text"
    if isinstance(spec, Path):
        path = spec.expanduser().resolve()
        return read_file(path), path.as_uri(), f"file {spec.name!r}"
    if not isinstance(spec, str):
        raise SpecError(
            f"spec= takes a URL, a file path, JSON/YAML text or a parsed dict, "
            f"not {type(spec).__name__}"
        )
    if not spec.strip():
        raise SpecError(
            "spec= is empty: pass a URL, a path to a JSON/YAML file, the document's text or a dict"
        )
    scheme = urlsplit(spec.strip()).scheme.lower() if "\n" not in spec.strip() else ""
    if scheme in ("http", "https"):
        url = spec.strip()
        return fetch(url), url, f"the document at {mask_url(url)}"
    if scheme == "file":
        return load_spec(Path(url2pathname(urlsplit(spec.strip()).path)), fetch)
    if _looks_like_text(spec):
        return parse_document(spec, source="the given text"), None, "the given text"
    try:
        path = Path(spec).expanduser()
        exists = path.exists()
    except (OSError, ValueError, RuntimeError):  # too long a name, or ~nosuchuser: no file
        path, exists = Path(spec), False
    if exists or path.suffix.lower() in (".json", ".yaml", ".yml"):
        return load_spec(path, fetch)
    parsed = parse_document(spec, source="the given text")
    if not isinstance(parsed, Mapping):
        raise SpecError(
            f"spec {spec[:80]!r} is not an existing file, a URL or an OpenAPI document: pass a "
            "URL (https://...), a path to a JSON/YAML file, the document's text, or a dict"
        )
    return parsed, None, "the given text"
