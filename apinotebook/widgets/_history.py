"""HistoryView: every exchange of a History in one live table, with inspection and diffs.

Select one row and an :class:`~apinotebook.widgets.Inspector` opens below the
table; select two and a unified diff of their (pretty-printed, masked)
bodies appears. The view subscribes to the history, so calls made after it
was displayed show up as they happen; ``close()`` unsubscribes.

The rows are not part of the synced state: the front end asks for the rows
it has not seen yet (``{"type": "rows", "after": last_id}``) whenever the
``version`` trait changes.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import ipywidgets
import traitlets

from apinotebook._core.render import history_html
from apinotebook._core.secrets import mask_text, mask_url
from apinotebook._exchange import Exchange
from apinotebook._history import History
from apinotebook._history import history as default_history
from apinotebook.widgets._base import FallbackMixin, Widget, esm
from apinotebook.widgets._inspector import Inspector
from apinotebook.widgets._text import diff_bodies

__all__ = ["HistoryTable", "HistoryView"]


def _row(row_id: int, ex: Exchange) -> dict[str, Any]:
    return {
        "id": row_id,
        "time": ex.started_at.strftime("%H:%M:%S"),
        "protocol": ex.protocol,
        "method": ex.method,
        "operation": ex.operation or "",
        "url": mask_url(ex.url),
        "status": ex.status,
        "ok": ex.ok,
        "elapsed_ms": round(ex.elapsed * 1000, 3),
        "size": ex.size,
        "error": mask_text(ex.error or ""),
    }


class HistoryTable(Widget):
    """The table part of :class:`HistoryView` (rows, filter, selection, diff)."""

    _esm = esm("history.js")

    count = traitlets.Int(0).tag(sync=True)
    version = traitlets.Int(0).tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    diff = traitlets.Dict().tag(sync=True)

    def __init__(self, history: History, /) -> None:
        self._history = history
        self._lock = threading.Lock()
        self._rows: OrderedDict[int, Exchange] = OrderedDict()
        self._next = 1
        for ex in history:
            self._add(ex)
        super().__init__(count=len(self._rows))

    def _add(self, exchange: Exchange) -> None:
        with self._lock:
            self._rows[self._next] = exchange
            self._next += 1
            while len(self._rows) > max(self._history.maxlen, 1):
                self._rows.popitem(last=False)

    def _prune(self) -> None:
        """Forget rows whose exchange left the history (dropped or cleared)."""
        alive = {id(ex) for ex in self._history}
        with self._lock:
            for row_id in [k for k, ex in self._rows.items() if id(ex) not in alive]:
                del self._rows[row_id]

    def record(self, exchange: Exchange) -> None:
        """A new exchange arrived in the history."""
        self._add(exchange)
        with self.hold_sync():  # one message for both traits
            self.count = len(self._rows)
            self.version += 1

    def exchange(self, row_id: int) -> Exchange:
        """The exchange of row ``row_id``."""
        from apinotebook._exceptions import ConfigError

        try:
            return self._rows[row_id]
        except KeyError:
            raise ConfigError(f"row {row_id} is no longer in the history") from None

    def msg_rows(self, content: Mapping[str, Any]) -> dict[str, Any]:
        """Rows after ``after`` (all rows for 0), and the first id still kept."""
        after = int(content.get("after", 0))
        self._prune()
        with self._lock:
            items = list(self._rows.items())
        first = items[0][0] if items else self._next
        return {
            "rows": [_row(row_id, ex) for row_id, ex in items if row_id > after],
            "first_id": first,
            "total": len(items),
        }

    def _text_fallback(self) -> str:
        return f"<HistoryTable {len(self._rows)} exchanges>"


class HistoryView(FallbackMixin, ipywidgets.VBox):  # type: ignore[misc]
    """A live table of a :class:`~apinotebook.History` (the shared one by default).

    Args:
        history: the history to show.
        live: follow new exchanges as they are recorded.
    """

    def __init__(self, history: History | None = None, /, *, live: bool = True) -> None:
        history = default_history if history is None else history
        if not isinstance(history, History):
            from apinotebook._exceptions import ConfigError

            raise ConfigError(f"HistoryView shows a History, not {type(history).__name__}")
        self._history = history
        self.table = HistoryTable(history)
        self.detail = ipywidgets.Box()
        self._inspector: Inspector | None = None
        super().__init__(children=[self.table, self.detail])
        self.table.observe(self._on_selected, names="selected")
        self._listener: Any = None
        if live:
            ref = weakref.ref(self.table)

            def listener(exchange: Exchange) -> None:
                table = ref()
                if table is None:
                    raise LookupError("the history view is gone")  # History unsubscribes it
                table.record(exchange)

            self._listener = listener
            history.subscribe(listener)

    @property
    def history(self) -> History:
        """The history shown."""
        return self._history

    def _set_inspector(self, inspector: Inspector | None) -> None:
        old = self._inspector
        self._inspector = inspector
        self.detail.children = [inspector] if inspector is not None else []
        if old is not None:
            old.close()

    def _on_selected(self, change: Mapping[str, Any]) -> None:
        ids = list(change["new"])[-2:]
        try:
            if len(ids) == 1:
                self.table.diff = {}
                self._set_inspector(Inspector(self.table.exchange(ids[0])))
            elif len(ids) == 2:
                a, b = (self.table.exchange(i) for i in ids)
                self._set_inspector(None)
                self.table.diff = diff_bodies(a, b, labels=(f"#{ids[0]}", f"#{ids[1]}"))
            else:
                self.table.diff = {}
                self._set_inspector(None)
        except Exception as exc:  # noqa: BLE001 - shown in the widget, never raised into the kernel
            self.table.send_error(str(exc))

    def close(self) -> None:
        """Stop following the history and close the table and inspector."""
        listener = self.__dict__.get("_listener")
        if listener is not None:
            self._history.unsubscribe(listener)
            self._listener = None
        if self.__dict__.get("_inspector") is not None:
            self._set_inspector(None)
        for part in ("table", "detail"):
            widget = self.__dict__.get(part)
            if widget is not None:
                widget.close()
        super().close()

    def _text_fallback(self) -> str:
        return f"<HistoryView {len(self._history)} of {self._history.maxlen} exchanges>"

    def _html_fallback(self) -> str:
        return history_html(self._history)
