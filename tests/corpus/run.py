"""Run the real-world corpus through apinotebook, beside the raw libraries.

    python tests/corpus/run.py [--protocol wsdl] [--limit N] [--timeout 60] [--jobs 2]
    python tests/corpus/run.py --list
    python -m tests.corpus.run ...

Every file goes through what a user does (see ``probes.py``) in a worker
process with a per-file timeout, so one hang or one crash of the interpreter
cannot stop the run: the worker is killed and replaced. Outcome per file:

- ``ok``: every step passed;
- ``typed``: an ``ApiNotebookError`` (the report says whether it names the file);
- ``crash``: any other exception (type, message, the last frame inside apinotebook);
- ``timeout``: the file took longer than ``--timeout`` seconds.

It prints a table per protocol (counts, load times beside the raw library's)
and the crash signatures, writes ``tests/corpus/.report.json``, and exits 1 on
any crash or timeout, or on a file the raw library accepts but apinotebook
refuses.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import statistics
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.corpus.fetch import PROTOCOLS, CorpusError, CorpusFile, cache_dir, corpus_files  # noqa: E402

REPORT = Path(__file__).resolve().parent / ".report.json"
#: a worker is replaced after a file this big (its memory is given back)
_BIG = 8 * 1024 * 1024
_TASKS_PER_WORKER = 250
_OUTCOMES = ("ok", "typed", "crash", "timeout")


# -- the worker ---------------------------------------------------------------------------


def _frames(exc: BaseException) -> tuple[str | None, str | None]:
    """The last traceback frame inside apinotebook, and the last frame overall."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = None
    for frame in frames:
        parts = Path(frame.filename).parts
        if "apinotebook" in parts and "tests" not in parts:
            where = "/".join(parts[parts.index("apinotebook") :])
            ours = f"{where}:{frame.lineno} in {frame.name}"
    last = f"{Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}" \
        if frames else None  # fmt: skip
    return ours, last


def _classify(exc: BaseException, path: Path, member: str) -> dict[str, Any]:
    from apinotebook import ApiNotebookError

    message = str(exc)
    ours, last = _frames(exc)
    typed = isinstance(exc, ApiNotebookError)
    return {
        "outcome": "typed" if typed else "crash",
        "exc_type": type(exc).__name__,
        "message": message[:500],
        "names_file": path.name in message or member in message,
        "frame": ours,
        "last_frame": last,
    }


def worker() -> int:
    """Read tasks (JSON lines) on stdin; write progress and results (JSON lines).

    Anything the libraries print goes to stderr: stdout carries only the protocol.
    """
    import warnings

    warnings.simplefilter("ignore")
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    import importlib

    probes = importlib.import_module(
        os.environ.get("APINOTEBOOK_CORPUS_PROBES", "tests.corpus.probes")
    )

    def send(**message: Any) -> None:
        out.write(json.dumps(message, default=str) + "\n")
        out.flush()

    probes.warm_up(os.environ.get("APINOTEBOOK_CORPUS_PROTOCOLS", "").split(","))
    send(ready=True)
    for line in sys.stdin:
        task = json.loads(line)
        path, protocol = Path(task["path"]), task["protocol"]
        send(phase="ours")
        steps: dict[str, Any] = {}
        try:
            t0 = time.perf_counter()
            info = probes.probe(protocol, path)
            steps = info.pop("steps", {})
            result = {"outcome": "ok", **info}
        except Exception as exc:  # noqa: BLE001 - classified, never raised
            result = _classify(exc, path, task["member"])
            frame = exc.__traceback__
            while frame is not None:  # the probe's step dict, for "where did it stop"
                steps = frame.tb_frame.f_locals.get("step", steps) if frame.tb_frame.f_code \
                    .co_filename.endswith("probes.py") else steps  # fmt: skip
                frame = frame.tb_next
            result["seconds"] = time.perf_counter() - t0
        result["step"] = steps.get("step") if isinstance(steps, dict) else None
        send(ours=result)
        send(phase="raw")
        send(raw=probes.raw(protocol, path))
    return 0


# -- the pool -----------------------------------------------------------------------------


