"""Run the benchmarks and rewrite docs/benchmarks.md.

    python -m benchmarks                 # every benchmarks/bench_*.py
    python -m benchmarks clients openapi # some of them
    BENCH_QUICK=1 python -m benchmarks   # a fast smoke run (numbers not kept)
    BENCH_SECTIONS=rest_per_call,rest_layer python -m benchmarks clients
                                         # re-measure some sections, keep the other rows

Each ``bench_*.py`` module has ``run() -> dict`` and may have
``markdown(results) -> str``. Results are kept in ``benchmarks/results/`` so
the docs page is rebuilt from every module's last full run.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = HERE.parent / "docs" / "benchmarks.md"

INTRO = """\
# Benchmarks

Every number here comes from `make bench` (`python -m benchmarks`), run on the
development machine (2 cores). Each comparison runs apinotebook and the raw
library **side by side in the same run**, alternating them, against the sandbox
on loopback (served from a separate process). Read the **ratios**; absolute
seconds depend on the machine. Time ratios are ours/raw (lower is better);
throughput ratios are raw time/our time (higher is better).
"""


def modules() -> list[str]:
    """Names of every benchmark module (``clients`` for ``bench_clients.py``)."""
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def _section(name: str, results: dict[str, Any]) -> str:
    module = importlib.import_module(f"benchmarks.bench_{name}")
    title = (module.__doc__ or name).strip().splitlines()[0].rstrip(".")
    meta = results.get("_meta", {})
    load = f", load average {meta['load']}" if "load" in meta else ""
    when = (
        f"_Run {meta.get('date', '?')} in {meta.get('seconds', '?')} s, "
        f"Python {meta.get('python', '?')}, {meta.get('machine', '?')}{load}._"
    )
    render = getattr(module, "markdown", None)
    body = (
        render(results)
        if callable(render)
        else (
            "```json\n"
            + json.dumps({k: v for k, v in results.items() if k != "_meta"}, indent=2)
            + "\n```"
        )
    )
    return f"## {name}: {title}\n\n{when}\n\n{body}\n"


def write_doc() -> None:
    """Rebuild docs/benchmarks.md from the stored results."""
    parts = [INTRO]
    for name in modules():
        path = RESULTS / f"{name}.json"
        if path.exists():
            parts.append(_section(name, json.loads(path.read_text())))
        else:
            parts.append(f"## {name}\n\nNot run yet: `python -m benchmarks {name}`.\n")
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(parts), encoding="utf-8")


def main(argv: list[str]) -> int:
    """Run the named benchmarks (all by default) and rewrite the docs page."""
    names = argv or modules()
    unknown = sorted(set(names) - set(modules()))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; available: {modules()}", file=sys.stderr)
        return 2
    keep = os.environ.get("BENCH_QUICK") != "1"
    RESULTS.mkdir(exist_ok=True)
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"benchmarks.bench_{name}")
        t0 = time.perf_counter()
        load = os.getloadavg()[0]
        results = module.run()
        results["_meta"] = {
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "seconds": round(time.perf_counter() - t0, 1),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            # the machine is shared: a load well above the core count makes every ratio noisier
            "load": f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end",
        }
        stored = RESULTS / f"{name}.json"
        partial = results.pop("_partial", None)
        if partial and stored.exists():  # some sections re-measured: keep the other rows
            meta = results.pop("_meta")
            merged = json.loads(stored.read_text())
            merged.update({section: {**results[section], "_measured": meta} for section in partial})
            results = merged
        if keep:
            stored.write_text(json.dumps(results, indent=2, default=str))
    if keep:
        write_doc()
        print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
