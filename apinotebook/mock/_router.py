"""Match a request path against thousands of path templates, fast to build and to search.

A trie of path segments: literal segments are dictionary keys, templated
segments (``{id}``, ``{name}.json``, ``items({key})``) are small regular
expressions tried after the literals, so ``/pets/mine`` beats ``/pets/{id}``
as the OpenAPI specification asks. Building it for Microsoft Graph's 22,000
operations takes a fraction of a second; nothing about an operation is
resolved until a request reaches it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote

__all__ = ["Match", "Router", "split_path"]

_PARAM = re.compile(r"{([^{}]+)}")


def split_path(path: str) -> list[str]:
    """``/a/b/`` -> ``["a", "b"]`` (a trailing slash does not count)."""
    return [s for s in path.strip("/").split("/")] if path.strip("/") else []


@dataclass
class _Node:
    literal: dict[str, _Node] = field(default_factory=dict)
    #: by the segment with its names blanked (``{}.json``): templates that differ only
    #: in a parameter's name share a node
    patterns: dict[str, tuple[re.Pattern[str], _Node]] = field(default_factory=dict)
    #: method -> [(path template, operation id), ...]: several when templates differ
    #: only after a ``#`` (AWS: ``/#X-Amz-Target=Service.Action``)
    methods: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Match:
    """Where a path landed: the operations by method, and the path's values in order."""

    methods: dict[str, list[tuple[str, str]]]
    values: tuple[str, ...]

    def params(self, template: str) -> dict[str, str]:
        """The path's values under ``template``'s names (templates at one place may differ)."""
        return dict(zip(_PARAM.findall(template.partition("#")[0]), self.values, strict=False))

    def choose(self, method: str, header: Callable[[str], str], query: str) -> tuple[str, str]:
        """The operation for ``method``; among several, the one whose ``#k=v`` the request has."""
        candidates = self.methods[method]
        if len(candidates) > 1:
            params = parse_qs(query)
            for template, op_id in candidates:
                wanted = [c.partition("=") for c in template.partition("#")[2].split("&") if c]
                if wanted and all(header(k) == v or v in params.get(k, []) for k, _, v in wanted):
                    return template, op_id
        return candidates[0]


def _segment_pattern(segment: str) -> re.Pattern[str]:
    out, last = [], 0
    for m in _PARAM.finditer(segment):
        out.append(re.escape(segment[last : m.start()]))
        out.append("(.+?)" if m.end() < len(segment) else "(.+)")
        last = m.end()
    out.append(re.escape(segment[last:]))
    return re.compile("".join(out) + r"\Z")


class Router:
    """Every ``(METHOD, template, operation id)`` of a document, searchable by path."""

    def __init__(self, routes: Iterable[tuple[str, str, str]]) -> None:
        self.root = _Node()
        self.templates: set[str] = set()
        for method, template, op_id in routes:
            node = self.root
            for seg in split_path(template.partition("#")[0]):
                if "{" in seg and _PARAM.search(seg):
                    key = _PARAM.sub("{}", seg)
                    entry = node.patterns.get(key)
                    if entry is None:
                        entry = node.patterns[key] = (_segment_pattern(seg), _Node())
                    node = entry[1]
                else:
                    node = node.literal.setdefault(seg, _Node())
            node.methods.setdefault(method, []).append((template, op_id))
            self.templates.add(template)

    def match(self, path: str) -> Match | None:
        """The best template for ``path`` (literal segments first), or ``None``."""
        found = self._walk(self.root, split_path(path), 0, ())
        if found is None:
            return None
        node, values = found
        return Match(dict(node.methods), values)

    def _walk(
        self, node: _Node, segments: list[str], i: int, values: tuple[str, ...]
    ) -> tuple[_Node, tuple[str, ...]] | None:
        if i == len(segments):
            return (node, values) if node.methods else None
        seg = segments[i]
        child = node.literal.get(seg) or node.literal.get(unquote(seg))
        if child is not None:
            found = self._walk(child, segments, i + 1, values)
            if found is not None:
                return found
        for regex, sub in node.patterns.values():
            m = regex.match(seg)
            if m is None:
                continue
            found = self._walk(sub, segments, i + 1, values + tuple(map(unquote, m.groups())))
            if found is not None:
                return found
        return None
