"""Contract checks: what ``check_contracts=True`` adds to a call on a page of 50 records.

For each protocol, the same call with the check on and off, interleaved in
blocks against the sandbox on loopback (served from its own process), plus
the raw library for the REST page:

- REST: ``GET /contacts?limit=50`` (about 19 kB) on a client built with
  ``RestClient.from_openapi``, checked against ``listContacts``' 200 schema;
  the raw side is ``httpx.Client.get(...).json()``;
- GraphQL: 50 subscribers of a mailing list (edges, nodes, pageInfo),
  checked against the query's result type;
- SOAP: ``ListCustomers`` with ``pageSize=50`` (about 22 kB), checked
  against the WSDL's XML Schema.

Target: checked / unchecked <= 1.10 for each. In-process, a page's REST
check with the compiled pre-check beside jsonschema alone (CPU time, µs per
page), which is why the pre-check exists.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import httpx

from benchmarks._harness import compare_calls, quick, sandbox_process

SUBSCRIBERS = """
query Page($listId: ID!) {
  subscribers(listId: $listId, first: 50) {
    edges { node { email name status tags updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""


#: runs per comparison (medians): the machine is shared, more runs steady the ratio
REPEAT = 7


def _calls() -> int:
    return 100 if quick() else 1000


def _rest(env: dict[str, str]) -> dict[str, Any]:
    from apinotebook import Bearer, RestClient

    url, token = env["CRM_URL"], env["CRM_TOKEN"]
    spec = url + "/openapi.json"
    plain = RestClient.from_openapi(spec, auth=Bearer(token), history=None)
    checked = RestClient.from_openapi(spec, auth=Bearer(token), history=None, check_contracts=True)
    raw = httpx.Client(base_url=url + "/", headers={"Authorization": f"Bearer {token}"})
    page = {"limit": 50}
    first = checked.get("/contacts", params=page)
    assert first.meta["contract_result"].ok and len(first.json()["data"]) == 50

    def ours(i: int) -> None:
        checked.get("/contacts", params=page).json()

    def unchecked(i: int) -> None:
        plain.get("/contacts", params=page).json()

    def theirs(i: int) -> None:
        raw.get("contacts", params=page).json()

    calls = _calls()
    try:
        vs_unchecked = compare_calls(ours, unchecked, calls=calls, block=25, repeat=REPEAT)
        vs_raw = compare_calls(ours, theirs, calls=calls, block=25, repeat=REPEAT)
    finally:
        plain.close(), checked.close(), raw.close()
    return {
        "calls": calls,
        "page_bytes": len(first.content),
        "checked_ms": round(vs_unchecked["ours_s"] / calls * 1000, 3),
        "unchecked_ms": round(vs_unchecked["raw_s"] / calls * 1000, 3),
        "ratio_vs_unchecked": vs_unchecked["ratio"],
        "raw_httpx_ms": round(vs_raw["raw_s"] / calls * 1000, 3),
        "ratio_vs_raw": vs_raw["ratio"],
    }


def _graphql(env: dict[str, str]) -> dict[str, Any]:
    from apinotebook import ApiKey
    from apinotebook.graphql import GraphQLClient

    key = ApiKey(env["MAIL_API_KEY"], header="X-API-Key")
    plain = GraphQLClient(env["MAIL_URL"], auth=key, history=None)
    checked = GraphQLClient(env["MAIL_URL"], auth=key, history=None, check_contracts=True)
    lists = plain.execute("query { lists { edges { node { id subscriberCount } } } }").data
    biggest = max(lists["lists"]["edges"], key=lambda e: e["node"]["subscriberCount"])["node"]
    variables = {"listId": biggest["id"]}
    first = checked.execute(SUBSCRIBERS, variables)
    assert first.meta["contract_result"].ok, first.meta["contract_result"].summary()
    assert len(first.data["subscribers"]["edges"]) == 50

    calls = _calls()
    try:
        result = compare_calls(
            lambda i: checked.execute(SUBSCRIBERS, variables).data,
            lambda i: plain.execute(SUBSCRIBERS, variables).data,
            calls=calls,
            block=25,
            repeat=REPEAT,
        )
    finally:
        plain.close(), checked.close()
    return {
        "calls": calls,
        "page_bytes": len(first.content),
        "checked_ms": round(result["ours_s"] / calls * 1000, 3),
        "unchecked_ms": round(result["raw_s"] / calls * 1000, 3),
        "ratio_vs_unchecked": result["ratio"],
    }


def _soap(env: dict[str, str]) -> dict[str, Any]:
    from apinotebook import Basic
    from apinotebook.soap import SoapClient

    auth = Basic(env["BILLING_USERNAME"], env["BILLING_PASSWORD"])
    plain = SoapClient(env["BILLING_WSDL"], auth=auth, history=None)
    checked = SoapClient(env["BILLING_WSDL"], auth=auth, history=None, check_contracts=True)
    first = checked.call("ListCustomers", page=1, pageSize=50)
    assert first.meta["contract_result"].ok and len(first.data["customer"]) == 50

    calls = max(50, _calls() // 2)
    try:
        result = compare_calls(
            lambda i: checked.call("ListCustomers", page=1, pageSize=50),
            lambda i: plain.call("ListCustomers", page=1, pageSize=50),
            calls=calls,
            block=25,
            repeat=REPEAT,
        )
    finally:
        plain.close(), checked.close()
    return {
        "calls": calls,
        "page_bytes": len(first.content),
        "checked_ms": round(result["ours_s"] / calls * 1000, 3),
        "unchecked_ms": round(result["raw_s"] / calls * 1000, 3),
        "ratio_vs_unchecked": result["ratio"],
    }


def _validators(env: dict[str, str]) -> dict[str, Any]:
    """One page, in-process: the compiled pre-check beside jsonschema alone (CPU µs)."""
    from apinotebook import Bearer, RestClient
    from apinotebook.contract import _rest

    with RestClient.from_openapi(
        env["CRM_URL"] + "/openapi.json", auth=Bearer(env["CRM_TOKEN"]), history=None
    ) as crm:
        ex = crm.get("/contacts", params={"limit": 50})
        op = _rest.find_operation(crm.document, ex)
        assert op is not None
        response = _rest._response_for(op, 200)
        assert response is not None
        validator, fast = _rest._validator(crm.document, op, response)
    data = ex.json()
    assert fast is not None and fast(data) and validator.is_valid(data)
    repeat = 50 if quick() else 300

    def per_page(fn: Any) -> float:
        t0 = time.process_time()
        for _ in range(repeat):
            fn(data)
        return (time.process_time() - t0) / repeat * 1e6

    jsonschema_us = min(per_page(lambda d: list(validator.iter_errors(d))) for _ in range(3))
    fast_us = min(per_page(fast) for _ in range(3))
    return {
        "jsonschema_us": round(jsonschema_us, 1),
        "precheck_us": round(fast_us, 1),
        "speedup": round(jsonschema_us / fast_us, 1),
    }


def run() -> dict[str, Any]:
    """Every section against one sandbox process (``BENCH_SECTIONS=rest,graphql``: some)."""
    sections = {"rest": _rest, "graphql": _graphql, "soap": _soap, "validators": _validators}
    only = [s for s in os.environ.get("BENCH_SECTIONS", "").split(",") if s]
    unknown = sorted(set(only) - set(sections))
    if unknown:
        raise SystemExit(f"BENCH_SECTIONS: unknown {unknown}; available: {list(sections)}")
    results: dict[str, Any] = {"_partial": only} if only else {}
    with sandbox_process("--contacts", "1000", "--option", "crm.messy_rate=0") as env:
        for name, fn in sections.items():
            if not only or name in only:
                results[name] = fn(env)
    return results


def markdown(results: dict[str, Any]) -> str:
    """A table for docs/benchmarks.md."""
    lines = [
        "Each row: the same call with `check_contracts=True` and without, interleaved in blocks "
        "of 25 (medians of 7 runs). Target: checked / unchecked <= 1.10.",
        "",
        "| page of 50 records | bytes | checked | unchecked | checked / unchecked "
        "| raw library | checked / raw |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    names = {"rest": "REST `GET /contacts?limit=50` (OpenAPI 3.1)",
             "graphql": "GraphQL 50 subscribers", "soap": "SOAP `ListCustomers` (XSD)"}  # fmt: skip
    for key, label in names.items():
        row = results.get(key)
        if not row:
            continue
        raw = f"{row['raw_httpx_ms']} ms (httpx)" if "raw_httpx_ms" in row else "-"
        vs_raw = f"{row['ratio_vs_raw']}" if "ratio_vs_raw" in row else "-"
        lines.append(
            f"| {label} | {row['page_bytes']:,} | {row['checked_ms']} ms | {row['unchecked_ms']} ms"
            f" | **{row['ratio_vs_unchecked']}** | {raw} | {vs_raw} |"
        )
    v = results.get("validators")
    if v:
        lines += [
            "",
            f"The REST page's check alone, in-process (CPU): jsonschema {v['jsonschema_us']} µs, "
            f"the compiled pre-check {v['precheck_us']} µs ({v['speedup']}x); jsonschema runs "
            "only when the pre-check cannot say 'valid', to list the violations.",
        ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
