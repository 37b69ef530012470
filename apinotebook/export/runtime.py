"""The command line of an exported script: ``run``, ``schedule``, ``serve``, ``replay``, ``status``.

An exported script creates a :class:`Cli` before the notebook's code (so
``--help`` works and the parameters are known when the code runs) and ends
with ``raise SystemExit(main(sync, cli=cli))``::

    python sync.py run [--dry-run] [--limit N] [--wait SECONDS] [--state PATH] [--json]
    python sync.py schedule --every 5m | --cron "*/5 * * * *"
    python sync.py serve [--host H] [--port P] [--path /webhook] [--secret-env NAME]
    python sync.py replay
    python sync.py status [--json]
    python sync.py --replay CASSETTE run     # every API call answered from a HAR cassette
    python sync.py --record CASSETTE run     # every API call recorded into one

Logs go to stderr, plain or as JSON lines (``--log-format json``), with every
registered secret masked. Exit codes: 0 success, 1 some records failed
(dead-lettered), 2 the run stopped or the command was wrong, 3 another run of
the integration on the same state is still going (nothing was done; ``run
--wait SECONDS`` waits for it instead).

This module imports neither Jupyter nor Prefect: the Prefect target passes
its flow in as ``main(..., flow=...)`` and only the generated file imports
Prefect.
"""

from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from apinotebook.__about__ import __version__
from apinotebook._core.secrets import Secret, mask_text, reveal
from apinotebook._exceptions import (
    AlreadyRunningError,
    ApiNotebookError,
    ConfigError,
    FatalIntegrationError,
)
from apinotebook._history import production
from apinotebook.cassettes import Cassette, Mode

if TYPE_CHECKING:
    from apinotebook.integration import Integration

__all__ = [
    "EXIT_ALREADY_RUNNING",
    "Cli",
    "Parameter",
    "configure_logging",
    "main",
    "production",
    "reveal",
]

#: The exit code when another run of the integration holds its state.
EXIT_ALREADY_RUNNING = 3

log = logging.getLogger("apinotebook.export")

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}


@dataclass(frozen=True)
class Parameter:
    """A notebook parameter: ``--batch-size`` on the command line, else ``$BATCH_SIZE``.

    Args:
        name: the notebook variable (``BATCH_SIZE`` or ``batch_size``).
        default: the notebook's literal value; its type is the option's type.
        secret: read only from the environment (never a default, never an option).
        help: a line for ``--help``.
    """

    name: str
    default: Any = None
    secret: bool = False
    help: str = ""

    @property
    def option(self) -> str:
        """The command-line option."""
        return "--" + self.name.lower().replace("_", "-")

    @property
    def env(self) -> str:
        """The environment variable."""
        return self.name.upper()

    @property
    def dest(self) -> str:
        """The argparse destination."""
        return "param_" + self.name.lower()

    def convert(self, text: str, *, source: str) -> Any:
        """Turn command-line or environment text into the parameter's type."""
        default = self.default
        try:
            if isinstance(default, bool):
                lowered = text.strip().lower()
                if lowered in _TRUE | _FALSE:
                    return lowered in _TRUE
                raise ValueError("expected true/false, 1/0, yes/no")
            if isinstance(default, int):
                return int(text)
            if isinstance(default, float):
                return float(text)
            if isinstance(default, list | dict):
                value = json.loads(text)
                if not isinstance(value, type(default)):
                    raise ValueError(f"expected a JSON {type(default).__name__}")
                return value
        except ValueError as exc:
            raise ConfigError(f"{source} = {text!r} is not valid for {self.name}: {exc}") from None
        return text


