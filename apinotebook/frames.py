"""Tabular views of API payloads, on ``pandas.json_normalize``.

:func:`to_frame` turns what an API returned into a DataFrame with as little
ceremony as possible:

- ``path`` picks the records inside the payload: ``"data"``,
  ``"subscribers.edges"`` or ``["results", 0, "items"]``;
- without a path, the records are found the way ``paginate()`` finds a
  page's items (:func:`apinotebook._core.paths.find_records`): the list
  under ``data``, ``results``, ``items``, ..., the one list of objects,
  through one-key wrappers such as GraphQL's ``{"subscribers": {...}}``; an
  object with several lists and no obvious one is shown as one row;
- Relay connections (``edges: [{"node": {...}}]``) become one row per node;
- nested dicts become dotted columns; ``record_path=``/``meta=`` and other
  keywords go to ``json_normalize`` for nested lists;
- an empty result gives an empty frame, a scalar a one-cell frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from apinotebook._core.paths import AmbiguousRecords, find_records, pick

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["pick", "to_frame"]


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
        path: where the records are (see :func:`pick`: ``"data.items"``,
            ``["results", 0, "items"]``); found automatically when omitted.
        **kwargs: passed to ``pandas.json_normalize`` (``record_path``,
            ``meta``, ``sep``, ``max_level``, ...).
    """
    import pandas as pd

    if path is not None:
        value = pick(data, path)
    else:
        try:
            value = find_records(data)[1]
        except AmbiguousRecords:
            value = data
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
