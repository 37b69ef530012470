"""Helpers for the sandbox tests.

The guard counts a request once the service has finished with it, which can be
a moment after the client has read the answer: a test that reads
``sb.stats()`` right after a request must wait for the count to land.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import pytest


class Stats:
    """Read a sandbox's request counts once they have landed."""

    def settled(self, box: Any, service: str, *, quiet: float = 0.05) -> dict[str, int]:
        """The counts of ``service`` once they stop changing for ``quiet`` seconds."""
        last = box.stats().get(service, {})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = box.stats().get(service, {})
            if now == last:
                return dict(now)
            last = now
        raise AssertionError(f"the counts of {service} kept changing: {last}")

    def reach(self, box: Any, service: str, expected: Mapping[str, int]) -> dict[str, int]:
        """The counts of ``service`` once they include ``expected`` (or fail after 5 s)."""
        deadline = time.monotonic() + 5
        while True:
            now = box.stats().get(service, {})
            if all(now.get(k) == v for k, v in expected.items()) or time.monotonic() > deadline:
                return dict(now)
            time.sleep(0.01)


@pytest.fixture
def stats() -> Stats:
    """See :class:`Stats`."""
    return Stats()
