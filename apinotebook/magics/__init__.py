"""IPython magics: ``%%rest``, ``%%graphql`` and ``%%soap`` cells.

Load them with ``%load_ext apinotebook`` (or ``%load_ext apinotebook.magics``).
Importing this package does not import IPython; :func:`load_ipython_extension`
does, when Jupyter calls it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics with a running IPython (``%load_ext apinotebook``)."""
    from apinotebook.magics._magics import ApiMagics

    ipython.register_magics(ApiMagics)
