"""Request matching that understands the protocol.

A request is reduced to a :class:`Shape`, the parts a cassette compares:

- method, origin (scheme, host, port) and path;
- the query as a sorted list of pairs (order-insensitive), minus ignored names;
- the body, by protocol: a GraphQL request by operation name, variables (as
  data) and the query normalised by graphql-core (``print_ast`` of the parsed
  document: whitespace, commas and comments do not count); a SOAP request by
  SOAPAction and the canonical XML (C14N 2.0) of its envelope without the
  WS-Security header (nonces and timestamps); JSON as data (key order and
  spacing do not count); forms as sorted pairs; anything else as text;
- headers only when asked (``match_headers``).

Both sides are masked first, exactly as the cassette file is
(:mod:`apinotebook._core.secrets`), so a live request carrying a real token
matches the recording that holds ``***``; where the recording holds ``***``
any value matches.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from graphql import GraphQLError, parse, print_ast
from lxml import etree

from apinotebook._core.paths import split_path
from apinotebook._core.secrets import MASK, mask_body, mask_header, mask_url
from apinotebook._core.xml import SOAP11_ENV_NS, SOAP12_ENV_NS, parse_xml
from apinotebook._exceptions import ConfigError

__all__ = ["Matcher", "Shape"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
#: Headers never compared: they vary between runs or machines, or are set by httpx.
VOLATILE_HEADERS = frozenset(
    {"user-agent", "content-length", "host", "accept-encoding", "connection", "date",
     "idempotency-key", "x-request-id", "x-correlation-id", "traceparent", "tracestate",
     "cookie", "authorization"}
)  # fmt: skip
_WSSE_LOCAL = "Security"
_tostring: Any = etree.tostring  # lxml's stubs do not know C14N 2.0's strip_text
_ENVELOPES = (SOAP11_ENV_NS, SOAP12_ENV_NS)


@dataclass(frozen=True, slots=True)
class Shape:
    """What matching compares of one request (built from its masked form)."""

    method: str
    origin: str
    path: str
    query: tuple[tuple[str, str], ...]
    kind: str  # "", "graphql", "soap", "json", "form", "text"
    body: Any
    headers: tuple[tuple[str, str], ...] = ()
    key: Hashable = field(default=None, compare=False)

    @property
    def target(self) -> str:
        """``METHOD URL`` as the error messages show it."""
        query = "&".join(f"{k}={v}" for k, v in self.query)
        return f"{self.method} {self.origin}{self.path}" + (f"?{query}" if query else "")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@functools.lru_cache(maxsize=512)
def normalise_query(query: str) -> str:
    """A GraphQL document as graphql-core prints it (the text itself if it does not parse)."""
    try:
        return print_ast(parse(query, no_location=True))
    except (GraphQLError, RecursionError):
        return " ".join(query.split())


def _soap_action(headers: Sequence[tuple[str, str]]) -> str:
    for name, value in headers:
        lower = name.lower()
        if lower == "soapaction":
            return value.strip().strip('"')
        if lower == "content-type":
            for part in value.split(";")[1:]:
                key, _, val = part.strip().partition("=")
                if key.lower() == "action":
                    return val.strip().strip('"')
    return ""


def _canonical_xml(text: str, ignore: frozenset[str]) -> str:
    try:
        root = parse_xml(text.encode("utf-8"))
    except etree.XMLSyntaxError:
        return " ".join(text.split())
    for element in list(root.iter()):
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if local in ignore or (local == _WSSE_LOCAL and element.getparent() is not None):
            parent = element.getparent()
            if parent is not None:
                parent.remove(element)
    data: bytes = _tostring(root, method="c14n2", strip_text=True)
    return data.decode("utf-8")


def _drop(value: Any, path: tuple[str | int, ...]) -> Any:
    """A copy of ``value`` without what ``path`` names (``*`` is any key or index)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            hit = head == "*" or str(head) == k
            if hit and not rest:
                continue
            out[k] = _drop(v, rest) if hit else v
        return out
    if isinstance(value, list):
        if head == "*":
            return [_drop(v, rest) for v in value] if rest else []
        if str(head).lstrip("-").isdigit():
            index = int(head)
            if -len(value) <= index < len(value):
                copy = list(value)
                if rest:
                    copy[index] = _drop(copy[index], rest)
                else:
                    del copy[index]
                return copy
    return value


def _freeze(value: Any) -> Hashable:
    if isinstance(value, dict | list):
        return _canonical(value)
    if isinstance(value, tuple):
        return tuple(_freeze(v) for v in value)
    return value  # type: ignore[no-any-return]


