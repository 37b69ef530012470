"""``apinotebook.inspect(obj)``: the widget that shows ``obj``.

>>> inspect(exchange)            # doctest: +SKIP
Inspector
>>> inspect(apinotebook.history)  # doctest: +SKIP
HistoryView

Which widget shows which type is a small registry. A widget module adds
itself with :func:`register_inspector`, naming the type as a class or as a
dotted path (so the client module is not imported just to register)::

    register_inspector("apinotebook.rest.RestClient", RequestBuilder)

:func:`inspect` imports every module of :mod:`apinotebook.widgets` the first
time it runs, so a registration in any of them is found without touching
this file. Lookup follows the object's MRO: the most specific registration
wins. This module does not import Jupyter; the widgets do, when used.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from collections.abc import Callable
from typing import Any

from apinotebook._exceptions import ConfigError

__all__ = ["inspect", "register_inspector", "registered_inspectors"]

Factory = Callable[..., Any]

_lock = threading.Lock()
_registry: dict[str, Factory | str] = {
    "apinotebook._exchange.Exchange": "apinotebook.widgets._inspector:Inspector",
    "apinotebook._history.History": "apinotebook.widgets._history:HistoryView",
}
_loaded = False


def _type_name(cls: type | str) -> str:
    if isinstance(cls, str):
        if "." not in cls:
            raise ConfigError(f"register a type by its dotted path ('module.Class'), not {cls!r}")
        return cls
    if not isinstance(cls, type):
        raise ConfigError(f"register_inspector takes a class or a dotted path, not {cls!r}")
    return f"{cls.__module__}.{cls.__qualname__}"


def register_inspector(cls: type | str, factory: Factory | str) -> None:
    """Show instances of ``cls`` (and its subclasses) with ``factory(obj, **options)``.

    Args:
        cls: the type, or its dotted path (``"apinotebook.soap.SoapClient"``).
        factory: a widget class or function, or ``"module:attribute"`` to
            import on first use.
    """
    if not callable(factory) and not (isinstance(factory, str) and ":" in factory):
        raise ConfigError(
            f"the factory must be callable or a 'module:attribute' string, not {factory!r}"
        )
    with _lock:
        _registry[_type_name(cls)] = factory


def registered_inspectors() -> dict[str, str]:
    """Type path -> factory, for display and tests."""
    _load_widget_modules()
    with _lock:
        items = list(_registry.items())
    return {
        name: factory
        if isinstance(factory, str)
        else f"{factory.__module__}:{factory.__qualname__}"
        for name, factory in items
    }


def _load_widget_modules() -> None:
    """Import every module of ``apinotebook.widgets`` once, so their registrations run."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    try:
        package = importlib.import_module("apinotebook.widgets")
    except ImportError:  # pragma: no cover - the package is part of apinotebook
        return
    for info in pkgutil.iter_modules(package.__path__):
        try:
            importlib.import_module(f"apinotebook.widgets.{info.name}")
        except ImportError:
            continue  # the notebook extra is missing: inspect() says so when it is needed


def _resolve(factory: Factory | str) -> Factory:
    if not isinstance(factory, str):
        return factory
    module_name, _, attribute = factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        from apinotebook._exceptions import MissingExtraError

        raise MissingExtraError("apinotebook.inspect()", "notebook", module=exc.name) from exc
    resolved: Factory = getattr(module, attribute)
    return resolved


def inspect(obj: Any, /, **options: Any) -> Any:
    """The widget for ``obj``: an Inspector for an Exchange, a HistoryView for a History, ...

    Args:
        obj: what to show.
        **options: passed to the widget (``name=`` for the Inspector's snippets).

    Raises:
        ConfigError: nothing is registered for ``obj``'s type (the message
            lists what can be inspected).
        MissingExtraError: the ``notebook`` extra is not installed.
    """
    _load_widget_modules()
    with _lock:
        registry = dict(_registry)
    for cls in type(obj).__mro__:
        factory = registry.get(f"{cls.__module__}.{cls.__qualname__}")
        if factory is not None:
            return _resolve(factory)(obj, **options)
    known = ", ".join(sorted(name.rpartition(".")[2] for name in registry))
    raise ConfigError(
        f"apinotebook.inspect() cannot show a {type(obj).__name__}; it shows: {known}"
    )
