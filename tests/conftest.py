"""Shared test configuration.

Sockets to anything but loopback are blocked for every test by pytest-socket
(``--allow-hosts`` in pyproject.toml); ``test_network_is_blocked`` proves it.

``APINOTEBOOK_TEST_PROFILE=core`` runs only what needs the core and the
sandbox extra (the Python 3.13 CI run): folders that need Jupyter, a browser
or Prefect are not collected at all, rather than skipped.
"""

from __future__ import annotations

import os

import pytest

# pytester runs pytest inside a test (the cassette plugin's tests, tests/cassettes)
pytest_plugins = ["pytester"]

NEEDS_NOTEBOOK = ("widgets", "browser", "notebooks", "magics", "lab")
NEEDS_PREFECT = ("prefect",)

collect_ignore_glob: list[str] = []
if os.environ.get("APINOTEBOOK_TEST_PROFILE") == "core":
    for name in NEEDS_NOTEBOOK + NEEDS_PREFECT:
        collect_ignore_glob += [f"{name}/*", f"test_{name}*.py", f"*/test_{name}*.py"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder so ``-m`` can select them."""
    for item in items:
        parts = item.path.parts
        if "browser" in parts:
            item.add_marker(pytest.mark.browser)
        if "reliability" in parts:
            item.add_marker(pytest.mark.reliability)
