"""Reading OpenAPI documents and resolving their ``$ref``s, lazily.

Nothing here copies or resolves the whole document up front: a 12 MB spec is
parsed once (``json`` or libyaml's ``CSafeLoader``) and :class:`RefResolver`
resolves only what an operation asks for, memoising every reference it
resolves so a component shared by a thousand operations is walked once.

- Local references (``#/components/schemas/X``, ``#/definitions/X``), JSON
  pointers with ``~0``/``~1`` and percent-encoding, and references into other
  files or URLs, relative to the document that holds them.
- What a reference may reach is bounded (see :class:`RefPolicy`): files only
  inside the spec's own folder (``ref_root=`` widens it), URLs only on the
  spec's own origin unless ``remote_refs=`` allows others, never a local file
  from a document fetched over HTTP, never a device or a FIFO.
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
import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

from apinotebook._core import json as _json
from apinotebook._core.files import FileRefused, is_within, read_regular_file
from apinotebook._core.gcpause import gc_paused
from apinotebook._exceptions import ConfigError, SpecError

__all__ = [
    "Loader",
    "RefPolicy",
    "RefResolver",
    "clear_file_cache",
    "origin_of",
    "parse_document",
    "read_file",
]

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
        if text[:64].lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")):
            try:  # JSON bytes straight to the parser (orjson): no decoded copy
                with gc_paused():
                    return _json.loads(text)
            except (ValueError, RecursionError):
                pass  # the text path below says what is wrong, with the line
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


#: the last few files parsed, by where they are and when they changed: re-running a
#: notebook cell that loads a 40 MB spec does not parse it again (documents are never
#: modified here, so one parsed document can serve several clients)
_FILES: OrderedDict[tuple[str, int, int, int], Any] = OrderedDict()
_FILES_KEPT = 4
_files_lock = threading.Lock()


def _file_key(path: Path, max_size: int | None) -> tuple[str, int, int, int] | None:
    """How a regular file within the size limit is known in the cache (``None``: not cached)."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode) or (max_size is not None and info.st_size > max_size):
        return None  # read_regular_file says what is wrong with it
    return os.path.realpath(path), info.st_mtime_ns, info.st_size, info.st_ino


def clear_file_cache() -> None:
    """Forget every parsed file (the next load reads and parses again)."""
    with _files_lock:
        _FILES.clear()


def read_file(path: Path, *, max_size: int | None = None) -> Any:
    """Read and parse a JSON or YAML file (a regular file of at most ``max_size`` bytes).

    The parsed document is kept per file (path, modification time, size): reading
    an unchanged file again costs a ``stat``.
    """
    key = _file_key(path, max_size)
    if key is not None:
        with _files_lock:
            if key in _FILES:
                _FILES.move_to_end(key)
                return _FILES[key]
    document = _read_and_parse(path, max_size)
    if key is not None:
        with _files_lock:
            _FILES[key] = document
            while len(_FILES) > _FILES_KEPT:
                _FILES.popitem(last=False)
    return document


def _read_and_parse(path: Path, max_size: int | None) -> Any:
    try:
        data = read_regular_file(path, limit=max_size)
    except FileNotFoundError:
        raise SpecError(f"no such file: {str(path)!r}") from None
    except FileRefused as exc:
        hint = " (raise max_response_size= to read it)" if "limit" in exc.reason else ""
        what = "a JSON or YAML file" if "directory" in exc.reason else "an OpenAPI document"
        raise SpecError(f"{str(path)!r} {exc.reason}; expected {what}{hint}") from None
    except OSError as exc:
        raise SpecError(f"cannot read {str(path)!r}: {exc.strerror}") from exc
    return parse_document(data, source=f"file {path.name!r}")