class _Formatter(logging.Formatter):
    """Plain or JSON-lines log records, with registered secrets masked."""

    def __init__(self, json_lines: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.json_lines = json_lines

    def format(self, record: logging.LogRecord) -> str:
        if not self.json_lines:
            return mask_text(super().format(record))
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_text(record.getMessage()),
        }
        if record.exc_info:
            payload["error"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(payload, ensure_ascii=False, default=str)


_HANDLER_FLAG = "_apinotebook_export"


def configure_logging(*, fmt: str = "plain", level: str = "INFO") -> None:
    """Log to stderr (plain or ``json``) at ``level``; HTTP client chatter only at DEBUG."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_FLAG, False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(fmt == "json"))
    setattr(handler, _HANDLER_FLAG, True)
    root.addHandler(handler)
    root.setLevel(level.upper())
    quiet = logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(quiet)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


class Cli:
    """The command line of an exported script, parsed before the notebook's code runs.

    Args:
        module: the script's ``__name__``; arguments are parsed only when it
            is ``"__main__"`` (or ``argv`` is given), so importing the script
            from elsewhere reads parameters from the environment alone.
        doc: the script's docstring, shown by ``--help``.
        target: ``"script"`` or ``"prefect"`` (``serve`` runs the flow on a
            schedule, ``deploy`` sends it to a work pool).
        parameters: the notebook's parameters.
        webhook_path: the default ``serve --path``.
        webhook_secret_env: the default ``serve --secret-env``.
        argv: arguments to parse instead of ``sys.argv[1:]``.
        environ: the environment (default ``os.environ``).
    """

    def __init__(
        self,
        module: str = "__main__",
        *,
        doc: str | None = None,
        target: str = "script",
        parameters: Sequence[Parameter] = (),
        webhook_path: str = "/webhook",
        webhook_secret_env: str | None = None,
        argv: Sequence[str] | None = None,
        environ: Mapping[str, str] | None = None,
        prog: str | None = None,
    ) -> None:
        if target not in ("script", "prefect"):
            raise ConfigError.invalid_choice("target", target, ("script", "prefect"))
        self.doc = doc
        self.target = target
        self.parameters = {p.name: p for p in parameters}
        self.webhook_path = webhook_path
        self.webhook_secret_env = webhook_secret_env
        self.environ = os.environ if environ is None else environ
        self.prog = prog or Path(sys.argv[0] or "script").name
        self.args: argparse.Namespace | None = None
        #: the ``--replay`` / ``--record`` cassette, installed while the script runs
        self.cassette: Cassette | None = None
        if argv is not None or module == "__main__":
            self.parse(sys.argv[1:] if argv is None else argv)
            if module == "__main__":
                sys.excepthook = self._excepthook

    # -- parsing ----------------------------------------------------------------------

    def _common(self, parser: argparse.ArgumentParser, *, top: bool) -> None:
        default = (lambda value: value) if top else (lambda value: argparse.SUPPRESS)
        group = parser.add_argument_group("common options")
        group.add_argument("--state", metavar="PATH|URL", default=default(None),
                           help="the state file, or a postgresql:// URL (default: "
                                "$APINOTEBOOK_STATE, else the notebook's)")  # fmt: skip
        group.add_argument("--log-format", choices=("plain", "json"), default=default("plain"),
                           help="log lines on stderr as text or JSON (default: plain)")  # fmt: skip
        group.add_argument("--log-level", default=default("INFO"),
                           choices=("DEBUG", "INFO", "WARNING", "ERROR"), type=str.upper,
                           help="default: INFO")  # fmt: skip
        group.add_argument(
            "--replay",
            metavar="CASSETTE",
            default=default(None),
            help="answer every API call from this HAR cassette; no network",
        )
        group.add_argument(
            "--record",
            metavar="CASSETTE",
            default=default(None),
            help="record every API call into this HAR cassette (secrets masked)",
        )
        if not any(not p.secret for p in self.parameters.values()):
            return
        params = parser.add_argument_group("notebook parameters (else the environment variable)")
        for p in self.parameters.values():
            if p.secret:
                continue
            kwargs: dict[str, Any] = {"dest": p.dest, "default": default(None)}
            shown = f"env {p.env}, default {p.default!r}"
            kwargs["help"] = f"{p.help} ({shown})" if p.help else shown
            if isinstance(p.default, bool):
                kwargs["action"] = argparse.BooleanOptionalAction
            else:
                kwargs["metavar"] = p.env
                kwargs["type"] = _converter(p)
            params.add_argument(p.option, **kwargs)

    def parser(self) -> argparse.ArgumentParser:
        """The argument parser (commands depend on the target)."""
        secrets = [p.env for p in self.parameters.values() if p.secret]
        epilog = f"secrets (environment only): {', '.join(secrets)}" if secrets else None
        parser = argparse.ArgumentParser(
            prog=self.prog,
            description=self.doc,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        parser.add_argument("--version", action="version", version=f"apinotebook {__version__}")
        self._common(parser, top=True)
        sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

        def command(name: str, help: str) -> argparse.ArgumentParser:
            p = sub.add_parser(name, help=help, description=help)
            self._common(p, top=False)
            return p

        run = command("run", "run once: read since the checkpoint, map, deliver, checkpoint")
        run.add_argument("--dry-run", action="store_true", help="read and map only; write nothing")
        run.add_argument("--limit", type=_positive, help="stop after N records")
        run.add_argument("--wait", type=float, metavar="SECONDS",
                         help="wait for another run of it to finish (default: exit 3)")  # fmt: skip
        run.add_argument("--json", action="store_true", help="print the report as JSON")
        run.add_argument("--partition", action="append", metavar="ID",
                         help="run only this partition (repeatable)")  # fmt: skip
        if self.target == "script":
            schedule = command("schedule", "run on an interval or a cron schedule until stopped")
            when = schedule.add_mutually_exclusive_group(required=True)
            when.add_argument("--every", metavar="INTERVAL", help="e.g. 30s, 5m, 1h30m")
            when.add_argument("--cron", metavar="EXPR", help="e.g. '*/5 * * * *' (UTC)")
            listen = command("listen", "follow the stream source (a long-lived worker)")
            listen.add_argument("--limit", type=_positive, help="stop after N records")
            listen.set_defaults(dry_run=False, wait=None, json=False, partition=None)
            serve = command("serve", "receive signed webhooks and process them until stopped")
            serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
            serve.add_argument("--port", type=int, default=8765, help="default: 8765")
            serve.add_argument("--path", default=self.webhook_path,
                               help=f"default: {self.webhook_path}")  # fmt: skip
            serve.add_argument("--secret-env", default=self.webhook_secret_env, metavar="NAME",
                               help="environment variable holding the webhook secret"
                               + (f" (default: {self.webhook_secret_env})"
                                  if self.webhook_secret_env else ""))  # fmt: skip
        else:
            for name, help_text in (
                ("serve", "serve the flow with a schedule (flow.serve) until stopped"),
                ("deploy", "deploy the flow to a Prefect work pool (flow.deploy)"),
            ):
                p = command(name, help_text)
                when = p.add_mutually_exclusive_group(required=name == "serve")
                when.add_argument("--cron", metavar="EXPR", help="e.g. '*/5 * * * *'")
                when.add_argument("--every", metavar="INTERVAL", help="e.g. 5m")
                p.add_argument("--name", help="deployment name (default: the flow's name)")
                if name == "deploy":
                    p.add_argument("--work-pool", "--pool", dest="work_pool", required=True,
                                   help="the work pool's name")  # fmt: skip
        replay = command("replay", "send the dead letters through the mapping and destination")
        replay.add_argument("--json", action="store_true", help="print the report as JSON")
        status = command("status", "show the checkpoint, dead letters, inbox and last run")
        status.add_argument("--json", action="store_true", help="print the state as JSON")
        return parser

    def parse(self, argv: Sequence[str]) -> argparse.Namespace:
        """Parse the arguments (``--help`` and usage errors exit here) and set up logging."""
        parser = self.parser()
        self.args = parser.parse_args(list(argv))
        if self.args.replay and self.args.record:
            parser.error("--replay and --record cannot be used together")
        configure_logging(fmt=self.args.log_format, level=self.args.log_level)
        self.close_cassette()
        path = self.args.replay or self.args.record
        if path:  # installed now: the notebook's code below may call APIs as it loads
            mode: Mode = "replay" if self.args.replay else "all"
            try:
                self.cassette = Cassette(path, mode=mode).install()
            except ApiNotebookError as exc:
                parser.error(str(exc))
            atexit.register(self.close_cassette)
        return self.args

    def close_cassette(self) -> None:
        """Stop answering from the ``--replay`` cassette, or write the ``--record`` one."""
        cassette, self.cassette = self.cassette, None
        if cassette is not None:
            cassette.eject()

    # -- values -----------------------------------------------------------------------

    def param(self, name: str) -> Any:
        """A parameter's value: command line, else environment, else the notebook's value.

        Raises:
            MissingSecretError: a secret parameter's environment variable is unset.
            ConfigError: the environment holds a value of the wrong type.
        """
        try:
            p = self.parameters[name]
        except KeyError:
            raise ConfigError.invalid_choice("parameter", name, self.parameters) from None
        if p.secret:
            value = self.environ.get(p.env) or None
            if value is None:
                return Secret.from_env(p.env).reveal()  # raises MissingSecretError
            return Secret(value, name=p.env).reveal()
        given = getattr(self.args, p.dest, None) if self.args is not None else None
        if given is not None:
            return given
        text = self.environ.get(p.env)
        if text is not None and (text != "" or isinstance(p.default, str)):
            return p.convert(text, source=f"${p.env}")
        return p.default

    def state_path(self, default: str | Path | None = None) -> str | Path | None:
        """``--state``, else ``$APINOTEBOOK_STATE``, else ``default`` (the notebook's ``state=``).

        A SQLite path or a PostgreSQL URL (``postgresql://user@host/db``: state
        that runs on several machines share).
        """
        given = getattr(self.args, "state", None) if self.args is not None else None
        if given is None:
            given = self.environ.get("APINOTEBOOK_STATE") or None
        return given if given is not None else default

    def _excepthook(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        """An error while the notebook's code loads: one clear line, exit code 2."""
        if isinstance(exc, KeyboardInterrupt):
            code = 130
        elif isinstance(exc, ApiNotebookError):
            sys.stderr.write(f"{self.prog}: error: {mask_text(str(exc))}\n")
            code = 2
        else:
            sys.stderr.write(mask_text("".join(traceback.format_exception(kind, exc, tb))))
            code = 2
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _converter(p: Parameter) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return p.convert(text, source=p.option)
        except ConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


# -- commands -------------------------------------------------------------------------


def _interval(args: argparse.Namespace) -> float | None:
    from apinotebook.integration import parse_interval

    return parse_interval(args.every) if getattr(args, "every", None) else None


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), default=str, ensure_ascii=False))


