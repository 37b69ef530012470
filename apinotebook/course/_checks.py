"""Self-checking exercises: ``check(condition, success, hint)``.

``check`` prints a clear verdict for an exercise cell; it never raises, so a
learner's wrong answer does not stop the notebook.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["Verdict", "check"]


class Verdict:
    """The outcome of a self-check: truthy when the learner got it right."""

    def __init__(self, ok: bool, message: str) -> None:
        self.ok = ok
        self.message = message

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return self.message

    def _repr_html_(self) -> str:
        color = "#1b7f3b" if self.ok else "#b00020"
        return f"<div style='color:{color};font-weight:bold'>{escape(self.message)}</div>"


def check(condition: Any, success: str = "Correct!", hint: str = "Not yet.") -> Verdict:
    """Judge an exercise: ``check(answer == 42, "Right!", "Count the pages again.")``."""
    try:
        ok = bool(condition() if callable(condition) else condition)
    except Exception as exc:  # noqa: BLE001 - a broken answer is a wrong answer, not a crash
        return Verdict(False, f"✘ {hint} (your code raised {type(exc).__name__}: {exc})")
    return Verdict(ok, f"✔ {success}" if ok else f"✘ {hint}")
