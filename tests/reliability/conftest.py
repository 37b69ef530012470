"""The figures the reliability tests measure, kept for docs/benchmarks.md.

Each test fills the ``figures`` fixture (records, lost, duplicated, faults
seen, kill points, ...). With ``APINOTEBOOK_RELIABILITY_FIGURES=PATH`` set,
every finished test appends one JSON line to PATH: its id, whether it passed,
and its figures. ``python -m benchmarks reliability`` runs this folder that
way and renders the lines (see benchmarks/bench_reliability.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

_OUTCOME = pytest.StashKey[dict[str, bool]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    item.stash.setdefault(_OUTCOME, {})[report.when] = report.passed
    return report


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """A dict the test fills with what it measured."""
    found: dict[str, Any] = {}
    yield found
    path = os.environ.get("APINOTEBOOK_RELIABILITY_FIGURES")
    if path:
        passed = request.node.stash.get(_OUTCOME, {}).get("call", False)
        line = {"test": request.node.nodeid, "passed": passed, **found}
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line, default=str) + "\n")
