"""``attach(path)``: a file for a form part or a binary body, as the notebooks use it."""

from __future__ import annotations

import warnings
from os import PathLike
from pathlib import Path

__all__ = ["attach"]


def attach(
    path: str | PathLike[str], content_type: str | None = None
) -> tuple[str, bytes] | tuple[str, bytes, str]:
    """``(filename, bytes[, content type])`` for ``files=``; empty bytes if the file is missing.

    A collection names the files its requests upload by paths on its author's
    machine. A missing file is sent empty with a warning, so the rest of the
    notebook still runs; put the file there (or change the path) to send it.
    """
    file = Path(path)
    if file.is_file():
        data = file.read_bytes()
    else:
        warnings.warn(f"attach: {str(path)!r} does not exist; an empty part is sent", stacklevel=2)
        data = b""
    name = file.name or "file"
    return (name, data, content_type) if content_type else (name, data)
