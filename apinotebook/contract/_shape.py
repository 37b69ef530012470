"""The shape of records (fields, types, nullability) and how two shapes differ.

An integration records the shape of what its source returned on every run
and compares it with the last accepted one (see
:mod:`apinotebook.integration`): a field that disappeared, changed type or
started arriving as ``null`` is *drift*. Paths are dotted, with ``[]`` for
the items of a list: ``address.city``, ``lines[].amount``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

__all__ = [
    "FieldShape",
    "Shape",
    "ShapeDrift",
    "compare_shapes",
    "compatible",
    "infer_shape",
    "type_name",
]

_NAMES: dict[type, str] = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    Decimal: "number",
    dict: "object",
    list: "array",
    tuple: "array",
    datetime: "datetime",
    date: "date",
    time: "time",
    bytes: "bytes",
}
#: a baseline of ``number`` accepts integers (JSON does not tell 1 from 1.0)
_WIDER = {"integer": "number"}
_MAX_DEPTH = 8


def type_name(value: Any) -> str:
    """The JSON-ish type of ``value``: string, integer, number, boolean, object, array, ..."""
    name = _NAMES.get(type(value))
    if name is not None:
        return name
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


@dataclass
class FieldShape:
    """One field: its types (``null`` apart), whether it was ``null``, in how many records."""

    types: set[str] = field(default_factory=set)
    nullable: bool = False
    seen: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"types": sorted(self.types), "nullable": self.nullable, "seen": self.seen}


@dataclass
class Shape:
    """The fields of a set of records, by path; ``records`` is how many were seen."""

    fields: dict[str, FieldShape] = field(default_factory=dict)
    records: int = 0

    def add(self, record: Any) -> None:
        """Take one record into account."""
        self.records += 1
        if isinstance(record, dict):
            seen: set[str] = set()
            self._walk(record, "", seen, 0)
            for path in seen:
                self.fields[path].seen += 1

    def _walk(self, record: dict[Any, Any], prefix: str, seen: set[str], depth: int) -> None:
        for key, value in record.items():
            path = f"{prefix}{key}"
            entry = self.fields.get(path)
            if entry is None:
                entry = self.fields[path] = FieldShape()
            seen.add(path)
            if value is None:
                entry.nullable = True
                continue
            kind = type_name(value)
            entry.types.add(kind)
            if depth >= _MAX_DEPTH:
                continue
            if kind == "object":
                self._walk(value, f"{path}.", seen, depth + 1)
            elif kind == "array":
                for item in value:
                    if isinstance(item, dict):
                        self._walk(item, f"{path}[].", seen, depth + 1)

    def always_present(self, path: str) -> bool:
        """Whether every record that had the field's parent had the field (top level: all)."""
        entry = self.fields.get(path)
        if entry is None:
            return False
        parent = path.rpartition(".")[0]
        if not parent:
            return entry.seen == self.records
        if parent.endswith("[]"):
            return False  # list items vary in number: no count to compare with
        owner = self.fields.get(parent)
        return owner is not None and entry.seen == owner.seen

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with each run's report)."""
        return {"records": self.records, "fields": {p: f.to_dict() for p, f in self.fields.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Shape:
        """Read :meth:`to_dict`'s form back."""
        fields = {
            str(p): FieldShape(set(f.get("types", ())), bool(f.get("nullable")), int(f["seen"]))
            for p, f in dict(data.get("fields") or {}).items()
        }
        return cls(fields, int(data.get("records") or 0))

    def __repr__(self) -> str:
        return f"<Shape {len(self.fields)} fields from {self.records} records>"


def infer_shape(records: Any) -> Shape:
    """The :class:`Shape` of an iterable of records (dicts)."""
    shape = Shape()
    for record in records:
        shape.add(record)
    return shape


def compatible(baseline: set[str], kind: str) -> bool:
    """Whether a value of type ``kind`` fits a field that had ``baseline`` types."""
    return kind in baseline or _WIDER.get(kind, "") in baseline or not baseline


@dataclass
class ShapeDrift:
    """How a shape differs from its baseline.

    ``added``: new fields (path -> types); ``removed``: fields every baseline
    record had and no current record has; ``retyped``: path -> (old types, new
    types); ``nullable``: fields that were never ``null`` and now are.
    ``breaking`` is true when anything but an addition changed.
    """

    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)
    retyped: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    nullable: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        """Removed, retyped or newly nullable fields (additions are not breaking)."""
        return bool(self.removed or self.retyped or self.nullable)

    def __bool__(self) -> bool:
        return bool(self.added) or self.breaking

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "added": self.added,
            "removed": self.removed,
            "retyped": {p: [old, new] for p, (old, new) in self.retyped.items()},
            "nullable": self.nullable,
            "breaking": self.breaking,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShapeDrift:
        """Read :meth:`to_dict`'s form back (as stored with a run report)."""
        retyped = {
            str(p): (list(o), list(n)) for p, (o, n) in dict(data.get("retyped") or {}).items()
        }
        return cls(
            dict(data.get("added") or {}),
            dict(data.get("removed") or {}),
            retyped,
            list(data.get("nullable") or []),
        )

    def summary(self) -> str:
        """The changes in a line: removed, retyped, newly null, added."""
        if not self:
            return "no drift"
        parts = []
        if self.removed:
            parts.append("removed " + ", ".join(self.removed))
        if self.retyped:
            parts.append(
                "retyped "
                + ", ".join(
                    f"{p} ({'|'.join(o)} -> {'|'.join(n)})" for p, (o, n) in self.retyped.items()
                )
            )
        if self.nullable:
            parts.append("now null: " + ", ".join(self.nullable))
        if self.added:
            parts.append("added " + ", ".join(self.added))
        return "; ".join(parts)

    def __str__(self) -> str:
        return self.summary()


def compare_shapes(baseline: Shape, current: Shape) -> ShapeDrift:
    """What changed from ``baseline`` to ``current`` (nothing is judged on zero records)."""
    drift = ShapeDrift()
    if not current.records or not baseline.records:
        return drift
    for path, now in current.fields.items():
        before = baseline.fields.get(path)
        if before is None:
            parent = path.rpartition(".")[0]
            if not parent or parent.rstrip("[]") in baseline.fields or parent in baseline.fields:
                drift.added[path] = sorted(now.types) or ["null"]
            continue
        new_types = {t for t in now.types if not compatible(before.types, t)}
        if new_types:
            drift.retyped[path] = (sorted(before.types), sorted(now.types))
        elif now.nullable and not before.nullable and now.types <= before.types:
            drift.nullable.append(path)
    for path, before in baseline.fields.items():
        if path not in current.fields and baseline.always_present(path):
            parent = path.rpartition(".")[0]
            if not parent or parent in current.fields:
                drift.removed[path] = sorted(before.types)
    return drift
