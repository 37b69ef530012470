"""Cassette files: HAR 1.2 in, HAR 1.2 out.

Entries are written by the one HAR writer (:func:`apinotebook._history.har_entry`,
which masks URLs, headers and bodies) plus one custom field, ``_apinotebook``,
with what HAR has no place for: the protocol, the operation, the SOAPAction,
the GraphQL operation name. Any HAR 1.2 file reads back, a browser's or
Postman's too: an entry without ``_apinotebook`` has its protocol guessed from
its body.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qsl, quote_plus, urlencode, urlsplit

import httpx

from apinotebook._core import json as _json
from apinotebook._core.cassette import Raw, ReplayedHeaders
from apinotebook._core.secrets import MASK, is_sensitive_header, is_sensitive_name, masks_field
from apinotebook._exceptions import CassetteError
from apinotebook._exchange import Exchange, ProtocolName, Request
from apinotebook._history import har_entry, har_log
from apinotebook.cassettes._match import Matcher, Shape

__all__ = ["Entry", "body_text", "entry_from_har", "new_entry", "read_har", "write_har"]

FIELD = "_apinotebook"
_MIN_ECHO = 6  # shorter values would mask ordinary text (as for registered secrets)
_KINDS: dict[str, ProtocolName] = {"graphql": "graphql", "soap": "soap"}


@dataclass(slots=True)
class Entry:
    """One recorded round trip: its HAR entry, what matching compares, the answer."""

    number: int
    har: dict[str, Any]
    shape: Shape
    protocol: ProtocolName
    operation: str | None
    played: bool = False
    _raw: Raw | None = None

    @property
    def raw(self) -> Raw:
        """The recorded response, as the send loop reads one (built when first played)."""
        if self._raw is None:
            self._raw = _raw_response(self.har)
        return self._raw


def body_text(content: bytes) -> tuple[str, str | None]:
    """A request body as HAR holds it: text, or base64 (then the encoding is named)."""
    try:
        return content.decode("utf-8"), None
    except UnicodeDecodeError:
        return base64.b64encode(content).decode("ascii"), "base64"


def _pairs(items: Any) -> list[tuple[str, str]]:
    if not isinstance(items, list):
        return []
    return [
        (str(h.get("name", "")), str(h.get("value", "")))
        for h in items
        if type(h) is dict and h.get("name")  # JSON objects: no ABC check per header
    ]


def _request_body(request: Mapping[str, Any]) -> str:
    post = request.get("postData")
    if not isinstance(post, Mapping):
        return ""
    text = post.get("text")
    if isinstance(text, str):
        return text
    params = _pairs(post.get("params"))  # browsers save form posts as params only
    return urlencode(params) if params else ""


def _response_content(content: Any) -> bytes:
    if not isinstance(content, Mapping) or not isinstance(content.get("text"), str):
        return b""
    text: str = content["text"]
    if content.get("encoding") == "base64":
        try:
            return base64.b64decode(text)
        except ValueError:
            return text.encode("utf-8")
    return text.encode("utf-8")


def _started(value: Any) -> datetime:
    try:
        started = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return datetime.now(UTC)
    return started if started.tzinfo else started.replace(tzinfo=UTC)


def entry_from_har(number: int, har: dict[str, Any], matcher: Matcher) -> Entry:
    """Read one HAR entry (ours, a browser's, Postman's) into an :class:`Entry`."""
    request, response = har.get("request"), har.get("response")
    if not isinstance(request, Mapping) or not isinstance(response, Mapping):
        raise CassetteError(f"entry {number} has no request or no response")
    field = har.get(FIELD)
    extra: Mapping[str, Any] = field if isinstance(field, Mapping) else {}
    protocol = extra.get("protocol")
    shape = matcher.shape(
        str(request.get("method", "GET")),
        str(request.get("url", "")),
        _pairs(request.get("headers")),
        _request_body(request),
        protocol if isinstance(protocol, str) else None,
    )
    if protocol not in ("rest", "graphql", "soap"):
        protocol = _KINDS.get(shape.kind, "rest")
    operation = extra.get("operation")
    return Entry(
        number,
        har,
        shape,
        cast(ProtocolName, protocol),
        operation if isinstance(operation, str) else None,
    )


def _raw_response(har: Mapping[str, Any]) -> Raw:
    response = har["response"]
    headers = ReplayedHeaders(
        [(k, v) for k, v in _pairs(response.get("headers")) if not k.startswith(":")]
    )
    status = response.get("status")
    time_ms = har.get("time")
    return Raw(
        status=status if isinstance(status, int) else 0,  # 0: no response, as HAR says
        headers=headers,
        content=_response_content(response.get("content")),
        elapsed=float(time_ms) / 1000 if isinstance(time_ms, int | float) and time_ms > 0 else 0.0,
        started_at=_started(har.get("startedDateTime")),
    )


def new_entry(
    request: httpx.Request,
    raw: Raw,
    protocol: ProtocolName,
    operation: str | None,
    matcher: Matcher,
) -> Entry:
    """Record one round trip: masked now, by the one HAR writer; nothing secret is kept."""
    sent = Request.from_httpx(request)
    response = {f.name: getattr(raw, f.name) for f in fields(raw)}  # status, headers, ...
    exchange = Exchange(protocol=protocol, request=sent, operation=operation, **response)
    har = _mask_echoes(har_entry(exchange), _credentials(sent))
    extra: dict[str, Any] = {"protocol": protocol}
    if operation:
        extra["operation"] = operation
    if "content-encoding" in raw.headers:  # HAR holds the decoded body, as browsers do
        extra["decoded"] = raw.headers["content-encoding"]
    har[FIELD] = extra
    entry = entry_from_har(0, har, matcher)  # the cassette numbers it
    if entry.shape.kind == "soap":
        extra["soapAction"] = entry.shape.body[0]
    elif entry.shape.kind == "graphql":
        extra["graphqlOperation"] = entry.shape.body[0]
    return entry


def _credentials(request: Request) -> set[str]:
    """The values the request holds under a credential's name (masked there by name)."""
    found: set[str] = set()
    for name, value in request.headers.multi_items():
        if is_sensitive_header(name):
            found.add(value.partition(" ")[2] if " " in value else value)
    pairs = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
    ctype = request.headers.get("content-type", "")
    text = body_text(request.content)[0] if request.content else ""
    if "x-www-form-urlencoded" in ctype:
        pairs += parse_qsl(text, keep_blank_values=True)
    found.update(v for k, v in pairs if is_sensitive_name(k))
    if text.lstrip()[:1] in ("{", "["):
        try:
            stack = [json.loads(text)]
        except ValueError:
            stack = []
        while stack:
            node = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                if isinstance(value, str) and masks_field(str(key), value):
                    found.add(value)
                elif isinstance(value, dict | list):
                    stack.append(value)
    return {v for v in found if len(v) >= _MIN_ECHO and v != MASK}