def origin_of(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` with the scheme's default port filled in."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port if port is not None else default


@dataclass(frozen=True)
class RefPolicy:
    """What a ``$ref`` may reach.

    Attributes:
        remote_refs: ``False`` (default): URLs only on the spec's own origin;
            ``True``: any ``http(s)`` URL; or origins / URL prefixes allowed
            besides the spec's (``["https://schemas.example.com"]``). Documents
            on other origins are fetched without ``spec_auth``.
        ref_root: the folder whose files a local spec's references may read;
            ``None``: the spec's own folder.
        max_size: the largest local file read, in bytes.
    """

    remote_refs: bool | tuple[str, ...] = False
    ref_root: Path | None = None
    max_size: int | None = None

    @classmethod
    def make(
        cls,
        *,
        remote_refs: bool | Iterable[str] = False,
        ref_root: str | Path | None = None,
        max_size: int | None = None,
    ) -> RefPolicy:
        """Check and normalise the options.

        Raises:
            ConfigError: ``remote_refs`` holds something that is not an http(s) URL.
        """
        allowed: bool | tuple[str, ...]
        if isinstance(remote_refs, bool):
            allowed = remote_refs
        elif isinstance(remote_refs, str):
            raise ConfigError(
                "remote_refs= takes True/False or a list of origins, e.g. "
                f"remote_refs=[{remote_refs!r}]"
            )
        else:
            allowed = tuple(remote_refs)
            for item in allowed:
                if not isinstance(item, str) or urlsplit(item).scheme not in ("http", "https"):
                    raise ConfigError(
                        f"remote_refs= lists origins like 'https://schemas.example.com', "
                        f"not {item!r}"
                    )
        root = Path(ref_root).expanduser() if ref_root is not None else None
        return cls(remote_refs=allowed, ref_root=root, max_size=max_size)

    def allows_url(self, url: str) -> bool:
        """Whether a document on another origin than the spec's may be fetched."""
        if self.remote_refs is True or self.remote_refs is False:
            return self.remote_refs
        target = origin_of(url)
        path = urlsplit(url).path or "/"
        for item in self.remote_refs:
            if origin_of(item) != target:
                continue
            prefix = urlsplit(item).path
            if not prefix or prefix == "/" or path.startswith(prefix.rstrip("/") + "/"):
                return True
        return False


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
        policy: what references may reach (default: the spec's own folder or origin).
    """

    def __init__(
        self,
        document: Any,
        *,
        base_uri: str | None,
        loader: Loader | None,
        policy: RefPolicy | None = None,
    ) -> None:
        self.root_uri = base_uri or ""
        self._docs: dict[str, Any] = {self.root_uri: document}
        self._loader = loader
        self.policy = policy or RefPolicy()
        self._file_root: Path | None = None
        if urlsplit(self.root_uri).scheme == "file":
            spec_path = Path(url2pathname(urlsplit(self.root_uri).path))
            self._file_root = self.policy.ref_root or spec_path.parent
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
            document = self._read_local(uri)
        elif scheme in ("http", "https") and self._loader is not None:
            self._check_origin(uri)
            document = self._loader(uri)
        else:
            raise LookupError(f"cannot load {uri!r}: only file and http(s) references are read")
        self._docs[uri] = document
        return document

    def _read_local(self, uri: str) -> Any:
        path = Path(url2pathname(urlsplit(uri).path))
        root = self._file_root
        if root is None or not is_within(path, root):
            raise LookupError(
                f"{path.name!r} is outside the spec's folder {str(root)!r}, so it is not read; "
                "pass ref_root= a folder that contains it to allow it"
            )
        return read_file(path, max_size=self.policy.max_size)

    def _check_origin(self, uri: str) -> None:
        root = self.root_uri
        if urlsplit(root).scheme in ("http", "https") and origin_of(uri) == origin_of(root):
            return
        if self.policy.allows_url(uri):
            return
        scheme, host, port = origin_of(uri)
        origin = f"{scheme}://{host}" + (f":{port}" if port not in (80, 443, None) else "")
        raise LookupError(
            f"{origin} is another origin than the spec's, so it is not fetched; pass "
            f"remote_refs=[{origin!r}] (or remote_refs=True) to fetch it (spec_auth is "
            "never sent there)"
        )

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
