"""Fixtures for the widget tests (builders live in widget_builders.py)."""

from __future__ import annotations

import pytest
from widget_builders import CONTACTS, rest_exchange

from apinotebook import Exchange


@pytest.fixture
def contacts() -> Exchange:
    return rest_exchange(CONTACTS)
