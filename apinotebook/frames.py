"""Tabular views of API payloads, on ``pandas.json_normalize``.

:func:`to_frame` turns what an API returned into a DataFrame with as little
ceremony as possible:

- ``path`` picks the records inside the payload: ``"data"``,
  ``"subscribers.edges"`` or ``["results", 0, "items"]``;
- without a path, a dict whose only list of records sits under one key
  (``data``, ``results``, ``items``, ...) is unwrapped, as is a single-key
  wrapper such as GraphQL's ``{"subscribers": {...}}``;
- Relay connections (``edges: [{"node": {...}}]``) become one row per node;
- nested dicts become dotted columns; ``record_path=``/``meta=`` and other
  keywords go to ``json_normalize`` for nested lists;
- an empty result gives an empty frame, a scalar a one-cell frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from apinotebook._exceptions import ConfigError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["pick", "to_frame"]


def pick(data: Any, path: str | Iterable[str | int] | None) -> Any:
    """Follow ``path`` (dotted string or sequence of keys/indexes) into ``data``."""
    if path is None:
        return data
    keys: list[str | int] = (
        [int(p) if p.lstrip("-").isdigit() else p for p in path.split(".") if p]
        if isinstance(path, str)
        else list(path)
    )
    current = data
    walked: list[str] = []
    for key in keys:
        if isinstance(current, Mapping) and key in current:
            current = current[key]
        elif (
            isinstance(current, list)
            and isinstance(key, int)
            and -len(current) <= key < len(current)
        ):
            current = current[key]
        else:
            where = ".".join(walked) or "the top level"
            options = (
                ", ".join(map(repr, list(current)[:20]))
                if isinstance(current, Mapping)
                else f"a list of {len(current)}"
                if isinstance(current, list)
                else type(current).__name__
            )
            raise ConfigError(f"path {key!r} not found at {where}; available: {options}")
        walked.append(str(key))
    return current


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and (not value or isinstance(value[0], Mapping))


def _unwrap(data: Any) -> Any:
    """Find the records in an unlabelled payload."""
    for _ in range(4):  # a few wrapper levels at most: {"data": {"list": {"edges": [...]}}}
        if not isinstance(data, Mapping):
            return data
        if "edges" in data and isinstance(data["edges"], list):
            return data["edges"]
        lists = [k for k, v in data.items() if _is_records(v)]
        if len(lists) == 1:
            return data[lists[0]]
        if len(data) == 1:
            (only,) = data.values()
            if isinstance(only, Mapping | list):
                data = only
                continue
        return data
    return data


def _nodes(records: list[Any]) -> list[Any]:
    if records and isinstance(records[0], Mapping) and set(records[0]) <= {"node", "cursor"}:
        return [r.get("node") for r in records]
    return records


def to_frame(
    data: Any, path: str | Iterable[str | int] | None = None, **kwargs: Any
) -> pd.DataFrame:
    """A DataFrame of the records in ``data``.

    Args:
        data: parsed JSON, GraphQL ``data`` or a SOAP result as plain Python.
        path: where the records are (see :func:`pick`); found automatically
            when omitted.
        **kwargs: passed to ``pandas.json_normalize`` (``record_path``,
            ``meta``, ``sep``, ``max_level``, ...).
    """
    import pandas as pd

    value = pick(data, path) if path is not None else _unwrap(data)
    if value is None:
        return pd.DataFrame()
    if isinstance(value, Mapping):
        value = _nodes(value["edges"]) if isinstance(value.get("edges"), list) else [value]
    if isinstance(value, list):
        if not value:
            return pd.DataFrame()
        value = _nodes(value)
        if all(isinstance(v, Mapping) for v in value):
            return pd.json_normalize(value, **kwargs)
        if not any(isinstance(v, Mapping | list) for v in value):
            return pd.DataFrame({"value": value})
        rows: list[Any] = [v if isinstance(v, Mapping) else {"value": v} for v in value]
        return pd.json_normalize(rows, **kwargs)
    return pd.DataFrame({"value": [value]})
