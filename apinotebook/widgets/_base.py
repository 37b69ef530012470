"""What every apinotebook widget shares: cheap reprs, static fallbacks, request/reply messages.

Subclass :class:`Widget` (an ``anywidget.AnyWidget``) for a widget with its
own front end, or mix :class:`FallbackMixin` into an ``ipywidgets`` container:

.. code-block:: python

    class SchemaExplorer(Widget):
        _esm = esm("schema.js")          # static/common.js + static/schema.js
        summary = traitlets.Dict().tag(sync=True)

        def __init__(self, client, /):
            super().__init__(summary={...})
            self._client = client

        def msg_type(self, message):      # answers {"type": "type", "id": ..., ...}
            return {"fields": [...]}      # sent back as {"type": "type", "id": ..., ...}

        def _text_fallback(self) -> str:  # text/plain for nbconvert, terminals
            return "SchemaExplorer: 12 types"

        def _html_fallback(self) -> str:  # text/html for static viewers
            return "<b>12 types</b>"

The front end asks with ``request(model, type, payload)`` from
``static/common.js``: the message carries a fresh ``id``; ``msg_<type>``
answers it; its return value is sent back with the same ``id`` and
``type``. An exception becomes ``{"type": "error", "id": ..., "message":
...}`` with the message masked; the kernel never sees a traceback.
"""

from __future__ import annotations

import html
import logging
from functools import cache
from importlib import resources
from typing import Any

import anywidget
import traitlets

from apinotebook._core.secrets import mask_text
from apinotebook._exceptions import ApiNotebookError

__all__ = ["FallbackMixin", "Widget", "css", "esm"]

_log = logging.getLogger("apinotebook.widgets")


@cache
def _static(name: str) -> str:
    return resources.files("apinotebook.widgets").joinpath("static", name).read_text("utf-8")


def esm(*names: str) -> str:
    """The front-end module for a widget: ``static/common.js`` followed by ``names``.

    ``common.js`` defines helpers (``request``, ``h``, ``copyButton``,
    ``statusClass``) the widget's own file uses; the last file must
    ``export default { render }``.
    """
    return "\n".join(_static(name) for name in ("common.js", *names))


def css() -> str:
    """The stylesheet every apinotebook widget shares (``static/widgets.css``)."""
    return _static("widgets.css")


class FallbackMixin:
    """A cheap ``repr`` and text/HTML fallbacks next to the live widget view."""

    def _text_fallback(self) -> str:
        """One or a few lines for ``text/plain`` (override)."""
        return f"<{type(self).__name__}>"

    def _html_fallback(self) -> str:
        """Static HTML for ``text/html`` (override; must be masked)."""
        return f"<pre>{html.escape(self._text_fallback())}</pre>"

    def __repr__(self) -> str:
        return self._text_fallback()

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The widget view plus ``text/plain`` and ``text/html`` for static viewers."""
        parent: Any = super()._repr_mimebundle_(**kwargs)  # type: ignore[misc]
        data: dict[str, Any]
        metadata: dict[str, Any]
        if isinstance(parent, tuple):
            data, metadata = dict(parent[0]), dict(parent[1])
        else:
            data, metadata = dict(parent or {}), {}
        data["text/plain"] = self._text_fallback()
        data["text/html"] = self._html_fallback()
        return data, metadata


class Widget(FallbackMixin, anywidget.AnyWidget):
    """Base of apinotebook's anywidgets: messages are dispatched to ``msg_<type>`` methods."""

    _css = css()
    #: the last error shown by the widget (also sent as an ``error`` message)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.on_msg(self._on_message)

    def _on_message(self, _widget: Any, content: Any, buffers: list[bytes]) -> None:
        reply = self.handle_message(content)
        if reply is not None:
            self.send(reply)

    def handle_message(self, content: Any) -> dict[str, Any] | None:
        """Answer one front-end message; the reply carries the request's ``type`` and ``id``.

        Returns ``None`` for messages that are not requests (not a dict with
        a string ``type``). Unknown types and failures become ``error`` replies.
        """
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            return None
        kind: str = content["type"]
        request_id = content.get("id")
        handler = getattr(self, f"msg_{kind}", None) if kind.isidentifier() else None
        if handler is None:
            return self.error_reply(f"unknown request {kind!r}", request_id=request_id)
        try:
            result = handler(content)
        except ApiNotebookError as exc:
            return self.error_reply(str(exc), request_id=request_id)
        except Exception as exc:  # noqa: BLE001 - the front end gets a message, never a crash
            _log.debug("widget request %r failed", kind, exc_info=True)
            return self.error_reply(f"{type(exc).__name__}: {exc}", request_id=request_id)
        reply = {"type": kind, "id": request_id}
        reply.update(result or {})
        return reply

    def error_reply(self, message: str, *, request_id: Any = None) -> dict[str, Any]:
        """An ``error`` reply (masked)."""
        return {"type": "error", "id": request_id, "message": mask_text(message)}

    def send_error(self, message: str, *, request_id: Any = None) -> None:
        """Show ``message`` in the widget (masked) and send it as an ``error`` message."""
        reply = self.error_reply(message, request_id=request_id)
        self.error = reply["message"]
        self.send(reply)
