"""Masked text of bodies, produced lazily and served in pages; body diffs.

A 100 MB body is never pretty-printed in one go:
:func:`~apinotebook._core.render.iter_pretty_json` (the one JSON pretty-printer,
shared with the static renderings) writes indented JSON from the parsed value
token by token, masking sensitive keys and registered secrets as it goes, and
:class:`TextCursor` pulls just enough of it to answer ``read(offset, limit)``. The Raw tab and
the request body use cursors; the history's diff uses :func:`diff_bodies`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from apinotebook._core.render import iter_pretty_json, pretty_body, pretty_json
from apinotebook._core.secrets import mask_body, mask_text

if TYPE_CHECKING:
    from apinotebook._exchange import Exchange

__all__ = [
    "PAGE",
    "masked_head",
    "TextCursor",
    "body_cursor",
    "diff_bodies",
    "iter_pretty_json",
    "pretty_json",
    "pretty_text",
]

#: characters per page of raw text
PAGE = 64 * 1024
#: bodies up to this size are pretty-printed (and masked) in one go
_WHOLE = 4 * 1024 * 1024


def masked_head(text: str, n: int) -> str:
    """The first ``n`` characters of ``text`` with registered secrets masked.

    Masks a little more than it keeps, so a secret cut by the boundary
    never shows partly.
    """
    if len(text) <= n:
        return mask_text(text)
    return mask_text(text[: n + 512])[:n] + "…"


class TextCursor:
    """Pages of a text that is produced lazily by an iterator of chunks.

    Args:
        chunks: the text, in pieces (already masked).
        size_hint: the size of the source, for "N of about M" messages.
    """

    def __init__(self, chunks: Iterator[str], *, size_hint: int | None = None) -> None:
        self._chunks: Iterator[str] | None = chunks
        self._parts: list[str] = []
        self._length = 0
        self._text: str | None = ""
        self.size_hint = size_hint

    def _fill(self, end: int) -> None:
        while self._chunks is not None and self._length < end:
            batch: list[str] = []
            got = 0
            for part in self._chunks:
                batch.append(part)
                got += len(part)
                if self._length + got >= end:
                    break
            else:
                self._chunks = None
            if batch:
                self._parts.extend(batch)
                self._length += got
                self._text = None

    def read(self, offset: int = 0, limit: int = PAGE) -> dict[str, Any]:
        """Characters ``offset`` to ``offset + limit`` and whether more follow."""
        offset = max(0, int(offset))
        limit = max(1, min(int(limit), 4 * PAGE))
        self._fill(offset + limit + 1)
        if self._text is None:
            self._text = "".join(self._parts)
            self._parts = [self._text]
        text = self._text[offset : offset + limit]
        more = self._length > offset + limit or self._chunks is not None
        return {"offset": offset, "text": text, "more": more, "size_hint": self.size_hint}


def _pieces(text: str, size: int = PAGE) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _looks_xml(content: bytes, content_type: str) -> bool:
    head = content[:200].lstrip()
    return head.startswith(b"<") and "html" not in content_type


def _masked_text(content: bytes, content_type: str) -> Iterator[str]:
    """Masked text of a non-JSON body: whole-body masking, pretty XML when small."""
    if len(content) <= _WHOLE:
        if _looks_xml(content, content_type):
            yield from _pieces(pretty_body(content, content_type, limit=len(content) * 2 + 1024))
        else:
            text = content.decode("utf-8", errors="replace")
            yield from _pieces(mask_body(text, content_type))
        return
    # big: the first page is masked on its own; the rest only if asked for
    text = content.decode("utf-8", errors="replace")
    first = masked_head(text, PAGE).removesuffix("…")
    yield first
    rest = mask_text(text)
    yield from _pieces(rest[len(first) :]) if rest.startswith(first) else _pieces(rest)


def body_cursor(content: bytes, content_type: str, *, parsed: Any = None,
                has_parsed: bool = False) -> TextCursor:  # fmt: skip
    """A cursor over the masked, pretty-printed body.

    Args:
        content: the raw body.
        content_type: its media type.
        parsed: the parsed JSON value, when the caller already has it.
        has_parsed: whether ``parsed`` holds the JSON value (it may be ``None``).
    """
    if has_parsed:
        return TextCursor(iter_pretty_json(parsed), size_hint=len(content))
    return TextCursor(_masked_text(content, content_type), size_hint=len(content))


def pretty_text(exchange: Exchange, *, limit: int) -> str:
    """At most ``limit`` characters of the exchange's masked, pretty-printed body."""
    content = exchange.content
    if not content:
        return ""
    if "json" in exchange.content_type or content[:1] in (b"{", b"["):
        try:
            value = exchange.json()
        except Exception:  # noqa: BLE001 - fall back to the text
            pass
        else:
            return pretty_json(value, limit=limit)
    cursor = body_cursor(content, exchange.content_type)
    page = cursor.read(0, limit)
    return str(page["text"]) + ("\n…" if page["more"] else "")


def diff_bodies(a: Exchange, b: Exchange, *, labels: tuple[str, str] = ("a", "b"),
                limit: int = 200_000, max_lines: int = 5000) -> dict[str, Any]:  # fmt: skip
    """A unified diff of two exchanges' pretty-printed, masked bodies."""
    left = pretty_text(a, limit=limit).splitlines()
    right = pretty_text(b, limit=limit).splitlines()
    lines = list(difflib.unified_diff(left, right, fromfile=labels[0], tofile=labels[1],
                                      lineterm="", n=3))  # fmt: skip
    truncated = len(lines) > max_lines
    return {
        "labels": list(labels),
        "text": "\n".join(lines[:max_lines]),
        "identical": not lines,
        "truncated": truncated,
    }
