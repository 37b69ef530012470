"""Names that moved: the old import path keeps working, with a DeprecationWarning.

A package below the clients cannot import them, so the package's front door
(``apinotebook/__init__.py``) fills :data:`MOVED` once everything is imported,
and the old module's ``__getattr__`` reads it.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["MOVED", "moved_attribute"]

#: (old module, name) -> (new dotted path, object)
MOVED: dict[tuple[str, str], tuple[str, Any]] = {}


def moved_attribute(module: str, name: str) -> Any:
    """The object ``name`` that used to live in ``module``; raises AttributeError otherwise."""
    entry = MOVED.get((module, name))
    if entry is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    new_path, obj = entry
    warnings.warn(
        f"{module}.{name} moved to {new_path}; import it from there",
        DeprecationWarning,
        stacklevel=3,
    )
    return obj
