"""Replaying recorded calls from a cassette beside the live sandbox, in the same run.

10,000 REST calls (``GET /contacts/{id}`` over 10,000 contacts) are recorded once
into a HAR cassette; then the same 10,000 calls run live against the sandbox
(served from its own process, on loopback) and from the cassette
(``apinotebook.replay``), interleaved, through the same ``RestClient``. The
replay side includes loading and indexing the 10,000-entry file on every run.
A GraphQL and a SOAP row do the same with 1,000 calls each. Target: replay at
least 5x faster than the live sandbox (speedup = live time / replay time).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import compare, quick, sandbox_process

CALLS = 10_000
OTHER_CALLS = 1_000


def _pair(path: Path, calls: Callable[[], None], *, repeat: int) -> dict[str, Any]:
    import apinotebook

    with apinotebook.record(path, mode="all"):
        calls()

    def replayed() -> None:
        with apinotebook.replay(path) as tape:
            calls()
        if tape.played == 0:
            raise RuntimeError("nothing was replayed")

    result = compare(replayed, calls, repeat=repeat)
    result["speedup"] = round(result["raw_s"] / result["ours_s"], 2)
    result["cassette_bytes"] = path.stat().st_size
    return result


def run() -> dict[str, Any]:
    """Record, then time live calls and replayed calls side by side."""
    from apinotebook import ApiKey, Basic, Bearer, History, RestClient
    from apinotebook.graphql import GraphQLClient
    from apinotebook.soap import SoapClient

    calls = 500 if quick() else CALLS
    other = 100 if quick() else OTHER_CALLS
    repeat = 3
    results: dict[str, Any] = {"calls": calls, "other_calls": other, "repeat": repeat}
    with (
        sandbox_process("--contacts", str(calls), "--option", "crm.messy_rate=0") as env,
        tempfile.TemporaryDirectory() as tmp,
    ):
        folder = Path(tmp)
        crm = RestClient(env["CRM_URL"], auth=Bearer(env["CRM_TOKEN"]), history=History())
        ids = [f"c_{i:06d}" for i in range(1, calls + 1)]

        def rest() -> None:
            for cid in ids:
                crm.get(f"/contacts/{cid}").raise_for_status()

        results["rest"] = _pair(folder / "rest.har", rest, repeat=repeat)

        mail = GraphQLClient(
            env["MAIL_URL"], auth=ApiKey(env["MAIL_API_KEY"], header="X-API-Key"), history=History()
        )
        query = "query Lists($n: Int) { lists(first: $n) { totalCount edges { node { id } } } }"
        mail.execute(query, {"n": 1}).raise_for_status()  # the schema, once

        def graphql() -> None:
            for i in range(other):
                mail.execute(query, {"n": 1 + i % 3}).raise_for_status()

        results["graphql"] = _pair(folder / "graphql.har", graphql, repeat=repeat)

        billing = SoapClient(
            env["BILLING_WSDL"],
            auth=Basic(env["BILLING_USERNAME"], env["BILLING_PASSWORD"]),
            history=History(),
        )
        customers = [f"CUST-{i:05d}" for i in range(1, 21)]

        def soap() -> None:
            for i in range(other):
                billing.call("GetCustomer", customerId=customers[i % 20])

        results["soap"] = _pair(folder / "soap.har", soap, repeat=repeat)
        for client in (crm, mail, billing):
            client.close()
    return results


def markdown(results: dict[str, Any]) -> str:
    """One row per protocol: live, replayed, speedup."""
    rows = [
        "| calls | live sandbox (s) | replayed (s) | speedup (live / replay) | target | met "
        "| cassette |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, label in (
        ("rest", f"REST `GET /contacts/{{id}}` x {results['calls']:,}"),
        ("graphql", f"GraphQL query x {results['other_calls']:,}"),
        ("soap", f"SOAP `GetCustomer` x {results['other_calls']:,}"),
    ):
        r = results[name]
        target = ">= 5x" if name == "rest" else "–"
        met = ("yes" if r["speedup"] >= 5 else "**no**") if name == "rest" else "–"
        rows.append(
            f"| {label} | {r['raw_s']:.3f} | {r['ours_s']:.3f} | {r['speedup']:.1f}x | {target} "
            f"| {met} | {r['cassette_bytes'] / 1e6:.1f} MB |"
        )
    rows += [
        "",
        f"Medians of {results['repeat']} interleaved runs of each side. The replay side "
        "loads and indexes the cassette on every run (a HAR file, secrets masked at record "
        "time) and matches each request by method, URL, query and body through the same "
        "send loop as a live call (retries, redirects, history); it opens no socket.",
        "",
        "A replayed call still costs what the client itself does on both sides: building "
        "the request and the Exchange, and, for SOAP, zeep building the envelope and "
        "reading the answer (plus about 0.13 ms to canonicalise the envelope for matching), "
        "most of a replayed SOAP call; so the speedup is smallest for SOAP and, like every "
        "ratio here, moves with the load of this shared 2-core machine (an earlier run at a "
        "load average of 12 measured 3.8x for REST).",
    ]
    return "\n".join(rows)
