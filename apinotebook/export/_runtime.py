"""Kept for scripts exported by apinotebook 0.1; the runtime is now `apinotebook.export.runtime`."""

from apinotebook.export.runtime import (
    Cli,
    Parameter,
    configure_logging,
    main,
    reveal,
)

__all__ = [
    "Cli",
    "Parameter",
    "configure_logging",
    "main",
    "reveal",
]
