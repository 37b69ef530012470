"""Leave out the code that only runs in a notebook: plots, widgets, IPython.

A course notebook draws a chart with matplotlib or shows a widget beside the
integration. The script runs on a server with only apinotebook's core, so the
imports of those packages are left out together with the statements that use
them, as long as the statements only draw or show something:

- a name imported from a notebook-only package is *notebook-only*, and so is
  every name bound by a kept statement that reads one (``fig, ax =
  plt.subplots()``, ``for ...: ax.scatter(...)``): the taint follows the data;
- a statement that reads a notebook-only name is dropped when all it does is
  bind names, call a method of a notebook-only object, or run a block made of
  such statements (``print`` included);
- anything else that reads one — a call of kept code with a figure as its
  argument, the integration, a cell tagged ``export`` — is refused with an
  :class:`~apinotebook.ExportError` naming the cell and line, since dropping it
  would change what the script does.

The dead code left behind (the data only the chart used, its imports) is then
pruned by the same rules as any other unused definition.
"""

from __future__ import annotations

import ast

from apinotebook._exceptions import ExportError
from apinotebook.export._cells import (
    Selection,
    _dead_code,
    _report,
    _unused_imports,
    _warnings,
)
from apinotebook.export._notebook import Stmt, where
from apinotebook.export._syntax import bound, root_name

__all__ = ["NOTEBOOK_ONLY", "drop_notebook_only"]

#: packages whose code only makes sense in a notebook (plots, widgets, the kernel)
NOTEBOOK_ONLY = (
    "IPython", "ipywidgets", "anywidget", "ipykernel", "jupyter", "jupyterlab",
    "jupyter_client", "nbformat", "nbclient", "nbconvert", "papermill", "matplotlib",
    "mpl_toolkits", "ipympl", "seaborn", "plotly", "bokeh", "altair", "ipyleaflet",
    "ipydatagrid", "itables", "apinotebook.widgets", "apinotebook.magics",
)  # fmt: skip
_HARMLESS_CALLS = frozenset({"print", "display"})
_BINDS = (ast.Assign, ast.AnnAssign, ast.AugAssign)
_BLOCKS = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.With, ast.AsyncWith)


def is_notebook_only(module: str) -> bool:
    """Whether ``module`` (dotted) belongs to a notebook-only package."""
    return any(module == p or module.startswith(p + ".") for p in NOTEBOOK_ONLY)


def _imported(stmt: Stmt) -> dict[str, str]:
    """Names a kept import statement binds from notebook-only modules -> the module."""
    node = stmt.node
    out: dict[str, str] = {}
    if isinstance(node, ast.Import):
        for alias in node.names:
            if is_notebook_only(alias.name):
                out[(alias.asname or alias.name).split(".")[0]] = alias.name
    elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
        if is_notebook_only(node.module):
            for alias in node.names:
                if alias.name != "*":
                    out[alias.asname or alias.name] = node.module
    return out


