"""The code editors of the explorers: CodeMirror 6, sent to the page once, on demand.

``static/editors.js`` is an ES module bundling CodeMirror 6 with its JSON and
GraphQL languages, built from ``apinotebook/widgets/js/`` (``make widgets-js``: a pinned
``package-lock.json`` and esbuild) and committed, so users need no Node.js.
It is not part of any widget's state: the first explorer shown in a page asks
for it (``editors`` message) and imports it; every later one reuses it
(``static/codebox.js``). The widgets' synced state stays small.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any

__all__ = ["CodeEditors", "editors_source"]


@functools.cache
def editors_source() -> str:
    """The editors' ES module (about 430 kB, 145 kB gzipped)."""
    static = resources.files("apinotebook.widgets").joinpath("static")
    return static.joinpath("editors.js").read_text("utf-8")


class CodeEditors:
    """Answers a panel's ``editors`` request with the editors' module."""

    def msg_editors(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """The CodeMirror bundle (``static/editors.js``), imported once per page."""
        return {"source": editors_source()}
