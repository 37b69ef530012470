"""Reading OpenAPI documents and resolving their ``$ref``s, lazily.

Nothing here copies or resolves the whole document up front: a 12 MB spec is
parsed once (``json`` or libyaml's ``CSafeLoader``) and :class:`RefResolver`
resolves only what an operation asks for, memoising every reference it
resolves so a component shared by a thousand operations is walked once.

- Local references (``#/components/schemas/X``, ``#/definitions/X``), JSON
  pointers with ``~0``/``~1`` and percent-encoding, and references into other
  files or URLs, relative to the document that holds them.
- A reference back to a schema that is being resolved (a recursive schema)
  becomes a marker ``{"$ref": ..., "x-recursive": True}`` instead of a loop.
- In schemas, a reference that cannot be resolved becomes
  ``{"$ref": ..., "x-unresolved": reason}``; structural references (a
  parameter, a request body, a path item) raise :class:`SpecError`.
- Resolved nodes that contain no reference are the document's own objects
  (no copy); the caller's document is never modified.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from apinotebook._core.gcpause import gc_paused
from apinotebook._exceptions import SpecError

__all__ = ["Loader", "RefResolver", "parse_document", "read_file"]

#: Fetches one external document by absolute URI and returns its parsed content.
Loader = Callable[[str], Any]

#: Keys whose values are data, not schemas: never searched for ``$ref``.
_OPAQUE = frozenset({"example", "examples", "enum", "const", "default"})
#: Keys whose values map names to schemas: the names are not keywords.
_NAME_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_SCHEMA_PARENTS = ("/schemas/", "/definitions/")


def parse_document(text: str | bytes, *, source: str = "the document") -> Any:
    """Parse JSON or YAML text (libyaml's ``CSafeLoader`` when available).

    Raises:
        SpecError: the text is neither valid JSON nor valid YAML; the message
            names the source and the line.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SpecError(
                f"{source} is not UTF-8 text ({exc.reason} at byte {exc.start})"
            ) from exc
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        try:
            with gc_paused():
                return json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"{source} looks like JSON but does not parse: {exc.msg} at line {exc.lineno}, "
                f"column {exc.colno}. Expected a JSON or YAML OpenAPI document."
            ) from exc
        except RecursionError as exc:
            raise SpecError(f"{source} is nested too deeply to be an OpenAPI document") from exc
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        with gc_paused():
            return yaml.load(stripped, Loader=loader)  # noqa: S506 - a safe loader
    except RecursionError as exc:
        raise SpecError(f"{source} is nested too deeply to be an OpenAPI document") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SpecError(
            f"{source} is not valid YAML or JSON: {problem}{where}. "
            "Expected a JSON or YAML OpenAPI document."
        ) from exc


