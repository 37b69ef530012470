"""The one path walker and the one record finder for parsed payloads.

A *path* names a place in parsed JSON (or a SOAP result as plain Python):
``"data.items"``, ``"results.0.name"`` or ``["@odata.nextLink"]`` (a
sequence when a key holds a dot). One step of a path is a key of a mapping
or an index into a list; ``"0"`` and ``0`` both work for either (``"-1"``
is the last item). :func:`walk` follows a path; everything that follows a
path calls it: :func:`apinotebook.frames.pick` and ``to_frame(path=...)``,
the paginators' ``items=``/``cursor_path=``/``total_path=``, the recipe
templates' ``{{ contact.emails.0 }}`` and the GraphQL ``connection_path``.

:func:`find_records` answers "where are the records in this payload?" for
both ``to_frame()`` and ``paginate()``, so the two pick the same list:

- a list is the records;
- in an object, in this order: a list under a usual name (``data``,
  ``results``, ``items``, ..., Relay's ``edges`` and ``nodes``); the one
  non-empty list of objects; the one list of an object that is not itself a
  record. A record (an object with an ``id`` or ``_id``) keeps its lists of
  scalars as fields: ``{"id": 1, "tags": ["a"]}`` is one record. Several
  lists and none of these: :class:`AmbiguousRecords`;
- an object with no such list: a one-key wrapper is entered (``{"data":
  {...}}``, GraphQL's ``{"list": {"subscribers": {...}}}``, up to four
  levels); otherwise the one child object holding a list of records or a
  list under a usual name (``{"response": {"rows": [...]}, "status": "ok"}``);
- otherwise the object itself is the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from apinotebook._exceptions import ConfigError

__all__ = [
    "ITEM_KEYS",
    "MISSING",
    "AmbiguousRecords",
    "JsonPath",
    "PathError",
    "describe_path",
    "find_records",
    "keys_of",
    "lookup",
    "pick",
    "split_path",
    "walk",
]

#: A place in a JSON document: ``"meta.next_cursor"`` or ``("@odata.nextLink",)``.
JsonPath = str | Sequence[str | int]
Key = str | int

#: Returned by :func:`lookup` for a path that is not there.
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "<missing>", "__slots__": ()})()
_RAISE: Any = object()
_NOT_FOUND: Any = object()
_INDEX = re.compile(r"-?\d+")

#: Usual names of the list of records, most likely first.
ITEM_KEYS = (
    "data", "results", "items", "records", "messages", "events", "entries", "values",
    "elements", "objects", "rows", "hits", "list", "members", "users", "channels", "contacts",
    "ids", "edges", "nodes",
)  # fmt: skip
_ID_KEYS = ("id", "_id")
_MAX_DEPTH = 4


class PathError(ConfigError):
    """A path leads nowhere; says where it stopped and what was there.

    Attributes:
        key: the step that failed.
        where: the steps walked before it.
        found: the value the failed step was taken from.
    """

    def __init__(self, key: Key, where: tuple[Key, ...], found: Any) -> None:
        self.key, self.where, self.found = key, where, found
        at = ".".join(map(str, where)) or "the top level"
        super().__init__(f"path {key!r} not found at {at}; available: {_available(found)}")


class AmbiguousRecords(ConfigError):
    """An object holds several lists and none of them is clearly the records."""

    def __init__(self, lists: Sequence[Any]) -> None:
        self.lists = tuple(lists)
        super().__init__(
            f"The payload has several lists ({', '.join(map(repr, lists))}) and none is an "
            "obvious list of records. Pass the path to the records: items= to paginate(), "
            "path= to to_frame()."
        )


def _available(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(map(repr, list(value)[:20])) or "nothing (an empty object)"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    return type(value).__name__


def split_path(path: str | Iterable[Key]) -> tuple[Key, ...]:
    """The steps of ``path``: a dotted string split (empty parts dropped), a sequence as is."""
    if isinstance(path, str):
        return tuple(part for part in path.split(".") if part)
    return tuple(path)


def describe_path(path: JsonPath) -> str:
    """``path`` as dotted text, for messages."""
    return path if isinstance(path, str) else ".".join(map(str, path))


def keys_of(data: Any) -> str:
    """The keys present in ``data``, for messages."""
    if isinstance(data, Mapping):
        return ", ".join(map(repr, list(data)[:20])) or "none"
    return f"none (the body is a {type(data).__name__})"


def _has(current: Mapping[Any, Any], key: Any) -> bool:
    try:
        return key in current
    except TypeError:  # an unhashable step (a path from a browser may hold anything)
        return False


def _step(current: Any, key: Key) -> Any:
    if isinstance(current, Mapping):
        if _has(current, key):
            return current[key]
        if isinstance(key, int):
            other: Key | None = str(key)
        else:
            other = int(key) if isinstance(key, str) and _INDEX.fullmatch(key) else None
        return current[other] if other is not None and other in current else _NOT_FOUND
    if isinstance(current, list | tuple):
        if isinstance(key, str) and _INDEX.fullmatch(key):
            key = int(key)
        if isinstance(key, int) and -len(current) <= key < len(current):
            return current[key]
    return _NOT_FOUND


def _exact_step(current: Any, key: Key) -> Any:
    if isinstance(current, Mapping):
        return current[key] if _has(current, key) else _NOT_FOUND
    if isinstance(current, list | tuple) and isinstance(key, int) and 0 <= key < len(current):
        return current[key]
    return _NOT_FOUND


def walk(
    data: Any, path: str | Iterable[Key], default: Any = _RAISE, *, exact: bool = False
) -> Any:
    """The value at ``path`` in ``data``.

    Args:
        data: parsed JSON or plain Python.
        path: a dotted string or a sequence of keys and indexes; empty means ``data``.
        default: returned when the path leads nowhere; without it,
            :class:`PathError` is raised.
        exact: each step must be the very key or the non-negative index of a
            node (for addressing nodes one has listed, as the JSON tree does):
            no ``"0"`` for ``0``, no ``-1``.
    """
    current = data
    steps = split_path(path)
    step = _exact_step if exact else _step
    for number, key in enumerate(steps):
        value = step(current, key)
        if value is _NOT_FOUND:
            if default is _RAISE:
                raise PathError(key, steps[:number], current)
            return default
        current = value
    return current


def pick(data: Any, path: str | Iterable[Key] | None) -> Any:
    """Follow ``path`` (dotted string or sequence of keys/indexes) into ``data``.

    Raises:
        ConfigError: the path leads nowhere (:class:`PathError`, which names
            what is there instead).
    """
    return data if path is None else walk(data, path)


def lookup(data: Any, path: JsonPath) -> Any:
    """The value at ``path`` in ``data``, or :data:`MISSING` when it is not there."""
    return walk(data, path, MISSING)


# -- where the records are ----------------------------------------------------------


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], Mapping)


def _is_record(node: Mapping[Any, Any]) -> bool:
    return any(key in node for key in _ID_KEYS)


def _list_key(node: Mapping[Any, Any], *, loose: bool = True) -> Any:
    """The key of the records list in ``node`` (``None``: none of its lists is)."""
    lists = [key for key, value in node.items() if isinstance(value, list)]
    if not lists:
        return None
    record = _is_record(node)  # a record's own lists count only when they hold objects
    for key in ITEM_KEYS:
        if key in lists and (not record or _is_records(node[key])):
            return key
    records = [key for key in lists if _is_records(node[key])]
    if len(records) == 1:
        return records[0]
    if not loose or record:
        return None
    if len(lists) == 1:
        return lists[0]
    raise AmbiguousRecords(lists)


def find_records(data: Any) -> tuple[tuple[Any, ...], Any]:
    """Where the records in ``data`` are (the path), and what is there.

    The path is ``()`` when ``data`` itself is the records (a list) or the one
    record. See the module's docstring for the rules.

    Raises:
        AmbiguousRecords: an object holds several lists and none is clearly
            the records.
    """
    path: tuple[Any, ...] = ()
    node = data
    for _ in range(_MAX_DEPTH):
        if not isinstance(node, Mapping):
            break
        key = _list_key(node)
        if key is not None:
            return (*path, key), node[key]
        if len(node) == 1:
            ((only, inner),) = node.items()
            if not isinstance(inner, Mapping):
                break
            path, node = (*path, only), inner
            continue
        if _is_record(node):
            break
        found = []
        for outer, value in node.items():
            if isinstance(value, Mapping):
                inner_key = _list_key(value, loose=False)
                if inner_key is not None:
                    found.append((outer, inner_key))
        if len(found) == 1:
            outer, inner_key = found[0]
            return (*path, outer, inner_key), node[outer][inner_key]
        break
    return path, node
