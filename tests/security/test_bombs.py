"""Compressed bodies are counted as they inflate: a gzip bomb peaks near the limit (issue 13).

Before, httpx inflated each network chunk whole before anything counted it: a
1 MB bomb against a 10 MB limit peaked at about 13x the limit for the clients,
and ``from_openapi(url)`` read the whole inflated document (3.1 GB).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("bomb_worker.py")
LIMIT = 10 * 1024 * 1024
INFLATED = 300 * 1024 * 1024


@pytest.mark.parametrize("kind", ["rest", "openapi"])
def test_a_gzip_bomb_is_refused_within_about_twice_the_limit(kind):
    proc = subprocess.run(
        [sys.executable, str(WORKER), kind, str(LIMIT), str(INFLATED)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    outcome, grown, packed = proc.stdout.split()
    assert int(packed) < 1024 * 1024  # a small download...
    assert outcome == "ResponseTooLarge"  # ...refused
    assert int(grown) < 3 * LIMIT, f"peak RSS grew by {int(grown) / 2**20:.0f} MB"
