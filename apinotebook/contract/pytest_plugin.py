"""A pytest plugin: ``--update-snapshots`` rewrites the snapshots ``assert_matches_snapshot`` reads.

Enable it in a ``conftest.py``::

    pytest_plugins = ["apinotebook.contract.pytest_plugin"]

then ``pytest --update-snapshots`` is the same as running with
``APINOTEBOOK_UPDATE_SNAPSHOTS=1``. pytest is imported only by pytest itself.
"""

from __future__ import annotations

import os
from typing import Any

from apinotebook.contract._diff import UPDATE_ENV

__all__ = ["pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: Any) -> None:
    """Add ``--update-snapshots``."""
    parser.addoption(
        "--update-snapshots",
        action="store_true",
        default=False,
        help="write the snapshots assert_matches_snapshot compares with (apinotebook)",
    )


def pytest_configure(config: Any) -> None:
    """Turn the option into the environment variable the assertion reads."""
    if config.getoption("--update-snapshots", default=False):
        os.environ[UPDATE_ENV] = "1"
