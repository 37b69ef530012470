"""Read an OpenAPI document from a URL, a file, text or a dict.

Remote documents are fetched over the caller's transport; the caller's
``spec_auth`` goes only to the origin the spec itself came from (a ``$ref`` to
another origin is fetched without it, and only when ``remote_refs=`` allows it).
The parsed document goes to :mod:`apinotebook.openapi._refs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import httpx

from apinotebook._core.http import DEFAULT_MAX_RESPONSE_SIZE, HttpCore
from apinotebook._core.secrets import mask_url
from apinotebook._exceptions import ConfigError, SpecError
from apinotebook.openapi._refs import RefPolicy, origin_of, parse_document, read_file

__all__ = ["SpecFetcher", "load_spec"]


class _Borrowed(httpx.BaseTransport):
    """The caller's transport, used without closing it (the client keeps using it)."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send through the wrapped transport."""
        return self._inner.handle_request(request)


class SpecFetcher:
    """Fetches the spec and the documents it refers to, over the client's transport.

    Args:
        kwargs: the client's options (``transport``, ``timeout``, ``verify``,
            ``max_response_size``).
        auth: ``spec_auth``: sent only to the origin the spec came from.
        remote_refs: which other origins a ``$ref`` may fetch (see
            :class:`~apinotebook.openapi._refs.RefPolicy`).
        ref_root: the folder a local spec's ``$ref`` may read (default: its own).
    """

    def __init__(
        self,
        kwargs: Mapping[str, Any],
        auth: httpx.Auth | None,
        *,
        remote_refs: bool | Iterable[str] = False,
        ref_root: str | Path | None = None,
    ) -> None:
        transport = kwargs.get("transport")
        # the shared send loop: redirects that drop credentials across origins, the size
        # limit counted as compressed bodies inflate, no retries, nothing in the history
        self._options: dict[str, Any] = dict(
            auth=auth,
            headers={"Accept": "application/json, application/yaml;q=0.9, */*;q=0.5"},
            timeout=kwargs.get("timeout", 30.0),
            retry=False,
            transport=_Borrowed(transport) if transport is not None else None,
            history=None,
            max_response_size=kwargs.get("max_response_size", DEFAULT_MAX_RESPONSE_SIZE),
            verify=kwargs.get("verify", True),
        )
        #: the origin ``spec_auth`` may go to: the spec's own, once it is fetched
        self.spec_origin: tuple[str, str, int | None] | None = None
        self.policy = RefPolicy.make(
            remote_refs=remote_refs,
            ref_root=ref_root,
            max_size=kwargs.get("max_response_size", DEFAULT_MAX_RESPONSE_SIZE),
        )

    def fetch_spec(self, url: str) -> Any:
        """Fetch the spec itself: its origin is the one that gets ``spec_auth``."""
        self.spec_origin = origin_of(url)
        return self(url)

    def __call__(self, url: str) -> Any:
        shown = mask_url(url)
        same_origin = self.spec_origin is not None and origin_of(url) == self.spec_origin
        core = HttpCore(**self._options)  # one per document: $refs are fetched on demand
        try:
            try:
                request = core.build_request("GET", url)
            except ConfigError as exc:
                raise SpecError(f"cannot fetch the OpenAPI document {shown}: {exc}") from exc
            # spec_auth goes to the spec's own origin only (and never across a redirect)
            exchange = core.send(request, operation="spec", auth="default" if same_origin else None)
        finally:
            core.close()
        if exchange.status >= 400:
            hint = " Pass spec_auth= if it needs credentials." if exchange.status in (
                401, 403) else ""  # fmt: skip
            raise SpecError(
                f"fetching the OpenAPI document {shown} answered HTTP {exchange.status}.{hint}"
            )
        return parse_document(exchange.content, source=f"the document at {shown}")


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
        document = read_file(path, max_size=fetch.policy.max_size)
        return document, path.as_uri(), f"file {spec.name!r}"
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
        return fetch.fetch_spec(url), url, f"the document at {mask_url(url)}"
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
