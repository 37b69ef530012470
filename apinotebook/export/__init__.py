"""Export an integration notebook as a standalone script or a Prefect flow.

>>> result = export_notebook("crm_to_newsletter.ipynb", "crm_to_newsletter.py")  # doctest: +SKIP
>>> print(result.explain())                                                       # doctest: +SKIP

The notebook is read, never run. Cells tagged ``export`` are kept,
``no-export`` dropped, the ``parameters`` cell becomes command-line options;
untagged cells keep what defines the integration and drop what only explores
or displays (see :mod:`apinotebook.export._cells`). A cell holding a literal
secret is refused with :class:`~apinotebook.LiteralSecretError`. The script
runs with only the core installed: ``python out.py run | schedule | serve |
replay | status`` (see :mod:`apinotebook.export.runtime`). From a shell:
``apinotebook export NOTEBOOK -o OUT.py [--target script|prefect] [--explain]``.
"""

from apinotebook.export._cli import add_export_command
from apinotebook.export._notebook import CellReport, read_notebook
from apinotebook.export._script import TARGETS, ExportResult, export_notebook
from apinotebook.export._secrets_scan import is_secret_name, looks_like_credential

__all__ = [
    "TARGETS",
    "CellReport",
    "ExportResult",
    "add_export_command",
    "export_notebook",
    "is_secret_name",
    "looks_like_credential",
    "read_notebook",
]
