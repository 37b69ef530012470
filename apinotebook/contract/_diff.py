"""Structural diffs of two responses, and snapshot baselines for tests.

A small walker rather than deepdiff: the paths must be the same JSONPath
spelling the contract violations use (``$.data[id='c_1'].email``), arrays of
objects are matched by a key when one identifies every item (``id``, ``key``,
``name``, or ``key=``), and ignore patterns (``data[*].updated_at``, or a bare
``updated_at`` anywhere) must apply while walking; that is about 150 lines,
where deepdiff would be a dependency plus a translation layer for each.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from apinotebook._core.secrets import mask_body, mask_text
from apinotebook._core.views import widget_bundle
from apinotebook._exceptions import ConfigError, SnapshotMismatchError
from apinotebook._exchange import Exchange
from apinotebook.contract._result import json_path
from apinotebook.contract._shape import type_name

__all__ = ["Change", "Diff", "assert_matches_snapshot", "diff", "payload_of"]

KEYS = ("id", "key", "name")
UPDATE_ENV = "APINOTEBOOK_UPDATE_SNAPSHOTS"
_SHOWN = 80


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: ``kind`` is ``added``, ``removed``, ``changed`` or ``type``."""

    kind: str
    path: str
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (values as they are)."""
        return {"kind": self.kind, "path": self.path, "old": self.old, "new": self.new}

    def __str__(self) -> str:
        def show(value: Any) -> str:
            text = mask_text(json.dumps(value, default=str, ensure_ascii=False))
            return text if len(text) <= _SHOWN else text[: _SHOWN - 3] + "..."

        if self.kind == "added":
            return f"+ {self.path}: {show(self.new)}"
        if self.kind == "removed":
            return f"- {self.path}: {show(self.old)}"
        if self.kind == "type":
            return (
                f"~ {self.path}: {type_name(self.old)} {show(self.old)} -> "
                f"{type_name(self.new)} {show(self.new)}"
            )
        return f"~ {self.path}: {show(self.old)} -> {show(self.new)}"


@dataclass
class Diff:
    """The changes from one payload to another, with paths."""

    changes: list[Change] = field(default_factory=list)
    left: str = "a"
    right: str = "b"

    @property
    def added(self) -> list[Change]:
        """Values only in the right side."""
        return [c for c in self.changes if c.kind == "added"]

    @property
    def removed(self) -> list[Change]:
        """Values only in the left side."""
        return [c for c in self.changes if c.kind == "removed"]

    @property
    def changed(self) -> list[Change]:
        """Values that differ (``changed``: same type; ``type``: the type changed too)."""
        return [c for c in self.changes if c.kind in ("changed", "type")]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"left": self.left, "right": self.right,
                "changes": [c.to_dict() for c in self.changes]}  # fmt: skip

    def to_frame(self) -> Any:
        """One row per change: kind, path, old, new."""
        import pandas as pd

        rows = [c.to_dict() for c in self.changes]
        return pd.DataFrame(rows, columns=["kind", "path", "old", "new"])

    def text(self, limit: int = 200) -> str:
        """A unified-diff-like listing: ``+`` added, ``-`` removed, ``~`` changed."""
        if not self.changes:
            return f"no differences between {self.left} and {self.right}"
        lines = [f"--- {self.left}", f"+++ {self.right}"]
        lines += [str(c) for c in self.changes[:limit]]
        if len(self.changes) > limit:
            lines.append(f"... and {len(self.changes) - limit} more")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        counts = {k: sum(c.kind == k for c in self.changes) for k in ("added", "removed")}
        return (
            f"<Diff +{counts['added']} -{counts['removed']} ~{len(self.changed)} "
            f"{self.left} -> {self.right}>"
        )

    def _repr_html_(self) -> str:
        colors = {"added": "#1b7f3b", "removed": "#b00020", "changed": "#c75000", "type": "#7a3cc2"}
        rows = "".join(
            f"<tr style='color:{colors[c.kind]}'><td>{c.kind}</td><td><code>{escape(c.path)}"
            f"</code></td><td>{escape(str(c).partition(': ')[2])}</td></tr>"
            for c in self.changes[:200]
        )
        return (
            f"<div class='apinotebook-diff'><b>{len(self.changes)} change(s)</b> "
            f"{escape(self.left)} → {escape(self.right)}<table>{rows}</table></div>"
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = widget_bundle(self)
        return bundle or {"text/plain": self.text(), "text/html": self._repr_html_()}


def payload_of(value: Any) -> Any:
    """What is compared: an exchange's ``.data``, anything else as it is."""
    return value.data if isinstance(value, Exchange) else value


def _label(value: Any, default: str) -> str:
    if isinstance(value, Exchange):
        return f"{value.operation or value.method} {value.status}"
    return default


class _Matcher:
    def __init__(self, ignore: Iterable[str]) -> None:
        self.bare: set[str] = set()
        self.patterns: list[list[str]] = []
        for pattern in ignore:
            tokens = _tokens(pattern)
            if len(tokens) == 1 and tokens[0] != "*":
                self.bare.add(tokens[0])
            else:
                self.patterns.append(tokens)

    def ignored(self, path: Sequence[str]) -> bool:
        if path and path[-1] in self.bare:
            return True
        return any(_match(p, path) for p in self.patterns)


def _tokens(pattern: str) -> list[str]:
    text = pattern.strip()
    text = text[1:] if text.startswith("$") else text
    text = text.replace("[", ".[").strip(".")
    return [t if not t.startswith("[") else "*" for t in text.split(".") if t]


