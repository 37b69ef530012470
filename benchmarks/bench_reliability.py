"""Reliability figures: the tests in tests/reliability, with what each one measured.

Runs ``pytest tests/reliability`` in a subprocess with
``APINOTEBOOK_RELIABILITY_FIGURES`` set, so every test records its figures
(records, lost, duplicated, faults injected, kill points; see
tests/reliability/conftest.py). The figures are measured by the same code
that asserts them, so a figure here is never from a run that failed silently:
the ``passed`` column says whether the test's assertions held.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import ROOT


def run() -> dict[str, Any]:
    """Run the reliability tests once and collect their figures."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.jsonl"
        env = dict(os.environ, APINOTEBOOK_RELIABILITY_FIGURES=str(out))
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = round(time.perf_counter() - t0, 1)
        lines = out.read_text().splitlines() if out.exists() else []
    tail = proc.stdout.strip().splitlines()[-1:] or ["(no output)"]
    print(f"  pytest: {tail[0]}", flush=True)
    return {
        "pytest_exit": proc.returncode,
        "pytest_summary": tail[0],
        "seconds": seconds,
        "tests": [json.loads(line) for line in lines],
    }


def _faults(value: dict[str, dict[str, int]]) -> str:
    return "; ".join(
        f"{side}: {f['requests']:,} requests, {f['5xx']} 5xx, {f['429']} 429, "
        f"{f['dropped']} dropped"
        for side, f in value.items()
    )


def _kills(log: list[dict[str, Any]]) -> str:
    kinds: dict[str, int] = {}
    for kill in log:
        kinds[kill["kind"]] = kinds.get(kill["kind"], 0) + 1
    return f"{len(log)} kills (" + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + ")"


def _n(value: Any) -> str:
    return "–" if value is None else f"{value:,}" if isinstance(value, int) else str(value)


def markdown(results: dict[str, Any]) -> str:
    """A table of the scenarios: lost, duplicated, and what was thrown at them."""
    rows = [
        f"`pytest tests/reliability`: {results['pytest_summary']}.",
        "",
        "| scenario | passed | records | expected at destination | held | lost "
        "| duplicated | dead-lettered | what was thrown at it |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t in results["tests"]:
        if "scenario" not in t:
            continue
        if "faults" in t:
            thrown = _faults(t["faults"]) + f"; {t['retries']} batch retries, {t['seconds']} s"
        elif "kills" in t:
            thrown = _kills(t["kills"]) + ", light faults on both sides"
        elif "reasons" in t:
            thrown = "invalid records: " + ", ".join(t["reasons"]) + f"; exit code {t['exit_code']}"
        else:
            thrown = (
                f"401 on the next run: exit code {t['exit_code']}, written {t['written']}, "
                f"cursor unchanged: {t['cursor_unchanged']}, seen unchanged: {t['seen_unchanged']}"
            )
        duplicated = t.get("duplicated", t.get("unexpected"))
        rows.append(
            f"| {t['scenario']} | {'yes' if t['passed'] else '**no**'} | "
            f"{_n(t.get('records'))} | {_n(t.get('expected'))} | {_n(t.get('held'))} | "
            f"{_n(t.get('lost'))} | {_n(duplicated)} | {_n(t.get('dead_lettered'))} | {thrown} |"
        )
    rows += [
        "",
        "Expected: the contacts the mapping keeps (the mailing list takes only those who "
        "opted in). Duplicated: for chat, messages beyond one per contact; for the mailing "
        "list (upserts keyed by email), subscribers that should not be there. "
        "Dead-lettered: the invalid contacts the sandbox seeds, each kept once with its "
        "reason. Every row is asserted by its test; `passed` says the assertions held.",
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
