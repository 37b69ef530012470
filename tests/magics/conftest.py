"""The IPython shell the magic tests run cells in."""

from __future__ import annotations

import pytest
from IPython import get_ipython as running_shell
from IPython.testing.globalipapp import get_ipython


@pytest.fixture(scope="module")
def ip():
    """IPython's global test shell (started once per process) with the magics loaded."""
    shell = get_ipython() or running_shell()
    shell.run_line_magic("load_ext", "apinotebook.magics")
    return shell
