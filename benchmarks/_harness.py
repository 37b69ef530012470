"""Shared benchmark plumbing: a sandbox in its own process, interleaved timing.

The sandbox runs in a separate process (``apinotebook sandbox``) so the
server's work does not compete with the measured client for the GIL. Each
comparison alternates the two sides (A B A B ...) and reports medians, so a
slow moment on this 2-core machine hurts both sides alike; the result that
matters is the *ratio* of the two in the same run, never absolute seconds.
"""

from __future__ import annotations

import gc
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def sandbox_process(*args: str, timeout: float = 60.0) -> Iterator[dict[str, str]]:
    """Start ``apinotebook sandbox`` in a subprocess; yield its environment variables."""
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "sandbox.env"
        cmd = [
            sys.executable,
            "-m",
            "apinotebook.cli",
            "sandbox",
            "--port",
            "0",
            "--env-file",
            str(env_file),
            *args,
        ]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
        try:
            deadline = time.monotonic() + timeout
            while not env_file.exists() or not env_file.read_text().strip():
                if proc.poll() is not None:
                    raise RuntimeError(f"sandbox exited: {proc.stderr.read().decode()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("sandbox did not start")
                time.sleep(0.05)
            env: dict[str, str] = {}
            for line in env_file.read_text().splitlines():
                if line.startswith("export "):
                    name, _, value = line[7:].partition("=")
                    env[name] = shlex.split(value)[0] if value else ""
            httpx.get(env["SANDBOX_URL"] + "/", timeout=10).raise_for_status()
            yield env
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn`` takes (GC collected before, disabled during)."""
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()


def compare(
    ours: Callable[[], Any],
    raw: Callable[[], Any],
    *,
    repeat: int = 5,
    warmup: int = 1,
) -> dict[str, Any]:
    """Interleave ``ours`` and ``raw``; medians and their ratio (ours / raw, time)."""
    for _ in range(warmup):
        ours()
        raw()
    a: list[float] = []
    b: list[float] = []
    for i in range(repeat):
        if i % 2:
            b.append(timed(raw))
            a.append(timed(ours))
        else:
            a.append(timed(ours))
            b.append(timed(raw))
    return _medians(a, b)


def _medians(a: list[float], b: list[float]) -> dict[str, Any]:
    """Both sides' medians, their ratio (ours / raw) and every run."""
    med_a, med_b = statistics.median(a), statistics.median(b)
    return {
        "ours_s": round(med_a, 6),
        "raw_s": round(med_b, 6),
        "ratio": round(med_a / med_b, 4) if med_b else float("nan"),
        "ours_runs": [round(x, 6) for x in a],
        "raw_runs": [round(x, 6) for x in b],
    }


def compare_calls(
    ours: Callable[[int], Any],
    raw: Callable[[int], Any],
    *,
    calls: int,
    block: int = 50,
    repeat: int = 5,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, Any]:
    """Like :func:`compare` for ``calls`` single calls, interleaved in blocks.

    ``ours(i)`` and ``raw(i)`` make call number ``i``. Each run alternates a
    block of ``block`` calls of one side with a block of the other (which side
    goes first alternates too), so a slow second on a shared 2-core VM, which
    would hit one side of a whole-run comparison, hits both alike. A side's
    time for a run is the sum of its blocks; the result holds the medians.
    ``clock=time.process_time`` counts CPU time instead (for in-process runs
    with no I/O, where a busy neighbour should not count).
    """
    for i in range(block):  # warm both
        ours(i)
        raw(i)
    a: list[float] = []
    b: list[float] = []
    perf = clock
    for _ in range(repeat):
        spent = [0.0, 0.0]
        gc.collect()
        gc.disable()
        try:
            for n, start in enumerate(range(0, calls, block)):
                stop = min(start + block, calls)
                sides = ((0, ours), (1, raw)) if n % 2 == 0 else ((1, raw), (0, ours))
                for index, fn in sides:
                    t0 = perf()
                    for i in range(start, stop):
                        fn(i)
                    spent[index] += perf() - t0
        finally:
            gc.enable()
        a.append(spent[0])
        b.append(spent[1])
    return {**_medians(a, b), "block": block}


def quick() -> bool:
    """``BENCH_QUICK=1`` shrinks every benchmark (for a smoke run)."""
    return os.environ.get("BENCH_QUICK") == "1"
