"""Live progress for runs: an updating line in a notebook, log lines elsewhere.

The notebook display uses IPython's display handles (``display(...,
display_id=True)`` then ``handle.update(...)``), which work in any Jupyter
front end without a widget library; scripts get an INFO log line every few
seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from html import escape
from typing import Any

from apinotebook._core.views import in_kernel
from apinotebook.integration._report import RunReport

__all__ = ["make_progress"]

log = logging.getLogger("apinotebook.integration")

Progress = Callable[[RunReport], None]


def _line(report: RunReport) -> str:
    return (
        f"{report.integration}: {report.read:,} read · {report.written:,} written · "
        f"{report.throughput:,.0f}/s · {report.skipped_duplicate:,} duplicates · "
        f"{report.failed:,} failed · {report.duration:.1f}s"
    )


class _NotebookProgress:
    def __init__(self) -> None:
        from IPython.display import HTML, display

        self._html: Any = HTML
        self._handle: Any = display(HTML(""), display_id=True)  # type: ignore[no-untyped-call]

    def __call__(self, report: RunReport) -> None:
        done = report.status != "running"
        color = "#1b7f3b" if not done or report.ok else "#c75000"
        self._handle.update(
            self._html(
                f"<div style='font-family:var(--jp-code-font-family,monospace);color:{color}'>"
                f"{'✔' if done else '⏳'} {escape(_line(report))}</div>"
            )
        )


class _LogProgress:
    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self._last = time.monotonic()

    def __call__(self, report: RunReport) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            log.info("%s", _line(report))


def make_progress(mode: str | Progress | None) -> Progress | None:
    """``"auto"`` (notebook line in a kernel, logs elsewhere), ``"log"``, ``None`` or a callable."""
    if mode is None:
        return None
    if callable(mode):
        return mode
    if mode == "auto":
        mode = "notebook" if in_kernel() else "log"
    if mode == "notebook":
        return _NotebookProgress()
    if mode == "log":
        return _LogProgress()
    from apinotebook._exceptions import ConfigError

    raise ConfigError.invalid_choice("progress mode", mode, ("auto", "notebook", "log"))
