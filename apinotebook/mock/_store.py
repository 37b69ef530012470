"""The stateful mode of a REST mock: collections that remember.

A *collection* is a path template with an *item* template beneath it
(``/pets`` and ``/pets/{petId}``). In stateful mode:

- ``POST`` on a collection stores the request body merged over the generated
  response; its id is the body's ``id`` (or the item parameter's name, e.g.
  ``petId``), else a new number;
- ``GET``, ``PUT``, ``PATCH``, ``DELETE`` on an item find it by the path's id
  (404 when nothing is stored under it); ``PUT`` replaces, ``PATCH`` merges;
- ``GET`` on a collection lists what is stored: the whole answer when the
  response is an array, else the first array in the generated object.

Items live under the concrete collection path (``/users/7/posts``), so nested
collections keep apart. The store is in memory and per mock.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from apinotebook.mock._router import split_path

__all__ = ["Store", "Stored"]

_ITEM = re.compile(r"\A{([^{}]+)}\Z")


@dataclass(frozen=True)
class Stored:
    """What the store answered: a status and a value (or 404)."""

    status: int
    value: Any = None


class Store:
    """Items by concrete collection path and id."""

    def __init__(self, templates: Iterable[str]) -> None:
        #: item template -> its id parameter; collection template -> item parameter
        self.items: dict[str, str] = {}
        self.collections: dict[str, str] = {}
        for template in templates:
            segments = split_path(template)
            m = _ITEM.match(segments[-1]) if segments else None
            if m is not None:
                self.items[template] = m.group(1)
                self.collections["/" + "/".join(segments[:-1])] = m.group(1)
        self.data: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._next = 0

    def apply(
        self,
        method: str,
        template: str,
        path: str,
        params: Mapping[str, str],
        body: Any,
        generated: Any,
    ) -> Stored | None:
        """The stored answer for this request, or ``None`` to answer as stateless."""
        normal = "/" + "/".join(split_path(template))
        with self._lock:
            if normal in self.collections:
                return self._collection(method, path, self.collections[normal], body, generated)
            if template in self.items:
                param = self.items[template]
                return self._item(method, path, param, params.get(param, ""), body)
        return None

    def _collection(
        self, method: str, path: str, param: str, body: Any, generated: Any
    ) -> Stored | None:
        key = "/" + "/".join(split_path(path))
        if method == "POST" and isinstance(body, dict):
            value = {**generated, **body} if isinstance(generated, dict) else dict(body)
            field = _id_field(value, param)
            if value.get(field) in (None, ""):
                self._next += 1
                value[field] = self._next
            self.data.setdefault(key, {})[str(value[field])] = value
            return Stored(201, value)
        if method == "GET" and key in self.data:
            items = list(self.data[key].values())
            if isinstance(generated, list) or not isinstance(generated, dict):
                return Stored(200, items)
            out = dict(generated)
            for name, value in out.items():
                if isinstance(value, list):
                    out[name] = items
                    break
            return Stored(200, out)
        return None

    def _item(self, method: str, path: str, param: str, ident: str, body: Any) -> Stored | None:
        key = "/" + "/".join(split_path(path)[:-1])
        items = self.data.get(key, {})
        if method not in ("GET", "PUT", "PATCH", "DELETE"):
            return None
        if ident not in items:
            if method == "PUT" and isinstance(body, dict):  # PUT may create
                value = {**body}
                value.setdefault(_id_field(value, param), ident)
                self.data.setdefault(key, {})[ident] = value
                return Stored(201, value)
            return Stored(404)
        if method == "GET":
            return Stored(200, items[ident])
        if method == "DELETE":
            return Stored(204, items.pop(ident))
        current = items[ident]
        field = _id_field(current, param)
        if isinstance(body, dict):
            value = {**current, **body} if method == "PATCH" else {**body}
            value[field] = current.get(field, ident)
            items[ident] = value
        return Stored(200, items[ident])


def _id_field(value: Mapping[str, Any], param: str) -> str:
    """The property that holds an item's id: ``id``, or the path parameter's name."""
    for name in ("id", param, "uuid", "key"):
        if name in value:
            return name
    return "id"
