"""The kernel side of the inspector's tree: big documents stay here, the browser gets slices.

A tree wraps one parsed document (JSON-like Python values, or an lxml
element) and answers three questions, each bounded in size:

- ``children(path, offset, limit)``: summaries of one page of a node's
  children (key, type, a short preview, how many children each has);
- ``search(query, limit)``: the paths of the first matches in keys, names,
  attributes and values;
- ``detail(path)``: the path as JSONPath/XPath, a one-line Python snippet,
  and a masked preview of the value.

Paths are lists: keys and list indexes for JSON (``["data", 3, "email"]``),
positions among element children for XML (``[1, 0, 2]``). A path that does
not exist raises :class:`TreePathError`; the widget turns it into an error
reply. Everything that leaves a tree is masked: values under sensitive keys
(``password``, ``token``, ...) and every registered secret show as ``***``,
and search never matches inside a masked value.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from apinotebook._core.paths import PathError, walk
from apinotebook._core.secrets import MASK, is_sensitive_name, mask_text, masks_field
from apinotebook._exceptions import ConfigError
from apinotebook.widgets._snippets import XmlStep, json_snippet, jsonpath, xml_snippet, xpath
from apinotebook.widgets._text import masked_head, pretty_json

if TYPE_CHECKING:
    from lxml import etree

__all__ = ["DEFAULT_LIMIT", "JsonTree", "MAX_LIMIT", "TreePathError", "XmlTree"]

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
_PREVIEW = 120
_DETAIL = 2000
_SEARCH_SECONDS = 10.0
_KEYS_SHOWN = 5

Path = list[str | int]


class TreePathError(ConfigError):
    """A path does not lead to a node of the document."""


def _clamp(offset: int, limit: int) -> tuple[int, int]:
    if not isinstance(offset, int) or not isinstance(limit, int) or offset < 0 or limit < 1:
        raise ConfigError(
            f"offset must be >= 0 and limit >= 1 (got offset={offset!r}, limit={limit!r})"
        )
    return offset, min(limit, MAX_LIMIT)


def _scalar(value: Any) -> tuple[str, str]:
    """``(type, preview)`` for a JSON-like scalar (also SOAP's dates, decimals, bytes)."""
    if value is None:
        return "null", "null"
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int | float):
        return "number", masked_head(json.dumps(value), _PREVIEW)
    if isinstance(value, str):
        return "string", json.dumps(masked_head(value, _PREVIEW), ensure_ascii=False)
    if isinstance(value, Decimal):
        return "decimal", str(value)
    if isinstance(value, datetime):
        return "datetime", value.isoformat()
    if isinstance(value, date):
        return "date", value.isoformat()
    if isinstance(value, bytes | bytearray):
        return "bytes", f"<{len(value):,} bytes>"
    return type(value).__name__, masked_head(repr(value), _PREVIEW)


def _is_masked(key: str | int, value: Any) -> bool:
    return isinstance(key, str) and masks_field(key, value)


def _items(value: Any) -> Any:
    """``(key, child)`` pairs of a container (an iterator; empty for scalars)."""
    if isinstance(value, Mapping):
        return iter(value.items())
    if isinstance(value, list | tuple):
        return enumerate(value)
    return iter(())


def _is_container(value: Any) -> bool:
    return isinstance(value, Mapping | list | tuple)