class Matcher:
    """How a cassette decides that a request is the recorded one.

    Args:
        ignore_query: query parameters not compared (``"ts"``, ``"nonce"``).
        ignore_headers: headers not compared when ``match_headers`` is on.
        ignore_json: JSON paths not compared, in request bodies and GraphQL
            requests (``"meta.sent_at"``, ``"variables.input.requestId"``,
            ``"items.*.nonce"``: ``*`` is any key or index).
        ignore_xml: local names of XML elements not compared in SOAP bodies
            (the WS-Security header is never compared).
        match_headers: header names that must be equal too, or ``True`` for
            every header but the volatile ones (user agent, lengths, auth,
            cookies, idempotency keys, trace ids) and ``ignore_headers``.
    """

    def __init__(
        self,
        *,
        ignore_query: Iterable[str] = (),
        ignore_headers: Iterable[str] = (),
        ignore_json: Iterable[str] = (),
        ignore_xml: Iterable[str] = (),
        match_headers: Iterable[str] | bool = (),
    ) -> None:
        for name, value in (
            ("ignore_query", ignore_query),
            ("ignore_headers", ignore_headers),
            ("ignore_json", ignore_json),
            ("ignore_xml", ignore_xml),
        ):
            if isinstance(value, str):
                raise ConfigError(f"{name}= takes a list of names, not one string: [{value!r}]")
        self.ignore_query = frozenset(ignore_query)
        self.ignore_headers = frozenset(h.lower() for h in ignore_headers)
        self.ignore_json = tuple(split_path(p.removeprefix("$.")) for p in ignore_json)
        self.ignore_xml = frozenset(ignore_xml)
        if isinstance(match_headers, bool):
            self.match_headers: frozenset[str] | bool = match_headers
        else:
            if isinstance(match_headers, str):
                raise ConfigError(f"match_headers= takes a list of names: [{match_headers!r}]")
            self.match_headers = frozenset(h.lower() for h in match_headers)

    def __repr__(self) -> str:
        parts = [
            f"{name}={sorted(value)!r}"
            for name, value in (
                ("ignore_query", self.ignore_query),
                ("ignore_headers", self.ignore_headers),
                ("ignore_xml", self.ignore_xml),
            )
            if value
        ]
        if self.ignore_json:
            parts.append(f"ignore_json={['.'.join(map(str, p)) for p in self.ignore_json]!r}")
        if self.match_headers:
            parts.append(f"match_headers={self.match_headers!r}")
        return f"Matcher({', '.join(parts)})"

    # -- shapes --------------------------------------------------------------------

    def shape(
        self,
        method: str,
        url: str,
        headers: Sequence[tuple[str, str]],
        body: str,
        protocol: str | None = None,
    ) -> Shape:
        """The :class:`Shape` of a request, masked first (masking a cassette's ``***`` keeps it)."""
        url = mask_url(url)
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
        origin = f"{scheme}://{(parts.hostname or '').lower()}:{port}"
        query = tuple(
            sorted(
                (k, v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if k not in self.ignore_query
            )
        )
        ctype = next((v for k, v in headers if k.lower() == "content-type"), "")
        if body:
            body = mask_body(body, ctype)
        kind, data = self._body(body, ctype, headers, protocol)
        compared: tuple[tuple[str, str], ...] = ()
        if self.match_headers:
            compared = tuple(
                sorted(
                    (k.lower(), mask_header(k, v))
                    for k, v in headers
                    if self._compares_header(k.lower()) and not k.startswith(":")
                )
            )
        key = (method.upper(), origin, parts.path or "/", query, kind, _freeze(data), compared)
        return Shape(method.upper(), origin, parts.path or "/", query, kind, data, compared, key)

    def _compares_header(self, name: str) -> bool:
        if name in self.ignore_headers:
            return False
        if self.match_headers is True:
            return name not in VOLATILE_HEADERS and name != "content-type"
        return isinstance(self.match_headers, frozenset) and name in self.match_headers

    def _body(
        self, body: str, ctype: str, headers: Sequence[tuple[str, str]], protocol: str | None
    ) -> tuple[str, Any]:
        if not body:
            return "", None
        lower = ctype.lower()
        stripped = body.lstrip()
        if stripped.startswith(("{", "[")):
            try:
                data = json.loads(body)
            except ValueError:
                return "text", body
            for path in self.ignore_json:
                data = _drop(data, path)
            if (
                isinstance(data, dict)
                and isinstance(data.get("query"), str)
                and (protocol == "graphql" or protocol is None)
            ):
                return "graphql", (
                    data.get("operationName") or None,
                    _canonical(data.get("variables") or {}),
                    normalise_query(data["query"]),
                    _canonical({k: v for k, v in data.items() if k not in _GRAPHQL_KEYS}),
                )
            return "json", data
        if stripped.startswith("<") and (
            protocol == "soap" or any(ns in body for ns in _ENVELOPES) or "xml" in lower
        ):
            return "soap", (_soap_action(headers), _canonical_xml(body, self.ignore_xml))
        if "x-www-form-urlencoded" in lower:
            pairs = parse_qsl(body, keep_blank_values=True)
            return "form", tuple(sorted((k, v) for k, v in pairs if k not in self.ignore_query))
        return "text", body

    # -- comparing -----------------------------------------------------------------

    def matches(self, recorded: Shape, live: Shape) -> bool:
        """Whether ``live`` is ``recorded``, a masked ``***`` in the recording matching anything."""
        if recorded.key == live.key:
            return True
        return not self.differences(recorded, live, first=True)

    def differences(self, recorded: Shape, live: Shape, *, first: bool = False) -> list[str]:
        """Why ``live`` is not ``recorded``: one line per part that differs."""
        out: list[str] = []
        checks: list[tuple[str, Any, Any]] = [
            ("method", recorded.method, live.method),
            ("scheme, host or port", recorded.origin, live.origin),
            ("path", recorded.path, live.path),
            ("query", recorded.query, live.query),
            ("kind of body", recorded.kind, live.kind),
        ]
        for label, was, now in checks:
            if not _like(was, now):
                out.append(_explain(label, was, now))
                if first:
                    return out
        if recorded.kind == live.kind:
            out.extend(_body_differences(recorded.kind, recorded.body, live.body))
        if not _like(recorded.headers, live.headers):
            out.append(_explain("headers", dict(recorded.headers), dict(live.headers)))
        return out


_GRAPHQL_KEYS = frozenset({"query", "variables", "operationName"})


def _like(recorded: Any, live: Any) -> bool:
    """Equal, where a recorded string holding ``***`` matches any text in its place."""
    if isinstance(recorded, str):
        if isinstance(live, str) and MASK in recorded and recorded != live:
            return _mask_pattern(recorded).fullmatch(live) is not None
        return bool(recorded == live)
    if isinstance(recorded, dict):
        return (
            isinstance(live, dict)
            and recorded.keys() == live.keys()
            and all(_like(v, live[k]) for k, v in recorded.items())
        )
    if isinstance(recorded, list | tuple):
        return (
            isinstance(live, list | tuple)
            and len(recorded) == len(live)
            and all(_like(a, b) for a, b in zip(recorded, live, strict=True))
        )
    return bool(recorded == live)


@functools.lru_cache(maxsize=256)
def _mask_pattern(text: str) -> re.Pattern[str]:
    return re.compile(".*?".join(re.escape(part) for part in text.split(MASK)), re.DOTALL)


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else _canonical(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _explain(label: str, recorded: Any, live: Any) -> str:
    if isinstance(recorded, tuple) and isinstance(live, tuple) and label == "query":
        was, now = dict(recorded), dict(live)
        bits = [f"{k}={now[k]!r} (recorded {was[k]!r})" for k in now if k in was and not
                _like(was[k], now[k])]  # fmt: skip
        bits += [f"{k} not recorded" for k in now if k not in was]
        bits += [f"{k} missing (recorded {was[k]!r})" for k in was if k not in now]
        return f"query differs: {'; '.join(bits) or 'repeated parameters differ'}"
    return f"{label} differs: {_short(live)!s} (recorded {_short(recorded)!s})"


def _show(value: Any) -> str:
    return _short(_canonical(value), 40)


def _first_data_difference(recorded: Any, live: Any, path: str = "$") -> str | None:
    if _like(recorded, live):
        return None
    if isinstance(recorded, dict) and isinstance(live, dict):
        for key in recorded:
            if key not in live:
                return f"{path}.{key} missing (recorded {_show(recorded[key])})"
        for key in live:
            if key not in recorded:
                return f"{path}.{key} not recorded"
            found = _first_data_difference(recorded[key], live[key], f"{path}.{key}")
            if found:
                return found
    if isinstance(recorded, list) and isinstance(live, list):
        if len(recorded) != len(live):
            return f"{path} has {len(live)} items (recorded {len(recorded)})"
        for i, (a, b) in enumerate(zip(recorded, live, strict=True)):
            found = _first_data_difference(a, b, f"{path}[{i}]")
            if found:
                return found
    return f"{path} is {_show(live)} (recorded {_show(recorded)})"


def _body_differences(kind: str, recorded: Any, live: Any) -> list[str]:
    if kind == "graphql":
        labels = ("GraphQL operation name", "GraphQL variables", "GraphQL query", "GraphQL extras")
        out = []
        for label, was, now in zip(labels, recorded, live, strict=True):
            if _like(was, now):
                continue
            if label == "GraphQL variables":
                where = _first_data_difference(json.loads(was), json.loads(now))
                out.append(f"GraphQL variables differ at {where}")
            else:
                out.append(_explain(label, was, now))
        return out
    if kind == "soap":
        out = []
        if not _like(recorded[0], live[0]):
            out.append(_explain("SOAPAction", recorded[0], live[0]))
        if not _like(recorded[1], live[1]):
            out.append(_explain("SOAP body (canonical XML)", recorded[1], live[1]))
        return out
    if kind == "json":
        where = _first_data_difference(recorded, live)
        return [f"JSON body differs at {where}"] if where else []
    if not _like(recorded, live):
        return [_explain("body", recorded, live)]
    return []