def _mask_echoes(har: dict[str, Any], values: set[str]) -> dict[str, Any]:
    """``har`` with ``values`` masked wherever they appear (a response echoing a password)."""
    if not values:
        return har
    text = json.dumps(har, ensure_ascii=False)
    for value in sorted(values, key=len, reverse=True):
        for form in {value, json.dumps(value, ensure_ascii=False)[1:-1], quote_plus(value)}:
            text = text.replace(form, MASK)
    try:
        masked: dict[str, Any] = json.loads(text)
    except ValueError:  # a value held JSON syntax: keep nothing of the bodies rather than leak
        for part in ("request", "response"):
            for key in ("postData", "content"):
                if isinstance(har[part].get(key), dict):
                    har[part][key]["text"] = MASK
        return har
    return masked


def read_har(path: Path, matcher: Matcher) -> Iterator[Entry]:
    """The entries of the HAR file at ``path``, in order."""
    try:
        document = _json.loads(path.read_bytes())
    except OSError as exc:
        raise CassetteError(f"cannot read the cassette {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise CassetteError(f"the cassette {path} is not JSON ({exc}); is it a HAR file?") from exc
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(entries, list):
        raise CassetteError(
            f"the cassette {path} is not a HAR file: it has no log.entries list. "
            "Save a HAR from a browser or Postman, or record one with apinotebook.record()."
        )
    for number, har in enumerate(entries, start=1):
        if not isinstance(har, dict):
            raise CassetteError(f"the cassette {path}: entry {number} is not an object")
        try:
            yield entry_from_har(number, har, matcher)
        except CassetteError as exc:
            raise CassetteError(f"the cassette {path}: {exc}") from exc


def write_har(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write ``entries`` as a HAR 1.2 file, atomically (a crash leaves the old file)."""
    document = har_log(entries)
    document["log"][FIELD] = {"cassette": 1}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(document, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
