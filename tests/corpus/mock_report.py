"""The mock run's own table: how each protocol's one request went."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any


def _family(protocol: str) -> str:
    return "graphql" if protocol.startswith("graphql") else protocol


def print_mock_report(entries: list[dict[str, Any]], out: Any = sys.stdout) -> dict[str, Any]:
    """Per protocol: mocks started, requests answered 2xx, refused, answers fitting the schema."""
    table: dict[str, dict[str, int]] = {}
    for e in entries:
        row = table.setdefault(_family(e["protocol"]), Counter())
        ours = e["ours"]
        row["files"] += 1
        row["started"] += ours["outcome"] == "ok"
        row["called"] += "status" in ours
        row["answered"] += bool(ours.get("answered"))
        row["refused"] += bool(ours.get("refused"))
        row["checked"] += "fits_schema" in ours
        row["fits"] += bool(ours.get("fits_schema"))
    head = (f"{'protocol':9} {'files':>5} {'mocked':>6} {'called':>6} {'2xx':>5} "
            f"{'refused':>7} {'fits schema':>11}")  # fmt: skip
    print("\n" + head, file=out)
    print("-" * len(head), file=out)
    for family, row in sorted(table.items()):
        fits = f"{row['fits']}/{row['checked']}" if row["checked"] else "-"
        print(f"{family:9} {row['files']:>5} {row['started']:>6} {row['called']:>6} "
              f"{row['answered']:>5} {row['refused']:>7} {fits:>11}", file=out)  # fmt: skip
    print("(mocked: the mock started and the probe finished; called: one request was made "
          "through our client; refused: the mock answered 400/415 or GraphQL errors or a Fault)",
          file=out)  # fmt: skip
    return {k: dict(v) for k, v in table.items()}
