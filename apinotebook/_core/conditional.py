"""Conditional requests: ETag / If-None-Match and Last-Modified / If-Modified-Since.

A :class:`Validators` store remembers, per client and in memory, the last
``200`` answer to each ``GET`` that carried a validator (``ETag`` or
``Last-Modified``). The next ``GET`` of the same URL, with the same
credentials, asks the server *has it changed?* (``If-None-Match``,
``If-Modified-Since``); a ``304 Not Modified`` comes back as an exchange with
the remembered status, headers and body, ``from_cache`` set, and the fresh
headers of the 304 (its rate-limit budget included) merged in (RFC 9111
section 4.3.4). A successful write (``POST``, ``PUT``, ``PATCH``, ``DELETE``)
to a URL forgets what was remembered for it (section 4.4).

A request that already carries a conditional header of its own is left as
the caller wrote it: they asked for the raw ``304``.

Nothing here is written to disk; the credentials of a request only enter the
key as a digest, so two users of one client never see each other's answers.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from apinotebook._exchange import Exchange

__all__ = ["CACHE_META", "Validators"]

#: ``exchange.meta`` key saying where the body came from: ``"revalidated"`` (a 304
#: answered from the remembered response) or ``"hit"`` (served by the HTTP cache).
CACHE_META = "cache"

_CONDITIONAL = ("if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range")
_CREDENTIALS = ("authorization", "cookie", "proxy-authorization", "x-api-key", "api-key")
#: headers a 304 must not overwrite (they describe the body it does not carry)
_BODY_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})
#: headers not kept with the remembered response: they go stale at once
_VOLATILE = ("ratelimit", "x-ratelimit-", "retry-after")
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_CREDENTIALS_RAW = frozenset(n.encode() for n in _CREDENTIALS)
_CONDITIONAL_RAW = frozenset(n.encode() for n in _CONDITIONAL)
#: the response headers that decide whether and how an answer is remembered
_VALIDATING = frozenset({"etag", "last-modified", "cache-control", "vary"})


@dataclass(slots=True)
class _Entry:
    status: int
    headers: list[tuple[str, str]]
    content: bytes
    etag: str | None
    last_modified: str | None
    vary: tuple[tuple[str, str], ...]


def _vary(names: str, request_headers: httpx.Headers) -> tuple[tuple[str, str], ...] | None:
    """The request's values of the headers ``Vary`` names (``None`` for ``Vary: *``)."""
    wanted = [n.strip().lower() for n in names.split(",") if n.strip()]
    if "*" in wanted:
        return None
    # credentials are in the key already (and an auth object adds its own after this)
    return tuple(
        (n, "" if n in _CREDENTIALS else request_headers.get(n, "")) for n in sorted(wanted)
    )


class Validators:
    """Remembered ``GET`` answers with validators, for conditional requests.

    Args:
        max_entries: responses remembered (least recently used go first).
        max_bytes: total body bytes remembered.
        max_entry: a body larger than this is not remembered.
    """

    def __init__(
        self,
        *,
        max_entries: int = 512,
        max_bytes: int = 64 * 1024 * 1024,
        max_entry: int = 8 * 1024 * 1024,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_entry = max_entry
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        """Forget every remembered response."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @staticmethod
    def _scan(request: httpx.Request, identity: str) -> tuple[str, bool]:
        """The cache key and whether the caller sent a conditional header: one pass."""
        secret = b""
        conditional = False
        for raw_name, raw_value in request.headers.raw:
            name = raw_name.lower()
            if name in _CREDENTIALS_RAW:
                secret += b"\0" + name + b"\0" + raw_value
            elif name in _CONDITIONAL_RAW:
                conditional = True
        who = hashlib.sha256(secret).hexdigest()[:32] if secret else ""
        return f"{request.url}#{identity}#{who}", conditional

    def prepare(
        self, request: httpx.Request, *, identity: str = ""
    ) -> Callable[[Exchange], Exchange] | None:
        """Add validators to ``request`` if an answer is remembered; the decoder for its reply.

        ``identity`` names the credentials an auth object adds later (they are
        not in ``request`` yet). Returns ``None`` when there is nothing to do.
        """
        method = request.method
        if method not in _WRITES and method not in ("GET", "HEAD"):
            return None
        key, conditional = self._scan(request, identity)
        if method in _WRITES:
            return lambda exchange: self._after_write(exchange, key)
        if conditional:
            return None  # the caller's own conditional request: theirs to read
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
        if entry is not None and entry.vary == _vary(
            ",".join(n for n, _ in entry.vary), request.headers
        ):
            if entry.etag is not None:
                request.headers["If-None-Match"] = entry.etag
            if entry.last_modified is not None:
                request.headers["If-Modified-Since"] = entry.last_modified
        else:
            entry = None
        if method == "HEAD" and entry is None:
            return None
        return lambda exchange: self._after_read(exchange, key, entry)

    def _after_write(self, exchange: Exchange, key: str) -> Exchange:
        if 200 <= exchange.status < 400:
            self._forget(key)
        return exchange

    def _forget(self, key: str) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.content)

    def _after_read(self, exchange: Exchange, key: str, entry: _Entry | None) -> Exchange:
        if exchange.status == 304 and entry is not None:
            return self._revalidated(exchange, key, entry)
        if exchange.status == 200 and exchange.method == "GET":
            self._remember(exchange, key)
        return exchange

    def _revalidated(self, exchange: Exchange, key: str, entry: _Entry) -> Exchange:
        fresh = {name.lower() for name, _ in exchange.headers.multi_items()} - _BODY_HEADERS
        merged = [(n, v) for n, v in entry.headers if n.lower() not in fresh]
        merged += [(n, v) for n, v in exchange.headers.multi_items() if n.lower() in fresh]
        kept = [(n, v) for n, v in merged if not n.lower().startswith(_VOLATILE)]
        with self._lock:
            if self._entries.get(key) is entry:
                entry.headers = kept
                etag, modified = exchange.headers.get("etag"), exchange.headers.get("last-modified")
                entry.etag = etag or entry.etag
                entry.last_modified = modified or entry.last_modified
        meta = {**exchange.meta, CACHE_META: "revalidated", "wire_status": 304}
        content = entry.content if exchange.method == "GET" else b""
        return exchange.replace(status=entry.status, headers=merged, content=content, meta=meta)

    def _remember(self, exchange: Exchange, key: str) -> None:
        found: dict[str, str] = {}
        kept: list[tuple[str, str]] = []
        for name, value in exchange.headers.multi_items():  # one pass (names are lower case)
            if name in _VALIDATING:
                found[name] = f"{found[name]}, {value}" if name in found else value
            if not name.startswith(_VOLATILE):
                kept.append((name, value))
        etag, modified = found.get("etag"), found.get("last-modified")
        no_store = "no-store" in found.get("cache-control", "").lower()
        if (etag is None and modified is None) or no_store:
            self._forget(key)
            return
        vary = _vary(found.get("vary", ""), exchange.request.headers)
        if vary is None or len(exchange.content) > self.max_entry:
            self._forget(key)
            return
        entry = _Entry(
            status=exchange.status,
            headers=kept,
            content=exchange.content,
            etag=etag,
            last_modified=modified,
            vary=vary,
        )
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old.content)
            self._entries[key] = entry
            self._bytes += len(entry.content)
            while self._entries and (
                len(self._entries) > self.max_entries or self._bytes > self.max_bytes
            ):
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped.content)
