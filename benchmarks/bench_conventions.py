"""Conditional requests (ETag / 304) beside raw httpx re-fetching whole pages.

- ``rerun_listing``: a notebook cell re-run lists every contact again (cursor
  pages of 100). Ours revalidates each page it has seen (``If-None-Match``,
  the CRM answers ``304`` with no body); raw httpx fetches every page whole,
  as it would without help. Throughput ratio: raw time / our time.
- ``conditional_layer``: the client's own cost of conditional bookkeeping
  (remembering answers with an ``ETag``, adding validators, answering a 304
  from memory), in-process against ``httpx.MockTransport``, CPU time:
  ``conditional=True`` (the default) beside ``conditional=False``, both
  fetching answers that carry an ``ETag`` and never get a 304.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from benchmarks._harness import compare, compare_calls, quick, sandbox_process
from benchmarks.bench_clients import raw_contacts

CONTACTS = 5000


def _rerun_listing(env: dict[str, str]) -> dict[str, Any]:
    from apinotebook import Bearer, History, RestClient

    url, token = env["CRM_URL"], env["CRM_TOKEN"]
    client = RestClient(url, auth=Bearer(token), history=History(maxlen=500))
    raw_client = httpx.Client(base_url=url + "/", headers={"Authorization": f"Bearer {token}"})
    received: dict[str, int] = {"ours": 0, "pages": 0}

    def ours() -> None:
        assert client.history is not None
        client.history.clear()
        for _ in client.paginate("/contacts", params={"limit": 100}):
            pass
        received["ours"] = sum(1 for ex in client.history if ex.from_cache)
        received["pages"] = len(client.history)

    def raw() -> None:
        for _ in raw_contacts(raw_client):
            pass

    ours()  # the first run: the pages are remembered
    result = compare(ours, raw, repeat=9)
    result["pages_from_304"] = f"{received['ours']} of {received['pages']}"
    result["throughput_ratio"] = round(result["raw_s"] / result["ours_s"], 4)
    client.close()
    raw_client.close()
    return result


def _conditional_layer(calls: int) -> dict[str, Any]:
    from apinotebook import RestClient

    body = b'{"id": "c_000001", "first_name": "Ada", "updated_at": "2026-01-01T00:00:00Z"}'

    def serve(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json", "etag": '"v1"'}
        return httpx.Response(200, headers=headers, content=body)  # never a 304: pure cost

    transport = httpx.MockTransport(serve)
    on = RestClient("https://api.example", transport=transport, history=None)
    off = RestClient("https://api.example", transport=transport, history=None, conditional=False)
    paths = [f"/contacts/c_{i:06d}" for i in range(50)]

    def ours(i: int) -> None:
        on.get(paths[i % 50]).json()

    def raw(i: int) -> None:
        off.get(paths[i % 50]).json()

    result = compare_calls(ours, raw, calls=calls, repeat=7, clock=time.process_time)
    result["calls"] = calls
    result["cost_us"] = round((result["ours_s"] - result["raw_s"]) / calls * 1e6, 1)
    return result


def run() -> dict[str, Any]:
    """Both comparisons; each records its error instead of failing the other."""
    contacts = 1000 if quick() else CONTACTS
    results: dict[str, Any] = {}
    try:
        results["conditional_layer"] = _conditional_layer(500 if quick() else 5000)
    except Exception as exc:  # noqa: BLE001 - reported in the results
        results["conditional_layer"] = {"error": f"{type(exc).__name__}: {exc}"}
    with sandbox_process("--contacts", str(contacts), "--option", "crm.messy_rate=0") as env:
        try:
            results["rerun_listing"] = _rerun_listing(env)
            results["rerun_listing"]["contacts"] = contacts
        except Exception as exc:  # noqa: BLE001 - reported in the results
            results["rerun_listing"] = {"error": f"{type(exc).__name__}: {exc}"}
    return results


def _row(name: str, r: dict[str, Any], ratio: str, note: str) -> str:
    return f"| {name} | {r['ours_s']:.4f} | {r['raw_s']:.4f} | {ratio} | {note} |"


def markdown(results: dict[str, Any]) -> str:
    """The section of docs/benchmarks.md for these results."""
    rows = ["| comparison | ours (s) | raw (s) | ratio | note |", "|---|---|---|---|---|"]
    rerun, layer = results.get("rerun_listing", {}), results.get("conditional_layer", {})
    if "ours_s" in rerun:
        ratio = f"{rerun['throughput_ratio']:.2f} (throughput, raw/ours)"
        note = f"{rerun['contacts']:,} contacts in pages of 100; {rerun['pages_from_304']} pages"
        rows.append(_row("rerun_listing", rerun, ratio, note + " answered by 304"))
    if "ours_s" in layer:
        note = f"{layer['cost_us']} µs per GET for remembering ETag answers"
        rows.append(
            _row("conditional_layer", layer, f"{layer['ratio']:.3f} (time, on/off)",
                 f"{note} ({layer['calls']:,} calls, CPU time)")
        )  # fmt: skip
    for name in ("rerun_listing", "conditional_layer"):
        if "error" in results.get(name, {}):
            rows.append(f"| {name} | – | – | – | error: {results[name]['error']} |")
    return "\n".join(rows) + "\n"