def _run(integration: Integration, args: argparse.Namespace, flow: Any) -> int:
    if args.dry_run:
        preview = integration.dry_run(limit=args.limit or 20)
        if args.json:
            rows = [
                {"key": r.key, "status": r.status, "problem": r.problem, "after": r.after}
                for r in preview.rows
            ]
            print(json.dumps({"counts": preview.counts(), "rows": rows}, default=str))
        else:
            print(mask_text(preview.summary()))
        return 0
    try:
        if args.partition:  # one or a few partitions, e.g. a failed one again
            report = integration.run_partitions(only=args.partition, limit=args.limit)
        elif flow is not None:
            report = flow(limit=args.limit)
        else:
            report = integration.run(limit=args.limit, progress="log", wait=args.wait)
    except AlreadyRunningError as exc:
        log.error("%s", mask_text(str(exc)))
        return EXIT_ALREADY_RUNNING
    except FatalIntegrationError as exc:
        log.error("%s", mask_text(str(exc)))
        stopped = getattr(exc, "report", None)
        if stopped is not None:
            _print_report(stopped, args.json)
        return 2
    _print_report(report, args.json)
    return int(report.exit_code)


def _until_stopped() -> None:
    """Turn SIGTERM into KeyboardInterrupt so receivers shut down cleanly."""
    import threading

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def _serve(integration: Integration, args: argparse.Namespace, extract: Any) -> int:
    name = args.secret_env
    if not name:
        raise ConfigError(
            "serve needs the webhook secret: name its environment variable with --secret-env NAME"
        )
    secret = Secret.from_env(name)
    _until_stopped()
    integration.serve(args.path, secret=secret, host=args.host, port=args.port, extract=extract)
    return 0


