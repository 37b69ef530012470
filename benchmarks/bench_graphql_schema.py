"""Loading a big GraphQL schema: GraphQLClient beside raw graphql-core and gql.

A deterministic generator builds a schema shaped like GitHub's public one
(a ``Node`` interface, entities with Relay connections, edges, order enums and
inputs, create/update inputs and payloads, unions, long descriptions), then
serialises it both as SDL and as an introspection result (JSON). The
benchmark measures, for each form:

- raw graphql-core: ``build_schema`` / ``json.loads`` + ``build_client_schema``,
  each followed by ``validate_schema`` (which ``graphql.validate`` runs once
  per schema anyway, and which GraphQLClient runs at load time so a broken
  schema fails early);
- ``GraphQLClient(schema=...)`` from the text, a file and (introspection) a dict;
- gql's ``Client(schema=...)`` / ``Client(introspection=...)`` construction;
- one validation of a realistic query: ``graphql.validate`` vs ``client.validate``.

Run ``python benchmarks/bench_graphql_schema.py [--entities N] [--repeat R]``;
:func:`run` returns the numbers as a dict.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

WORDS = (
    "account actor branch commit deployment discussion environment gist issue label "
    "milestone organization package project pull release repository review sponsor "
    "status team topic user workflow artifact check comment enterprise invitation "
    "license market mirror note permission pin reaction ref secret source tag thread "
    "token upload vulnerability webhook advisory alert audit billing campaign"
).split()
ADJECTIVES = (
    "archived public private pending verified blocked draft merged closed open "
    "stale protected pinned starred external internal primary shared visible"
).split()
SCALARS = ("DateTime", "URI", "HTML", "GitObjectID", "Base64String", "BigInt")
ORDER_DIRECTION = "enum OrderDirection {\n  ASC\n  DESC\n}"


def _description(rng: random.Random, subject: str) -> str:
    words = [rng.choice(WORDS + ADJECTIVES) for _ in range(rng.randint(18, 45))]
    return f"The {subject}: " + " ".join(words) + "."


def _camel(words: list[str]) -> str:
    return "".join(w.capitalize() for w in words)


def generate_sdl(entities: int = 600, *, seed: int = 7) -> str:
    """SDL for a schema with about ``7 * entities`` types (deterministic for a seed).

    Each entity contributes an object type (implementing ``Node`` and one or
    two other interfaces), a Connection, an Edge, an OrderField enum, an Order
    input, a Create input and a Create payload. Interfaces and unions group
    the entities; ``Query`` and ``Mutation`` reach all of them.
    """
    rng = random.Random(seed)
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < entities:
        name = _camel([rng.choice(ADJECTIVES), rng.choice(WORDS), rng.choice(WORDS)])
        if name not in seen:
            seen.add(name)
            names.append(name)
    n_interfaces = max(2, entities // 15)
    interfaces = [f"{_camel([rng.choice(WORDS)])}able{i}" for i in range(n_interfaces)]
    out: list[str] = [f"scalar {s}" for s in SCALARS]
    out.append(ORDER_DIRECTION)
    out.append('"""An object with an ID."""\ninterface Node {\n  "ID of the object."\n  id: ID!\n}')
    out.append(
        "type PageInfo {\n  hasNextPage: Boolean!\n  hasPreviousPage: Boolean!\n"
        "  startCursor: String\n  endCursor: String\n}"
    )
    for iface in interfaces:
        out.append(
            f'"""{_description(rng, iface)}"""\ninterface {iface} {{\n  id: ID!\n'
            f"  {iface[0].lower()}{iface[1:]}At: DateTime\n  viewerCan{iface}: Boolean!\n}}"
        )
    members: dict[str, list[str]] = {iface: [] for iface in interfaces}
    for i, name in enumerate(names):
        ifaces = sorted({interfaces[i % n_interfaces], interfaces[(i * 7 + 3) % n_interfaces]})
        for iface in ifaces:
            members[iface].append(name)
        fields = ["  id: ID!", '  "When it was created."\n  createdAt: DateTime!']
        for iface in ifaces:
            fields.append(f"  {iface[0].lower()}{iface[1:]}At: DateTime")
            fields.append(f"  viewerCan{iface}: Boolean!")
        for _ in range(rng.randint(6, 14)):
            fname = rng.choice(ADJECTIVES) + _camel([rng.choice(WORDS)])
            ftype = rng.choice(("String", "Int!", "Boolean!", "URI", "HTML", "Float", "[String!]"))
            line = f"  {fname}: {ftype}"
            if rng.random() < 0.5:
                line = f'  "{_description(rng, fname)}"\n' + line
            if line not in fields and not any(f.endswith(f" {fname}: {ftype}") for f in fields):
                if not any(f.split(":")[0].split()[-1] == fname for f in fields):
                    fields.append(line)
        for _ in range(rng.randint(1, 3)):
            other = names[rng.randrange(entities)]
            field = other[0].lower() + other[1:] + "s"
            if any(f.split(":")[0].split("(")[0].split()[-1] == field for f in fields):
                continue
            fields.append(
                f"  {field}(first: Int, after: String, last: Int, before: String, "
                f"orderBy: {other}Order): {other}Connection!"
            )
        out.append(
            f'"""{_description(rng, name)}"""\n'
            f"type {name} implements Node & {' & '.join(ifaces)} {{\n" + "\n".join(fields) + "\n}"
        )
        out.append(
            f'"""The connection type for {name}."""\ntype {name}Connection {{\n'
            f"  edges: [{name}Edge]\n  nodes: [{name}]\n  pageInfo: PageInfo!\n"
            "  totalCount: Int!\n}"
        )
        out.append(
            f'"""An edge in a connection."""\ntype {name}Edge {{\n  cursor: String!\n'
            f"  node: {name}\n}}"
        )
        out.append(
            f'"""Properties by which {name} connections can be ordered."""\n'
            f"enum {name}OrderField {{\n  CREATED_AT\n  UPDATED_AT\n  NAME\n}}"
        )
        out.append(
            f'"""Ordering options for {name} connections."""\ninput {name}Order {{\n'
            f"  field: {name}OrderField!\n  direction: OrderDirection!\n}}"
        )
        out.append(
            f'"""Autogenerated input type of Create{name}."""\ninput Create{name}Input {{\n'
            '  "A unique identifier for the client performing the mutation."\n'
            "  clientMutationId: String\n  name: String!\n  description: String\n"
            "  visibility: OrderDirection\n}"
        )
        out.append(
            f'"""Autogenerated return type of Create{name}."""\ntype Create{name}Payload {{\n'
            f"  clientMutationId: String\n  {name[0].lower()}{name[1:]}: {name}\n}}"
        )
    unions = []
    for i, iface in enumerate(interfaces):
        if len(members[iface]) >= 2:
            union = f"SearchResult{i}"
            unions.append(union)
            out.append(f"union {union} = " + " | ".join(members[iface][:12]))
    query = [
        '  "Fetches an object given its ID."\n  node(id: ID!): Node',
        "  nodes(ids: [ID!]!): [Node]!",
    ]
    mutation = []
    for name in names:
        lower = name[0].lower() + name[1:]
        query.append(f"  {lower}(id: ID!): {name}")
        query.append(
            f"  {lower}s(first: Int, after: String, orderBy: {name}Order): {name}Connection!"
        )
        mutation.append(f"  create{name}(input: Create{name}Input!): Create{name}Payload")
    for union in unions:
        query.append(f"  search{union}(query: String!, first: Int): [{union}!]!")
    out.append('"""The query root."""\ntype Query {\n' + "\n".join(query) + "\n}")
    out.append('"""The mutation root."""\ntype Mutation {\n' + "\n".join(mutation) + "\n}")
    return "\n\n".join(out) + "\n"


def generate_introspection(sdl: str) -> dict[str, Any]:
    """The introspection result (``{"__schema": ...}``) for ``sdl``."""
    from graphql import build_schema, introspection_from_schema

    return dict(introspection_from_schema(build_schema(sdl)))


def sample_query(sdl: str) -> str:
    """A realistic query for the generated schema: nested connections, variables."""
    from graphql import build_schema

    schema = build_schema(sdl)
    query_type = schema.query_type
    if query_type is None:  # pragma: no cover - the generator always adds one
        raise ValueError("the schema has no Query type")
    name = next(n for n in query_type.fields if n.endswith("s") and n not in ("nodes",))
    entity = schema.get_type(query_type.fields[name].type.of_type.name[: -len("Connection")])
    scalars = [
        f
        for f, d in entity.fields.items()  # type: ignore[union-attr]
        if "Connection" not in str(d.type)
    ]
    return (
        f"query Sample($first: Int = 20, $after: String) {{\n"
        f"  {name}(first: $first, after: $after) {{\n"
        "    totalCount\n    pageInfo { hasNextPage endCursor }\n"
        "    edges { cursor node { " + " ".join(scalars) + " } }\n"
        "  }\n}\n"
    )


def _time(fn: Callable[[], Any], repeat: int, *, number: int = 1) -> float:
    """Best CPU seconds per call over ``repeat`` samples of ``number`` calls each.

    CPU time (``time.process_time``) and the best sample keep the numbers
    stable on a busy machine. The loaders' schema cache is cleared before
    every sample, so client timings are cold loads (the cached, warm case is
    measured separately).
    """
    from apinotebook.graphql import _schema as _graphql_schema

    samples = []
    for _ in range(repeat):
        _graphql_schema._cache.clear()
        gc.collect()
        t0 = time.process_time()
        for _ in range(number):
            fn()
        samples.append((time.process_time() - t0) / number)
    return min(samples)


def _gc_paused(fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        gc.disable()
        try:
            return fn()
        finally:
            gc.enable()

    return run


def run(entities: int | None = None, *, repeat: int | None = None, seed: int = 7) -> dict[str, Any]:
    """Measure the loaders; returns seconds per operation and the ratios to raw graphql-core.

    Defaults: 600 entities (about 4,300 types), best of 3; ``BENCH_QUICK=1``
    shrinks that to 60 entities, one sample (a smoke run).
    """
    import os

    quick = os.environ.get("BENCH_QUICK") == "1"
    entities = entities if entities is not None else (60 if quick else 600)
    repeat = repeat if repeat is not None else (1 if quick else 3)
    from gql import Client
    from graphql import (
        build_client_schema,
        build_schema,
        parse,
        validate,
        validate_schema,
    )

    from apinotebook.graphql import GraphQLClient

    sdl = generate_sdl(entities, seed=seed)
    introspection = generate_introspection(sdl)
    intro_text = json.dumps({"data": introspection})
    schema = build_schema(sdl)
    query = sample_query(sdl)
    results: dict[str, Any] = {
        "types": len(schema.type_map),
        "sdl_bytes": len(sdl.encode()),
        "introspection_bytes": len(intro_text.encode()),
        "seconds": {},
    }
    seconds: dict[str, float] = results["seconds"]
    with tempfile.TemporaryDirectory() as tmp:
        sdl_path = Path(tmp, "schema.graphql")
        sdl_path.write_text(sdl)
        json_path = Path(tmp, "schema.json")
        json_path.write_text(intro_text)

        def raw_sdl() -> None:
            validate_schema(build_schema(sdl))

        def raw_introspection() -> None:
            validate_schema(build_client_schema(json.loads(intro_text)["data"]))

        timers: dict[str, Callable[[], Any]] = {
            "raw_build_schema": lambda: build_schema(sdl),
            "raw_build_schema+validate_schema": raw_sdl,
            "raw_build_schema+validate_schema (gc paused)": _gc_paused(raw_sdl),
            "raw_build_client_schema": lambda: build_client_schema(introspection),  # type: ignore[arg-type]
            "raw_json+build_client_schema+validate_schema": raw_introspection,
            "raw_json+build_client_schema+validate_schema (gc paused)": _gc_paused(
                raw_introspection
            ),
            "client_sdl_text": lambda: GraphQLClient(schema=sdl, history=False),
            "client_sdl_file": lambda: GraphQLClient(schema=sdl_path, history=False),
            "client_introspection_dict": lambda: GraphQLClient(schema=introspection, history=False),
            "client_introspection_file": lambda: GraphQLClient(schema=json_path, history=False),
            "gql_client_sdl": lambda: Client(schema=sdl),
            "gql_client_introspection": lambda: Client(introspection=introspection),  # type: ignore[arg-type]
        }
        for name, fn in timers.items():
            seconds[name] = _time(fn, repeat)
        GraphQLClient(schema=sdl, history=False)
        t0 = time.process_time()
        GraphQLClient(schema=sdl, history=False)
        seconds["client_sdl_text (cached, re-run cell)"] = time.process_time() - t0

    client = GraphQLClient(schema=schema, history=False)
    validate_schema(schema)
    validate(schema, parse(query))  # warm the schema's validation cache for both
    seconds["raw_parse+validate"] = _time(lambda: validate(schema, parse(query)), 5, number=50)
    seconds["client_validate"] = _time(lambda: client.validate(query), 5, number=50)
    if client.validate(query):
        raise RuntimeError(f"the sample query does not validate: {client.validate(query)}")

    results["ratios"] = {
        "client_sdl_text / raw_build_schema+validate_schema": seconds["client_sdl_text"]
        / seconds["raw_build_schema+validate_schema"],
        "client_introspection_file / raw_json+build_client_schema+validate_schema": seconds[
            "client_introspection_file"
        ]
        / seconds["raw_json+build_client_schema+validate_schema"],
        "client_sdl_text / gql_client_sdl": seconds["client_sdl_text"] / seconds["gql_client_sdl"],
        "client_introspection_dict / gql_client_introspection": seconds["client_introspection_dict"]
        / seconds["gql_client_introspection"],
        "client_validate / raw_parse+validate": seconds["client_validate"]
        / seconds["raw_parse+validate"],
    }
    return results


def markdown(results: dict[str, Any]) -> str:
    """The results as a Markdown section for docs/benchmarks.md."""
    lines = [
        f"A generated GitHub-shaped schema of {results['types']:,} types (SDL "
        f"{results['sdl_bytes'] / 1e6:.1f} MB, introspection JSON "
        f"{results['introspection_bytes'] / 1e6:.1f} MB). CPU seconds, best of the samples; "
        "client loads are cold (the schema cache cleared) except the re-run row.",
        "",
        "| measurement | time |",
        "| --- | --- |",
    ]
    lines += [f"| {name} | {value * 1000:.1f} ms |" for name, value in results["seconds"].items()]
    lines += ["", "| ratio (lower is better for us) | value |", "| --- | --- |"]
    lines += [f"| {name} | {value:.2f} |" for name, value in results["ratios"].items()]
    lines += [
        "",
        "GitHub's published schema (the biggest of the real-world corpus) is measured "
        "in the corpus section.",
    ]
    return "\n".join(lines)


def _print(results: dict[str, Any]) -> None:
    print(
        f"{results['types']} types; SDL {results['sdl_bytes'] / 1e6:.1f} MB; "
        f"introspection JSON {results['introspection_bytes'] / 1e6:.1f} MB"
    )
    for name, value in results["seconds"].items():
        print(f"  {name:<58} {value * 1000:9.1f} ms")
    print("ratios:")
    for name, value in results["ratios"].items():
        print(f"  {name:<75} {value:5.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--entities", type=int, default=None, help="about 7 types each")
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    results = run(args.entities, repeat=args.repeat)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
