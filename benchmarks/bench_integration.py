"""The integration runtime beside a hand-written script, and its memory on a million records.

- **sync throughput**: 100,000 CRM contacts into a mailing list, with
  :class:`~apinotebook.integration.Integration` (SQLite state, dedupe, report)
  and with a raw ``httpx`` script doing the same reads (cursor pages of 500)
  and the same writes (``upsertSubscribers``, batches of 100, same order).
  Each repeat gets its own sandbox process, and each side its own fresh list,
  so both sides really write. Target: ours >= 0.9 of the raw throughput. When
  the target is missed, a ``cProfile`` of our side on a smaller run is kept
  in the results (``profile``: where the time goes).
- **memory**: peak RSS of a subprocess pushing 1,000,000 synthetic records
  (a generator, no network) through a transform and a no-op destination with
  the SQLite state; also for 0 and 100,000 records, so flatness shows.
  Target: < 300 MB at one million.

``BENCH_QUICK=1`` shrinks both (5,000 contacts; 20,000 and 100,000 records).
"""

from __future__ import annotations

import cProfile
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from benchmarks._harness import ROOT, quick, sandbox_process, timed

CONTACTS = 100_000
PAGE = 500
BATCH = 100
REPEAT = 6
RECORDS = (0, 100_000, 1_000_000)
UPSERT = (
    "mutation Upsert($listId: ID!, $input: [SubscriberInput!]!) {\n"
    "  upsertSubscribers(listId: $listId, input: $input) { userErrors { index field message } }\n"
    "}"
)


def _subscriber(contact: dict[str, Any]) -> dict[str, Any]:
    """The mapping both sides apply."""
    return {
        "email": contact["email"].lower(),
        "name": f"{contact['first_name']} {contact['last_name']}",
    }


def _new_list(env: dict[str, str], name: str) -> str:
    r = httpx.post(
        env["MAIL_URL"],
        json={"query": "mutation($n: String!) { createList(name: $n) { id } }",
              "variables": {"n": name}},
        headers={"X-API-Key": env["MAIL_API_KEY"]},
        timeout=30,
    )  # fmt: skip
    return str(r.raise_for_status().json()["data"]["createList"]["id"])


def _list_size(env: dict[str, str], list_id: str) -> int:
    r = httpx.post(
        env["MAIL_URL"],
        json={"query": "query($id: ID!) { list(id: $id) { subscriberCount } }",
              "variables": {"id": list_id}},
        headers={"X-API-Key": env["MAIL_API_KEY"]},
        timeout=30,
    )  # fmt: skip
    return int(r.raise_for_status().json()["data"]["list"]["subscriberCount"])


def ours(
    env: dict[str, str], list_id: str, state: Path, *, validate: bool = True
) -> Callable[[], int]:
    """The integration, defined the way the docs show it.

    ``validate=False`` skips the GraphQL client's local check of the mutation and
    its variables against the schema (a diagnostic: what that check costs).
    """
    from apinotebook import ApiKey, Bearer, RestClient
    from apinotebook.graphql import GraphQLClient
    from apinotebook.integration import Batch, Integration

    crm = RestClient(env["CRM_URL"], auth=Bearer(env["CRM_TOKEN"]))
    mail = GraphQLClient(env["MAIL_URL"], auth=ApiKey(env["MAIL_API_KEY"], header="X-API-Key"))
    sync = Integration("bench-crm-to-mail", state=state, progress=None)

    @sync.source(key="id", cursor="updated_at")
    def contacts(since: str | None) -> Iterator[dict[str, Any]]:
        params = {"limit": PAGE} | ({"updated_since": since} if since else {})
        yield from crm.paginate("/contacts", params=params)

    sync.transform(_subscriber)

    @sync.destination(batch_size=BATCH)
    def upsert(batch: Batch) -> list[tuple[int, str]]:
        variables = {"listId": list_id, "input": list(batch)}
        ex = mail.execute(UPSERT, variables, validate=validate).raise_for_status()
        return [(e["index"], e["message"]) for e in ex.data["upsertSubscribers"]["userErrors"]]

    def go() -> int:
        try:
            report = sync.run()
            if report.status != "ok":
                raise RuntimeError(report.summary())
            return int(report.written)
        finally:
            sync.close()
            crm.close()
            mail.close()

    return go


def raw(env: dict[str, str], list_id: str, *, limit: int | None = None) -> Callable[[], int]:
    """What a careful developer would write with httpx alone (no state, no dedupe)."""

    def go() -> int:
        written = 0
        with (
            httpx.Client(headers={"Authorization": f"Bearer {env['CRM_TOKEN']}"}) as crm,
            httpx.Client(headers={"X-API-Key": env["MAIL_API_KEY"]}) as mail,
        ):

            def send(batch: list[dict[str, Any]]) -> int:
                body = {"query": UPSERT, "variables": {"listId": list_id, "input": batch}}
                payload = mail.post(env["MAIL_URL"], json=body).raise_for_status().json()
                if payload.get("errors"):
                    raise RuntimeError(payload["errors"])
                return len(batch) - len(payload["data"]["upsertSubscribers"]["userErrors"])

            params: dict[str, Any] = {"limit": PAGE}
            batch: list[dict[str, Any]] = []
            while True:
                page = crm.get(env["CRM_URL"] + "/contacts", params=params)
                page_json = page.raise_for_status().json()
                for contact in page_json["data"]:
                    batch.append(_subscriber(contact))
                    if len(batch) == BATCH:
                        written += send(batch)
                        batch = []
                if not page_json["has_more"] or (limit is not None and written >= limit):
                    break
                params["cursor"] = page_json["next_cursor"]
            if batch:
                written += send(batch)
        return written

    return go