def _flow_entry(flow: Any) -> tuple[str, str]:
    import inspect

    fn = getattr(flow, "fn", flow)
    source = inspect.getsourcefile(fn)
    if source is None:
        raise ConfigError("cannot find the file that defines the flow")
    return str(Path(source).resolve().parent), f"{Path(source).name}:{fn.__name__}"


def _prefect(args: argparse.Namespace, flow: Any) -> int:
    name = args.name or getattr(flow, "name", "integration")
    interval = _interval(args)
    if args.command == "serve":
        flow.serve(name=name, cron=args.cron, interval=interval)
        return 0
    source, entrypoint = _flow_entry(flow)
    flow.from_source(source=source, entrypoint=entrypoint).deploy(
        name=name, work_pool_name=args.work_pool, cron=args.cron, interval=interval
    )
    return 0


def _status(integration: Integration, args: argparse.Namespace) -> int:
    state = integration.state
    if args.json:
        print(json.dumps(state, default=str, ensure_ascii=False))
        return 0
    last = state.get("last_run") or {}
    inbox = ", ".join(f"{k} {v}" for k, v in (state.get("inbox") or {}).items()) or "empty"
    lines = [
        f"{state['integration']} (state: {state['path']})",
        f"  cursor:       {state['cursor']!r}",
        f"  delivered:    {state['seen']} keys",
        f"  dead letters: {state['dead_letters']} pending",
        f"  inbox:        {inbox}",
        f"  last run:     {_describe_run(last)}",
    ]
    print(mask_text("\n".join(lines)))
    return 0


