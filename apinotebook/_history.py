"""A bounded history of exchanges, shared by every client, with HAR export.

Every client records each attempt of each call into a :class:`History` —
by default the one process-wide :data:`history`, so REST, GraphQL and SOAP
calls appear together in order. The history is bounded (oldest dropped
first), thread-safe, and can be watched (the history widget subscribes).

``to_har(path)`` writes HAR 1.2 (the format browsers' dev tools and Postman
import), with secrets masked.

A notebook keeps whole exchanges (bodies included) to look inside them. A
production run (an exported script or flow) keeps only their metadata
(``bodies=False``: method, URL, status, headers, timings and the body sizes
in ``meta``), so a long run's memory stays flat however large the pages are;
the :func:`production` block switches the shared history to that.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast, overload
from urllib.parse import parse_qsl, urlsplit

from apinotebook.__about__ import __version__
from apinotebook._core import contracts as _contracts
from apinotebook._core.render import history_html
from apinotebook._core.secrets import mask_body, mask_headers, mask_url
from apinotebook._exceptions import ConfigError
from apinotebook._exchange import _UNSET, Exchange, Request

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["History", "history", "production", "register_har_fields", "without_bodies"]

Listener = Callable[[Exchange], None]
#: extra fields for a record's HAR entry (stream records add ``_webSocketMessages``)
HarFields = Callable[[Exchange], dict[str, Any]]
_HAR_FIELDS: list[HarFields] = []


def register_har_fields(fields: HarFields) -> None:
    """Let ``fields(exchange)`` add to (or override) each HAR entry ``to_har`` writes."""
    if fields not in _HAR_FIELDS:
        _HAR_FIELDS.append(fields)


class History:
    """The last ``maxlen`` exchanges, oldest first.

    Args:
        maxlen: how many exchanges to keep (older ones are dropped).
        bodies: keep request and response bodies (``False``: metadata only,
            see :func:`without_bodies`); listeners still see whole exchanges.
    """

    def __init__(self, maxlen: int = 500, *, bodies: bool = True) -> None:
        if maxlen < 1:
            raise ConfigError("History(maxlen=...) must be at least 1")
        #: whether recorded exchanges keep their bodies
        self.bodies = bodies
        self._items: deque[Exchange] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []

    # -- recording -------------------------------------------------------------

    def append(self, exchange: Exchange) -> None:
        """Record one exchange (without its bodies unless :attr:`bodies`); tell the listeners."""
        kept = exchange if self.bodies else without_bodies(exchange)
        with self._lock:
            self._items.append(kept)
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(exchange)
            except Exception:  # noqa: BLE001 - a broken view must not break a call
                self.unsubscribe(listener)

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(exchange)`` after each new exchange."""
        with self._lock:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        """Stop calling ``listener``."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def clear(self) -> None:
        """Forget every exchange."""
        with self._lock:
            self._items.clear()

    @property
    def maxlen(self) -> int:
        """How many exchanges are kept."""
        return self._items.maxlen or 0

    @maxlen.setter
    def maxlen(self, value: int) -> None:
        if value < 1:
            raise ConfigError("History.maxlen must be at least 1")
        with self._lock:
            self._items = deque(self._items, maxlen=value)

    # -- reading ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Exchange]:
        with self._lock:
            items = list(self._items)
        return iter(items)

    @overload
    def __getitem__(self, index: int) -> Exchange: ...
    @overload
    def __getitem__(self, index: slice) -> list[Exchange]: ...
    def __getitem__(self, index: int | slice) -> Exchange | list[Exchange]:
        with self._lock:
            items = list(self._items)
        return items[index]

    @property
    def last(self) -> Exchange | None:
        """The most recent exchange, if any."""
        with self._lock:
            return self._items[-1] if self._items else None

    def diff(self, a: int | Exchange = -2, b: int | Exchange = -1, **options: Any) -> Any:
        """The structural diff of two exchanges (by index or given): see ``Exchange.diff``.

        ``history.diff()`` compares the last two; ``history.diff(0, -1, key="id")``
        the first and the last. Options as for :meth:`Exchange.diff`.
        """
        return _contracts.call("history_diff", self, a, b, **options)

    def to_frame(self) -> pd.DataFrame:
        """One row per exchange: time, protocol, operation, method, URL, status, elapsed, size."""
        import pandas as pd

        rows = [
            {
                "time": ex.started_at,
                "protocol": ex.protocol,
                "operation": ex.operation,
                "method": ex.method,
                "url": mask_url(ex.url),
                "status": ex.status,
                "elapsed_ms": round(ex.elapsed * 1000, 3),
                "size": ex.size,
                "error": ex.error,
            }
            for ex in self
        ]
        columns = [
            "time",
            "protocol",
            "operation",
            "method",
            "url",
            "status",
            "elapsed_ms",
            "size",
            "error",
        ]
        return pd.DataFrame(rows, columns=columns)

    def to_har(self, path: str | PathLike[str] | None = None) -> dict[str, Any]:
        """HAR 1.2 of every exchange, secrets masked; written to ``path`` if given."""
        har = to_har(list(self))
        if path is not None:
            Path(path).write_text(json.dumps(har, indent=2, ensure_ascii=False), encoding="utf-8")
        return har

    def to_postman(self, path: str | PathLike[str], *, name: str | None = None) -> dict[str, Any]:
        """Write the exchanges as a Postman v2.1 collection (and an environment of names).

        Secrets are masked first (through :meth:`to_har`); see
        :func:`apinotebook.collections.to_postman`.
        """
        from apinotebook._core.converters import convert

        return cast(dict[str, Any], convert("postman", self, path, name=name))

    def __repr__(self) -> str:
        return f"<History {len(self)} of {self.maxlen} exchanges>"

    def _repr_html_(self) -> str:
        return history_html(self)


def _har_headers(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in mask_headers(pairs)]


def _har_content(content: bytes, mime: str, headers_ctype: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"size": len(content), "mimeType": mime or "x-unknown"}
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        out["text"] = base64.b64encode(content).decode("ascii")
        out["encoding"] = "base64"
    else:
        out["text"] = mask_body(text, headers_ctype)
    return out


def to_har(exchanges: list[Exchange]) -> dict[str, Any]:
    """A HAR 1.2 log of ``exchanges`` (secrets masked)."""
    return har_log([har_entry(ex) for ex in exchanges])


def har_log(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """The HAR 1.2 document around ``entries`` (from :func:`har_entry`)."""
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "apinotebook", "version": __version__},
            "pages": [],
            "entries": entries,
        }
    }


def har_entry(ex: Exchange) -> dict[str, Any]:
    """One HAR 1.2 entry for ``ex``: URL, headers and bodies masked."""
    req = ex.request
    req_ctype = req.headers.get("content-type")
    request: dict[str, Any] = {
        "method": req.method,
        "url": mask_url(req.url),
        "httpVersion": "HTTP/1.1",
        "cookies": [],
        "headers": _har_headers(list(req.headers.multi_items())),
        "queryString": [
            {"name": k, "value": v}
            for k, v in parse_qsl(urlsplit(mask_url(req.url)).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(req.content),
    }
    if req.content:
        post = _har_content(req.content, req_ctype or "", req_ctype)
        request["postData"] = {"mimeType": post["mimeType"], "text": post["text"]}
        if "encoding" in post:  # HAR's postData has no encoding field: say it in a custom one
            request["postData"]["_encoding"] = post["encoding"]
    ms = round(ex.elapsed * 1000, 3)
    entry = {
        "startedDateTime": ex.started_at.isoformat(),
        "time": ms,
        "request": request,
        "response": {
            "status": ex.status,
            "statusText": ex.reason if ex.status else (ex.error or ""),
            "httpVersion": "HTTP/1.1",
            "cookies": [],
            "headers": _har_headers(list(ex.headers.multi_items())),
            "content": _har_content(
                ex.content, ex.headers.get("content-type", ""), ex.content_type
            ),
            "redirectURL": mask_url(ex.headers.get("location", "")),
            "headersSize": -1,
            "bodySize": ex.size,
        },
        "cache": {},
        "timings": {"send": 0, "wait": ms, "receive": 0},
        "comment": f"{ex.protocol}" + (f" {ex.operation}" if ex.operation else ""),
    }
    for fields in _HAR_FIELDS:  # what other record kinds add (streams: _webSocketMessages)
        entry.update(fields(ex))
    return entry


def without_bodies(exchange: Exchange) -> Exchange:
    """A copy of ``exchange`` without request and response bodies or decoded payload.

    The sizes stay in ``meta`` (``response_bytes``, ``request_bytes``), so
    summaries still tell how large each call was.
    """
    request = exchange.request
    if not exchange.content and not request.content and exchange.payload is _UNSET:
        return exchange
    changes: dict[str, Any] = {
        "content": b"",
        "request": Request(request.method, request.url, request.headers),
        "meta": {
            **exchange.meta,
            "response_bytes": len(exchange.content),
            "request_bytes": len(request.content),
        },
    }
    if exchange.payload is not _UNSET:
        changes["payload"] = None
    return exchange.replace(**changes)


#: The process-wide history every client records into by default.
history = History()


@contextmanager
def production(*others: History, maxlen: int = 100) -> Iterator[None]:
    """While the block runs, the shared history (and ``others``) keep metadata only.

    The shared history also keeps at most ``maxlen`` exchanges. Exported
    scripts and flows run inside this; a notebook keeps whole exchanges.
    The previous settings come back afterwards.
    """
    targets = [history, *others]
    before = [(h, h.bodies, h.maxlen) for h in targets]
    for h in targets:
        h.bodies = False
    history.maxlen = min(history.maxlen, maxlen)
    try:
        yield
    finally:
        for h, bodies, size in before:
            h.bodies = bodies
            h.maxlen = size
