"""Loading a big OpenAPI document: ``RestClient.from_openapi`` beside a raw parse.

A deterministic generator builds an OpenAPI 3.0 document shaped like the big
public ones (GitHub's, Stripe's): hundreds of resources, each with a family
of component schemas (a base object, an ``allOf`` "full" object, a create
input, a list envelope, enums), properties that ``$ref`` other resources
(so there are reference cycles), shared parameters and responses, several
operations per resource (list, create, get, update, replace, delete, events,
actions), tags, ``x-`` extensions and long descriptions. It grows until the
JSON reaches the requested size and is written to a temp dir as JSON and as
YAML.

For each file the benchmark measures:

- the raw parse: ``json.load`` / ``yaml.load(CSafeLoader)`` of the file, as is
  and with the garbage collector paused (as the client parses);
- ``RestClient.from_openapi(path)`` (parse, version check, operation index,
  base URL: no schema is resolved yet);
- listing ``client.operations`` and building every :class:`Operation`
  (every parameter, body and response schema resolved, memoised);
- the first ``client.prepare(...)`` of one operation on a fresh client
  (resolving only that operation), and a warm one.

prance is not a dependency and is not installed here, so it is not compared
(it resolves the whole document eagerly, which is what this client avoids).

Run ``python benchmarks/bench_openapi.py [--size-mb 12] [--repeat 3]``;
:func:`run` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NOUNS = (
    "account actor artifact branch charge check commit customer deployment discussion "
    "dispute environment gist invoice issue label milestone organization package payout "
    "plan price product project refund release repository review secret source "
    "subscription tag team token topic transfer upload user webhook workflow"
).split()
AREAS = (
    "billing checkout issuing treasury actions apps orgs repos teams users packages "
    "security reporting terminal identity radar tax climate"
).split()
WORDS = (
    "the a an of to for with when this that each returned object field value request "
    "response used only if not is are can be may will by default see also list "
    "created updated deleted expanded identifier unique string integer timestamp "
    "seconds since epoch owner resource parent pagination cursor page limit filter "
    "sorted ascending descending status active inactive pending archived visibility "
    "public private internal permissions scope token grant"
).split()
STATUSES = ["active", "inactive", "pending", "archived", "deleted", "draft", "failed"]


def _words(rng: random.Random, low: int, high: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))
    return text[0].upper() + text[1:] + "."


def _camel(*parts: str) -> str:
    return "".join(p[0].upper() + p[1:] for p in parts)


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _property(rng: random.Random, names: list[str]) -> dict[str, Any]:
    kind = rng.random()
    desc = _words(rng, 8, 40)
    if kind < 0.30:
        return {"type": "string", "description": desc, "example": _words(rng, 1, 3)}
    if kind < 0.42:
        return {"type": "integer", "format": "int64", "description": desc, "minimum": 0}
    if kind < 0.50:
        return {"type": "boolean", "description": desc, "default": False}
    if kind < 0.58:
        return {"type": "string", "format": "date-time", "description": desc, "nullable": True}
    if kind < 0.66:
        values = rng.sample(STATUSES, rng.randint(2, 5))
        return {"type": "string", "enum": values, "description": desc}
    if kind < 0.76 and names:
        return {"description": desc, "allOf": [_ref(rng.choice(names))], "nullable": True}
    if kind < 0.84 and names:
        return {"type": "array", "items": _ref(rng.choice(names)), "description": desc}
    if kind < 0.92:
        return {
            "type": "object",
            "description": desc,
            "properties": {
                rng.choice(WORDS) + f"_{i}": {"type": "string", "description": _words(rng, 4, 12)}
                for i in range(rng.randint(2, 5))
            },
            "additionalProperties": False,
        }
    return {"type": "object", "additionalProperties": {"type": "string"}, "description": desc}


def _names(index: int) -> tuple[str, str, str]:
    """``(noun, area, schema name)`` of resource ``index``."""
    noun, area = NOUNS[index % len(NOUNS)], AREAS[(index // len(NOUNS)) % len(AREAS)]
    return noun, area, _camel(area, noun, str(index))


def _resource(rng: random.Random, index: int, names: list[str]) -> tuple[str, dict[str, Any]]:
    noun, area, name = _names(index)
    plural = f"/{area}/{noun}s{index}"
    # refer to earlier resources and to the next one: the next one refers back (cycles)
    pool = [*names[-40:], _names(index + 1)[2]]
    props = {f"{rng.choice(WORDS)}_{i}": _property(rng, pool) for i in range(rng.randint(12, 26))}
    props["id"] = {"type": "string", "description": f"Unique identifier of the {noun}."}
    props["object"] = {"type": "string", "enum": [noun], "description": "The object type."}
    props["status"] = {"$ref": f"#/components/schemas/{name}Status"}
    schemas: dict[str, Any] = {
        name: {
            "type": "object",
            "title": name,
            "description": _words(rng, 30, 120),
            "required": ["id", "object"],
            "properties": props,
            "x-resource": noun,
        },
        f"{name}Status": {"type": "string", "enum": STATUSES, "description": _words(rng, 5, 20)},
        f"{name}Full": {
            "allOf": [
                _ref(name),
                {
                    "type": "object",
                    "properties": {"owner": _ref("SimpleUser"), "metadata": _ref("Metadata")},
                },
            ]
        },
        f"{name}Create": {
            "type": "object",
            "required": sorted(rng.sample(sorted(props), 2)),
            "properties": {k: v for k, v in props.items() if k not in ("id", "object")},
        },
        f"{name}List": {
            "type": "object",
            "properties": {
                "data": {"type": "array", "items": _ref(f"{name}Full")},
                "has_more": {"type": "boolean"},
                "url": {"type": "string"},
            },
        },
    }
    tag = f"{area}.{noun}"
    item = f"{plural}/{{{noun}_id}}"
    id_param = {
        "name": f"{noun}_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": f"The {noun}'s identifier.",
    }

    def op(verb: str, summary: str, **extra: Any) -> dict[str, Any]:
        return {
            "operationId": f"{area}/{verb}-{noun}{index}",
            "summary": summary,
            "description": _words(rng, 20, 90),
            "tags": [tag],
            "x-github": {"category": area, "subcategory": noun, "enabledForGitHubApps": True},
            "responses": {
                "200": {
                    "description": "Response",
                    "content": {"application/json": {"schema": _ref(f"{name}Full")}},
                },
                "404": {"$ref": "#/components/responses/not_found"},
                "422": {"$ref": "#/components/responses/validation_failed"},
            },
            **extra,
        }

    body = {"required": True, "content": {"application/json": {"schema": _ref(f"{name}Create")}}}
    paths = {
        plural: {
            "get": op(
                "list",
                f"List {noun}s",
                parameters=[
                    {"$ref": "#/components/parameters/per-page"},
                    {"$ref": "#/components/parameters/cursor"},
                    {"$ref": "#/components/parameters/expand"},
                    {"name": "status", "in": "query", "schema": _ref(f"{name}Status")},
                ],
                responses={
                    "200": {
                        "description": "A page",
                        "content": {"application/json": {"schema": _ref(f"{name}List")}},
                    }
                },
            ),
            "post": op("create", f"Create a {noun}", requestBody=body),
        },
        item: {
            "parameters": [id_param],
            "get": op("get", f"Get a {noun}"),
            "patch": op("update", f"Update a {noun}", requestBody=body),
            "put": op("replace", f"Replace a {noun}", requestBody=body),
            "delete": op("delete", f"Delete a {noun}", responses={"204": {"description": "Gone"}}),
        },
        f"{item}/events": {"parameters": [id_param], "get": op("list-events", "List events")},
        f"{item}/actions/{{action}}": {
            "parameters": [id_param],
            "post": op(
                "run-action",
                "Run an action",
                parameters=[
                    {
                        "name": "action",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": ["close", "reopen", "lock"]},
                    }
                ],
            ),
        },
    }
    return name, {"schemas": schemas, "paths": paths}


def generate(size_mb: float = 12, *, seed: int = 7) -> dict[str, Any]:
    """A deterministic OpenAPI 3.0 document whose compact JSON is about ``size_mb`` MB."""
    rng = random.Random(seed)
    schemas: dict[str, Any] = {
        "SimpleUser": {
            "type": "object",
            "properties": {
                "login": {"type": "string"},
                "id": {"type": "integer"},
                "followers": {"type": "array", "items": _ref("SimpleUser")},
            },
        },
        "Metadata": {"type": "object", "additionalProperties": {"type": "string"}},
        "Error": {
            "type": "object",
            "properties": {"message": {"type": "string"}, "documentation_url": {"type": "string"}},
        },
    }
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "Generated big API",
            "version": "1.1.4",
            "description": _words(rng, 50, 80),
        },
        "servers": [
            {
                "url": "https://{region}.api.example.com/v1",
                "variables": {"region": {"default": "eu"}},
            }
        ],
        "security": [{"bearerAuth": []}],
        "tags": [],
        "paths": {},
        "components": {
            "schemas": schemas,
            "parameters": {
                "per-page": {
                    "name": "per_page",
                    "in": "query",
                    "description": _words(rng, 10, 30),
                    "schema": {"type": "integer", "default": 30, "maximum": 100},
                },
                "cursor": {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                "expand": {
                    "name": "expand[]",
                    "in": "query",
                    "explode": True,
                    "schema": {"type": "array", "items": {"type": "string"}},
                },
            },
            "responses": {
                "not_found": {
                    "description": "Resource not found",
                    "content": {"application/json": {"schema": _ref("Error")}},
                },
                "validation_failed": {
                    "description": "Validation failed",
                    "content": {"application/json": {"schema": _ref("Error")}},
                },
            },
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }
    target = size_mb * 1_000_000
    size = len(json.dumps(doc))
    names: list[str] = []
    index = 0
    while size < target:
        name, parts = _resource(rng, index, names)
        size += len(json.dumps(parts)) + 10
        schemas.update(parts["schemas"])
        doc["paths"].update(parts["paths"])
        noun, area, _ = _names(index)
        doc["tags"].append({"name": f"{area}.{noun}", "description": _words(rng, 5, 15)})
        names.append(name)
        index += 1
    # the last resource points at one more that does not exist yet: add it
    last = _names(index)[2]
    schemas.setdefault(last, {"type": "object", "properties": {"id": {"type": "string"}}})
    return doc


def write(doc: dict[str, Any], folder: Path, *, yaml_too: bool = True) -> dict[str, Path]:
    """Write ``doc`` as ``spec.json`` (compact) and ``spec.yaml``."""
    import yaml

    paths = {"json": folder / "spec.json"}
    paths["json"].write_text(json.dumps(doc), encoding="utf-8")
    if yaml_too:
        paths["yaml"] = folder / "spec.yaml"
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        with paths["yaml"].open("w", encoding="utf-8") as fh:
            yaml.dump(doc, fh, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    return paths


def _time(fn: Callable[[], Any], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (garbage collected between them)."""
    samples = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def run(
    size_mb: float = 12, *, repeat: int = 3, seed: int = 7, yaml_too: bool = True
) -> dict[str, Any]:
    """Measure loading; returns sizes, seconds per step and the ratios to the raw parse.

    ``BENCH_QUICK=1`` in the environment makes it a 1 MB smoke run with one repeat.
    """
    import yaml

    from apinotebook import RestClient

    if os.environ.get("BENCH_QUICK") == "1":
        size_mb, repeat = min(size_mb, 1.0), 1
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = generate(size_mb, seed=seed)
    results: dict[str, Any] = {"seed": seed, "yaml_loader": loader.__name__, "seconds": {}}
    seconds: dict[str, float] = results["seconds"]
    # warm up: imports and the first httpx client are not what is measured
    RestClient.from_openapi({"openapi": "3.0.0", "paths": {}}, base_url="http://x", history=False)
    with tempfile.TemporaryDirectory() as tmp:
        files = write(doc, Path(tmp), yaml_too=yaml_too)
        del doc
        for kind, path in files.items():
            results[f"{kind}_bytes"] = path.stat().st_size

            def raw(path: Path = path, kind: str = kind) -> Any:
                with path.open("rb") as fh:
                    return json.load(fh) if kind == "json" else yaml.load(fh, Loader=loader)  # noqa: S506

            def load(path: Path = path) -> Any:
                return RestClient.from_openapi(path, history=False)

            def raw_no_gc(raw: Callable[[], Any] = raw) -> Any:
                gc.disable()  # what the client does while parsing: the fair baseline
                try:
                    return raw()
                finally:
                    gc.enable()

            seconds[f"raw_{kind}_load"] = _time(raw, repeat)
            seconds[f"raw_{kind}_load_gc_paused"] = _time(raw_no_gc, repeat)
            seconds[f"from_openapi_{kind}"] = _time(load, repeat)
            client = load()
            ids = client.operations.ids()
            one = next(i for i in ids[len(ids) // 2 :] if "/update-" in i)  # a PATCH with a body
            op_args: dict[str, Any] = {
                p.python_name: "x" for p in client.operation(one).parameters if p.required
            }
            op_args["body"] = {"name": "x"}
            fresh = load()
            t0 = time.perf_counter()
            fresh.prepare(one, **op_args)
            seconds[f"first_prepare_{kind}"] = time.perf_counter() - t0
            seconds[f"warm_prepare_{kind}"] = _time(
                lambda c=fresh, o=one, a=op_args: c.prepare(o, **a), repeat * 5
            )
            t0 = time.perf_counter()
            built = list(client.operations)
            seconds[f"build_all_operations_{kind}"] = time.perf_counter() - t0
            results["operations"] = len(built)
            results["paths"] = len(client.spec["paths"])
            results["schemas"] = len(client.spec["components"]["schemas"])
            del client, fresh, built
    results["ratios"] = {
        f"from_openapi_{k} / raw_{k}_load": seconds[f"from_openapi_{k}"] / seconds[f"raw_{k}_load"]
        for k in ("json", "yaml")
        if f"raw_{k}_load" in seconds
    }
    results["ratios"].update(
        {
            f"from_openapi_{k} / raw_{k}_load_gc_paused": seconds[f"from_openapi_{k}"]
            / seconds[f"raw_{k}_load_gc_paused"]
            for k in ("json", "yaml")
            if f"raw_{k}_load" in seconds
        }
    )
    results["ratios"].update(
        {
            f"from_openapi_{k}+build_all / raw_{k}_load": (
                seconds[f"from_openapi_{k}"] + seconds[f"build_all_operations_{k}"]
            )
            / seconds[f"raw_{k}_load"]
            for k in ("json", "yaml")
            if f"raw_{k}_load" in seconds
        }
    )
    return results


def markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown table for docs/benchmarks.md."""
    seconds = results["seconds"]
    kinds = [k for k in ("json", "yaml") if f"raw_{k}_load" in seconds]
    sizes = ", ".join(f"{k.upper()} {results[f'{k}_bytes'] / 1e6:.1f} MB" for k in kinds)
    lines = [
        f"A generated OpenAPI 3.0 document: {results['operations']:,} operations, "
        f"{results['paths']:,} paths, {results['schemas']:,} component schemas ({sizes}). "
        f"YAML is read with {results['yaml_loader']}.",
        "",
        "| Step | " + " | ".join(k.upper() for k in kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    rows = [
        ("raw `json.load` / `yaml.load`", "raw_{}_load"),
        ("the same, garbage collector paused", "raw_{}_load_gc_paused"),
        ("`RestClient.from_openapi(path)`", "from_openapi_{}"),
        ("build every operation (all schemas resolved)", "build_all_operations_{}"),
        ("first `prepare()` on a fresh client", "first_prepare_{}"),
        ("later `prepare()`", "warm_prepare_{}"),
    ]
    for label, key in rows:
        cells = []
        for k in kinds:
            value = seconds[key.format(k)]
            cell = f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.2f} ms"
            if key == "from_openapi_{}":
                cell += f" ({value / seconds[f'raw_{k}_load']:.2f}x raw, "
                cell += f"{value / seconds[f'raw_{k}_load_gc_paused']:.2f}x paused)"
            cells.append(cell)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _print(results: dict[str, Any]) -> None:
    sizes = ", ".join(
        f"{k.split('_')[0].upper()} {results[k] / 1e6:.1f} MB"
        for k in ("json_bytes", "yaml_bytes")
        if k in results
    )
    print(
        f"{results['operations']} operations, {results['paths']} paths, "
        f"{results['schemas']} schemas; {sizes}; YAML loader {results['yaml_loader']}"
    )
    for name, value in results["seconds"].items():
        print(f"  {name:<36} {value * 1000:9.1f} ms")
    print("ratios:")
    for name, value in results["ratios"].items():
        print(f"  {name:<48} {value:5.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=float, default=12, help="size of the JSON document")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-yaml", action="store_true", help="skip the (slow) YAML form")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.size_mb, repeat=args.repeat, yaml_too=not args.no_yaml)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
