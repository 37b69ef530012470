"""Small helpers that write Python source: literals and wrapped calls."""

from __future__ import annotations

from typing import Any

__all__ = ["call", "py_literal"]

LINE = 100


def py_literal(value: Any) -> str:
    """A Python literal for a JSON-like value, with double-quoted strings."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)


def call(name: str, args: list[str], indent: int = 0, prefix: int = 0) -> str:
    """``name(args)`` on one line if it fits, else one argument per line (ruff's layout).

    ``indent`` is the indentation of the line the call is on, ``prefix`` the
    width of what comes before the call on that line.
    """
    flat = f"{name}({', '.join(args)})"
    if indent + prefix + len(flat) <= LINE and "\n" not in flat:
        return flat
    pad = " " * (indent + 4)
    return f"{name}(\n" + "".join(f"{pad}{a},\n" for a in args) + " " * indent + ")"
