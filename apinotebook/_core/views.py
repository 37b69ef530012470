"""Which widget shows which object: a registry the widgets fill and the models consult.

The models and clients sit below the widgets and never import them. They ask
this registry for a view instead: :meth:`Exchange._repr_mimebundle_` for the
Inspector, ``client.explore()`` for an explorer, :func:`apinotebook.show` for
anything. :mod:`apinotebook.widgets` registers its factories here, and the
package's front door (``apinotebook/__init__.py``) installs a loader that
imports those registrations the first time a view is asked for.

Lookup follows the object's MRO: the most specific registration wins. This
module does not import Jupyter.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from apinotebook._exceptions import ConfigError

__all__ = ["in_kernel", "register_view", "registered_views", "set_loader", "show", "widget_bundle"]

Factory = Callable[..., Any]

_lock = threading.Lock()
_views: dict[type, Factory] = {}
_loader: Callable[[], None] | None = None
_loaded = False


def register_view(cls: type, factory: Factory) -> None:
    """Show instances of ``cls`` (and its subclasses) with ``factory(obj, **options)``."""
    if not isinstance(cls, type):
        raise ConfigError(f"register_view takes a class, not {cls!r}")
    if not callable(factory):
        raise ConfigError(
            f"the factory must be callable (a widget class or function), not {factory!r}"
        )
    with _lock:
        _views[cls] = factory


def set_loader(loader: Callable[[], None]) -> None:
    """Install the function that registers the package's own views on first use."""
    global _loader, _loaded
    with _lock:
        _loader, _loaded = loader, False


def _load() -> None:
    global _loaded
    with _lock:
        loader, done = _loader, _loaded
        _loaded = True
    if loader is not None and not done:
        loader()


def registered_views() -> dict[str, str]:
    """Type name -> factory name, for display and tests."""
    _load()
    with _lock:
        items = list(_views.items())
    return {
        f"{cls.__module__}.{cls.__qualname__}": f"{getattr(f, '__module__', '?')}:"
        f"{getattr(f, '__qualname__', repr(f))}"
        for cls, f in items
    }


def _factory_for(obj: Any) -> Factory | None:
    _load()
    with _lock:
        views = dict(_views)
    for cls in type(obj).__mro__:
        factory = views.get(cls)
        if factory is not None:
            return factory
    return None


def show(obj: Any, /, **options: Any) -> Any:
    """The widget for ``obj``: an Inspector for an Exchange, a HistoryView for a History, ...

    Args:
        obj: what to show.
        **options: passed to the widget (``name=`` for the snippets it writes).

    Raises:
        ConfigError: nothing is registered for ``obj``'s type (the message
            lists what can be shown).
        MissingExtraError: the ``notebook`` extra is not installed.
    """
    factory = _factory_for(obj)
    if factory is None:
        with _lock:
            known = ", ".join(sorted(cls.__name__ for cls in _views))
        raise ConfigError(
            f"apinotebook.show() cannot show a {type(obj).__name__}; it shows: {known or 'nothing'}"
            " (install apinotebook[notebook] for the widgets)"
        )
    return factory(obj, **options)


def in_kernel() -> bool:
    """True inside a live IPython kernel (Jupyter), where widgets can render."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def widget_bundle(obj: Any, **options: Any) -> dict[str, Any]:
    """The widget's MIME bundle in a live kernel, or ``{}`` when no widget can show ``obj``."""
    if not in_kernel():
        return {}
    try:
        widget = show(obj, **options)
    except ConfigError:
        return {}
    bundle: Any = widget._repr_mimebundle_() or {}
    if isinstance(bundle, tuple):  # (data, metadata)
        bundle = bundle[0]
    return dict(bundle)
