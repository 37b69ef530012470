"""Which cells of a notebook become code in an exported script, and why.

Tags decide first: a cell tagged ``export`` is kept as written (IPython
syntax aside), ``no-export`` is left out, and the ``parameters`` cell
(papermill's convention) becomes command-line options. Every other code cell
is read statement by statement with :mod:`ast` (the notebook is never run):

- kept: imports (unused ones are pruned later), clients, constants,
  functions, the ``Integration`` and its decorated functions, and any other
  statement the integration needs;
- dropped, with a reason: widgets and displays (``display(...)``,
  ``Inspector(...)``, ``inspect(...)``, ``x.explore()``, ``print(...)``), a
  cell's trailing bare expression (its value was only shown), runs and
  triggers of the integration (``sync.run(...)``, ``replay()``, ``every()``,
  ``on_webhook()``...: the exported command line does those), sandbox
  start-up (``get_sandbox()``, ``Sandbox(...)``), IPython lines (``%pip``,
  ``!ls``, ``%time``), non-Python cell magics;
- then, until nothing changes: statements that use a name only dropped code
  defines are dropped too, and assignments and undecorated functions whose
  names nothing kept uses are exploration and dropped.

``sb.env["X"]``, ``sb.env.get(...)``, ``sb.urls["crm"]`` and ``sb.url`` on a
sandbox variable become ``os.environ[...]`` reads (``get_sandbox()`` exports
those variables, so the notebook and the script see the same values).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apinotebook._exceptions import ExportError, LiteralSecretError
from apinotebook.export._notebook import (
    CellReport,
    CodeCell,
    Notebook,
    Stmt,
    edit,
    prepare,
    rewrite_sandbox,
    where,
)
from apinotebook.export._secrets_scan import ALLOW_MARKER, is_placeholder, is_secret_name, preview
from apinotebook.export._syntax import bound, callee, const_str, kwarg, loads, root_name, walk_top

__all__ = ["RESERVED_OPTIONS", "Param", "Selection", "Webhook", "select"]

DISPLAY_CALLS = frozenset(
    {"display", "print", "pprint", "Inspector", "inspect", "HTML", "Markdown", "JSON",
     "Image", "clear_output", "show"}
)  # fmt: skip
EXPLORE_METHODS = frozenset(
    {"explore", "inspect", "show", "display", "head", "tail", "describe", "plot", "info",
     "to_frame", "timeline", "summary", "json", "sample", "to_html", "print_schema"}
)  # fmt: skip
SANDBOX_CALLS = frozenset({"get_sandbox", "Sandbox", "RemoteSandbox"})
#: Integration methods the exported command line runs instead (method -> the command)
TRIGGERS = {
    "run": "run",
    "dry_run": "run --dry-run",
    "replay": "replay",
    "every": "schedule",
    "cron": "schedule",
    "schedule": "schedule",
    "on_webhook": "serve",
    "serve": "serve",
    "process_events": "serve",
    "reset": "",
    "stop": "",
    "close": "",
    "dead_letters_frame": "",
}
#: a cell's last call is kept (not a displayed value) when it is one of these
MUTATORS = frozenset(
    {"update", "append", "extend", "add", "insert", "setdefault", "register", "subscribe",
     "basicConfig", "setLevel", "addHandler", "mkdir", "touch", "write_text", "write_bytes",
     "seed", "load_dotenv", "remove", "discard", "clear"}
)  # fmt: skip
#: options of the exported command line that a parameter may not shadow
RESERVED_OPTIONS = frozenset(
    {"help", "state", "log-format", "log-level", "dry-run", "limit", "json", "every", "cron",
     "host", "port", "path", "secret-env", "name", "interval", "work-pool", "version"}
)  # fmt: skip
IPYTHON_NAMES = frozenset({"display", "get_ipython", "In", "Out"})


@dataclass(frozen=True)
class Param:
    """A literal of the ``parameters`` cell: a command-line option with an env fallback."""

    name: str
    value: Any
    secret: bool
    cell: int
    line: int
    help: str = ""

    @property
    def option(self) -> str:
        """``--batch-size`` for ``BATCH_SIZE``."""
        return "--" + self.name.lower().replace("_", "-")

    @property
    def env(self) -> str:
        """``BATCH_SIZE`` for ``batch_size``."""
        return self.name.upper()


@dataclass
class Webhook:
    """What the notebook's ``on_webhook(...)``/``serve(...)`` call said, for ``serve``."""

    path: str = "/webhook"
    secret_env: str | None = None
    extract: str | None = None


