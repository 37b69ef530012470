"""``apinotebook export``: the command-line face of :func:`~apinotebook.export.export_notebook`.

Registered by ``apinotebook/cli.py`` like its other subcommands::

    from apinotebook.export import add_export_command
    ...
    for add in (_add_sandbox, _add_lab, add_export_command, ...):
        add(sub)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_export_command", "run_export"]


def add_export_command(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``export NOTEBOOK -o OUT.py [--target script|prefect] [--explain]``."""
    p = sub.add_parser(
        "export",
        help="export an integration notebook as a standalone script or a Prefect flow",
        description=(
            "Turn an integration notebook into a Python script with a command line "
            "(run, schedule, serve, replay, status) that needs only the core package, or "
            "into a Prefect flow. The notebook is read, not run. Cells tagged 'export' are "
            "kept, 'no-export' dropped, the 'parameters' cell becomes options; untagged "
            "cells keep what defines the integration and drop exploration and displays."
        ),
    )
    p.add_argument("notebook", metavar="NOTEBOOK", help="the .ipynb file")
    p.add_argument(
        "-o", "--output", metavar="OUT.py", help="the file to write (default: NOTEBOOK.py)"
    )
    p.add_argument(
        "--target",
        default="script",
        metavar="{script,prefect}",
        help="a standalone script (default) or a Prefect flow",
    )
    p.add_argument(
        "--explain", action="store_true", help="print each cell: kept or dropped, and why"
    )
    p.add_argument(
        "--no-format", action="store_true", help="do not run 'ruff format' on the result"
    )
    p.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Export; print the result (and the explanation); return 0 (errors raise)."""
    from apinotebook.export._script import export_notebook

    result = export_notebook(
        args.notebook, args.output, target=args.target, format=not args.no_format
    )
    if args.explain:
        print(result.explain())
    else:
        kept, dropped = len(result.kept), len(result.dropped)
        print(
            f"wrote {result.path} ({result.target}): {kept} cells kept, {dropped} dropped "
            "(--explain says why)"
        )
        for warning in result.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    return 0
