"""DiffView: a structural diff of two responses as a filterable table.

Shows :class:`apinotebook.contract.Diff` (``ex.diff(other)``,
``history.diff()``): one row per change, coloured by kind (added, removed,
changed, type), with a filter on kind and path. Values are masked and
shortened; the full values stay in ``diff.changes`` in the kernel.
"""

from __future__ import annotations

import json
from typing import Any

import traitlets

from apinotebook._core.secrets import mask_text
from apinotebook.contract import Diff
from apinotebook.widgets._base import Widget, esm

__all__ = ["DiffView"]

#: rows sent to the front end; the rest are counted
MAX_ROWS = 500
_VALUE = 120


def _shown(value: Any) -> str:
    text = mask_text(json.dumps(value, default=str, ensure_ascii=False))
    return text if len(text) <= _VALUE else text[: _VALUE - 1] + "…"


class DiffView(Widget):
    """A :class:`~apinotebook.contract.Diff` in a notebook."""

    _esm = esm("diff.js")

    summary = traitlets.Dict().tag(sync=True)
    changes = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(self, diff: Diff, /, **_options: Any) -> None:
        self._diff = diff
        counts = {k: 0 for k in ("added", "removed", "changed", "type")}
        for change in diff.changes:
            counts[change.kind] += 1
        super().__init__(
            summary={
                "left": diff.left,
                "right": diff.right,
                "total": len(diff.changes),
                "counts": counts,
            },  # fmt: skip
            changes=[
                {
                    "kind": c.kind,
                    "path": c.path,
                    "old": _shown(c.old) if c.kind != "added" else "",
                    "new": _shown(c.new) if c.kind != "removed" else "",
                }  # fmt: skip
                for c in diff.changes[:MAX_ROWS]
            ],
        )

    @property
    def diff(self) -> Diff:
        """The diff shown."""
        return self._diff

    def _text_fallback(self) -> str:
        return self._diff.text(50)

    def _html_fallback(self) -> str:
        return self._diff._repr_html_()