@dataclass
class Selection:
    """The kept statements of every code cell, the parameters and the integration."""

    notebook: Notebook
    cells: list[CodeCell]
    reports: list[CellReport]
    params: list[Param]
    integration: str
    webhook: Webhook
    cli: str = "cli"
    warnings: list[str] = field(default_factory=list)

    def kept(self) -> list[Stmt]:
        """Kept statements in notebook order."""
        return [s for c in self.cells for s in c.stmts if s.keep]


# -- classification ------------------------------------------------------------------------


def _calls(node: ast.AST) -> list[ast.Call]:
    return [n for n in walk_top(node) if isinstance(n, ast.Call)]


def _trigger(node: ast.AST, integrations: set[str]) -> str | None:
    for call in _calls(node):
        func = call.func
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in integrations
            and func.attr in TRIGGERS
        ):
            what = f"{func.value.id}.{func.attr}()"
            dry = kwarg(call, "dry_run")
            if func.attr == "dry_run" or (isinstance(dry, ast.Constant) and dry.value):
                return f"dry run {what}: use the script's `run --dry-run`"
            command = TRIGGERS[func.attr]
            if command:
                return f"{what}: the script's `{command}` command does this"
            return f"notebook housekeeping: {what}"
    return None


def _sandbox(node: ast.stmt, sandboxes: set[str]) -> str | None:
    for call in _calls(node):
        if callee(call) in SANDBOX_CALLS:
            return f"sandbox start-up: {callee(call)}()"
    if isinstance(node, ast.Expr) and root_name(node.value) in sandboxes:
        return f"sandbox control: {root_name(node.value)}..."
    targets = node.targets if isinstance(node, ast.Assign) else []
    roots = [root_name(t) for t in targets]
    if isinstance(node, ast.Expr):
        roots.append(root_name(node.value))
    if "os" in roots and loads(node, top=True) & sandboxes:
        return "sandbox set-up (the script reads the real environment)"
    return None


def _display(node: ast.stmt) -> str | None:
    """Why a statement only shows something, if it does."""
    if isinstance(node, ast.Pass):
        return "pass"
    if isinstance(node, ast.Expr):
        value = node.value.value if isinstance(node.value, ast.Await) else node.value
        if isinstance(value, ast.Call):
            name = callee(value)
            if isinstance(value.func, ast.Name) and name in DISPLAY_CALLS:
                return f"display: {name}(...)"
            if isinstance(value.func, ast.Attribute) and name in EXPLORE_METHODS:
                return f"exploration: .{name}()"
            if name == "get_ipython" or "get_ipython" in loads(value):
                return "IPython call"
            return None
        return "bare expression (only displayed in the notebook)"
    if isinstance(node, ast.For | ast.AsyncFor | ast.While | ast.If | ast.With):
        body = [*node.body, *getattr(node, "orelse", [])]
        if body and all(_display(s) for s in body):
            return "display-only block"
    return None


def _classify(
    stmt: Stmt, *, trailing: bool, integrations: set[str], sandboxes: set[str], line_end: str
) -> str | None:
    node = stmt.node
    reason = _trigger(node, integrations) or _sandbox(node, sandboxes)
    if reason:
        return reason
    if trailing and isinstance(node, ast.Expr) and not line_end.rstrip().endswith(";"):
        value = node.value
        if isinstance(value, ast.Call):
            shown = _display(node)
            if shown or callee(value) in MUTATORS:
                return shown
        return "trailing expression (its value was only displayed)"
    reason = _display(node)
    if reason:
        return reason
    if any(isinstance(n, ast.Await) for n in walk_top(node)):
        raise ExportError(
            f"{where(stmt.cell, stmt.line)}: top-level 'await' runs in a notebook but not in a "
            "script: call the sync method, or tag the cell no-export"
        )
    return None


# -- parameters ----------------------------------------------------------------------------


