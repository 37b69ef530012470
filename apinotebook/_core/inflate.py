"""Read a compressed body without letting it inflate past the size limit.

httpx decodes ``gzip`` and ``deflate`` one network chunk at a time, and one
64 KB chunk of a compression bomb inflates to tens of megabytes before anyone
can count it: a 1 MB bomb against a 10 MB limit peaked at 13x the limit. Here
the raw bytes are inflated with ``zlib``'s ``max_length``, so no step produces
more than :data:`STEP` bytes, and the limit is checked after every step: peak
memory stays about twice the limit (the parts, then the joined body).
Other encodings (``br``, ``zstd``) are left to httpx.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import httpx

from apinotebook._exceptions import DecodeError

__all__ = ["STEP", "Inflater", "inflatable", "inflater_for"]

#: bytes one decompression step may produce
STEP = 1024 * 1024


def inflatable(content_encoding: str) -> bool:
    """Whether this module decodes ``content_encoding`` (gzip or deflate, once)."""
    return content_encoding.strip().lower() in ("gzip", "x-gzip", "deflate")


class Inflater:
    """Inflate raw chunks, counting every decoded byte against ``limit``.

    Args:
        encoding: ``gzip`` or ``deflate`` (zlib-wrapped, or raw as some servers send it).
        limit: the size limit in decoded bytes (``None``: no limit).
        too_large: builds the error to raise once the limit is passed.
    """

    def __init__(
        self, encoding: str, limit: int | None, too_large: Callable[[], Exception]
    ) -> None:
        self.gzip = encoding.strip().lower() in ("gzip", "x-gzip")
        self.limit = limit
        self.too_large = too_large
        self.size = 0
        self.parts: list[bytes] = []
        self._started = False
        self._decoder = zlib.decompressobj(31 if self.gzip else 15)

    def _emit(self, data: bytes) -> None:
        if data:
            self.size += len(data)
            if self.limit is not None and self.size > self.limit:
                raise self.too_large()
            self.parts.append(data)

    def feed(self, chunk: bytes) -> None:
        """Inflate one raw chunk, at most :data:`STEP` bytes at a time."""
        data = chunk
        while data:
            try:
                out = self._decoder.decompress(data, STEP)
            except zlib.error as exc:
                if not self.gzip and not self._started:  # raw deflate, without the zlib header
                    self._decoder = zlib.decompressobj(-15)
                    self._started = True
                    continue
                raise DecodeError(
                    f"the {'gzip' if self.gzip else 'deflate'} body is corrupt: {exc}"
                ) from exc
            self._started = True
            self._emit(out)
            data = self._decoder.unconsumed_tail

    def finish(self) -> bytes:
        """The whole decoded body."""
        try:  # what zlib still holds is at most its window (32 KB): the input is consumed
            self._emit(self._decoder.flush())
        except zlib.error as exc:
            raise DecodeError(f"the compressed body is truncated or corrupt: {exc}") from exc
        return b"".join(self.parts)


def inflater_for(
    response: httpx.Response, limit: int | None, too_large: Callable[[], Exception]
) -> Inflater | None:
    """An inflater for ``response``'s body, or ``None`` when httpx should decode it.

    ``None`` for encodings other than gzip and deflate, and for a body already in
    memory (a mock transport's response is read when it is built).
    """
    encoding = response.headers.get("content-encoding", "")
    if not inflatable(encoding) or response.is_stream_consumed:
        return None
    return Inflater(encoding, limit, too_large)
