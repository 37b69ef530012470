"""GraphQL schemas for :class:`~apinotebook.graphql.GraphQLClient`: loading them.

Everything here is pure (no network): a schema from SDL, an introspection
result, a file or a ``GraphQLSchema``, built with graphql-core
(``build_schema``, ``build_client_schema``), its errors mapped to
apinotebook's and listed with line and column; what strict validation would
say is computed when first asked for (:func:`schema_problems`). Documents and
their validation are in :mod:`apinotebook.graphql._documents`; Relay
pagination in :mod:`apinotebook.graphql._relay`.

Big schemas: building a schema allocates hundreds of thousands of small
objects, which makes Python's cyclic garbage collector run over and over for
nothing (none of them is garbage yet). Loading pauses the collector, which
halves the time for a schema with thousands of types; the most recent
schemas built from text are also kept (keyed by a hash of the text), so
re-running a notebook cell does not rebuild them.
"""

from __future__ import annotations

import functools
import hashlib
import os
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLSchema,
    build_client_schema,
    build_schema,
    get_introspection_query,
    parse,
    validate_schema,
)

from apinotebook._core import json as _json
from apinotebook._core.gcpause import gc_paused
from apinotebook._exceptions import ConfigError, SpecError

__all__ = [
    "SDL_SUFFIXES",
    "format_errors",
    "introspection_query",
    "load_schema",
    "require_valid",
    "schema_problems",
    "schema_from_introspection",
    "schema_from_sdl",
]

SDL_SUFFIXES = (".graphql", ".graphqls", ".sdl", ".gql")
_CACHE_SIZE = 4
_cache: OrderedDict[str, GraphQLSchema] = OrderedDict()
_MAX_LISTED = 10


def format_errors(errors: Sequence[GraphQLError]) -> list[str]:
    """``"3:5: Cannot query field 'x' on type 'Query'."`` for each error."""
    out = []
    for error in errors:
        where = ", ".join(f"{loc.line}:{loc.column}" for loc in error.locations or ())
        out.append(f"{where}: {error.message}" if where else error.message)
    return out


def _listing(problems: Sequence[str]) -> str:
    shown = "\n".join(f"  {p}" for p in problems[:_MAX_LISTED])
    more = len(problems) - _MAX_LISTED
    return shown + (f"\n  ... and {more} more" if more > 0 else "")


# -- loading schemas ----------------------------------------------------------------


#: the problems strict validation finds in a schema, computed when first asked for
_PROBLEMS: weakref.WeakKeyDictionary[GraphQLSchema, Callable[[], list[str]]] = (
    weakref.WeakKeyDictionary()
)


def _tolerate(schema: GraphQLSchema, problems: Callable[[], list[str]]) -> GraphQLSchema:
    """Accept ``schema`` as it is: queries validate against it, its problems are listed."""
    _PROBLEMS[schema] = functools.cache(problems)
    schema._validation_errors = []  # validate() would refuse an unchecked schema
    return schema


def schema_problems(schema: GraphQLSchema) -> list[str]:
    """What strict validation finds wrong with ``schema`` (empty for a valid one).

    Real-world schemas often break a rule (a field defined twice, an interface
    field's deprecation not matching an implementation's): they load anyway,
    and these are the problems, with line and column where the SDL has them.
    """
    compute = _PROBLEMS.get(schema)
    return list(compute()) if compute is not None else []


def require_valid(schema: GraphQLSchema, origin: str) -> GraphQLSchema:
    """``schema`` if strict validation passes; otherwise a SpecError listing the problems."""
    problems = schema_problems(schema)
    if problems:
        raise SpecError(
            f"{origin} describes an invalid GraphQL schema ({len(problems)} problems):\n"
            f"{_listing(problems)}\nPass strict=False to load it anyway and list the problems."
        )
    return schema


def _strict_errors(schema: GraphQLSchema) -> list[str]:
    """What ``validate_schema`` says of ``schema``, whatever it cached before."""
    saved = schema._validation_errors
    schema._validation_errors = None
    try:
        return format_errors(validate_schema(schema))
    finally:
        schema._validation_errors = saved if saved is not None else []


def _checked(schema: GraphQLSchema, origin: str) -> GraphQLSchema:
    """Accept a schema built from introspection (or given built); its problems on demand."""
    ref = weakref.ref(schema)  # the registry's value must not keep its key alive

    def problems() -> list[str]:
        alive = ref()
        return _strict_errors(alive) if alive is not None else []

    return _tolerate(schema, problems)


def _cached(key: str) -> GraphQLSchema | None:
    schema = _cache.get(key)
    if schema is not None:
        _cache.move_to_end(key)
    return schema


def _remember(key: str, schema: GraphQLSchema) -> GraphQLSchema:
    _cache[key] = schema
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)
    return schema


def _sdl_problems(text: str) -> list[str]:
    """The problems of invalid SDL, with line:column (built again, with locations)."""
    from graphql import build_ast_schema
    from graphql.validation.validate import validate_sdl

    document = parse(text)
    problems = format_errors(validate_sdl(document))
    if not problems:
        problems = format_errors(validate_schema(build_ast_schema(document, assume_valid_sdl=True)))
    return problems