def _match(pattern: list[str], path: Sequence[str]) -> bool:
    return len(pattern) == len(path) and all(
        p in ("*", s) for p, s in zip(pattern, path, strict=True)
    )


def _list_key(a: list[Any], b: list[Any], key: str | None) -> str | None:
    if not a or not b or not all(isinstance(x, dict) for x in (*a, *b)):
        return None
    for name in (key,) if key else KEYS:
        for side in (a, b):
            values = [x.get(name) for x in side]
            if any(v is None or isinstance(v, dict | list) for v in values):
                break
            if len(set(map(repr, values))) != len(values):
                break
        else:
            return name
    return None


class _Walker:
    def __init__(self, key: str | None, ignore: Iterable[str]) -> None:
        self.key, self.matcher = key, _Matcher(ignore)
        self.changes: list[Change] = []

    def walk(self, a: Any, b: Any, path: list[Any], names: list[str]) -> None:
        if names and self.matcher.ignored(names):
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for k in a:
                if k not in b:
                    if not self.matcher.ignored([*names, str(k)]):
                        self.changes.append(Change("removed", json_path([*path, k]), old=a[k]))
                else:
                    self.walk(a[k], b[k], [*path, k], [*names, str(k)])
            for k in b:
                if k not in a and not self.matcher.ignored([*names, str(k)]):
                    self.changes.append(Change("added", json_path([*path, k]), new=b[k]))
            return
        if isinstance(a, list) and isinstance(b, list):
            self._list(a, b, path, names)
            return
        if type_name(a) != type_name(b):
            self.changes.append(Change("type", json_path(path), a, b))
        elif a != b:
            self.changes.append(Change("changed", json_path(path), a, b))

    def _list(self, a: list[Any], b: list[Any], path: list[Any], names: list[str]) -> None:
        key = _list_key(a, b, self.key)
        item_names = [*names, "*"]
        if key is None:
            for i in range(max(len(a), len(b))):
                if i >= len(b):
                    self.changes.append(Change("removed", json_path([*path, i]), old=a[i]))
                elif i >= len(a):
                    self.changes.append(Change("added", json_path([*path, i]), new=b[i]))
                else:
                    self.walk(a[i], b[i], [*path, i], item_names)
            return
        right = {repr(x[key]): x for x in b}
        left = {repr(x[key]): x for x in a}
        for ident, item in left.items():
            where = json_path(path) + f"[{key}={ident}]"
            other = right.get(ident)
            if other is None:
                self.changes.append(Change("removed", where, old=item))
            else:
                before = len(self.changes)
                self.walk(item, other, [], item_names)
                self.changes[before:] = [
                    Change(c.kind, where + c.path[1:], c.old, c.new) for c in self.changes[before:]
                ]
        for ident, item in right.items():
            if ident not in left:
                self.changes.append(Change("added", json_path(path) + f"[{key}={ident}]", new=item))


def diff(a: Any, b: Any, *, key: str | None = None, ignore: Iterable[str] = ()) -> Diff:
    """The structural diff of two payloads (or exchanges: their ``.data``).

    Args:
        a: the left side (an Exchange, or any JSON-like value).
        b: the right side.
        key: the field that identifies items of arrays of objects (default: the
            first of ``id``, ``key``, ``name`` that every item has, unique).
        ignore: paths left out: ``"data[*].updated_at"``, ``"$.meta.request_id"``,
            or a bare field name (``"updated_at"``) that is ignored everywhere.
    """
    if isinstance(ignore, str):
        raise ConfigError("ignore= takes a list of paths, not one string")
    walker = _Walker(key, ignore)
    walker.walk(payload_of(a), payload_of(b), [], [])
    return Diff(walker.changes, _label(a, "a"), _label(b, "b"))


def _normalised(value: Any) -> Any:
    """The payload as JSON would store it (decimals, dates and bytes as text)."""
    return json.loads(json.dumps(payload_of(value), default=str))


def assert_matches_snapshot(
    value: Any,
    path: str | os.PathLike[str],
    *,
    ignore: Iterable[str] = (),
    key: str | None = None,
    update: bool | None = None,
) -> None:
    """Fail if ``value`` (an exchange's ``.data``, or any JSON value) differs from its snapshot.

    The snapshot is a JSON file. It is written, and the assertion passes, when
    ``update=True`` or the environment has ``APINOTEBOOK_UPDATE_SNAPSHOTS=1``.
    Volatile fields (timestamps, request ids) go in ``ignore``. Secrets known
    to apinotebook are masked in the file.

    Raises:
        SnapshotMismatchError: (an ``AssertionError``) the payload differs, or
            there is no snapshot yet; the message lists the changes.
    """
    target = Path(path)
    if update is None:
        update = os.environ.get(UPDATE_ENV, "").lower() in ("1", "true", "yes")
    current = _normalised(value)
    if update:
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(current, indent=2, sort_keys=True, ensure_ascii=False)
        target.write_text(mask_body(text, "application/json") + "\n", encoding="utf-8")
        return
    if not target.exists():
        raise SnapshotMismatchError(
            f"No snapshot at {target}: run once with {UPDATE_ENV}=1 (or update=True) to "
            "record it, then commit the file."
        )
    stored = json.loads(target.read_text(encoding="utf-8"))
    found = diff(stored, current, key=key, ignore=ignore)
    found.left, found.right = f"snapshot {target.name}", "this response"
    if found:
        raise SnapshotMismatchError(
            f"The response differs from the snapshot {target} ({len(found)} change(s)); if "
            f"the change is intended, run with {UPDATE_ENV}=1.\n{found.text(50)}",
            diff=found,
        )
