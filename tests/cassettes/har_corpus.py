"""HAR material nobody here wrote, from the package registries: pinned, fetched once, cached.

- ``har-schema`` 2.0.0 (npm, ISC): the JSON Schema of HAR 1.2 that ``har-validator``
  (the validator behind the ``request`` library and Postman's tools) uses;
- ``har2locust`` 0.9.4 (PyPI sdist, MIT): its test inputs are HAR files saved by Chrome's
  dev tools (``WebInspector``) and by Advanced REST Client, from real sites.

They go through ``tests/corpus/fetch.py`` (sha256 checked, safe extraction) into the
corpus cache. The download runs in a child process: the tests block every socket
but loopback, and the child only talks to the registries.
"""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from corpus.fetch import Archive, cache_dir, download, extract  # noqa: E402

HAR_SCHEMA = Archive(
    id="har-schema-2.0.0",
    url="https://registry.npmjs.org/har-schema/-/har-schema-2.0.0.tgz",
    sha256="2e7b84af0567ad7c6a5ddcb5f4c1bcc2bd29d4b089d734f628ac08517081be26",
    format="npm",
    licence="ISC",
    includes=(),
)
HAR2LOCUST = Archive(
    id="har2locust-0.9.4",
    url="https://files.pythonhosted.org/packages/63/c7/6d9a7333c53ba9968eef82466cb41ab67431986ab69d79cbcdd504eaa42e/har2locust-0.9.4.tar.gz",
    sha256="333ed347fb3a6e3c36dfde587a922cab4949905c7db3d9008e727b57468ddbbc",
    format="sdist",
    licence="MIT",
    includes=(),
)
ARCHIVES = {a.id: a for a in (HAR_SCHEMA, HAR2LOCUST)}


def folder(archive: Archive) -> Path:
    """The extracted archive, fetched by a child process the first time."""
    final = cache_dir() / "extracted" / archive.id
    if not (final / ".complete").exists():
        lock = cache_dir() / f".{archive.id}.lock"
        lock.parent.mkdir(parents=True, exist_ok=True)
        with lock.open("w") as fh:  # pytest-xdist workers: one downloads, the others wait
            fcntl.flock(fh, fcntl.LOCK_EX)
            if not (final / ".complete").exists():
                subprocess.run([sys.executable, __file__, archive.id], check=True, timeout=900)
    return final


def har_schema_dir() -> Path:
    """The folder of har-schema's JSON Schemas (``har.json``, ``entry.json``, ...)."""
    return folder(HAR_SCHEMA) / "package" / "lib"


def har_errors(document: dict[str, Any]) -> list[str]:
    """Where ``document`` breaks har-schema, and every field that is neither HAR's nor custom.

    HAR 1.2 lets a writer add fields whose names start with ``_``; har-schema
    does not forbid other names, so they are checked here against its properties.
    """
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT6

    schemas = {p.name: json.loads(p.read_text()) for p in har_schema_dir().glob("*.json")}
    registry = Registry().with_resources(
        (name, Resource.from_contents(s, default_specification=DRAFT6))
        for name, s in schemas.items()
    )
    checker = jsonschema.Draft6Validator.FORMAT_CHECKER  # as har-validator (ajv) checks formats
    validator = jsonschema.Draft6Validator(
        schemas["har.json"], registry=registry, format_checker=checker
    )
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]

    def known(schema: str, value: Any, where: str) -> None:
        props = schemas[schema].get("properties", {})
        for key, item in value.items():
            if key.startswith("_"):
                continue
            if key not in props:
                errors.append(f"{where}.{key}: not a HAR field and not a custom (_) one")
            ref = props.get(key, {}).get("$ref", "")
            nested = ref.removesuffix("#")
            if nested in schemas and isinstance(item, dict):
                known(nested, item, f"{where}.{key}")
            items = props.get(key, {}).get("items", {}).get("$ref", "").removesuffix("#")
            if items in schemas and isinstance(item, list):
                for i, one in enumerate(item):
                    known(items, one, f"{where}.{key}[{i}]")

    known("log.json", document["log"], "log")
    return errors


def browser_hars() -> Path:
    """har2locust's test inputs: HAR files saved by Chrome and Advanced REST Client."""
    return folder(HAR2LOCUST) / "har2locust-0.9.4" / "tests" / "inputs"


if __name__ == "__main__":
    root = cache_dir()
    for name in sys.argv[1:]:
        archive = ARCHIVES[name]
        extract(archive, download(archive, root, log=sys.stderr), root)