class Worker:
    """One worker subprocess, read by a thread into a queue (so reads can time out)."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
            cwd=ROOT, text=True, bufsize=1,
        )  # fmt: skip
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.tasks = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout: float) -> dict[str, Any] | None:
        """The next message, or ``None`` when the worker died or the time ran out."""
        try:
            line = self.lines.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None
        return None if line is None else json.loads(line)

    def send(self, task: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(task) + "\n")
        self.proc.stdin.flush()
        self.tasks += 1

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()


class Lane:
    """One worker slot: runs files one at a time, replacing its worker when needed."""

    def __init__(self, log: Path, timeout: float, raw_timeout: float) -> None:
        self.log, self.timeout, self.raw_timeout = log, timeout, raw_timeout
        self.worker: Worker | None = None

    def _get(self) -> Worker:
        if self.worker is None:
            w = Worker(self.log)
            ready = w.next(120)
            if not ready or not ready.get("ready"):
                w.stop()
                raise RuntimeError(f"a corpus worker did not start; see {self.log}")
            self.worker = w
        return self.worker

    def retire(self) -> None:
        """Stop the worker (a new one starts with the next file)."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def run_one(self, f: CorpusFile) -> dict[str, Any]:
        """Run one file; a timeout or a dead worker is a result, and the worker is replaced."""
        w = self._get()
        w.send({"path": str(f.path), "protocol": f.protocol, "member": f.member})
        result: dict[str, Any] = {"ours": None, "raw": None}
        phase, deadline = None, time.monotonic() + self.timeout
        while result["raw"] is None:
            msg = w.next(deadline - time.monotonic())
            if msg is None:
                missing = "ours" if result["ours"] is None else "raw"
                if w.proc.poll() is None:
                    limit = self.timeout if missing == "ours" else self.raw_timeout
                    why = f"timeout after {limit:g} s"
                    ours = {"outcome": "timeout", "message": why}
                else:
                    why = f"the worker died (exit {w.proc.returncode}) in phase {phase}"
                    ours = {"outcome": "crash", "exc_type": "WorkerDied", "message": why}
                if missing == "ours":
                    result["ours"] = {**ours, "step": None}
                    result["raw"] = {"unknown": "not run: apinotebook's phase did not finish"}
                else:  # not a verdict: a typed error on this file still fails the run
                    result["raw"] = {"unknown": why}
                self.retire()
                return result
            if "phase" in msg:
                phase = msg["phase"]
                deadline = time.monotonic() + (self.raw_timeout if phase == "raw" else self.timeout)
            elif "ours" in msg:
                result["ours"] = msg["ours"]
            elif "raw" in msg:
                result["raw"] = msg["raw"]
        if f.size > _BIG or w.tasks >= _TASKS_PER_WORKER:
            self.retire()
        return result