def _describe_run(last: Mapping[str, Any]) -> str:
    if not last:
        return "never"
    report = last.get("report") or {}
    counts = ", ".join(f"{k} {report[k]}" for k in ("read", "written", "failed") if k in report)
    when = last.get("finished_at") or last.get("started_at") or ""
    if isinstance(when, int | float):
        when = datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return " ".join(str(p) for p in (last.get("status", "?"), when, counts) if p)


def main(
    integration: Integration,
    *,
    cli: Cli | None = None,
    argv: Sequence[str] | None = None,
    flow: Any = None,
    extract: Callable[[Any], Any] | None = None,
) -> int:
    """Run the command given on the command line; return the exit code.

    Args:
        integration: the notebook's integration.
        cli: the :class:`Cli` made at the top of the script (parsed already).
        argv: arguments to parse instead (tests).
        flow: the Prefect flow (Prefect target): ``run`` calls it, ``serve``
            and ``deploy`` serve or deploy it.
        extract: the notebook's ``on_webhook(extract=...)`` function.
    """
    if cli is None:
        cli = Cli("__exported__", argv=sys.argv[1:] if argv is None else argv)
    elif argv is not None or cli.args is None:
        cli.parse(sys.argv[1:] if argv is None else argv)
    args = cli.args
    if args is None:  # pragma: no cover - parse() always sets it
        raise ConfigError("the command line was not parsed")
    with production(integration.history):  # no bodies kept: memory stays flat
        return _main(integration, cli, args, flow, extract)


def _main(
    integration: Integration, cli: Cli, args: argparse.Namespace, flow: Any, extract: Any
) -> int:
    try:
        if args.command in ("run", "listen"):
            return _run(integration, args, flow)
        if args.command == "schedule":
            integration.schedule(every=args.every, cron=args.cron, background=False)
            return 0
        if args.command == "serve" and cli.target == "script":
            return _serve(integration, args, extract)
        if args.command in ("serve", "deploy"):
            return _prefect(args, flow)
        if args.command == "replay":
            report = integration.replay(progress="log")
            log.info("%s", report.summary())
            _print_report(report, args.json)
            return int(report.exit_code)
        return _status(integration, args)
    except AlreadyRunningError as exc:
        print(f"{cli.prog}: error: {mask_text(str(exc))}", file=sys.stderr)
        return EXIT_ALREADY_RUNNING
    except ApiNotebookError as exc:
        print(f"{cli.prog}: error: {mask_text(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        integration.close()
        cli.close_cassette()
