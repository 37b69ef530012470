"""Fixtures for the SOAP tests: a fresh WSDL cache for every test, and the shop service."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from soap_shop import Shop

from apinotebook.soap import clear_wsdl_cache


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_wsdl_cache()
    yield
    clear_wsdl_cache()


@pytest.fixture
def shop() -> Shop:
    return Shop()