SIDES = ("ours", "raw", "ours_unvalidated")


@contextmanager
def warm_sandbox(
    contacts: int, sides: tuple[str, ...], i: int
) -> Iterator[tuple[dict[str, str], str, dict[str, str]]]:
    """A sandbox process with ``contacts``, warmed up: its env, a temp dir, a list per side."""
    with (
        sandbox_process("--contacts", str(contacts), "--option", "crm.messy_rate=0") as env,
        tempfile.TemporaryDirectory() as tmp,
    ):
        lists = {side: _new_list(env, f"bench-{side}-{i}") for side in sides}
        # a full warm-up pass: app set-up, seed data, the CRM's indexes and the mail
        # store's first growth happen here, not in whichever side happens to go first
        raw(env, _new_list(env, f"bench-warm-{i}"))()
        yield env, tmp, lists


def _throughput(contacts: int, repeat: int) -> dict[str, Any]:
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    written: dict[str, int] = {}
    for i in range(repeat):
        with warm_sandbox(contacts, SIDES, i) as (env, tmp, lists):
            sides = {
                "ours": ours(env, lists["ours"], Path(tmp) / "ours.db"),
                "raw": raw(env, lists["raw"]),
                "ours_unvalidated": ours(
                    env, lists["ours_unvalidated"], Path(tmp) / "unvalidated.db", validate=False
                ),
            }
            order = SIDES[i % 3 :] + SIDES[: i % 3]  # each side goes first in turn
            for side in order:
                go = sides[side]

                def once(side: str = side, go: Callable[[], int] = go) -> None:
                    written[side] = go()

                times[side].append(timed(once))
            for side, list_id in lists.items():
                held = _list_size(env, list_id)
                if held != contacts or written[side] != contacts:
                    raise RuntimeError(f"{side}: wrote {written[side]}, the list holds {held}")
    med = {side: statistics.median(ts) for side, ts in times.items()}
    return {
        "contacts": contacts,
        "ours_s": round(med["ours"], 3),
        "raw_s": round(med["raw"], 3),
        "ours_records_per_s": round(contacts / med["ours"]),
        "raw_records_per_s": round(contacts / med["raw"]),
        "throughput_ratio": round(med["raw"] / med["ours"], 4),
        "unvalidated_s": round(med["ours_unvalidated"], 3),
        "unvalidated_records_per_s": round(contacts / med["ours_unvalidated"]),
        "unvalidated_ratio": round(med["raw"] / med["ours_unvalidated"], 4),
        "runs": {side: [round(x, 3) for x in ts] for side, ts in times.items()},
    }


#: Where to look in a profile of our side: (label, file name, function name).
AREAS = (
    ("whole run", "_integration.py", "run"),
    ("GraphQL: local validation of each call", "_graphql_schema.py", "validation_errors"),
    ("HTTP: send and receive (client side)", "_http.py", "send"),
    ("source: paging the CRM", "paginate.py", "__next__"),
    ("state: SQLite commits", "_state.py", "commit"),
    ("dedupe: seen-key lookups", "_state.py", "seen_fingerprints"),
)


def _profile(contacts: int) -> dict[str, Any]:
    """Where our side spends its time (this process only): areas, and top functions."""
    with (
        sandbox_process("--contacts", str(contacts), "--option", "crm.messy_rate=0") as env,
        tempfile.TemporaryDirectory() as tmp,
    ):
        raw(env, _new_list(env, "profile-warm"), limit=2_000)()
        run = ours(env, _new_list(env, "profile"), Path(tmp) / "state.db")
        profiler = cProfile.Profile()
        profiler.runcall(run)
    entries = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    areas = {}
    for label, filename, function in AREAS:
        areas[label] = round(sum(
            cumulative for (path, _, name), (_, _, _, cumulative, _) in entries.items()
            if name == function and Path(path).name == filename
        ), 3)  # fmt: skip
    rows = [
        {"function": f"{Path(path).name}:{line}({name})", "calls": calls, "own_s": round(own, 3)}
        for (path, line, name), (_, calls, own, _, _) in entries.items()
    ]
    rows.sort(key=lambda r: r["own_s"], reverse=True)
    return {"contacts": contacts, "areas_s": areas, "top_own_time": rows[:15]}


MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys, tempfile
    from pathlib import Path

    from apinotebook.integration import Integration

    n = int(sys.argv[1])
    with tempfile.TemporaryDirectory() as tmp:
        sync = Integration("memory", state=Path(tmp) / "state.db", progress=None)

        @sync.source(key="id", cursor="updated_at")
        def records(since):
            for i in range(n):
                yield {
                    "id": f"r{i:07d}",
                    "email": f"User{i}@Example.com",
                    "first_name": "Ada",
                    "last_name": f"Lee{i % 997}",
                    "tags": ["a", "b"],
                    "custom_fields": {"score": i % 100, "opt_in": i % 3 == 0},
                    "updated_at": f"2026-01-01T00:00:00.{i:07d}Z",
                }

        @sync.transform
        def mapping(record):
            return {"email": record["email"].lower(), "name": record["first_name"]}

        sync.destination(batch_size=100)(lambda batch: None)
        report = sync.run()
        sync.close()
    print(json.dumps({"written": report.written, "seconds": round(report.duration, 2)}))
    """
)


MEASURE_SCRIPT = textwrap.dedent(
    """
    import json, resource, subprocess, sys

    proc = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]],
                          capture_output=True, text=True, check=True)
    child = json.loads(proc.stdout.strip().splitlines()[-1])
    child["children_peak_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps(child))
    """
)


def _memory(sizes: tuple[int, ...]) -> dict[str, Any]:
    """Peak RSS per run size, each measured in a fresh process tree.

    A wrapper process runs the worker and reads ``RUSAGE_CHILDREN`` (its only
    child is the worker), so no other subprocess of the benchmark is counted.
    """
    out: dict[str, Any] = {}
    for n in sizes:
        proc = subprocess.run(
            [sys.executable, "-c", MEASURE_SCRIPT, MEMORY_SCRIPT, str(n)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        if child["written"] != n:
            raise RuntimeError(f"memory run wrote {child['written']} of {n}")
        out[str(n)] = {
            "peak_rss_mb": round(child["children_peak_kb"] / 1024, 1),  # kB on Linux
            "seconds": child["seconds"],
        }
    return out


def run() -> dict[str, Any]:
    """Both measurements; a failing section records its error instead of stopping the rest."""
    contacts = 5_000 if quick() else CONTACTS
    sizes = (0, 20_000, 100_000) if quick() else RECORDS
    results: dict[str, Any] = {}
    sections: dict[str, Callable[[], Any]] = {
        "sync": lambda: _throughput(contacts, 1 if quick() else REPEAT),
        "memory": lambda: _memory(sizes),
    }
    for name, fn in sections.items():
        try:
            results[name] = fn()
        except Exception as exc:  # noqa: BLE001 - reported in the results
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"  {name}: {json.dumps(results[name])[:300]}", flush=True)
    sync = results.get("sync", {})
    if "throughput_ratio" in sync and sync["throughput_ratio"] < 0.9:
        results["profile"] = _profile(min(contacts, 20_000))
    return results


def markdown(results: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md for these results."""
    lines = []
    sync = results.get("sync", {})
    if "error" in sync or not sync:
        lines.append(f"Sync: error: {sync.get('error', 'not run')}")
    else:
        met = "yes" if sync["throughput_ratio"] >= 0.9 else "**no**"
        lines += [
            f"Sync {sync['contacts']:,} CRM contacts into a mailing list (pages of {PAGE}, "
            f"upserts of {BATCH}; median of {len(sync['runs']['ours'])} runs, a fresh sandbox "
            "process and fresh lists each time):",
            "",
            "| side | seconds | records/s |",
            "|---|---|---|",
            f"| Integration (SQLite state, dedupe, report) | {sync['ours_s']:.2f} | "
            f"{sync['ours_records_per_s']:,} |",
            f"| raw httpx script | {sync['raw_s']:.2f} | {sync['raw_records_per_s']:,} |",
            f"| Integration, GraphQL `validate=False` (diagnostic) | {sync['unvalidated_s']:.2f} | "
            f"{sync['unvalidated_records_per_s']:,} |",
            "",
            f"Throughput ratio ours/raw: **{sync['throughput_ratio']:.3f}** "
            f"(target >= 0.9: {met}); without the client's per-call schema validation: "
            f"{sync['unvalidated_ratio']:.3f}.",
        ]
    memory = results.get("memory", {})
    lines.append("")
    if "error" in memory or not memory:
        lines.append(f"Memory: error: {memory.get('error', 'not run')}")
    else:
        lines += [
            "Peak RSS of a process pushing N synthetic records through a transform and a "
            "no-op destination with the SQLite state (target < 300 MB at 1,000,000):",
            "",
            "| records | peak RSS (MB) | seconds |",
            "|---|---|---|",
        ]
        lines += [
            f"| {int(n):,} | {m['peak_rss_mb']} | {m['seconds']} |" for n, m in memory.items()
        ]
    profile = results.get("profile")
    if profile:
        size = f"{profile['contacts']:,}"
        lines += ["", f"Where our side spends its time (cProfile of a {size}-contact run, "
                  "client process, cumulative seconds):", "",
                  "| area | seconds |", "|---|---|"]  # fmt: skip
        lines += [f"| {label} | {sec} |" for label, sec in profile["areas_s"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
