"""The ``apinotebook`` command.

Each subcommand lives in a small function that imports what it needs when it
runs, so ``apinotebook --help`` stays fast and works with only the core
installed. Errors from the package are printed as one clear line (exit code
2); nothing prints a traceback at the user unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence

from apinotebook.__about__ import __version__
from apinotebook._exceptions import ApiNotebookError

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _add_sandbox(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "sandbox",
        help="run the bundled demo services in the foreground",
        description=(
            "Serve every demo service (crm, mail, fares, billing, chat, calendar) on one "
            "loopback port and print their URLs and credentials as export lines."
        ),
    )
    _sandbox_options(p)
    p.add_argument("--env-file", help="also write the export lines to this file")
    p.set_defaults(handler=_run_sandbox)


def _sandbox_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--seed", type=int, default=0, help="seed for data and faults (default: 0)")
    p.add_argument("--contacts", type=int, default=None, help="number of CRM contacts")
    p.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="SERVICE.KEY=VALUE",
        help="a service option, e.g. fares.latency_scale=0 or crm.messy_rate=0 (repeatable)",
    )
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SERVICE:KEY=VALUE[,KEY=VALUE]",
        help="inject faults, e.g. crm:error_rate=0.1,latency=0.05 (repeatable)",
    )


def _sandbox_from_args(args: argparse.Namespace) -> object:
    from apinotebook.sandbox import Sandbox, parse_fault_spec, parse_options

    faults = parse_fault_spec(args.fault)
    kwargs: dict[str, object] = {"host": args.host, "port": args.port, "seed": args.seed}
    if args.option:
        kwargs["options"] = parse_options(args.option)
    if args.contacts is not None:
        kwargs["contacts"] = args.contacts
    return Sandbox(faults=faults, **kwargs)  # type: ignore[arg-type]


def _run_sandbox(args: argparse.Namespace) -> int:
    from apinotebook.sandbox import Sandbox

    sb = _sandbox_from_args(args)
    assert isinstance(sb, Sandbox)
    sb.start()
    # This process only serves the sandbox: move the seed data out of the garbage
    # collector's view and collect less often, so a full collection over millions of
    # stored records does not stall every client now and then.
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        lines = sb.env_lines()
        print(f"# apinotebook sandbox {__version__} on {sb.url}", flush=True)
        for name, url in sb.flat_urls().items():
            print(f"#   {name:<16} {url}")
        print("\n".join(lines), flush=True)
        if args.env_file:
            with open(args.env_file, "w", encoding="utf-8") as fh:
                fh.write("\n".join(lines) + "\n")
        print("# Press Ctrl+C to stop.", file=sys.stderr, flush=True)
        sb.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sb.stop()
    return 0


def _add_lab(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "lab",
        help="start the sandbox and open JupyterLab on the course",
        description=(
            "Start the demo services, put their URLs and credentials into the kernel's "
            "environment and run JupyterLab on the notebooks folder."
        ),
    )
    _sandbox_options(p)
    p.add_argument("--notebooks", default="notebooks", help="folder to open (default: notebooks)")
    p.add_argument(
        "--lab-port",
        type=int,
        default=None,
        help="JupyterLab port; 0 for a free one (default: 8888, or a free one if 8888 is taken)",
    )
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.set_defaults(handler=_run_lab)


def _run_lab(args: argparse.Namespace) -> int:
    from apinotebook.sandbox.lab import run_lab

    return run_lab(args, sandbox=_sandbox_from_args(args))


def _build_parser(extra: Sequence[Callable[..., None]] = ()) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="apinotebook",
        description="Explore REST, GraphQL and SOAP APIs and prototype integrations.",
    )
    parser.add_argument("--version", action="version", version=f"apinotebook {__version__}")
    parser.add_argument("--debug", action="store_true", help="show full tracebacks")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    for add in (_add_sandbox, _add_lab, *_extra_commands(), *extra):
        add(sub)
    return parser


def _extra_commands() -> list[Callable[..., None]]:
    """Subcommands that live beside the feature they drive."""
    from apinotebook.collections import add_collection_commands
    from apinotebook.export import add_export_command
    from apinotebook.mock import add_mock_command

    return [add_export_command, add_mock_command, add_collection_commands]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return handler(args)
    except ApiNotebookError as exc:
        if args.debug:
            raise
        print(f"apinotebook: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