class JsonTree:
    """A JSON document (or any JSON-like Python value) served in slices.

    Args:
        value: the parsed document.
        protocol: the exchange's protocol, for the snippets.
        view: ``json`` (the parsed body), ``data`` (``ex.data``) or ``fault``.
        name: the variable the snippets read from.
    """

    kind = "json"

    def __init__(self, value: Any, *, protocol: str, view: str = "json", name: str = "ex") -> None:
        self.value = value
        self.protocol = protocol
        self.view = view
        self.name = name

    def resolve(self, path: Sequence[str | int]) -> Any:
        """The value at ``path``.

        Raises:
            TreePathError: a key or index does not exist.
        """
        if not isinstance(path, list | tuple):
            raise TreePathError(f"a path is a list of keys and indexes, not {path!r}")
        try:
            return walk(self.value, path, exact=True)
        except PathError as exc:
            depth = len(exc.where)
            raise TreePathError(f"{jsonpath(list(path[: depth + 1]))} does not exist "
                                f"(no {exc.key!r} under {jsonpath(list(path[:depth]))})"
                                ) from None  # fmt: skip

    def summary(self, key: str | int | None, pos: int, value: Any) -> dict[str, Any]:
        """What the browser shows for one node."""
        node: dict[str, Any] = {"key": key, "pos": pos}
        if isinstance(value, Mapping):
            keys = list(itertools.islice(value.keys(), _KEYS_SHOWN))
            more = ", …" if len(value) > _KEYS_SHOWN else ""
            shown = masked_head(", ".join(str(k) for k in keys), _PREVIEW)
            node.update(type="object", count=len(value), preview=f"{{{shown}{more}}}")
        elif isinstance(value, list | tuple):
            node.update(type="array", count=len(value), preview=f"[{len(value):,} items]")
        elif key is not None and _is_masked(key, value):
            node.update(type="string" if isinstance(value, str) else "number", preview=MASK)
        else:
            kind, preview = _scalar(value)
            node.update(type=kind, preview=preview)
        return node

    def root(self, *, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """The root's summary and its first page of children."""
        node = self.summary(None, 0, self.value)
        node["label"] = "$"
        if _is_container(self.value):
            node["children"] = self.children([], offset=0, limit=limit)
        return node

    def children(self, path: Sequence[str | int], *, offset: int = 0,
                 limit: int = DEFAULT_LIMIT) -> dict[str, Any]:  # fmt: skip
        """One page of the children of the node at ``path``."""
        offset, limit = _clamp(offset, limit)
        value = self.resolve(path)
        if not _is_container(value):
            kind = self.summary(None, 0, value)["type"]
            raise TreePathError(f"{jsonpath(list(path))} is a {kind}, it has no children")
        page = itertools.islice(_items(value), offset, offset + limit)
        return {
            "path": list(path),
            "offset": offset,
            "limit": limit,
            "total": len(value),
            "children": [self.summary(k, offset + i, v) for i, (k, v) in enumerate(page)],
        }

    def detail(self, path: Sequence[str | int]) -> dict[str, Any]:
        """Path, snippet and a masked preview of the value at ``path``."""
        value = self.resolve(path)
        key = path[-1] if path else None
        if key is not None and _is_masked(key, value):
            preview = MASK
        elif _is_container(value) or isinstance(value, str | int | float | bool | type(None)):
            preview = pretty_json(value, limit=_DETAIL)
        else:
            preview = _scalar(value)[1]
        return {
            "path": list(path),
            "location": jsonpath(list(path)),
            "snippet": json_snippet(self.protocol, self.view, list(path), name=self.name),
            "preview": preview,
        }

    def search(self, query: str, *, limit: int = 200) -> dict[str, Any]:
        """Paths whose key or scalar value contains ``query`` (case-insensitive).

        Stops after ``limit`` matches or ten seconds; ``complete`` says
        whether the whole document was searched.
        """
        needle = str(query).casefold()
        if not needle:
            raise ConfigError("type something to search for")
        limit = max(1, min(int(limit), MAX_LIMIT))
        matches: list[dict[str, Any]] = []
        deadline = time.monotonic() + _SEARCH_SECONDS
        path: Path = []
        positions: list[int] = []
        scanned = 0
        timed_out = False
        # an explicit stack of iterators: deep documents must not hit the recursion limit;
        # at the top of the loop, path holds the keys of the containers being walked
        iterators: list[Any] = [enumerate(_items(self.value))]
        while iterators:
            step = next(iterators[-1], None)
            if step is None:
                iterators.pop()
                if path:
                    path.pop()
                    positions.pop()
                continue
            pos, (key, value) = step
            path.append(key)
            positions.append(pos)
            scanned += 1
            if scanned % 4096 == 0 and time.monotonic() > deadline:
                timed_out = True
                break
            if self._matches(needle, key, value):
                matches.append(
                    {
                        "path": list(path),
                        "positions": list(positions),
                        "location": jsonpath(path),
                        "preview": self.summary(key, pos, value)["preview"],
                    }
                )
                if len(matches) >= limit:
                    break
            if _is_container(value):
                iterators.append(enumerate(_items(value)))
            else:
                path.pop()
                positions.pop()
        complete = not timed_out and len(matches) < limit
        return {"query": query, "matches": matches, "complete": complete, "scanned": scanned}

    @staticmethod
    def _matches(needle: str, key: str | int, value: Any) -> bool:
        if isinstance(key, str) and needle in key.casefold():
            return needle in mask_text(key).casefold()
        # exact class checks first: this runs once per node of documents of millions of nodes
        cls = value.__class__
        if cls is str:
            text = value
        elif cls is int or cls is float:
            text = repr(value)
        elif value is None or cls is bool:
            text = json.dumps(value)
        elif cls is dict or cls is list or _is_container(value):
            return False
        else:
            text = _scalar(value)[1]
        if not text or needle not in text.casefold() or _is_masked(key, value):
            return False
        return needle in mask_text(text).casefold()


def _qname(element: etree._Element) -> tuple[str | None, str, str | None]:
    tag = str(element.tag)
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local, element.prefix
    return None, tag, None


def _label(element: etree._Element) -> str:
    namespace, local, prefix = _qname(element)
    return f"{prefix}:{local}" if prefix else local


def _elements(element: etree._Element) -> Any:
    return (child for child in element if isinstance(child.tag, str))


class XmlTree:
    """An XML document (an lxml element) served in slices.

    Args:
        root: the document element.
        name: the variable the snippets read from.
        source: the exchange attribute holding the XML (``content``, or
            ``request.content`` for the request envelope).
    """

    kind = "xml"
    view = "xml"

    def __init__(self, root: etree._Element, *, name: str = "ex", source: str = "content") -> None:
        self.element = root
        self.name = name
        self.source = source
        self._counts: dict[tuple[int, ...], int] = {}

    def resolve(self, path: Sequence[str | int]) -> etree._Element:
        """The element at ``path`` (positions among element children).

        Raises:
            TreePathError: a position does not exist.
        """
        if not isinstance(path, list | tuple):
            raise TreePathError(f"a path is a list of positions, not {path!r}")
        current = self.element
        for depth, pos in enumerate(path):
            child = None
            if isinstance(pos, int) and not isinstance(pos, bool) and pos >= 0:
                child = next(itertools.islice(_elements(current), pos, None), None)
            if child is None:
                raise TreePathError(
                    f"{_label(current)} (depth {depth}) has no child element number {pos!r}"
                )
            current = child
        return current

    def _count(self, element: etree._Element) -> int:
        return sum(1 for _ in _elements(element))

    def _text(self, element: etree._Element) -> str:
        text = (element.text or "").strip()
        if text and is_sensitive_name(_qname(element)[1]):
            return MASK
        return masked_head(text, _PREVIEW)

    def summary(self, element: etree._Element, pos: int) -> dict[str, Any]:
        """What the browser shows for one element."""
        attrs = []
        for name, value in itertools.islice(element.attrib.items(), 8):
            local = str(name).rpartition("}")[2]
            shown = MASK if is_sensitive_name(local) else masked_head(str(value), 60)
            attrs.append([local, shown])
        count = self._count(element)
        return {
            "key": _label(element),
            "pos": pos,
            "type": "element",
            "count": count,
            "preview": self._text(element),
            "attrs": attrs,
        }

    def root(self, *, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """The document element's summary and its first page of children."""
        node = self.summary(self.element, 0)
        node["label"] = "/" + node["key"]
        node["children"] = self.children([], offset=0, limit=limit)
        return node

    def children(self, path: Sequence[str | int], *, offset: int = 0,
                 limit: int = DEFAULT_LIMIT) -> dict[str, Any]:  # fmt: skip
        """One page of the child elements of the element at ``path``."""
        offset, limit = _clamp(offset, limit)
        element = self.resolve(path)
        key = tuple(int(p) for p in path)
        total = self._counts.get(key)
        if total is None:
            total = self._counts[key] = self._count(element)
        page = itertools.islice(_elements(element), offset, offset + limit)
        return {
            "path": list(path),
            "offset": offset,
            "limit": limit,
            "total": total,
            "children": [self.summary(child, offset + i) for i, child in enumerate(page)],
        }

    def steps(self, path: Sequence[str | int]) -> list[XmlStep]:
        """The named steps from the root to the element at ``path``."""
        steps = [XmlStep(*_qname(self.element), 1, 1)]
        current = self.element
        for pos in path:
            children = list(_elements(current))
            if not isinstance(pos, int) or not 0 <= pos < len(children):
                raise TreePathError(f"{_label(current)} has no child element number {pos!r}")
            child = children[pos]
            same = [c for c in children if c.tag == child.tag]
            steps.append(XmlStep(*_qname(child), same.index(child) + 1, len(same)))
            current = child
        return steps

    def detail(self, path: Sequence[str | int]) -> dict[str, Any]:
        """XPath, an lxml snippet and a masked preview of the element at ``path``."""
        element = self.resolve(path)
        steps = self.steps(path)
        location, _ = xpath(steps)
        leaf = self._count(element) == 0
        if leaf:
            preview = self._text(element) if element.text else ""
        else:
            from lxml import etree as _etree

            preview = masked_head(_etree.tostring(element, encoding="unicode"), _DETAIL)
        return {
            "path": list(path),
            "location": location,
            "snippet": xml_snippet(
                steps, leaf=leaf and bool(element.text), name=self.name, source=self.source
            ),  # fmt: skip
            "preview": preview,
        }

    def _path_of(self, element: etree._Element) -> list[int]:
        path: list[int] = []
        current = element
        while current is not self.element:
            parent = current.getparent()
            if parent is None:
                break
            path.append(next(i for i, c in enumerate(_elements(parent)) if c is current))
            current = parent
        return path[::-1]

    def search(self, query: str, *, limit: int = 200) -> dict[str, Any]:
        """Elements whose name, attributes or text contain ``query`` (case-insensitive)."""
        needle = str(query).casefold()
        if not needle:
            raise ConfigError("type something to search for")
        limit = max(1, min(int(limit), MAX_LIMIT))
        matches: list[dict[str, Any]] = []
        deadline = time.monotonic() + _SEARCH_SECONDS
        scanned = 0
        timed_out = False
        for element in self.element.iter():
            if not isinstance(element.tag, str):
                continue
            scanned += 1
            if scanned % 4096 == 0 and time.monotonic() > deadline:
                timed_out = True
                break
            if not self._matches(needle, element):
                continue
            path = self._path_of(element)
            matches.append(
                {
                    "path": path,
                    "positions": path,
                    "location": xpath(self.steps(path))[0],
                    "preview": self._text(element),
                }
            )
            if len(matches) >= limit:
                break
        complete = not timed_out and len(matches) < limit
        return {"query": query, "matches": matches, "complete": complete, "scanned": scanned}

    def _matches(self, needle: str, element: etree._Element) -> bool:
        local = _qname(element)[1]
        if needle in _label(element).casefold():
            return True
        for name, value in element.attrib.items():
            attr = str(name).rpartition("}")[2]
            if needle in attr.casefold():
                return True
            if not is_sensitive_name(attr) and needle in mask_text(str(value)).casefold():
                return True
        text = element.text or ""
        if not text or is_sensitive_name(local) or needle not in text.casefold():
            return False
        return needle in mask_text(text).casefold()
