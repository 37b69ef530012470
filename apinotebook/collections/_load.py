"""Load any supported collection file: the format is detected from the content.

>>> collection = load("api.postman_collection.json", environment="dev.postman_environment.json")
... # doctest: +SKIP

Detected: Postman Collection v2.0/v2.1 and environments, Insomnia exports (v2-v4
JSON or YAML, v5 YAML), Bruno collection folders and ``.bru`` files, HAR 1.2
logs, OpenAPI 3.x / Swagger 2.0 documents. A file that is none of these, or
that is broken, raises :class:`CollectionError` naming the file and the problem.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

import yaml

from apinotebook.collections._bruno import is_bru, load_bruno
from apinotebook.collections._har import is_har, load_har
from apinotebook.collections._insomnia import is_insomnia, load_insomnia
from apinotebook.collections._model import Collection, CollectionError, Environment
from apinotebook.collections._openapi import is_openapi, load_openapi
from apinotebook.collections._postman import (
    is_postman,
    is_postman_environment,
    load_postman,
    load_postman_environment,
)

__all__ = ["FORMATS", "MAX_BYTES", "load", "load_environment", "read_document"]

#: what :func:`load` reads
FORMATS = ("postman", "postman-environment", "insomnia", "bruno", "har", "openapi")
#: the largest file :func:`load` reads
MAX_BYTES = 64 * 1024 * 1024


def read_document(path: Path) -> Any:
    """A JSON or YAML file's content (bounded in size, BOM tolerated)."""
    if not path.exists():
        raise CollectionError(path, "no such file or folder")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise CollectionError(path, f"the file is {size:,} bytes; the limit is {MAX_BYTES:,}")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CollectionError(path, f"cannot read it ({exc.strerror})") from exc
    # UTF-8, with or without a byte order mark; UTF-16 only with one (Windows editors)
    encoding = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise CollectionError(path, "the file is not UTF-8 (or UTF-16 with a BOM) text") from exc
    if not text.strip():
        raise CollectionError(path, "the file is empty")
    if is_bru(text):
        return text
    try:
        return json.loads(text)
    except ValueError as json_error:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise CollectionError(
                path, f"neither JSON ({json_error}) nor YAML{where}: fix or re-export it"
            ) from exc


def _detect(data: Any) -> str:
    if isinstance(data, str):
        return "bruno"
    if is_postman_environment(data):
        return "postman-environment"
    if is_insomnia(data):
        return "insomnia"
    if is_har(data):
        return "har"
    if is_openapi(data):
        return "openapi"
    if is_postman(data):
        return "postman"
    return ""


def load(
    path: str | PathLike[str],
    *,
    environment: str | PathLike[str] | None = None,
    keep_cookies: bool = False,
    keep_assets: bool = False,
) -> Collection:
    """Load a collection file or folder; ``environment`` also loads an environment file.

    Raises:
        CollectionError: the file is missing, unreadable, of no supported
            format, or broken; the message names the file and says what to do.
    """
    path = Path(path)
    try:
        collection = _load(path, keep_cookies=keep_cookies, keep_assets=keep_assets)
    except CollectionError:
        raise
    except (AttributeError, TypeError, KeyError, ValueError, IndexError, RecursionError) as exc:
        # a shape the loaders do not expect: still a clear, typed error naming the file
        raise CollectionError(
            path, f"its structure is not what its format allows ({type(exc).__name__}: {exc})"
        ) from exc
    if environment is not None:
        env = load_environment(environment)
        collection.environments.append(env)
        collection.active = env.name
    return collection


def _load(path: Path, *, keep_cookies: bool, keep_assets: bool) -> Collection:
    if path.is_dir() or path.suffix == ".bru" or path.name == "bruno.json":
        collection = load_bruno(path) if path.exists() else _missing(path)
    else:
        data = read_document(path)
        kind = _detect(data)
        if kind == "postman":
            collection = load_postman(data, str(path))
        elif kind == "insomnia":
            collection = load_insomnia(data, str(path))
        elif kind == "har":
            collection = load_har(
                data, str(path), keep_cookies=keep_cookies, keep_assets=keep_assets
            )
        elif kind == "openapi":
            collection = load_openapi(path)
        elif kind == "postman-environment":
            env = load_postman_environment(data, str(path))
            collection = Collection(env.name, format="postman-environment", path=str(path))
            collection.environments.append(env)
            collection.active = env.name
        elif kind == "bruno":
            collection = load_bruno(path)
        else:
            raise CollectionError(
                path,
                "not a collection this importer knows (Postman v2.0/v2.1 collection or "
                "environment, Insomnia export, Bruno .bru, HAR 1.2, OpenAPI 3.x / Swagger 2.0)",
            )
    return collection


def _missing(path: Path) -> Collection:
    raise CollectionError(path, "no such file or folder")


def load_environment(path: str | PathLike[str]) -> Environment:
    """An environment file: Postman environment, Bruno ``environments/*.bru``, or the like."""
    path = Path(path)
    collection = load(path)
    if not collection.environments:
        raise CollectionError(path, "the file holds no environment")
    return collection.environments[0]
