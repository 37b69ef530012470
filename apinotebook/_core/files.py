"""Reading a local file the user named, bounded: regular files only, up to a size.

Used wherever the package reads a file because some text told it to (a curl
``-d @file``, a spec's ``$ref``, the spec itself): a device (``/dev/zero``,
``/dev/urandom``), a FIFO or a socket never ends or blocks forever, so they are
refused before a byte is read, and a regular file is read only up to ``limit``.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["FileRefused", "is_within", "read_regular_file"]


class FileRefused(Exception):
    """The file exists but is not read: ``reason`` says why (for the caller's message)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_regular_file(path: str | Path, *, limit: int | None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (``None``: no limit).

    Raises:
        FileRefused: the path is a device, FIFO, socket or directory, or the
            file is larger than ``limit``.
        OSError: the file cannot be opened or read (missing, no permission).
    """
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused("is not a regular file (a device, FIFO or socket)")
        if limit is not None and info.st_size > limit:
            raise FileRefused(f"is {info.st_size:,} bytes, over the limit of {limit:,} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:  # the file may grow while it is read: stop at the limit all the same
            chunk = os.read(fd, 1024 * 1024)
            if not chunk:
                break
            size += len(chunk)
            if limit is not None and size > limit:
                raise FileRefused(f"is over the limit of {limit:,} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def is_within(path: str | Path, root: str | Path) -> bool:
    """Whether ``path``, symlinks resolved, is ``root`` or inside it."""
    try:
        return Path(os.path.realpath(path)).is_relative_to(os.path.realpath(root))
    except (OSError, ValueError):
        return False