def read_file(path: Path) -> Any:
    """Read and parse a JSON or YAML file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError(f"no such file: {str(path)!r}") from None
    except IsADirectoryError:
        raise SpecError(f"{str(path)!r} is a directory; expected a JSON or YAML file") from None
    except OSError as exc:
        raise SpecError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
    return parse_document(data, source=f"file {path.name!r}")


def file_loader(uri: str) -> Any:
    """Load a ``file:`` URI."""
    return read_file(Path(url2pathname(urlsplit(uri).path)))


def unescape_pointer(fragment: str) -> list[str]:
    """Split a JSON-pointer fragment into unescaped tokens (``~1`` is ``/``, ``~0`` is ``~``)."""
    fragment = unquote(fragment)
    if not fragment:
        return []
    if not fragment.startswith("/"):
        raise LookupError(f"only JSON-pointer fragments ('#/...') are supported, not '#{fragment}'")
    return [t.replace("~1", "/").replace("~0", "~") for t in fragment[1:].split("/")]


def _follow(document: Any, tokens: list[str]) -> Any:
    node = document
    for token in tokens:
        if isinstance(node, Mapping):
            if token in node:
                node = node[token]
                continue
            # YAML turns unquoted 200 or 1.0 into numbers: match those keys too
            numeric = {str(k): v for k, v in node.items() if not isinstance(k, str)}
            if token in numeric:
                node = numeric[token]
                continue
            raise LookupError(f"no key {token!r}")
        if isinstance(node, list):
            try:
                node = node[int(token)]
            except (ValueError, IndexError):
                raise LookupError(f"no index {token!r} in a list of {len(node)}") from None
            continue
        raise LookupError(f"cannot look up {token!r} inside a {type(node).__name__}")
    return node


class RefResolver:
    """Resolves ``$ref``s of one document and the documents it points to.

    Args:
        document: the parsed root document.
        base_uri: where the root came from (``file:`` or ``http(s):`` URI), or
            ``None`` when it was given as text or a dict: then only local
            references resolve.
        loader: fetches an ``http(s)`` document; ``file:`` URIs are read here.
    """

    def __init__(self, document: Any, *, base_uri: str | None, loader: Loader | None) -> None:
        self.root_uri = base_uri or ""
        self._docs: dict[str, Any] = {self.root_uri: document}
        self._loader = loader
        self._memo: dict[str, Any] = {}
        self._active: set[str] = set()
        #: ``id(resolved schema) -> component name`` for readable type hints.
        self.names: dict[int, str] = {}
        self.lock = threading.RLock()

    # -- lookups ------------------------------------------------------------------

    def _key(self, ref: str, base: str) -> str:
        if ref.startswith("#"):
            return base + ref
        if not base:
            raise LookupError(
                "the spec was given as text or a dict, so there is no location to resolve a "
                "reference to another file against; load the spec from its file or URL instead"
            )
        return urljoin(base, ref)

    def _document(self, uri: str, base: str) -> Any:
        if uri in self._docs:
            return self._docs[uri]
        scheme = urlsplit(uri).scheme
        if scheme == "file" and urlsplit(base).scheme not in ("file", ""):
            raise LookupError("a document fetched over HTTP may not refer to local files")
        if scheme == "file":
            document = file_loader(uri)
        elif scheme in ("http", "https") and self._loader is not None:
            document = self._loader(uri)
        else:
            raise LookupError(f"cannot load {uri!r}: only file and http(s) references are read")
        self._docs[uri] = document
        return document

    def lookup(self, ref: str, base: str) -> tuple[Any, str, str]:
        """The node ``ref`` points to, the URI of its document, and its canonical key.

        Raises:
            LookupError: the reference cannot be resolved (the reason says why).
            SpecError: an external document cannot be read.
        """
        key = self._key(ref, base)
        uri, _, fragment = key.partition("#")
        document = self._document(uri, base)
        return _follow(document, unescape_pointer(fragment)), uri, key

    def deref(self, node: Any, base: str, *, what: str) -> tuple[Any, str]:
        """Follow ``$ref`` chains at the top of a structural object (parameter, body, ...).

        Sibling keys next to ``$ref`` (OpenAPI 3.1 ``summary``/``description``)
        override the target's. Raises :class:`SpecError` naming ``what``.
        """
        seen: set[str] = set()
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            try:
                target, base, key = self.lookup(ref, base)
            except LookupError as exc:
                raise SpecError(f"cannot resolve $ref {ref!r} in {what}: {exc}") from None
            if key in seen:
                raise SpecError(f"$ref {ref!r} in {what} refers to itself in a loop")
            seen.add(key)
            if len(node) > 1 and isinstance(target, Mapping):
                target = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            node = target
        return node, base

    # -- deep resolution ------------------------------------------------------------

    def resolve(self, node: Any, base: str, *, what: str = "a schema") -> Any:
        """``node`` with every ``$ref`` beneath it resolved (memoised, cycle-safe)."""
        with self.lock:
            try:
                return self._walk(node, base)
            except RecursionError:
                raise SpecError(f"{what} nests schemas too deeply to resolve") from None

    def _walk(self, node: Any, base: str) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                target = self._ref(ref, base)
                if len(node) == 1 or not isinstance(target, Mapping):
                    return target
                siblings = self._walk({k: v for k, v in node.items() if k != "$ref"}, base)
                return {**target, **siblings}
            out: dict[str, Any] = {}
            changed = False
            for key, value in node.items():
                if type(key) is not str:
                    changed = True
                    key = str(key)
                if key in _OPAQUE or key.startswith("x-") or not isinstance(value, dict | list):
                    out[key] = value
                    continue
                if key in _NAME_MAPS and isinstance(value, dict):
                    new = self._walk_map(value, base)
                else:
                    new = self._walk(value, base)
                changed = changed or new is not value
                out[key] = new
            return out if changed else node
        if isinstance(node, list):
            items = [self._walk(item, base) for item in node]
            if any(new is not old for new, old in zip(items, node, strict=True)):
                return items
            return node
        return node

    def _walk_map(self, mapping: dict[Any, Any], base: str) -> dict[str, Any]:
        out = {str(k): self._walk(v, base) for k, v in mapping.items()}
        if all(type(k) is str and out[k] is v for k, v in mapping.items()):
            return mapping
        return out

    def _ref(self, ref: str, base: str) -> Any:
        try:
            key = self._key(ref, base)
        except LookupError as exc:
            return {"$ref": ref, "x-unresolved": str(exc)}
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            return {"$ref": ref, "x-recursive": True}
        try:
            target, uri, key = self.lookup(ref, base)
        except (LookupError, SpecError) as exc:
            return {"$ref": ref, "x-unresolved": str(exc)}
        self._active.add(key)
        try:
            result = self._walk(target, uri)
        finally:
            self._active.discard(key)
        self._memo[key] = result
        fragment = unquote(key.partition("#")[2])
        for parent in _SCHEMA_PARENTS:
            _head, sep, name = fragment.rpartition(parent)
            if sep and "/" not in name and isinstance(result, Mapping):
                self.names.setdefault(id(result), name.replace("~1", "/").replace("~0", "~"))
                break
        return result