def schema_from_sdl(text: str, *, origin: str = "the SDL") -> GraphQLSchema:
    """Build (and check) a schema from SDL text.

    The schema is built as fast as graphql-core can (no locations, no validation);
    :func:`schema_problems` validates it strictly, with line and column, when asked.

    Raises:
        SpecError: the SDL does not parse, or names types it does not define.
    """
    key = "sdl:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    cached = _cached(key)
    if cached is not None:
        return cached
    try:
        with gc_paused():
            # graphql-core's fastest build: no locations, no validation. What strict
            # validation would say is computed when first asked for (schema_problems).
            schema = build_schema(text, no_location=True, assume_valid_sdl=True, assume_valid=True)
    except GraphQLError as exc:  # a syntax error: it has its location already
        (problem,) = format_errors([exc])
        raise SpecError(f"{origin} is not valid GraphQL SDL: {problem}") from exc
    except TypeError as exc:  # unknown types and the like: nothing can be built
        problems = _sdl_problems(text)
        raise SpecError(
            f"{origin} cannot be built as a GraphQL schema ({len(problems) or 1} problems):\n"
            f"{_listing(problems or [str(exc)])}"
        ) from exc
    schema = _tolerate(schema, lambda: _sdl_problems(text))
    return _remember(key, schema)


def schema_from_introspection(data: Any, *, origin: str = "the introspection result") -> (
    GraphQLSchema
):  # fmt: skip
    """Build (and check) a schema from an introspection result, with or without ``data``.

    Raises:
        SpecError: ``data`` is not an introspection result.
    """
    if isinstance(data, Mapping) and "__schema" not in data and "data" in data:
        errors = data.get("errors")
        data = data["data"]
        if data is None and errors:
            messages = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
            raise SpecError(f"{origin} holds errors instead of a schema: {messages}")
    if not isinstance(data, Mapping) or not isinstance(data.get("__schema"), Mapping):
        keys = ", ".join(map(repr, list(data)[:8])) if isinstance(data, Mapping) else ""
        got = f"keys {keys}" if keys else type(data).__name__
        raise SpecError(
            f"{origin} is not an introspection result: expected {{'__schema': ...}} or "
            f"{{'data': {{'__schema': ...}}}}, got {got}."
        )
    try:
        with gc_paused():
            schema = build_client_schema(dict(data), assume_valid=True)  # type: ignore[arg-type]
    except (TypeError, KeyError, ValueError, AttributeError, GraphQLError) as exc:
        raise SpecError(f"{origin} is not a valid introspection result: {exc}") from exc
    return _checked(schema, origin)


def _introspection_text(text: str | bytes, origin: str, *, key: str | None = None) -> (
    GraphQLSchema
):  # fmt: skip
    if key is None:
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        key = "json:" + hashlib.sha256(raw).hexdigest()
    schema = _cached(key)
    if schema is not None:
        return schema
    try:
        with gc_paused():
            data = _json.loads(text)
    except ValueError as exc:
        raise SpecError(f"{origin} is not valid JSON: {exc}") from exc
    return _remember(key, schema_from_introspection(data, origin=origin))


def _expand(text: str) -> Path:
    try:
        return Path(text).expanduser()
    except RuntimeError:  # ~nosuchuser: the name as written
        return Path(text)


def _looks_like_path(text: str) -> bool:
    if "\n" in text or "{" in text or len(text) > 4096:
        return False
    if text.lower().endswith((*SDL_SUFFIXES, ".json")):
        return True
    try:
        return Path(text).expanduser().is_file()
    except (OSError, ValueError, RuntimeError):  # too long, or ~nosuchuser: not a file
        return False


def _load_file(path: Path) -> GraphQLSchema:
    origin = f"schema file {str(path)!r}"
    try:
        stat = path.stat()
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(
            f"There is no {origin}. Pass SDL text, an introspection dict, or the path of an "
            f"existing {', '.join(SDL_SUFFIXES)} or .json file."
        ) from exc
    except OSError as exc:
        raise SpecError(f"cannot read {origin}: {exc}") from exc
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    # a file is known by where it is and when it changed: no need to hash megabytes
    key = f"file:{path.resolve()}:{stat.st_mtime_ns}:{stat.st_size}"
    suffix = path.suffix.lower()
    if suffix == ".json" or (suffix not in SDL_SUFFIXES and raw.lstrip().startswith(b"{")):
        return _introspection_text(raw, origin, key="json:" + key)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"cannot read {origin}: {exc}") from exc
    return schema_from_sdl(text, origin=origin)


def load_schema(source: Any, *, strict: bool = False) -> GraphQLSchema:
    """A schema from SDL text, a file path, an introspection dict or a ``GraphQLSchema``.

    A schema that breaks strict validation loads anyway (see :func:`schema_problems`);
    ``strict=True`` refuses it.

    Raises:
        SpecError: the source cannot be read as a schema (or, with ``strict``, is invalid).
        ConfigError: the source is of an unknown kind, or a named file is missing.
    """
    schema = _load_any(source)
    return require_valid(schema, "the schema") if strict else schema


def _load_any(source: Any) -> GraphQLSchema:
    if isinstance(source, GraphQLSchema):
        return _checked(source, "the GraphQLSchema given")
    if isinstance(source, Mapping):
        return schema_from_introspection(source, origin="the introspection dict")
    if isinstance(source, os.PathLike):
        return _load_file(Path(os.fspath(source)))
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    if isinstance(source, str):
        if _looks_like_path(source):
            return _load_file(_expand(source))
        if source.lstrip().startswith("{"):
            return _introspection_text(source, "the introspection JSON text")
        return schema_from_sdl(source)
    raise ConfigError(
        "schema= takes SDL text, the path of a .graphql/.graphqls/.sdl or .json "
        "(introspection) file, an introspection result dict, or a graphql.GraphQLSchema; "
        f"got {type(source).__name__}"
    )


def introspection_query() -> str:
    """The introspection query the client sends to fetch a schema."""
    return get_introspection_query(descriptions=True)
