"""An OpenAPI document, loaded: its operations, built on demand, and requests planned from them.

:class:`OpenAPIDocument` is everything a client needs from the format and
nothing about sending: :class:`apinotebook.rest.OpenAPIClient` holds one and
sends what :meth:`OpenAPIDocument.plan` describes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import httpx

from apinotebook._core.gcpause import gc_paused
from apinotebook._exceptions import ConfigError
from apinotebook.openapi._build import (
    base_url_from_spec,
    build_operation,
    check_version,
    index_operations,
)
from apinotebook.openapi._load import SpecFetcher, load_spec
from apinotebook.openapi._model import Operation, Operations
from apinotebook.openapi._refs import RefResolver
from apinotebook.openapi._request import plan_request

__all__ = ["OpenAPIDocument"]


class OpenAPIDocument:
    """A parsed OpenAPI 3.x / Swagger 2.0 document with lazily built operations.

    Args:
        spec: a URL, a file path, the document's JSON/YAML text, or a parsed dict.
        fetcher: how to fetch remote documents (the spec and its ``$ref``s).
    """

    def __init__(
        self, spec: str | Path | bytes | Mapping[str, Any], *, fetcher: SpecFetcher
    ) -> None:
        # one pause for the parse and the index: the collector then walks the new
        # objects once at the end instead of over and over while the index is built
        with gc_paused():
            document, uri, source = load_spec(spec, fetcher)
            self.major, self.version = check_version(document, source=source)
            self.spec: Mapping[str, Any] = document
            self.url = uri
            self._resolver = RefResolver(
                document, base_uri=uri, loader=fetcher, policy=fetcher.policy
            )
            self._entries = index_operations(document, self._resolver)
            self._hook_entries = index_operations(document, self._resolver, section="webhooks")
        self._built: dict[str, Operation] = {}

    @classmethod
    def load(
        cls,
        spec: str | Path | bytes | Mapping[str, Any],
        *,
        auth: httpx.Auth | None = None,
        remote_refs: bool | Iterable[str] = False,
        ref_root: str | Path | None = None,
        **fetch_options: Any,
    ) -> OpenAPIDocument:
        """Load a document; ``auth`` and ``fetch_options`` (transport, timeout) fetch it.

        ``auth`` goes only to the spec's own origin; ``remote_refs`` and
        ``ref_root`` widen what its ``$ref``s may reach (see :class:`SpecFetcher`).
        """
        fetcher = SpecFetcher(fetch_options, auth, remote_refs=remote_refs, ref_root=ref_root)
        return cls(spec, fetcher=fetcher)

    @property
    def title(self) -> str:
        """``info.title``."""
        info = self.spec.get("info")
        return str(info.get("title") or "") if isinstance(info, Mapping) else ""

    def __len__(self) -> int:
        return len(self._entries)

    def base_url(self, variables: Mapping[str, str] | None = None) -> str:
        """The API root the document declares (``servers[0]`` or Swagger's host/basePath)."""
        return base_url_from_spec(
            self.spec, major=self.major, spec_url=self.url, variables=variables
        )

    @property
    def operations(self) -> Operations:
        """Every operation: a list, also indexable by operation id."""
        return Operations(list(self._entries), self.operation)

    @property
    def webhooks(self) -> Operations:
        """The OpenAPI 3.1 ``webhooks`` the API sends (described, not callable)."""
        return Operations(list(self._hook_entries), self.webhook)

    def operation(self, operation_id: str) -> Operation:
        """The operation with this id.

        Raises:
            ConfigError: no such operation; the message lists close matches.
        """
        built = self._built.get(operation_id)
        if built is not None:
            return built
        entry = self._entries.get(operation_id)
        if entry is None:
            raise self._unknown(operation_id)
        op = build_operation(entry, self.spec, self._resolver, major=self.major)
        self._built[entry.id] = op
        return op

    def webhook(self, name: str) -> Operation:
        """The webhook with this name."""
        entry = self._hook_entries.get(name)
        if entry is None:
            raise ConfigError.invalid_choice("webhook", name, self._hook_entries)
        return build_operation(entry, self.spec, self._resolver, major=self.major)

    def _unknown(self, operation_id: str) -> ConfigError:
        ids = list(self._entries)
        folded = {i.lower().replace("_", "").replace("-", ""): i for i in ids}
        key = str(operation_id).lower().replace("_", "").replace("-", "")
        close = ([folded[key]] if key in folded else []) + get_close_matches(
            str(operation_id), ids, n=5, cutoff=0.6
        )
        close = list(dict.fromkeys(close))[:5]
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        listed = ", ".join(ids[:15]) + (f", ... ({len(ids) - 15} more)" if len(ids) > 15 else "")
        return ConfigError(
            f"Unknown operation {operation_id!r}.{hint} The spec has {len(ids)} operations: "
            f"{listed or 'none'}. Search them with client.operations.search('...')."
        )

    def plan(
        self, operation_id: str, params: Mapping[str, Any], *, base_url: str, validate: bool = True
    ) -> tuple[Operation, str, dict[str, Any]]:
        """The operation, the URL and the request keywords for a call (no I/O)."""
        op = self.operation(operation_id)
        url, kwargs = plan_request(op, params, base_url=base_url, validate=validate)
        return op, url, kwargs

    # -- what a server needs (apinotebook.mock) --------------------------------------

    def routes(self) -> list[tuple[str, str, str]]:
        """``(METHOD, path template, operation id)`` of every operation; nothing is resolved."""
        return [(e.method.upper(), e.path, e.id) for e in self._entries.values()]

    def response_examples(self, operation_id: str, status: str) -> dict[str, Any]:
        """The first example of each media type of one documented response.

        OpenAPI 3: ``content.<type>.example`` or the first of ``.examples``
        (its ``value``); Swagger 2: ``examples.<type>``. Empty when the
        response has none.
        """
        entry = self._entries.get(operation_id)
        if entry is None:
            raise self._unknown(operation_id)
        responses = entry.raw.get("responses")
        raw = responses.get(status) if isinstance(responses, Mapping) else None
        if raw is None:
            return {}
        what = f"response {status} of {entry.method.upper()} {entry.path}"
        with self._resolver.lock:
            resp, base = self._resolver.deref(raw, entry.base, what=what)
            if not isinstance(resp, Mapping):
                return {}
            if self.major == 2:
                found = resp.get("examples")
                return dict(found) if isinstance(found, Mapping) else {}
            out: dict[str, Any] = {}
            content = resp.get("content")
            for media_type, media in (content if isinstance(content, Mapping) else {}).items():
                if not isinstance(media, Mapping):
                    continue
                if "example" in media:
                    out[str(media_type)] = media["example"]
                    continue
                named = media.get("examples")
                for example in (named if isinstance(named, Mapping) else {}).values():
                    node, _ = self._resolver.deref(example, base, what=f"an example of {what}")
                    if isinstance(node, Mapping) and "value" in node:
                        out[str(media_type)] = node["value"]
                        break
            return out