def _only_draws(node: ast.stmt, tainted: set[str]) -> bool:
    """Whether dropping ``node`` leaves out nothing but drawing and showing."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return not node.decorator_list  # a decorator registers it somewhere: an effect
    if isinstance(node, ast.Pass | ast.Break | ast.Continue | ast.Import | ast.ImportFrom):
        return True
    if isinstance(node, _BINDS):
        return True
    if isinstance(node, ast.Expr):
        value = node.value
        if isinstance(value, ast.Call):
            root = root_name(value.func)
            if root in tainted:  # ax.scatter(...), plt.show(), fig.savefig(...)
                return True
            return isinstance(value.func, ast.Name) and value.func.id in _HARMLESS_CALLS
        return isinstance(value, ast.Constant | ast.Name | ast.Attribute)
    if isinstance(node, _BLOCKS):
        body = [*node.body, *getattr(node, "orelse", [])]
        return all(_only_draws(s, tainted) for s in body)
    return False


def module_reads(node: ast.AST, *, skip: set[int] | None = None) -> set[str]:
    """Names ``node`` reads from the module's scope.

    Unlike reading every ``Name``, a function's parameters and locals, and a
    comprehension's variables, are not the module's names: ``def f(row):
    return row`` does not read a module-level ``row``. ``skip``: ids of ``Name``
    nodes the export rewrote away.
    """
    out: set[str] = set()

    def visit(n: ast.AST, local: frozenset[str]) -> None:
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            args = n.args
            outside: list[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d)]
            if not isinstance(n, ast.Lambda):
                outside += n.decorator_list
            for expr in outside:
                visit(expr, local)
            params = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
            params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
            body: list[ast.AST] = list(n.body) if isinstance(n.body, list) else [n.body]
            inner = local | params | {m for b in body for m in _stored(b)}
            for b in body:
                visit(b, frozenset(inner))
            return
        if isinstance(n, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            targets = {m for g in n.generators for m in _stored(g.target)}
            inner = frozenset(local | targets)
            for i, gen in enumerate(n.generators):
                visit(gen.iter, local if i == 0 else inner)
                for cond in gen.ifs:
                    visit(cond, inner)
            parts = [n.key, n.value] if isinstance(n, ast.DictComp) else [n.elt]
            for part in parts:
                visit(part, inner)
            return
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in local:
            if id(n) in (skip or ()):
                return
            out.add(n.id)
        for child in ast.iter_child_nodes(n):
            visit(child, local)

    visit(node, frozenset())
    return out


def _stored(node: ast.AST) -> set[str]:
    return {
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }


def drop_notebook_only(selection: Selection) -> None:
    """Drop notebook-only imports and the statements that only use them, in place.

    Raises:
        ExportError: code the script must keep uses a notebook-only name.
    """
    stmts = [s for c in selection.cells for s in c.stmts if s.keep]
    source: dict[str, str] = {}  # tainted name -> the notebook-only module behind it
    imported_at: dict[str, Stmt] = {}  # module -> the statement importing it
    dropped: dict[int, str] = {}  # id(stmt) -> reason
    for stmt in stmts:
        names = _imported(stmt)
        for module in names.values():
            imported_at.setdefault(module, stmt)
        source.update(names)
        if names and set(names) >= bound(stmt.node):
            modules = ", ".join(sorted(set(names.values())))
            dropped[id(stmt)] = f"notebook-only import ({modules})"
        # `import os, matplotlib`: the unused notebook-only alias is pruned on rendering
    if not source:
        return
    code = [s for s in stmts if not isinstance(s.node, ast.Import | ast.ImportFrom)]
    reads = {id(s): module_reads(s.node, skip=s.skip) for s in code}
    uses_of: dict[int, list[str]] = {}
    changed = True
    while changed:  # the taint only grows, so this ends
        changed = False
        for stmt in code:
            uses = sorted(reads[id(stmt)] & set(source))
            if uses and id(stmt) not in uses_of:
                uses_of[id(stmt)] = uses
                changed = True
        clean_bound = {n for s in code if id(s) not in uses_of for n in bound(s.node)}
        for stmt in code:
            if id(stmt) in uses_of:
                for name in bound(stmt.node) - clean_bound - set(source):
                    # a name also bound by clean code (a loop variable, say) stays clean
                    source[name] = source[uses_of[id(stmt)][0]]
                    changed = True
    tainted_stmts = [(s, uses_of[id(s)]) for s in code if id(s) in uses_of]
    needed = {selection.integration, selection.webhook.extract}
    tainted = set(source)
    for stmt, uses in tainted_stmts:
        must_keep = stmt.forced or bool(bound(stmt.node) & needed)
        modules = ", ".join(sorted({source[n] for n in uses}))
        if must_keep or not _only_draws(stmt.node, tainted):
            first = imported_at[source[uses[0]]]
            raise ExportError(
                f"{where(first.cell, first.line)} imports {source[uses[0]]}, which only runs in "
                f"a notebook, and {where(stmt.cell, stmt.line)} uses {', '.join(uses)} "
                f"({modules}) in code the exported script must keep: move the plotting or "
                "display into a cell of its own (it is then left out), or tag the cell no-export"
            )
        dropped[id(stmt)] = f"notebook-only: uses {', '.join(uses)} ({modules})"
    changed_cells = set()
    for stmt in stmts:
        if id(stmt) in dropped:
            stmt.keep, stmt.reason = False, dropped[id(stmt)]
            changed_cells.add(stmt.cell)
    before = {id(s) for s in stmts}
    always = {n for n in needed if n}
    _dead_code(selection.cells, always, {p.name for p in selection.params})
    _unused_imports(selection.cells)
    changed_cells |= {s.cell for s in stmts if id(s) in before and not s.keep}
    reports = {r.index: r for r in selection.reports}
    for cell in selection.cells:
        if cell.index in changed_cells and "parameters" not in cell.cell.tags:
            reports[cell.index] = _report(cell)
    selection.reports = [reports[i] for i in sorted(reports)]
    selection.warnings = _warnings(selection)
