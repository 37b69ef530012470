"""Run a notebook with nbclient under some environment variables (restored afterwards)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def environ(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the block (the kernel inherits them)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_notebook(path: Path, env: Mapping[str, str], *, allow_errors: bool = False) -> Any:
    """Execute ``path`` in a fresh kernel; return the executed notebook (nbformat node)."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    with environ(env):
        nbclient.NotebookClient(
            nb, timeout=120, kernel_name="python3", allow_errors=allow_errors
        ).execute(cwd=str(path.parent))
    return nb


class SharedKernel:
    """One kernel for many notebooks (importing apinotebook once): each run starts with
    ``%reset -f``, so no name leaks from one notebook into the next."""

    def __init__(self, cwd: Path, env: Mapping[str, str]) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(cwd=str(cwd), env={**os.environ, **env})

    def run(self, path: Path) -> Any:
        """Execute ``path`` (errors allowed, recorded in the outputs); the executed notebook."""
        import nbclient
        import nbformat

        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))
        nbclient.NotebookClient(nb, km=self.km, timeout=120, allow_errors=True).execute()
        nb.cells.pop(0)
        return nb

    def close(self) -> None:
        """Shut the kernel down."""
        self.km.shutdown_kernel(now=True)


def error_names(nb: Any) -> list[str]:
    """The exception names of the cells that failed."""
    return [
        o.ename
        for cell in nb.cells
        if cell.cell_type == "code"
        for o in cell.outputs
        if o.output_type == "error"
    ]
