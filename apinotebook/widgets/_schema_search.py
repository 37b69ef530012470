"""Search over a GraphQL schema's types and fields for the SchemaExplorer, through an index.

A schema like GitHub's has about 1,600 types and 30,000 fields. Scanning them
all and lower-casing every description again on each keystroke takes tens of
milliseconds; the index does that work once per schema (kept while the schema
lives) and a search is then a C-speed ``str.find`` over one text of every
entry, checking the other words only where the rarest-looking (longest) word
occurs. Results come in the same order as a full scan: each type, then its
fields, types sorted by name.
"""

from __future__ import annotations

import bisect
import threading
import weakref
from typing import TYPE_CHECKING, Any

from apinotebook._core.gcpause import gc_paused
from apinotebook._core.secrets import mask_text
from apinotebook.widgets._schema_query import type_kind

if TYPE_CHECKING:
    from graphql import GraphQLNamedType, GraphQLSchema

__all__ = ["search", "search_index"]

_TEXT_LIMIT = 160


class SearchIndex:
    """Every type and field of a schema as lower-cased text, one entry per line."""

    def __init__(self, schema: GraphQLSchema) -> None:
        entries: list[tuple[str, str | None, str, Any]] = []
        texts: list[str] = []
        for name, named in sorted(schema.type_map.items()):
            if name.startswith("__"):
                continue
            kind = type_kind(named)
            entries.append((name, None, kind, named))
            texts.append(_line(name, named.description))
            for field_name, field in (getattr(named, "fields", None) or {}).items():
                entries.append((name, field_name, kind, field))
                texts.append(_line(f"{name}.{field_name}", field.description))
        self._entries = entries
        self._texts = texts
        self._starts: list[int] = []
        offset = 0
        for text in texts:
            self._starts.append(offset)
            offset += len(text) + 1
        self._blob = "\n".join(texts)

    def __len__(self) -> int:
        return len(self._entries)

    def search(self, text: str, *, limit: int = 100) -> dict[str, Any]:
        """Entries whose name or description contain every word of ``text``."""
        words = text.lower().split()
        matches: list[dict[str, Any]] = []
        if not words:
            return {"matches": matches, "complete": True}
        key = max(words, key=len)
        others = [w for w in words if w is not key]
        pos = self._blob.find(key)
        while pos != -1:
            i = bisect.bisect_right(self._starts, pos) - 1
            if all(w in self._texts[i] for w in others):
                matches.append(_match(*self._entries[i]))
                if len(matches) >= limit:
                    return {"matches": matches, "complete": False}
            if i + 1 >= len(self._starts):
                break
            pos = self._blob.find(key, self._starts[i + 1])
        return {"matches": matches, "complete": True}


def _line(name: str, description: str | None) -> str:
    text = f"{name} {description}" if description else name
    return text.lower().replace("\n", " ")


def _match(type_name: str, field_name: str | None, kind: str, item: Any) -> dict[str, Any]:
    if field_name is None:
        named: GraphQLNamedType = item
        text = mask_text(named.description or "")[:_TEXT_LIMIT]
    else:
        text = f"{field_name}: {item.type}"
    return {"type": type_name, "field": field_name, "kind": kind, "text": text}


_indexes: weakref.WeakKeyDictionary[GraphQLSchema, SearchIndex] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def search_index(schema: GraphQLSchema) -> SearchIndex:
    """The index of ``schema``, built on first use and kept while the schema lives."""
    with _lock:
        index = _indexes.get(schema)
        if index is None:
            with gc_paused():  # thousands of new strings: no collection over the schema
                index = _indexes[schema] = SearchIndex(schema)
        return index


def search(schema: GraphQLSchema, text: str, *, limit: int = 100) -> dict[str, Any]:
    """Types, fields and arguments whose name or description contain every word of ``text``."""
    return search_index(schema).search(text, limit=limit)
