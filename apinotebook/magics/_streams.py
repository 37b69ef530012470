"""``%%sse`` and ``%%ws``: a stream in a cell, read until a limit, its end or the stop button.

::

    %%sse chat --json --limit 50 --out reply
    GET /assistant/stream?prompt={{question}}

    %%ws chat --limit 5 --out events
    /events
    {"hello": "world"}

``%%sse CLIENT`` takes a request line (``GET``/``POST`` and a path, headers on
the following lines) and iterates ``client.events``. ``%%ws CLIENT`` takes the
path on the first line and sends each further line as a text message, then
receives. Both print each message as it arrives, stop after ``--limit``
messages (default 100), at the end of the stream, or when the cell is stopped
(which closes the connection), and bind the list of messages to ``_`` and
``--out NAME``; the connection's :class:`~apinotebook.streams.StreamRecord`
is in the history. ``%%graphql`` with a ``subscription`` operation streams its
results the same way (up to 100).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from IPython.core.error import UsageError

from apinotebook._core.cellsyntax import namespace_resolver, substitute
from apinotebook._core.secrets import mask_text
from apinotebook._exceptions import ApiNotebookError

__all__ = ["DEFAULT_LIMIT", "StreamCell", "collect", "is_subscription", "parse_stream_cell"]

DEFAULT_LIMIT = 100


@dataclass(frozen=True)
class StreamCell:
    """A parsed ``%%sse`` / ``%%ws`` cell."""

    client: str
    lines: tuple[str, ...]
    limit: int = DEFAULT_LIMIT
    json: bool = False
    out: str | None = None


def parse_stream_cell(kind: str, line: str, cell: str) -> StreamCell:
    """Read ``CLIENT [--limit N] [--json] [--out NAME]`` and the cell's non-blank lines."""
    usage = f"usage: %%{kind} CLIENT [--limit N] [--json] [--out NAME]"
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"%%{kind}: cannot read the line: {exc}. {usage}") from None
    positional: list[str] = []
    options: dict[str, Any] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--json":
            options["json"] = True
        elif word in ("--limit", "--out"):
            if i + 1 >= len(words):
                raise UsageError(f"%%{kind}: {word} needs a value. {usage}")
            i += 1
            options[word[2:]] = words[i]
        elif word.startswith("--"):
            raise UsageError(f"%%{kind}: unknown option {word}. {usage}")
        else:
            positional.append(word)
        i += 1
    if len(positional) != 1 or not positional[0].isidentifier():
        raise UsageError(f"%%{kind}: name one client variable. {usage}")
    limit = options.get("limit", str(DEFAULT_LIMIT))
    if not str(limit).isdigit() or int(limit) < 1:
        raise UsageError(f"%%{kind}: --limit takes a positive whole number, not {limit!r}")
    out = options.get("out")
    if out is not None and not out.isidentifier():
        raise UsageError(f"%%{kind}: --out takes a variable name, not {out!r}")
    lines = tuple(x.strip() for x in cell.splitlines() if x.strip())
    if not lines:
        raise UsageError(f"%%{kind}: the cell needs a path on its first line")
    return StreamCell(positional[0], lines, int(limit), bool(options.get("json")), out)


def collect(kind: str, items: Iterable[Any], limit: int, show: Callable[[Any], None]) -> list[Any]:
    """Up to ``limit`` items, each shown as it arrives; errors become one paragraph.

    Reading stops at ``limit``, at the end of the stream, or when the cell is
    stopped; the stream is closed in every case.
    """
    got: list[Any] = []
    try:
        for item in items:
            got.append(item)
            show(item)
            if len(got) >= limit:
                break
    except ApiNotebookError as exc:
        text = " ".join(str(exc).split())
        raise UsageError(f"%%{kind}: {mask_text(text)} ({len(got)} received first)") from None
    finally:
        close = getattr(items, "close", None)
        if callable(close):
            close()
    return got


def resolve_lines(lines: Iterable[str], ns: dict[str, Any]) -> list[str]:
    """``{{name}}`` templates in each line, from the notebook or the environment."""
    import os

    resolve = namespace_resolver(ns, os.environ)
    try:
        return [substitute(x, resolve) for x in lines]
    except ApiNotebookError as exc:
        raise UsageError(" ".join(str(exc).split())) from None


def is_subscription(query: str, operation_name: str | None) -> bool:
    """Whether the operation that would run is a ``subscription`` (``%%graphql`` streams it)."""
    from graphql import GraphQLSyntaxError, OperationDefinitionNode, parse

    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return False  # execute() reports the syntax error
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for op in operations:
        if operation_name is None or (op.name is not None and op.name.value == operation_name):
            return op.operation.value == "subscription"
    return False
