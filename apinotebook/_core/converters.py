"""Format converters the models offer but packages above them implement.

``History.to_postman`` lives in the model, the Postman writer in
:mod:`apinotebook.collections` above it. The model asks this registry; the
collections package registers its converter, and the package's front door
installs a loader that imports it on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from apinotebook._exceptions import ConfigError

__all__ = ["convert", "register_converter", "set_loader"]

_lock = threading.Lock()
_converters: dict[str, Callable[..., Any]] = {}
_loader: Callable[[], None] | None = None


def register_converter(name: str, function: Callable[..., Any]) -> None:
    """Make ``convert(name, ...)`` call ``function``."""
    with _lock:
        _converters[name] = function


def set_loader(loader: Callable[[], None]) -> None:
    """Install the function that registers the package's converters on first use."""
    global _loader
    with _lock:
        _loader = loader


def convert(converter: str, /, *args: Any, **kwargs: Any) -> Any:
    """Run the converter registered as ``converter``."""
    with _lock:
        function, loader = _converters.get(converter), _loader
    if function is None and loader is not None:
        loader()
        with _lock:
            function = _converters.get(converter)
    if function is None:
        raise ConfigError(
            f"no converter {converter!r} is registered (import apinotebook.collections)"
        )
    return function(*args, **kwargs)
