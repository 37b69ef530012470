"""Widgets for Jupyter (the ``notebook`` extra): they read the models, never the reverse.

- :class:`Inspector` — one :class:`~apinotebook.Exchange`: status, a lazily
  loaded JSON/XML tree with search and copyable paths, table, headers,
  request, raw body, timing and code;
- :class:`HistoryView` — every exchange of a :class:`~apinotebook.History`,
  live, with filter, inspection and body diffs.

The classes are imported on first use, so ``apinotebook.widgets._tree`` and
friends work without Jupyter installed.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apinotebook.widgets._base import FallbackMixin, Widget
    from apinotebook.widgets._builder import RequestBuilder
    from apinotebook.widgets._history import HistoryView
    from apinotebook.widgets._inspector import Inspector
    from apinotebook.widgets._schema import SchemaExplorer
    from apinotebook.widgets._wsdl import WsdlExplorer

__all__ = [
    "FallbackMixin",
    "register_builtin_views",
    "register_view",
    "HistoryView",
    "Inspector",
    "RequestBuilder",
    "SchemaExplorer",
    "Widget",
    "WsdlExplorer",
]

from apinotebook._core.views import register_view
from apinotebook.widgets._registry import register_builtin_views

_WHERE = {
    "FallbackMixin": "apinotebook.widgets._base",
    "Widget": "apinotebook.widgets._base",
    "HistoryView": "apinotebook.widgets._history",
    "Inspector": "apinotebook.widgets._inspector",
    "RequestBuilder": "apinotebook.widgets._builder",
    "SchemaExplorer": "apinotebook.widgets._schema",
    "WsdlExplorer": "apinotebook.widgets._wsdl",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'apinotebook.widgets' has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] in ("anywidget", "ipywidgets", "traitlets"):
            from apinotebook._exceptions import MissingExtraError

            raise MissingExtraError("the widgets", "notebook", module=exc.name) from exc
        raise
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
