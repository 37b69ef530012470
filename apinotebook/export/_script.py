"""Render the selected cells as a standalone script, and the export entry point.

The script is laid out the way a person would write it: a docstring naming
the notebook, the apinotebook version and how to run it; the imports of the
kept cells, pruned of unused names, merged and sorted the way ruff's isort
rules expect; the command line (``cli = Cli(...)``) and the notebook's
parameters as typed variables; the kept statements cell by cell, each under
a comment naming the cell (and the markdown heading above it); and
``raise SystemExit(main(sync, cli=cli))``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from apinotebook.__about__ import __version__
from apinotebook._exceptions import ConfigError, ExportError
from apinotebook.export._cells import Param, Selection, select
from apinotebook.export._flowgen import add_flow
from apinotebook.export._notebook import CellReport, CodeCell, Stmt, read_notebook, where
from apinotebook.export._notebook_only import drop_notebook_only
from apinotebook.export._pycode import call, py_literal
from apinotebook.export._secrets_check import check_secrets
from apinotebook.export._secrets_scan import iter_env_names

__all__ = ["TARGETS", "ExportResult", "Module", "export_notebook", "render"]

TARGETS = ("script", "prefect")
LINE = 100
#: modules an exported script must not import: it runs with only the core installed
FORBIDDEN = (
    "IPython", "ipywidgets", "anywidget", "jupyter", "jupyterlab", "jupyter_client",
    "ipykernel", "nbformat", "nbclient", "nbconvert", "papermill", "apinotebook.widgets",
    "apinotebook.sandbox", "apinotebook.magics",
)  # fmt: skip
RUNTIME = "apinotebook.export.runtime"
MARKER = "Exported from "


@dataclass
class ExportResult:
    """What :func:`export_notebook` wrote and why each cell was kept or dropped."""

    source: Path
    path: Path
    target: str
    cells: list[CellReport]
    parameters: list[Param]
    environment: list[str]
    integration: str
    warnings: list[str] = field(default_factory=list)
    formatted: bool = False

    @property
    def kept(self) -> list[CellReport]:
        """Cells that contributed code (wholly or in part)."""
        return [c for c in self.cells if c.status in ("kept", "partial")]

    @property
    def dropped(self) -> list[CellReport]:
        """Code cells left out, each with its reason."""
        return [c for c in self.cells if c.status == "dropped"]

    def explain(self) -> str:
        """One block per cell: kept or dropped, and why."""
        head = f"{self.source.name} -> {self.path} (target: {self.target})"
        lines = [head, *map(str, self.cells)]
        if self.parameters:
            lines.append(
                "parameters: " + ", ".join(f"{p.option} (env {p.env})" for p in self.parameters)
            )
        if self.environment:
            lines.append("environment: " + ", ".join(self.environment))
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"<ExportResult {self.path.name} target={self.target} kept={len(self.kept)} "
            f"dropped={len(self.dropped)}>"
        )


# -- imports -----------------------------------------------------------------------------


def _is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def _member_key(name: str) -> tuple[int, str, str]:
    kind = 0 if len(name) > 1 and name.isupper() else 1 if name[:1].isupper() else 2
    return (kind, name.lower(), name)


class Imports:
    """Import statements merged, pruned and rendered in isort order."""

    def __init__(self) -> None:
        self.plain: set[tuple[str, str | None]] = set()
        self.members: dict[tuple[int, str], set[tuple[str, str | None]]] = {}
        self.origin: dict[str, Stmt] = {}

    def add_node(self, node: ast.Import | ast.ImportFrom, used: set[str], stmt: Stmt) -> None:
        """Add the aliases of ``node`` whose names are in ``used``."""
        for alias in node.names:
            name = (alias.asname or alias.name).split(".")[0]
            if alias.name != "*" and name not in used:
                continue
            if isinstance(node, ast.Import):
                self.plain.add((alias.name, alias.asname))
                self.origin.setdefault(alias.name, stmt)
            else:
                module = node.module or ""
                self.add(module, alias.name, alias.asname, level=node.level)
                self.origin.setdefault(module, stmt)

    def add(self, module: str, name: str, asname: str | None = None, *, level: int = 0) -> None:
        """Add ``from module import name``."""
        self.members.setdefault((level, module), set()).add((name, asname))

    def modules(self) -> list[str]:
        """Every imported module (for the forbidden-import check)."""
        return [m for m, _ in self.plain] + [m for (lvl, m) in self.members if lvl == 0]

    def render(self) -> str:
        """The import block: future, standard library, third party, local; isort style."""
        sections: list[list[str]] = [[], [], [], []]

        def section(module: str, level: int) -> int:
            if level:
                return 3
            if module == "__future__":
                return 0
            return 1 if _is_stdlib(module) else 2

        straight: list[list[tuple[str, str]]] = [[], [], [], []]
        for module, asname in self.plain:
            text = f"import {module}" + (f" as {asname}" if asname else "")
            straight[section(module, 0)].append((module.lower(), text))
        froms: list[list[tuple[tuple[str, int, str, str], str]]] = [[], [], [], []]
        for (level, module), names in self.members.items():
            prefix = "." * level + module
            plain = sorted((n for n in names if n[1] is None), key=lambda n: _member_key(n[0]))
            aliased = sorted(
                (n for n in names if n[1] is not None), key=lambda n: _member_key(n[0])
            )
            index = section(module, level)
            if plain:
                text = _from_line(prefix, [n for n, _ in plain])
                froms[index].append(((prefix.lower(), *_member_key(plain[0][0])), text))
            for name, asname in aliased:
                text = _from_line(prefix, [f"{name} as {asname}"])
                froms[index].append(((prefix.lower(), *_member_key(name)), text))
        for i in range(4):
            sections[i] = [t for _, t in sorted(straight[i])] + [t for _, t in sorted(froms[i])]
        return "\n\n".join("\n".join(s) for s in sections if s)


def _from_line(module: str, names: list[str]) -> str:
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= LINE:
        return line
    return f"from {module} import (\n" + "".join(f"    {n},\n" for n in names) + ")"


# -- statements ----------------------------------------------------------------------------


def _range(stmt: Stmt) -> tuple[int, int]:
    node = stmt.node
    first = node.lineno
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        first = min([first, *(d.lineno for d in node.decorator_list)])
    return first, node.end_lineno or node.lineno


def _is_def(stmt: Stmt) -> bool:
    return isinstance(stmt.node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)


def _stmt_text(cell: CodeCell, stmt: Stmt, lines: list[str], exact: bool) -> str:
    first, last = _range(stmt)
    chunk = lines[first - 1 : last]
    starts = [0]
    for line in chunk:
        starts.append(starts[-1] + len(line) + 1)
    text = "\n".join(chunk)
    node = stmt.node
    cut_start = len(lines[first - 1].encode()[: node.col_offset].decode()) if exact else 0
    cut_end = starts[-2] + len(lines[last - 1].encode()[: node.end_col_offset or 0].decode())
    if not exact:
        cut_end = len(text)
    edits = [e for e in cell.edits if first <= e[0] and e[2] <= last]
    for l1, c1, l2, c2, rep in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        a, b = starts[l1 - first] + c1, starts[l2 - first] + c2
        text = text[:a] + rep + text[b:]
        cut_end += len(rep) - (b - a)
    return text[cut_start:cut_end].rstrip()


def _comments_above(lines: list[str], first: int, floor: int) -> list[str]:
    out: list[str] = []
    n = first - 1
    while n > floor and lines[n - 1].strip().startswith("#"):
        out.insert(0, lines[n - 1].strip())
        n -= 1
    return out


def _cell_code(cell: CodeCell) -> str:
    """The kept statements of a cell, with the comments directly above them."""
    lines = cell.source.split("\n")
    stmts = [s for s in cell.stmts if s.keep and not _import(s)]
    ranges = [_range(s) for s in cell.stmts]
    out: list[str] = []
    previous: Stmt | None = None
    prev_end = 0
    for stmt in stmts:
        i = cell.stmts.index(stmt)
        first, last = ranges[i]
        shares = (i > 0 and ranges[i - 1][1] == first) or (
            i + 1 < len(ranges) and ranges[i + 1][0] == last
        )
        floor = ranges[i - 1][1] if i > 0 else 0
        comments = [] if shares else _comments_above(lines, first, floor)
        if previous is not None:
            gap = lines[prev_end : first - 1 - len(comments)]
            if _is_def(stmt) or _is_def(previous):
                out.append("\n\n")
            elif any(not g.strip() for g in gap):
                out.append("\n")
        text = _stmt_text(cell, stmt, lines, exact=shares)
        out.append("\n".join([*comments, text]) + "\n")
        previous, prev_end = stmt, last
    return "".join(out).rstrip("\n")


def _import(stmt: Stmt) -> bool:
    return isinstance(stmt.node, ast.Import | ast.ImportFrom)


# -- literals -----------------------------------------------------------------------------


def _annotation(param: Param) -> str:
    if param.secret:
        return "str"
    value = param.value
    if value is None:
        return "str | None"
    return {bool: "bool", int: "int", float: "float", str: "str", list: "list", dict: "dict"}[
        type(value)
    ]


# -- the module ------------------------------------------------------------------------------


@dataclass
class Module:
    """The parts of a generated module; the prefect target adds to them."""

    selection: Selection
    target: str
    imports: Imports
    preamble: str
    cells: list[str]
    main_args: list[str]
    extra: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)

    def body(self) -> str:
        """Everything after the docstring."""
        parts = [self.preamble, *self.cells, *self.extra]
        main = call("main", self.main_args, indent=8)
        if len(f"    raise SystemExit({main})") <= LINE and "\n" not in main:
            footer = f"    raise SystemExit({main})"
        else:
            footer = f"    raise SystemExit(\n        {main}\n    )"
        footer = f'if __name__ == "__main__":\n{footer}'
        code = "\n\n\n".join(p for p in [*parts, footer] if p)
        return self.imports.render() + "\n\n" + code + "\n"


def _heading(selection: Selection, index: int) -> str | None:
    heading = None
    for cell in selection.notebook.cells[:index]:
        if cell.kind == "code" and cell.source.strip():
            heading = None
        elif cell.kind == "markdown":
            for line in cell.source.splitlines():
                if line.strip():
                    heading = line.lstrip("#").strip()
                    break
    return heading[:70] if heading else None


def _preamble(selection: Selection, target: str) -> str:
    hook = selection.webhook
    args = ["__name__", "doc=__doc__"]
    if target != "script":
        args.append(f"target={py_literal(target)}")
    if selection.params:
        rendered = []
        for p in selection.params:
            p_args = [py_literal(p.name), py_literal(p.value)]
            if p.secret:
                p_args.append("secret=True")
            if p.help:
                p_args.append(f"help={py_literal(p.help)}")
            rendered.append(call("Parameter", p_args, indent=8, prefix=1))
        args.append("parameters=[\n" + "".join(f"        {r},\n" for r in rendered) + "    ]")
    if hook.path != "/webhook":
        args.append(f"webhook_path={py_literal(hook.path)}")
    if hook.secret_env:
        args.append(f"webhook_secret_env={py_literal(hook.secret_env)}")
    lines = [f"{selection.cli} = " + call("Cli", args, prefix=len(selection.cli) + 3)]
    lines += [
        f"{p.name}: {_annotation(p)} = {selection.cli}.param({py_literal(p.name)})"
        for p in selection.params
    ]
    return "\n".join(lines)


def _check_imports(imports: Imports, target: str) -> None:
    forbidden = (*FORBIDDEN, "prefect") if target == "script" else FORBIDDEN
    for module in imports.modules():
        if any(module == f or module.startswith(f + ".") for f in forbidden):
            stmt = imports.origin.get(module)
            place = where(stmt.cell, stmt.line) if stmt else "a cell"
            raise ExportError(
                f"{place} imports {module}, which an exported script cannot use: it runs with "
                "only apinotebook's core (no Jupyter, widgets or sandbox). Move the code that "
                "needs it into a cell tagged no-export."
            )


def render(selection: Selection, target: str) -> Module:
    """Build the module parts for ``target`` from a selection."""
    kept = selection.kept()
    used: set[str] = set()
    for stmt in kept:
        if not _import(stmt):
            used |= stmt.loads()
    if any("os.environ" in e[4] for c in selection.cells for e in c.edits):
        used.add("os")
    imports = Imports()
    for stmt in kept:
        if isinstance(stmt.node, ast.Import | ast.ImportFrom):
            imports.add_node(stmt.node, used, stmt)
    if any("os.environ" in e[4] for c in selection.cells for e in c.edits):
        imports.plain.add(("os", None))
    _check_imports(imports, target)
    imports.add(RUNTIME, "Cli")
    imports.add(RUNTIME, "main")
    if selection.params:
        imports.add(RUNTIME, "Parameter")
    cells = []
    for cell in selection.cells:
        code = _cell_code(cell)
        if not code:
            continue
        heading = _heading(selection, cell.index)
        title = f"# -- cell {cell.index}" + (f": {heading}" if heading else "")
        cells.append(f"{title}\n{code}")
    main_args = [selection.integration, f"cli={selection.cli}"]
    if selection.webhook.extract:
        main_args.append(f"extract={selection.webhook.extract}")
    return Module(selection, target, imports, _preamble(selection, target), cells, main_args)


def docstring(module: Module, source: Path, environment: list[str], out_name: str) -> str:
    """The module docstring: where it came from and how to run it."""
    sel = module.selection
    title = (sel.notebook.title or f"The {source.stem} integration").rstrip()
    if not title.endswith((".", "!", "?")):
        title += "."  # a summary line is a sentence (pydocstyle D415)
    run = f"python {out_name}"
    if module.target == "script":
        commands = [
            f"{run} run                 # once: read, map, deliver, checkpoint",
            f"{run} run --dry-run --limit 20",
            f"{run} schedule --every 5m # or --cron '*/5 * * * *'",
        ]
        if sel.webhook.secret_env:  # only notebooks that receive webhooks
            commands.append(f"{run} serve --port 8765 --secret-env {sel.webhook.secret_env}")
        commands += [
            f"{run} replay              # retry the dead letters",
            f"{run} status --json",
        ]
    else:
        commands = module.commands
    lines = [
        *textwrap.wrap(title.replace('"""', "'''").replace("\\", "/"), LINE - 4),
        "",
        f"{MARKER}{source.name} by apinotebook {__version__} (target: {module.target}).",
        "Change the notebook and export it again rather than editing this file.",
        "",
        "Run it:",
        "",
        *(f"    {c}" for c in commands),
        "",
        "Add --help to any command for its options. Logs go to stderr (--log-format json for",
        "JSON lines). Exit codes: 0 ok, 1 some records failed (dead-lettered), 2 stopped.",
    ]
    if sel.params:
        lines += [
            "",
            "Options (command line, else environment variable, else the notebook's value):",
        ]
        for p in sel.params:
            default = "required, a secret" if p.secret else f"default {py_literal(p.value)}"
            lines.append(f"    {p.option:<20} env {p.env}, {default}"[: LINE - 4])
    if environment:
        lines += ["", "Environment:"]
        lines += textwrap.wrap(", ".join(environment), LINE - 4, initial_indent="    ",
                               subsequent_indent="    ")  # fmt: skip
    lines += ["", "Needs only the core package: pip install apinotebook"]
    if module.target == "prefect":
        lines[-1] = "Needs apinotebook and Prefect 3: pip install 'apinotebook[prefect]'"
    return '"""' + "\n".join(lines).strip() + '\n"""\n'