def _json_like(value: Any) -> bool:
    if isinstance(value, bool | int | float | str) or value is None:
        return True
    if isinstance(value, list | tuple):
        return all(_json_like(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_like(v) for k, v in value.items())
    return False


def _param(stmt: Stmt, source_lines: list[str]) -> Param | None:
    node = stmt.node
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value_node = node.targets[0], node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value_node = node.target, node.value
    else:
        return None
    if not isinstance(target, ast.Name):
        return None
    try:
        value = ast.literal_eval(value_node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not _json_like(value):
        return None
    if isinstance(value, tuple):
        value = list(value)
    end = source_lines[(node.end_lineno or node.lineno) - 1][node.end_col_offset or 0 :]
    help_text = end.strip()[1:].strip() if end.strip().startswith("#") else ""
    secret = is_secret_name(target.id)
    allowed = ALLOW_MARKER in source_lines[node.lineno - 1]
    if secret and isinstance(value, str) and not is_placeholder(value) and not allowed:
        raise LiteralSecretError(
            f"{where(stmt.cell, stmt.line)}: the parameter {target.id} holds a literal secret "
            f"({preview(value)}). Leave it empty in the notebook and set the environment "
            f"variable {target.id.upper()} instead (or, if it is not a secret, end the line "
            f"with '# {ALLOW_MARKER}').",
            cell=stmt.cell,
            line=stmt.line,
        )
    param = Param(target.id, None if secret else value, secret, stmt.cell, stmt.line, help_text)
    if param.option[2:] in RESERVED_OPTIONS:
        raise ExportError(
            f"{where(stmt.cell, stmt.line)}: the parameter {target.id} would shadow the "
            f"script's own option {param.option}; rename it"
        )
    return param


# -- the notebook's integration, sandbox and webhook --------------------------------------


def _integration_names(cells: list[CodeCell]) -> set[str]:
    names = {"Integration"}
    for cell in cells:
        for node in ast.walk(cell.tree):
            if isinstance(node, ast.ImportFrom):
                names.update(a.asname for a in node.names if a.name == "Integration" and a.asname)
    return names


def _assigned_from(cells: list[CodeCell], test: Callable[[ast.Call], bool]) -> set[str]:
    out: set[str] = set()
    for cell in cells:
        for stmt in cell.stmts:
            node = stmt.node
            if isinstance(node, ast.Assign) and any(test(c) for c in _calls(node.value)):
                out.update(t.id for t in node.targets if isinstance(t, ast.Name))
            if isinstance(node, ast.With):
                for item in node.items:
                    if isinstance(item.optional_vars, ast.Name) and any(
                        test(c) for c in _calls(item.context_expr)
                    ):
                        out.add(item.optional_vars.id)
    return out


def _env_of(node: ast.AST | None, values: dict[str, ast.AST], depth: int = 0) -> str | None:
    """The environment variable an expression reads a secret from, if it is that simple."""
    if node is None or depth > 3:
        return None
    if isinstance(node, ast.Name) and node.id in values:
        return _env_of(values[node.id], values, depth + 1)
    if isinstance(node, ast.Subscript) and root_name(node) == "os":
        return const_str(node.slice)
    if isinstance(node, ast.Call) and callee(node) in ("from_env", "getenv", "get", "Secret"):
        arg = node.args[0] if node.args else None
        return const_str(arg) or _env_of(arg, values, depth + 1)
    return None


def _webhook(cells: list[CodeCell], integrations: set[str]) -> Webhook:
    values: dict[str, ast.AST] = {}
    for cell in cells:
        for stmt in cell.stmts:
            node = stmt.node
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    values[target.id] = node.value
    hook = Webhook()
    for cell in cells:
        for call in (c for s in cell.stmts for c in _calls(s.node)):
            func = call.func
            if not (
                isinstance(func, ast.Attribute)
                and func.attr in ("on_webhook", "serve")
                and root_name(func) in integrations
            ):
                continue
            hook.path = const_str(kwarg(call, "path", 0)) or hook.path
            hook.secret_env = _env_of(kwarg(call, "secret"), values) or hook.secret_env
            extract = kwarg(call, "extract")
            if isinstance(extract, ast.Name):
                hook.extract = extract.id
    return hook


def _state_edit(cell: CodeCell, call: ast.Call, cli: str) -> None:
    state = kwarg(call, "state")
    if state is not None:
        text = ast.get_source_segment(cell.source, state) or "None"
        edit(cell, state, f"{cli}.state_path({text})")
        return
    last = ([*call.args, *call.keywords] or [call.func])[-1]
    edit(cell, last, f", state={cli}.state_path()", empty_at_end=True)


# -- selection -----------------------------------------------------------------------------


def _prepare_all(nb: Notebook, reports: dict[int, CellReport]) -> tuple[list[CodeCell], set[str]]:
    code: list[CodeCell] = []
    magic_cells = []
    for cell in nb.cells:
        if cell.kind != "code":
            reports[cell.index] = CellReport(cell.index, cell.kind, "skipped", cell.kind)
        elif "no-export" in cell.tags:
            reports[cell.index] = CellReport(cell.index, "code", "dropped", "tagged no-export")
        elif not cell.source.strip():
            reports[cell.index] = CellReport(cell.index, "code", "skipped", "empty")
        elif cell.source.startswith(("%%rest", "%%graphql", "%%soap")):
            magic_cells.append(cell)
        else:
            prepared = prepare(cell, template=None)
            if isinstance(prepared, CellReport):
                reports[cell.index] = prepared
            else:
                code.append(prepared)
    defined = {name for c in code for node in c.tree.body for name in bound(node)}

    def template(name: str) -> str:
        head = name.split(".")[0]
        if head in defined:
            return f"reveal({name})" if is_secret_name(head) else name
        if "." in name:
            raise ExportError(f"{{{{{name}}}}} names {head!r}, which the notebook does not define")
        return f"os.environ[{name!r}]"

    for cell in magic_cells:
        prepared = prepare(cell, template=template)
        if isinstance(prepared, CellReport):
            reports[cell.index] = prepared
        else:
            code.append(prepared)
    code.sort(key=lambda c: c.index)
    for c in code:
        c.stmts = [Stmt(c.index, node, c.offset, forced=c.forced) for node in c.tree.body]
    return code, defined


def _dead_code(cells: list[CodeCell], always_used: set[str], params: set[str]) -> None:
    """Cascade drops and remove unused definitions until nothing changes."""
    stmts = [s for c in cells for s in c.stmts]
    while True:
        kept = [s for s in stmts if s.keep]
        kept_bound = {n for s in kept for n in bound(s.node)} | params
        dropped_only = {n for s in stmts if not s.keep for n in bound(s.node)} - kept_bound
        changed = False
        for s in kept:
            missing = sorted(s.loads(top=True) & dropped_only)
            if missing and not s.forced:
                s.keep, s.reason = False, f"uses {', '.join(missing)}, which is not exported"
                changed = True
        used = set(always_used)
        for s in (s for s in stmts if s.keep):
            used |= s.loads()
        for s in (s for s in stmts if s.keep and not s.forced):
            node = s.node
            names = bound(node)
            simple = (
                isinstance(node, ast.Assign)
                and all(isinstance(t, ast.Name | ast.Tuple) for t in node.targets)
            ) or (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name))
            definition = isinstance(node, _DEF_TYPES) and not node.decorator_list
            if (simple or definition) and names and not names & used:
                s.keep = False
                s.reason = f"exploration: {', '.join(sorted(names))} is not used by the integration"
                changed = True
        if not changed:
            return


_DEF_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _unused_imports(cells: list[CodeCell]) -> None:
    """Drop import statements none of whose names the kept code uses."""
    kept = [s for c in cells for s in c.stmts if s.keep]
    used = {
        n for s in kept if not isinstance(s.node, ast.Import | ast.ImportFrom) for n in s.loads()
    }
    if any("os.environ" in e[4] for c in cells for e in c.edits):
        used.add("os")
    for s in kept:
        if isinstance(s.node, ast.Import | ast.ImportFrom) and not bound(s.node) & used:
            if any(a.name == "*" for a in s.node.names):
                continue
            s.keep, s.reason = False, "import not used by the exported code"


def _report(cell: CodeCell) -> CellReport:
    stmts = cell.stmts
    if cell.magic:  # the imports were added for the generated call
        stmts = [s for s in stmts if not isinstance(s.node, ast.Import | ast.ImportFrom)]
    kept = [s for s in stmts if s.keep and not isinstance(s.node, ast.Pass)]
    dropped = [s for s in stmts if not s.keep]
    details = [f"line {n + cell.offset}: {r}" for n, r in sorted(cell.removed.items())]
    details += [
        ("" if cell.magic else f"line {s.line}: ") + f"dropped: {s.reason}"
        for s in dropped
        if s.reason != "pass"
    ]
    label = f"%%{cell.magic} → client call" if cell.magic else "code"
    if cell.forced:
        return CellReport(cell.index, "code", "kept", "tagged export", details)
    if not kept:
        reasons = sorted({s.reason for s in dropped if s.reason != "pass"})
        reason = "; ".join(reasons) or (details[0].split(": ", 1)[1] if details else "no code")
        return CellReport(
            cell.index, "code", "dropped", reason, details if len(details) > 1 else []
        )
    status = "partial" if details else "kept"
    return CellReport(cell.index, "code", status, label, details)


def select(nb: Notebook) -> Selection:
    """Decide, statement by statement, what the exported script keeps.

    Raises:
        ExportError: no (or more than one) ``Integration``, a syntax error,
            a bad magic cell, a parameter that clashes with an option.
        LiteralSecretError: a secret-named parameter holds a literal value.
    """
    reports: dict[int, CellReport] = {}
    cells, defined = _prepare_all(nb, reports)
    cli = "cli" if "cli" not in defined else "export_cli"
    params: list[Param] = []
    for cell in (c for c in cells if "parameters" in c.cell.tags):
        lines = cell.source.split("\n")
        for stmt in cell.stmts:
            param = _param(stmt, lines)
            if param is not None:
                params.append(param)
                stmt.keep, stmt.reason = False, f"parameter → {param.option}"
    integration_calls = _integration_names(cells)

    def is_integration(call: ast.Call) -> bool:
        return isinstance(call.func, ast.Name | ast.Attribute) and callee(call) in (
            integration_calls
        )

    integrations = _assigned_from(cells, is_integration)
    sandboxes = _assigned_from(
        cells, lambda c: callee(c) in SANDBOX_CALLS or root_name(c.func) in SANDBOX_CALLS
    )
    webhook = _webhook(cells, integrations)
    for cell in cells:
        lines = cell.source.split("\n")
        real = [s for s in cell.stmts if not isinstance(s.node, ast.Pass)]
        for stmt in cell.stmts:
            if not stmt.keep:
                continue
            if stmt.forced:
                stmt.reason = "tagged export"
                continue
            end = lines[(stmt.node.end_lineno or stmt.node.lineno) - 1]
            reason = _classify(
                stmt,
                trailing=bool(real) and stmt is real[-1],
                integrations=integrations,
                sandboxes=sandboxes,
                line_end=end,
            )
            if reason:
                stmt.keep, stmt.reason = False, reason
        for stmt in cell.stmts:
            if stmt.keep and sandboxes:
                rewrite_sandbox(cell, stmt, sandboxes)
    always = set(integrations) | ({webhook.extract} if webhook.extract else set())
    _dead_code(cells, always, {p.name for p in params})
    _unused_imports(cells)

    found = [
        (cell, stmt, call)
        for cell in cells
        for stmt in cell.stmts
        if stmt.keep
        for call in (n for n in ast.walk(stmt.node) if isinstance(n, ast.Call))
        if is_integration(call)
    ]
    if not found:
        raise ExportError(
            f"{nb.path.name} is not an integration notebook: define Integration(...) in a cell "
            "(from apinotebook.integration import Integration) and export again"
        )
    if len(found) > 1:
        places = ", ".join(where(s.cell, s.line) for _, s, _ in found)
        raise ExportError(
            f"{nb.path.name} defines {len(found)} integrations ({places}); an export holds "
            "exactly one: tag the cells of the others no-export"
        )
    cell, stmt, call = found[0]
    node = stmt.node
    if not (
        isinstance(node, ast.Assign)
        and node.value is call
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
    ):
        raise ExportError(
            f"{where(stmt.cell, stmt.line)}: assign the integration to a variable at the top "
            "level of the cell (sync = Integration(...)) so the script can run it"
        )
    _state_edit(cell, call, cli)
    selection = Selection(nb, cells, [], params, node.targets[0].id, webhook, cli)
    selection.warnings = _warnings(selection)
    by_index = {c.index: _report(c) for c in cells}
    for cell in cells:
        if "parameters" in cell.cell.tags and params:
            names = ", ".join(p.option for p in params if p.cell == cell.index)
            report = by_index[cell.index]
            report.status = "parameters" if report.status == "dropped" else report.status
            report.reason = f"parameters → {names}"
    reports.update(by_index)
    selection.reports = [reports[i] for i in sorted(reports)]
    return selection


def _warnings(selection: Selection) -> list[str]:
    stmts = [s for c in selection.cells for s in c.stmts]
    kept_bound = {n for s in stmts if s.keep for n in bound(s.node)}
    kept_bound |= {p.name for p in selection.params}
    dropped_only = {n for s in stmts if not s.keep for n in bound(s.node)} - kept_bound
    missing = dropped_only | (IPYTHON_NAMES - kept_bound)
    warnings = []
    for s in (s for s in stmts if s.keep):
        names = sorted(s.loads() & missing)
        if names:
            warnings.append(
                f"{where(s.cell, s.line)} uses {', '.join(names)}, which the exported script "
                "does not define: tag the cell that defines it 'export', or change the code"
            )
    return warnings
