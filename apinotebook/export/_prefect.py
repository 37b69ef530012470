"""Kept for Prefect flows exported by apinotebook 0.1 (they import these names).

New flows call the integration's staged API (``sync.extract()``, ``sync.map()``,
``sync.load()``) and import nothing from here.
"""

from __future__ import annotations

from apinotebook.integration import Extracted, Integration, Mapped, RunReport

__all__ = ["Extracted", "Mapped", "extract_records", "load_records", "map_records"]


def extract_records(integration: Integration, *, limit: int | None = None) -> Extracted:
    """``integration.extract(limit=limit)``."""
    return integration.extract(limit=limit)


def map_records(integration: Integration, extracted: Extracted) -> Mapped:
    """``integration.map(extracted)``."""
    return integration.map(extracted)


def load_records(
    integration: Integration, mapped: Mapped, *, limit: int | None = None
) -> RunReport:
    """``integration.load(mapped, limit=limit)``."""
    return integration.load(mapped, limit=limit, trigger="prefect")