def find_ruff() -> str | None:
    """The ruff binary on PATH or beside the running Python, if there is one."""
    found = shutil.which("ruff")
    if found:
        return found
    beside = Path(sys.executable).parent / "ruff"
    return str(beside) if beside.exists() else None


def ruff_format(path: Path) -> bool:
    """Format ``path`` with ``ruff format`` (line length 100); False when ruff is missing."""
    ruff = find_ruff()
    if ruff is None:
        return False
    proc = subprocess.run(
        # --no-cache: no .ruff_cache in the caller's folder (a notebook's is the course)
        [
            ruff,
            "format",
            "--isolated",
            "--no-cache",
            "--line-length",
            str(LINE),
            "--quiet",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return proc.returncode == 0


def export_notebook(
    path: str | Path,
    out: str | Path | None = None,
    *,
    target: str = "script",
    format: bool = True,
    overwrite: bool = True,
) -> ExportResult:
    """Export an integration notebook as a standalone script or a Prefect flow.

    Args:
        path: the ``.ipynb`` file.
        out: the ``.py`` file to write (default: beside the notebook).
        target: ``"script"`` or ``"prefect"``.
        format: run ``ruff format`` on the result when ruff is installed.
        overwrite: replace an existing file only if it is an earlier export
            (``False``: never replace anything).

    Returns:
        an :class:`ExportResult` with every cell's fate and the output path.

    Raises:
        ConfigError: an unknown ``target``.
        ExportError: a broken notebook, no ``Integration``, a syntax error.
        LiteralSecretError: a kept cell holds a literal secret.
    """
    if target not in TARGETS:
        raise ConfigError.invalid_choice("target", target, TARGETS)
    source = Path(path)
    dest = Path(out) if out is not None else source.with_suffix(".py")
    if dest.resolve() == source.resolve():
        raise ExportError(f"the output {dest} would overwrite the notebook")
    if dest.exists():
        previous = dest.read_text(encoding="utf-8", errors="replace")[:2000]
        if not overwrite or MARKER not in previous:
            raise ExportError(
                f"{dest} exists and is not an earlier export: choose another -o path or "
                "delete it first"
            )
    selection = select(read_notebook(source))
    drop_notebook_only(selection)
    check_secrets(selection)
    module = render(selection, target)
    if target == "prefect":
        add_flow(module, dest.name)
    body = module.body()
    try:
        tree = ast.parse(body)
    except SyntaxError as exc:  # pragma: no cover - a bug in the exporter
        raise ExportError(f"the generated code does not parse ({exc}); please report it") from exc
    env = {*iter_env_names(tree), *(p.env for p in selection.params if p.secret)}
    if selection.webhook.secret_env:
        env.add(selection.webhook.secret_env)
    environment = sorted(env)
    text = docstring(module, source, environment, dest.name) + "\n" + body
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text, encoding="utf-8")
    formatted = ruff_format(dest) if format else False
    return ExportResult(
        source=source,
        path=dest,
        target=target,
        cells=selection.reports,
        parameters=selection.params,
        environment=environment,
        integration=selection.integration,
        warnings=selection.warnings,
        formatted=formatted,
    )
