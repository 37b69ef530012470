"""Shared test configuration.

Sockets to anything but loopback are blocked for every test by pytest-socket
(``--allow-hosts`` in pyproject.toml); ``test_network_is_blocked`` proves it.

``APINOTEBOOK_TEST_PROFILE=core`` runs only what needs the core and the
sandbox extra (the Python 3.13 CI run): folders that need Jupyter, a browser
or Prefect are not collected at all, rather than skipped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import PostgresServer, start_server

# pytester runs pytest inside a test (the cassette plugin's tests, tests/cassettes)
pytest_plugins = ["pytester"]

NEEDS_NOTEBOOK = ("widgets", "browser", "notebooks", "magics", "lab")
NEEDS_PREFECT = ("prefect",)

collect_ignore_glob: list[str] = []
if os.environ.get("APINOTEBOOK_TEST_PROFILE") == "core":
    for name in NEEDS_NOTEBOOK + NEEDS_PREFECT:
        # the folder itself too, or its conftest.py is imported (and needs the extra)
        collect_ignore_glob += [name, f"{name}/*", f"test_{name}*.py", f"*/test_{name}*.py"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by folder so ``-m`` can select them."""
    for item in items:
        parts = item.path.parts
        if "browser" in parts:
            item.add_marker(pytest.mark.browser)
        if "reliability" in parts:
            item.add_marker(pytest.mark.reliability)


# the integration state's backends: the state suites run against each (PostgreSQL needs
# the [postgres] extra, so the core profile runs SQLite only)
STATE_BACKENDS = (
    ["sqlite"]
    if os.environ.get("APINOTEBOOK_TEST_PROFILE") == "core"
    else [
        "sqlite",
        "postgresql",
    ]
)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (see tests/pg_server.py)."""
    server = start_server()
    yield server
    server.stop()


@pytest.fixture(params=STATE_BACKENDS)
def state_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def state_url(request: pytest.FixtureRequest, state_backend: str, tmp_path: Path) -> str:
    """A fresh, empty state: a SQLite file or a new PostgreSQL database."""
    if state_backend == "sqlite":
        return str(tmp_path / "state.db")
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.new_database()