def run(
    files: Sequence[CorpusFile], *, jobs: int, timeout: float, raw_timeout: float
) -> list[dict[str, Any]]:
    """Every file's result (in the order of ``files``), ``jobs`` workers in parallel."""
    log = cache_dir() / "worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    todo: queue.Queue[tuple[int, CorpusFile]] = queue.Queue()
    # the biggest first, so a huge file does not start last
    for item in sorted(enumerate(files), key=lambda pair: -pair[1].size):
        todo.put(item)
    results: list[dict[str, Any] | None] = [None] * len(files)
    errors: list[BaseException] = []
    done = Counter[str]()
    lock = threading.Lock()

    def lane() -> None:
        slot = Lane(log, timeout, raw_timeout)
        try:
            while not errors:
                try:
                    index, f = todo.get_nowait()
                except queue.Empty:
                    return
                t0 = time.perf_counter()
                result = slot.run_one(f)
                entry = {"id": f.id, "protocol": f.protocol, "archive": f.archive_id,
                         "size": f.size, "wall_s": time.perf_counter() - t0, **result}  # fmt: skip
                results[index] = entry
                with lock:
                    outcome = entry["ours"]["outcome"]
                    done[outcome] += 1
                    n = sum(done.values())
                    if outcome != "ok" or n % 25 == 0:
                        print(f"[{n}/{len(files)}] {outcome:7} {f.id}", flush=True)
        except BaseException as exc:  # noqa: BLE001 - re-raised by run()
            errors.append(exc)
        finally:
            slot.retire()

    threads = [threading.Thread(target=lane) for _ in range(max(1, jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return [r for r in results if r is not None]


# -- the report ---------------------------------------------------------------------------


def _family(protocol: str) -> str:
    return "graphql" if protocol.startswith("graphql") else protocol


def _failing(entry: dict[str, Any]) -> str | None:
    """Why this entry fails the run, or ``None``."""
    ours, raw = entry["ours"], entry["raw"] or {}
    if ours["outcome"] in ("crash", "timeout"):
        return ours["outcome"]
    if ours["outcome"] == "typed" and "rejects" not in raw:
        if "unknown" in raw:
            return f"typed, and the raw library gave no verdict ({raw['unknown']})"
        return "typed, but the raw library accepts it"
    return None


def _biggest(rows: list[dict[str, Any]]) -> dict[str, Any]:
    e = max(rows, key=lambda r: r["size"])
    ours, raw = e["ours"].get("load_s"), (e["raw"] or {}).get("best_s")
    return {"id": e["id"], "size": e["size"], "outcome": e["ours"]["outcome"], "load_s": ours,
            "raw_s": raw, "ratio": ours / raw if ours and raw else None}  # fmt: skip


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _fmt(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):.3f}/{max(values):.2f}"


def summarize(entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Per protocol family: counts, load times, ratios; crash signatures; failures."""
    table: dict[str, dict[str, Any]] = {}
    for family in sorted({_family(e["protocol"]) for e in entries}):
        rows = [e for e in entries if _family(e["protocol"]) == family]
        counts = Counter(e["ours"]["outcome"] for e in rows)
        ours_t = [e["ours"]["load_s"] for e in rows if "load_s" in e["ours"]]
        raw_t = [e["raw"]["best_s"] for e in rows if e["raw"] and "best_s" in e["raw"]]
        ratios = [e["ours"]["load_s"] / e["raw"]["best_s"] for e in rows
                  if "load_s" in e["ours"] and e["raw"] and e["raw"].get("best_s")]  # fmt: skip
        table[family] = {
            "files": len(rows),
            **{o: counts.get(o, 0) for o in _OUTCOMES},
            "typed_unnamed": sum(
                1
                for e in rows
                if e["ours"]["outcome"] == "typed" and not e["ours"].get("names_file")
            ),  # fmt: skip
            "raw_rejects": sum(1 for e in rows if e["raw"] and "rejects" in e["raw"]),
            "raw_unknown": sum(1 for e in rows if e["raw"] and "unknown" in e["raw"]),
            "load_s": ours_t,
            "raw_s": raw_t,
            "ratio": ratios,
            "biggest": _biggest(rows),
        }
    crashes: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        if e["ours"]["outcome"] == "crash":
            key = (e["ours"].get("exc_type", "?"), e["ours"].get("frame") or
                   e["ours"].get("last_frame") or "-")  # fmt: skip
            crashes[key].append(e)
    signatures = [
        {
            "exc_type": k[0],
            "frame": k[1],
            "count": len(v),
            "example": v[0]["id"],
            "message": v[0]["ours"].get("message", "")[:300],
            "protocols": sorted({_family(e["protocol"]) for e in v}),
        }  # fmt: skip
        for k, v in sorted(crashes.items(), key=lambda kv: -len(kv[1]))
    ]
    typed: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for e in entries:
        if e["ours"]["outcome"] == "typed" and "rejects" not in (e["raw"] or {}):
            key = (e["ours"].get("exc_type", "?"), str(e["ours"].get("step")),
                   _gist(e["ours"].get("message", "")))  # fmt: skip
            typed[key].append(e)
    refused = [
        {
            "exc_type": k[0],
            "step": k[1],
            "gist": k[2],
            "count": len(v),
            "example": v[0]["id"],
            "names_file": sum(1 for e in v if e["ours"].get("names_file")),
        }  # fmt: skip
        for k, v in sorted(typed.items(), key=lambda kv: -len(kv[1]))
    ]
    failures = [{"id": e["id"], "why": why} for e in entries if (why := _failing(e))]
    return {"table": table, "crash_signatures": signatures, "refused_but_raw_accepts": refused,
            "failures": failures}  # fmt: skip


def _gist(message: str) -> str:
    """A message with paths, URLs, quoted names and numbers blanked, for grouping."""
    text = re.sub(r"(https?://|/)\S+", "<path>", message.split("\n")[0])
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)
    text = re.sub(
        r"\bfor \w+|\w+\(", lambda m: "for <op>" if m[0].startswith("for ") else "<op>(", text
    )
    return re.sub(r"\d+", "N", text)[:110]


def print_report(summary: dict[str, Any], out: Any = sys.stdout) -> None:
    """The table per protocol and the crash signatures, as text."""
    head = (f"{'protocol':9} {'files':>5} {'ok':>4} {'typed':>5} {'crash':>5} {'tmout':>5} "
            f"{'raw-rej':>7} {'raw-?':>5}  {'load med/max s':>15} {'raw med/max s':>15} "
            f"{'ratio med/max':>14}")  # fmt: skip
    print("\n" + head, file=out)
    print("-" * len(head), file=out)
    for family, row in summary["table"].items():
        ratio, load, raw = _fmt(row["ratio"]), _fmt(row["load_s"]), _fmt(row["raw_s"])
        print(f"{family:9} {row['files']:>5} {row['ok']:>4} {row['typed']:>5} {row['crash']:>5} "
              f"{row['timeout']:>5} {row['raw_rejects']:>7} {row['raw_unknown']:>5}  "
              f"{load:>15} {raw:>15} {ratio:>14}", file=out)  # fmt: skip
    for family, row in summary["table"].items():
        b = row["biggest"]
        times = (f"apinotebook {_secs(b['load_s'])}, raw {_secs(b['raw_s'])}"
                 + (f", ratio {b['ratio']:.2f}" if b["ratio"] else ""))  # fmt: skip
        print(f"biggest {family}: {b['id']} ({b['size'] / 1e6:.1f} MB, {b['outcome']}): {times}",
              file=out)  # fmt: skip
    print(
        "(raw: zeep.Client; graphql-core build with validation skipped; a plain "
        "JSON/YAML load. ratio = apinotebook load / raw load, per file. raw-rej: the raw "
        "library (or openapi-spec-validator) refuses the file; raw-?: it timed out)",
        file=out,
    )
    sigs = summary["crash_signatures"]
    if sigs:
        print(f"\ncrash signatures ({len(sigs)}):", file=out)
        for s in sigs:
            print(f"  {s['count']:>4}  {s['exc_type']} at {s['frame']}", file=out)
            print(f"        e.g. {s['example']}\n        {s['message'][:160]}", file=out)
    refused = summary["refused_but_raw_accepts"]
    if refused:
        print(f"\ntyped errors on files the raw library accepts ({len(refused)} kinds):", file=out)
        for r in refused:
            print(f"  {r['count']:>4}  {r['exc_type']} at step {r['step']}: {r['gist']}", file=out)
            print(f"        e.g. {r['example']} (names the file: {r['names_file']}/{r['count']})",
                  file=out)  # fmt: skip
    failures = summary["failures"]
    print(f"\n{len(failures)} failing files"
          + (f" (report: {REPORT.relative_to(ROOT)})" if failures else ""), file=out)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", action="append", choices=(*PROTOCOLS, "graphql"),
                        help="only this protocol (repeatable; graphql = both forms)")  # fmt: skip
    parser.add_argument("--limit", type=int, default=None, help="at most N files per protocol")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per file and phase")
    parser.add_argument("--raw-timeout", type=float, default=30.0,
                        help="seconds for the raw library's phase of a file")  # fmt: skip
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--match", default=None, help="only ids containing this text")
    parser.add_argument("--list", action="store_true", help="list the corpus and exit")
    parser.add_argument("--report", type=Path, default=REPORT, help="the JSON report's path")
    parser.add_argument("--mock", action="store_true",
                        help="serve a mock of each file and call it (mock_probes.py)")  # fmt: skip
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker()
    protocols = None
    if args.protocol:
        protocols = [p for p in PROTOCOLS if p in args.protocol or
                     (p.startswith("graphql") and "graphql" in args.protocol)]  # fmt: skip
    try:
        files = list(corpus_files(protocols=protocols))
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.match:
        files = [f for f in files if args.match in f.id]
    if args.limit is not None:
        kept: Counter[str] = Counter()
        limited = []
        for f in files:
            if kept[f.protocol] < args.limit:
                kept[f.protocol] += 1
                limited.append(f)
        files = limited
    if args.list:
        for f in files:
            print(f"{f.protocol:22} {f.size:>10}  {f.id}")
        by = Counter(f.protocol for f in files)
        print(f"\n{len(files)} files: " + ", ".join(f"{n} {p}" for p, n in sorted(by.items())))
        return 0
    print(f"corpus: {len(files)} files, {args.jobs} workers, {args.timeout:g} s per file",
          flush=True)  # fmt: skip
    t0 = time.perf_counter()
    os.environ["APINOTEBOOK_CORPUS_PROTOCOLS"] = ",".join(sorted({f.protocol for f in files}))
    if args.mock:
        os.environ["APINOTEBOOK_CORPUS_PROBES"] = "tests.corpus.mock_probes"
        if args.report == REPORT:
            args.report = REPORT.with_name(".mock-report.json")
    entries = run(files, jobs=args.jobs, timeout=args.timeout, raw_timeout=args.raw_timeout)
    summary = summarize(entries)
    print_report(summary)
    if args.mock:
        from tests.corpus.mock_report import print_mock_report

        summary["mock"] = print_mock_report(entries)
    print(f"wall time {time.perf_counter() - t0:.0f} s")
    args.report.write_text(json.dumps({"summary": summary, "files": entries}, indent=1,
                                      default=str))  # fmt: skip
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
