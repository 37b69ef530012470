"""``apinotebook mock SPEC [SPEC ...]``: serve mocks in the foreground until Ctrl+C."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from apinotebook.mock._server import KINDS, Mock, MockServer, preload

__all__ = ["add_mock_command", "run_mock"]

_HELP = "serve a mock of an OpenAPI document, a GraphQL schema or a WSDL"
_DESCRIPTION = (
    "Serve a working mock of each description on one loopback port: answers from the "
    "description's examples or made up from its schemas (the same for the same --seed), "
    "requests checked against it (400 with the failing path, GraphQL errors, SOAP Faults). "
    "Prints each mock's URL."
)


def add_mock_command(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``mock SPEC [SPEC ...] [--port N] [--seed S] [--stateful]``."""
    p = sub.add_parser("mock", help=_HELP, description=_DESCRIPTION)
    p.add_argument("specs", nargs="+", metavar="SPEC", help="a description file or URL")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default: loopback)")
    p.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    p.add_argument("--seed", type=int, default=0, help="seed of the made-up values (default: 0)")
    p.add_argument(
        "--stateful", action="store_true", help="REST: POSTed items can be read, changed, deleted"
    )
    p.add_argument(
        "--kind", choices=KINDS, default=None, help="the description's kind (default: told from it)"
    )
    p.set_defaults(handler=run_mock)


def run_mock(args: argparse.Namespace) -> int:
    """Serve until interrupted; the URLs go to stdout, one ``NAME URL`` line each."""
    preload()
    mocks = []
    for spec in args.specs:
        stateful = args.stateful and (args.kind or "openapi") == "openapi"
        mock = Mock(spec, seed=args.seed, stateful=stateful, kind=args.kind)
        mocks.append(mock)
        print(f"# {mock!r} loaded in {mock.load_seconds:.2f} s", file=sys.stderr, flush=True)
    server = MockServer(mocks, host=args.host, port=args.port).start()
    try:
        for name, url in server.urls.items():
            print(f"{name} {url}", flush=True)
        print("# Press Ctrl+C to stop.", file=sys.stderr, flush=True)
        server.sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
