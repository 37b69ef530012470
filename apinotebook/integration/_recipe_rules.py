"""What a recipe can decide, as real integration platforms let you decide it.

Zapier, Make and Workato are more than a template language. Their recipes have:

- **filters** with AND/OR groups of comparisons (Zapier's Filter, Make's filters between
  modules): ``{field: company.name, op: not_equals, value: Blue Oak Labs}``;
- **lookup tables** (Zapier's Formatter > Lookup Table, Make's data stores used as
  tables): ``lookups:`` in the recipe, read with the ``lookup('table')`` template filter;
- **find steps** that read another record from an app before mapping (Zapier's Find
  actions, Make's Search modules): ``steps: [{find: company, connection: crm, path: ...}]``;
- **branches** (Zapier's Paths, Make's Router): ``paths:``, each with a ``when`` condition
  and its own ``map``, the first that matches wins, or ``skip: true`` to send nothing.

A condition is a template string (truthy or not, as before), a comparison
``{field, op, value}``, or a group ``{all: [...]}`` / ``{any: [...]}`` of conditions.
Nothing is evaluated as Python.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from apinotebook._core.paths import walk
from apinotebook._exceptions import ConfigError

__all__ = ["OPERATORS", "Branch", "find_steps", "matches", "parse_paths"]

_MISSING = object()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _compare(test: Callable[[float, float], bool]) -> Callable[[Any, Any], bool]:
    def compare(value: Any, expected: Any) -> bool:
        left, right = _number(value), _number(expected)
        return left is not None and right is not None and test(left, right)

    return compare


def _text(value: Any) -> str:
    return "" if value is None or value is _MISSING else str(value)


#: Comparison operators, as platforms name them: ``op`` -> test(field value, ``value``).
#: A missing field never equals, contains or compares; it only ``not_exists``.
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "equals": lambda v, e: v is not _MISSING and v == e,
    "not_equals": lambda v, e: v is _MISSING or v != e,
    "contains": lambda v, e: v is not _MISSING and _text(e) in _text(v),
    "not_contains": lambda v, e: _text(e) not in _text(v),
    "starts_with": lambda v, e: v is not _MISSING and _text(v).startswith(_text(e)),
    "ends_with": lambda v, e: v is not _MISSING and _text(v).endswith(_text(e)),
    "gt": _compare(lambda a, b: a > b),
    "gte": _compare(lambda a, b: a >= b),
    "lt": _compare(lambda a, b: a < b),
    "lte": _compare(lambda a, b: a <= b),
    "in": lambda v, e: v is not _MISSING and isinstance(e, list) and v in e,
    "not_in": lambda v, e: not (isinstance(e, list) and v in e),
    "exists": lambda v, e: v is not _MISSING and v not in (None, ""),
    "not_exists": lambda v, e: v is _MISSING or v in (None, ""),
    "matches": lambda v, e: v is not _MISSING and re.search(_text(e), _text(v)) is not None,
}


def matches(condition: Any, record: Any, render: Callable[[Any, Any], Any]) -> bool:
    """Whether ``record`` passes ``condition`` (see the module docstring for the forms)."""
    if isinstance(condition, str):
        return bool(render(condition, record))
    if not isinstance(condition, Mapping):
        raise ConfigError(
            f"a condition is a template string, a comparison {{field, op, value}} or a group "
            f"{{all: [...]}} / {{any: [...]}}; got {condition!r}"
        )
    if "all" in condition or "any" in condition:
        group = "all" if "all" in condition else "any"
        parts = condition[group]
        if not isinstance(parts, list) or not parts:
            raise ConfigError(f"{group}: needs a non-empty list of conditions")
        results = (matches(part, record, render) for part in parts)
        return all(results) if group == "all" else any(results)
    if "field" not in condition:
        raise ConfigError(f"the comparison {dict(condition)!r} needs a field")
    op = condition.get("op", "exists")
    if op not in OPERATORS:
        raise ConfigError.invalid_choice("operator", op, OPERATORS)
    value = walk(record, str(condition["field"]), _MISSING)
    return OPERATORS[op](value, render(condition.get("value"), record))


class Branch:
    """One of ``paths:``: a condition (``None``: always) and its mapping, or a skip."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        unknown = set(spec) - {"name", "when", "map", "skip"}
        if unknown:
            raise ConfigError.invalid_choice("path setting", sorted(unknown)[0], spec.keys())
        self.name = str(spec.get("name", ""))
        self.when = spec.get("when")
        self.map = spec.get("map")
        self.skip = bool(spec.get("skip", False))
        if not self.skip and self.map is None:
            raise ConfigError(f"the path {self.name or spec!r} needs a map (or skip: true)")


def parse_paths(spec: Any) -> list[Branch]:
    """The recipe's ``paths:`` list as branches (first match wins)."""
    if spec is None:
        return []
    if not isinstance(spec, list) or not all(isinstance(s, Mapping) for s in spec):
        raise ConfigError("paths: is a list of {when, map} (or {when, skip: true}) entries")
    return [Branch(s) for s in spec]


def find_steps(
    specs: Any, connections: Mapping[str, Any], render: Callable[[Any, Any], Any]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A function adding each ``find`` step's result to a record, one API call per step.

    ``{find: NAME, connection: C, path: TEMPLATE, params: {...}, items: PATH, first: true}``
    GETs the rendered path from connection ``C`` and stores the response (its first record
    when ``first`` is true, the default) under ``NAME``; nothing found stores ``None``.
    Like a platform's find step, it runs once per record (a task each, where they bill).
    """
    steps = list(specs or [])
    for step in steps:
        if not isinstance(step, Mapping) or "find" not in step or "path" not in step:
            raise ConfigError(f"a step is {{find: NAME, connection: C, path: ...}}; got {step!r}")
        if step.get("connection") not in connections:
            raise ConfigError.invalid_choice("step connection", step.get("connection"), connections)

    def run(record: dict[str, Any]) -> dict[str, Any]:
        for step in steps:
            client = connections[step["connection"]]
            params = render(step.get("params", {}), record)
            exchange = client.get(render(step["path"], record), params=params)
            if exchange.status == 404:
                found: Any = None
            else:
                body = exchange.raise_for_status().json()
                items = walk(body, step["items"], None) if step.get("items") else body
                if step.get("first", True) and isinstance(items, list):
                    found = items[0] if items else None
                else:
                    found = items
            record = {**record, str(step["find"]): found}
        return record

    return run
