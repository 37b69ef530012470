"""``apinotebook import`` and ``apinotebook export-collection``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["add_collection_commands"]


def add_collection_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register the two subcommands on the ``apinotebook`` command line."""
    p = sub.add_parser(
        "import",
        help="turn a Postman / Insomnia / Bruno / HAR / OpenAPI file into a notebook",
        description=(
            "Write a notebook that runs the requests of a collection with apinotebook's "
            "clients: a parameters cell (credentials read from the environment), one "
            "section per folder, one cell per request, scripts translated or kept as comments."
        ),
    )
    p.add_argument("file", help="collection file, Bruno collection folder, HAR or OpenAPI")
    p.add_argument("-o", "--output", required=True, help="the notebook to write (.ipynb)")
    p.add_argument("--env", help="an environment file whose values fill the parameters cell")
    p.add_argument("--explain", action="store_true", help="list every item and what became of it")
    p.add_argument("--keep-cookies", action="store_true", help="HAR: keep Cookie headers")
    p.set_defaults(handler=_run_import)
    q = sub.add_parser(
        "export-collection",
        help="write a notebook's requests as a Postman v2.1 collection",
        description=(
            "Read a notebook (never run it) and write its requests as a Postman Collection "
            "v2.1, plus an environment file with the variable names (no secret values)."
        ),
    )
    q.add_argument("notebook", help="the notebook (.ipynb)")
    q.add_argument("-o", "--output", required=True, help="the collection to write (.json)")
    q.add_argument("--name", help="the collection's name (default: the notebook's title)")
    q.set_defaults(handler=_run_export)


def _run_import(args: argparse.Namespace) -> int:
    from apinotebook.collections._load import load
    from apinotebook.collections._writer import write_notebook

    collection = load(args.file, environment=args.env, keep_cookies=args.keep_cookies)
    result = write_notebook(collection, args.output)
    if args.explain:
        print(result.explain())
    warnings = result.warnings
    print(
        f"wrote {args.output}: {len(collection.requests)} request(s), "
        f"{len(warnings)} warning(s)" + ("" if args.explain or not warnings else " (--explain)"),
        file=sys.stderr,
    )
    return 0


def _run_export(args: argparse.Namespace) -> int:
    from apinotebook.collections._postman_out import to_postman

    out: Any = to_postman(args.notebook, args.output, name=args.name)
    print(f"wrote {out['collection']} and {out['environment']}", file=sys.stderr)
    return 0
