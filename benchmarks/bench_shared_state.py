"""Integrations beyond one machine: exported-script memory, PostgreSQL state beside SQLite.

- **exported script memory**: ``tests/export/notebooks/crm_to_mail.ipynb``
  is exported with :func:`apinotebook.export.export_notebook` and run as
  ``python sync.py run`` against a sandbox process holding N CRM contacts:
  its REST client pages the CRM, its GraphQL client upserts subscribers.
  Peak RSS of that process (``RUSAGE_CHILDREN`` of a wrapper whose only
  child it is) at 10,000 and 100,000 contacts (1,000,000 with
  ``BENCH_MILLION=1``). Beside it, the same script with the history kept as
  in a notebook (bodies of the last 500 exchanges), to show what the
  production history saves. Target: < 300 MB, flat.
- **state backends**: 100,000 CRM contacts into a mailing list with the
  integration of ``bench_integration`` (pages of 500, upserts of 100), its
  state in SQLite and in PostgreSQL (a real server on loopback, started for
  the run), beside the raw httpx script, in the same sandbox, alternating.
  Target: PostgreSQL >= 0.9x SQLite.

``BENCH_QUICK=1`` shrinks both (2,000 and 5,000 contacts; one repeat).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks._harness import ROOT, quick, sandbox_process, timed
from benchmarks.bench_integration import _list_size, ours, raw, warm_sandbox

NOTEBOOK = ROOT / "tests" / "export" / "notebooks" / "crm_to_mail.ipynb"
SIZES = (10_000, 100_000)
CONTACTS = 100_000
REPEAT = 3

#: runs the exported script as ``__main__``; with ``notebook`` the history keeps bodies
RUN_SCRIPT = textwrap.dedent(
    """
    import contextlib, json, runpy, sys, time
    import apinotebook.export.runtime as runtime

    script, mode, *argv = sys.argv[1:]
    if mode == "notebook":  # what a notebook keeps: whole exchanges, the last 500
        runtime.production = lambda *a, **k: contextlib.nullcontext()
    sys.argv = [script, *argv]
    t0 = time.perf_counter()
    code = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    import resource
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"code": code, "seconds": round(time.perf_counter() - t0, 2),
                      "self_peak_kb": self_kb}))
    """
)


#: runs the worker as its only child and reports the child's peak RSS
MEASURE = textwrap.dedent(
    """
    import json, resource, subprocess, sys, tempfile

    # files, not pipes: a server the child leaves behind must not keep us waiting
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        code = subprocess.run([sys.executable, "-c", *sys.argv[1:]], stdout=out, stderr=err)
        out.seek(0), err.seek(0)
        if code.returncode:
            sys.exit(err.read()[-3000:])
        child = json.loads(out.read().strip().splitlines()[-1])
    child["children_peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(child))
    """
)


@contextmanager
def postgres() -> Iterator[Any]:
    """A real PostgreSQL server for the run (the tests' helper)."""
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        from pg_server import PostgresServer, bindir
    finally:
        sys.path.remove(str(ROOT / "tests"))
    found = bindir()
    if found is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer(found).start()
    try:
        yield server
    finally:
        server.stop()


def _export(tmp: Path) -> Path:
    from apinotebook.export import export_notebook

    script = tmp / "sync.py"
    export_notebook(NOTEBOOK, script)
    return script


def _script_memory(sizes: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for n in sizes:
        row: dict[str, Any] = {}
        # a million only as the script runs it (the notebook side is the diagnostic)
        for mode in ("production",) if n >= 1_000_000 else ("production", "notebook"):
            with (
                sandbox_process("--contacts", str(n), "--option", "crm.messy_rate=0") as env,
                tempfile.TemporaryDirectory() as tmp,
            ):
                script = _export(Path(tmp))
                proc = subprocess.run(
                    [sys.executable, "-c", MEASURE, RUN_SCRIPT, str(script), mode, "run"],
                    capture_output=True, text=True, cwd=tmp, check=False, timeout=3600,
                    env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                )  # fmt: skip
                if proc.returncode:
                    raise RuntimeError(proc.stderr[-2000:])
                child = json.loads(proc.stdout.strip().splitlines()[-1])
                held = _list_size(env, _newsletter(env))
            if child["code"] not in (0, None):
                raise RuntimeError(f"{mode} run at {n} exited {child['code']}")
            row[mode] = {
                "peak_rss_mb": round(child["children_peak_kb"] / 1024, 1),
                "seconds": child["seconds"],
                "subscribers": held,
            }
        out[str(n)] = row
    return out


def _flow_memory(sizes: tuple[int, ...]) -> dict[str, Any]:
    """Peak RSS of ``python flow.py run`` (the Prefect target, streamed in chunks)."""
    out: dict[str, Any] = {}
    for n in sizes:
        with (
            sandbox_process("--contacts", str(n), "--option", "crm.messy_rate=0") as env,
            tempfile.TemporaryDirectory() as tmp,
        ):
            from apinotebook.export import export_notebook

            flow = Path(tmp) / "flow.py"
            export_notebook(NOTEBOOK, flow, target="prefect")
            prefect_env = {
                "PREFECT_HOME": str(Path(tmp) / "prefect"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_SERVER_UI_ENABLED": "false",
                "DO_NOT_TRACK": "1",
                "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "600",
                "PYTHONPATH": str(ROOT),
            }
            base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
            proc = subprocess.run(
                [sys.executable, "-c", MEASURE, RUN_SCRIPT, str(flow), "production", "run"],
                capture_output=True, text=True, cwd=tmp, check=False, timeout=3600,
                env={**base, **env, **prefect_env},
            )  # fmt: skip
            if proc.returncode:
                raise RuntimeError(proc.stderr[-2000:])
            child = json.loads(proc.stdout.strip().splitlines()[-1])
            held = _list_size(env, _newsletter(env))
        out[str(n)] = {
            "peak_rss_mb": round(child["children_peak_kb"] / 1024, 1),
            "flow_process_mb": round(child["self_peak_kb"] / 1024, 1),
            "seconds": child["seconds"],
            "subscribers": held,
            "exit": child["code"],
        }
    return out


def _newsletter(env: dict[str, str]) -> str:
    import httpx

    r = httpx.post(
        env["MAIL_URL"],
        json={"query": "{ lists(first: 50) { edges { node { id name } } } }"},
        headers={"X-API-Key": env["MAIL_API_KEY"]},
        timeout=30,
    )
    edges = r.raise_for_status().json()["data"]["lists"]["edges"]
    return str(next(e["node"]["id"] for e in edges if e["node"]["name"] == "Newsletter"))


SIDES = ("sqlite", "postgresql", "raw")


def _timed_side(go: Callable[[], int], expected: int, label: str) -> float:
    """Seconds one side takes; it must have written every record."""
    out: list[int] = []
    seconds = timed(lambda: out.append(go()))
    if out != [expected]:
        raise RuntimeError(f"{label}: wrote {out} of {expected}")
    return seconds


def _backends(contacts: int, repeat: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    with postgres() as server:
        for i in range(repeat):
            with warm_sandbox(contacts, SIDES, i) as (env, tmp, lists):
                states = {"sqlite": str(Path(tmp) / "s.db"), "postgresql": server.new_database()}
                for side in SIDES[i % 3 :] + SIDES[: i % 3]:  # each side goes first in turn
                    go = (
                        raw(env, lists[side])
                        if side == "raw"
                        else ours(env, lists[side], states[side])  # type: ignore[arg-type]
                    )
                    times[side].append(_timed_side(go, contacts, side))
                    if _list_size(env, lists[side]) != contacts:
                        raise RuntimeError(f"{side}: the list does not hold {contacts}")
    med = {side: statistics.median(ts) for side, ts in times.items()}
    return {
        "contacts": contacts,
        **{f"{side}_s": round(med[side], 3) for side in SIDES},
        **{f"{side}_records_per_s": round(contacts / med[side]) for side in SIDES},
        "postgres_vs_sqlite": round(med["sqlite"] / med["postgresql"], 4),
        "sqlite_vs_raw": round(med["raw"] / med["sqlite"], 4),
        "postgres_vs_raw": round(med["raw"] / med["postgresql"], 4),
        "runs": {side: [round(x, 3) for x in ts] for side, ts in times.items()},
    }


def run() -> dict[str, Any]:
    """Both measurements; a failing section records its error instead of stopping the rest."""
    sizes = (2_000, 5_000) if quick() else SIZES
    if os.environ.get("BENCH_MILLION") and not quick():
        sizes = (*sizes, 1_000_000)
    sections: dict[str, Callable[[], Any]] = {
        "script_memory": lambda: _script_memory(sizes),
        "flow_memory": lambda: _flow_memory(sizes[:2]),
        "backends": lambda: _backends(5_000 if quick() else CONTACTS, 1 if quick() else REPEAT),
    }
    # BENCH_SECTIONS=flow_memory,backends re-measures some; the others come from the last run
    only = [x for x in os.environ.get("BENCH_SECTIONS", "").split(",") if x]
    kept = ROOT / "benchmarks" / "results" / "shared_state.json"
    results: dict[str, Any] = {}
    if only and kept.exists():
        results = {k: v for k, v in json.loads(kept.read_text()).items() if k in sections}
    for name, fn in sections.items():
        if only and name not in only:
            continue
        try:
            results[name] = fn()
        except Exception as exc:  # noqa: BLE001 - reported in the results
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


def markdown(results: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md."""
    lines: list[str] = []
    memory = results.get("script_memory", {})
    lines.append(
        "Peak RSS of the exported `crm_to_mail` notebook run as `python sync.py run` through "
        "its real REST and GraphQL clients against a sandbox process (target < 300 MB, flat); "
        "beside it the same script keeping the history a notebook keeps (bodies of the last "
        "500 exchanges):\n"
    )
    if "error" in memory:
        lines.append(f"Not measured: {memory['error']}\n")
    else:
        lines.append("| contacts | script (MB) | seconds | notebook history (MB) | seconds |")
        lines.append("|---|---|---|---|---|")
        for n, row in memory.items():
            p, nb = row["production"], row.get("notebook", {})
            lines.append(
                f"| {int(n):,} | {p['peak_rss_mb']} | {p['seconds']} | "
                f"{nb.get('peak_rss_mb', '-')} | {nb.get('seconds', '-')} |"
            )
        lines.append("")
    flow = results.get("flow_memory", {})
    if flow:
        lines.append(
            "Peak RSS of the same notebook exported as a Prefect flow, `python flow.py run` "
            "(a temporary local Prefect server, started by the flow process as its child; the "
            "flow runs chunk tasks of 10,000 records from the checkpoint, nothing passed "
            "between tasks):\n"
        )
        if "error" in flow:
            lines.append(f"Not measured: {flow['error']}\n")
        else:
            lines.append("| contacts | flow process (MB) | largest process: flow or server (MB) "
                         "| seconds |")  # fmt: skip
            lines.append("|---|---|---|---|")
            for n, row in flow.items():
                lines.append(
                    f"| {int(n):,} | {row.get('flow_process_mb', '?')} | {row['peak_rss_mb']} | "
                    f"{row['seconds']} |"
                )
            lines.append("")
    b = results.get("backends", {})
    if "error" in b:
        lines.append(f"State backends not measured: {b['error']}\n")
    elif b:
        lines.append(
            f"Sync {b['contacts']:,} CRM contacts into a mailing list (pages of 500, upserts of "
            f"100; median of {len(b['runs']['raw'])} runs, same sandbox, sides alternating):\n"
        )
        lines.append("| side | seconds | records/s |")
        lines.append("|---|---|---|")
        names = {
            "sqlite": "Integration, SQLite state",
            "postgresql": "Integration, PostgreSQL state (loopback server)",
            "raw": "raw httpx script (no state)",
        }
        for side in SIDES:
            lines.append(f"| {names[side]} | {b[f'{side}_s']} | {b[f'{side}_records_per_s']:,} |")
        ok = "yes" if b["postgres_vs_sqlite"] >= 0.9 else "no"
        lines.append(
            f"\nPostgreSQL/SQLite throughput: **{b['postgres_vs_sqlite']}** (target >= 0.9: "
            f"{ok}); SQLite/raw {b['sqlite_vs_raw']}, PostgreSQL/raw {b['postgres_vs_raw']}.\n"
        )
    return "\n".join(lines)
