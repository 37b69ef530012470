"""One XML parse per WSDL document: zeep takes the tree the hardened pass already built.

Every document a WSDL loads is parsed first by :class:`apinotebook.soap._wsdl._Scan`
(a safe parser: no DTD, no entities, no network) and then by zeep, which parses
the same bytes again: for Bing Ads' 1.5 MB WSDL that second parse is a quarter
of the load. While :func:`sharing` is active (one WSDL load, on this thread),
zeep's ``zeep.loader.parse_xml`` hook returns the tree already built for the
very bytes object the loader handed zeep; anything else (another thread, a
response body, bytes zeep read itself) goes to zeep's own parser as before.
The tree is well-formed, DTD-free XML (the hardened pass refuses anything
else), which is what zeep's parser would build from it, less comments and
processing instructions, which zeep ignores.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["offer", "sharing"]

_local = threading.local()
_lock = threading.Lock()


def _install() -> None:
    """Wrap ``zeep.loader.parse_xml`` once per process (``load_external`` calls it)."""
    loader = importlib.import_module("zeep.loader")
    with _lock:
        if getattr(loader.parse_xml, "_apinotebook_shared", False):
            return
        original = loader.parse_xml

        def parse_xml(
            content: Any, transport: Any, base_url: Any = None, settings: Any = None
        ) -> Any:
            trees: dict[int, tuple[Any, Any]] | None = getattr(_local, "trees", None)
            if trees is not None:
                hit = trees.pop(id(content), None)
                if hit is not None and hit[0] is content:
                    return hit[1]
            return original(content, transport, base_url, settings=settings)

        parse_xml._apinotebook_shared = True  # type: ignore[attr-defined]
        setattr(loader, "parse_xml", parse_xml)  # noqa: B010 - a module of zeep, not ours


@contextmanager
def sharing() -> Iterator[None]:
    """Let zeep take the trees :func:`offer` hands it on this thread, for the block."""
    _install()
    _local.trees = {}
    try:
        yield
    finally:
        _local.trees = None


def offer(content: bytes, root: Any) -> None:
    """The tree parsed from ``content`` (this very object), for zeep's next parse of it."""
    trees: dict[int, tuple[Any, Any]] | None = getattr(_local, "trees", None)
    if trees is not None:
        trees[id(content)] = (content, root)  # the bytes are kept: their id stays theirs
