"""Close every Integration a test creates (its SQLite connections and threads)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from apinotebook.integration import Integration


@pytest.fixture(autouse=True)
def close_integrations(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    created: list[Integration] = []
    original = Integration.__init__

    def tracking_init(self: Integration, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        created.append(self)

    monkeypatch.setattr(Integration, "__init__", tracking_init)
    yield
    for integration in created:
        integration.close()


@pytest.fixture
def stack() -> Iterator[contextlib.ExitStack]:
    """Closes the clients a test opened."""
    with contextlib.ExitStack() as exits:
        yield exits
