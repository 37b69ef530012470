"""Read a notebook and turn each code cell into Python statements, without running it.

A notebook file is JSON (nbformat 4): this module reads it with the standard
library, so exporting needs only the core. Each code cell becomes a
:class:`CodeCell`: IPython-only lines (``%pip``, ``!ls``, ``%time``,
``obj?``) are replaced by ``pass`` in place so line numbers stay those of the
notebook; cell magics are handled whole (``%%rest``, ``%%graphql`` and
``%%soap`` become client calls through :func:`apinotebook._core.cellsyntax.to_python`;
``%%time`` and ``%%capture`` keep their code; ``%%bash``, ``%%html``... are
dropped with a reason); then the cell is parsed with :mod:`ast`. Which
statements an exported script needs is decided in
:mod:`apinotebook.export._cells`; the small AST helpers and source edits both
use live here.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from apinotebook._core.cellsyntax import MagicSyntaxError, parse_cell, to_python
from apinotebook._exceptions import ExportError
from apinotebook.export._syntax import const_str, loads

__all__ = [
    "Cell",
    "CellReport",
    "CodeCell",
    "Notebook",
    "Stmt",
    "clean_ipython",
    "edit",
    "prepare",
    "read_notebook",
    "rewrite_sandbox",
    "where",
]

#: cell magics whose body is Python: the code is kept, the magic dropped
PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun"})
#: cell magics that run client calls, converted by _cellsyntax
CLIENT_CELL_MAGICS = ("rest", "graphql", "soap")

_LINE_MAGIC = re.compile(r"^\s*(%|!|\?\??[A-Za-z_])")
_ASSIGN_MAGIC = re.compile(r"^\s*[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")
_HELP_SUFFIX = re.compile(r"^\s*[A-Za-z_][\w.\[\]()'\"]*\?\??\s*$")


@dataclass(frozen=True)
class Cell:
    """One notebook cell as stored: its index in the file, type, text and tags."""

    index: int
    kind: str
    source: str
    tags: frozenset[str] = frozenset()


@dataclass
class CellReport:
    """What the export did with one cell, and why (``--explain`` prints these).

    ``status`` is ``"kept"`` (every statement), ``"partial"`` (some lines
    dropped, listed in ``details``), ``"dropped"``, ``"parameters"`` (became
    command-line options) or ``"skipped"`` (markdown and raw cells).
    """

    index: int
    kind: str
    status: str
    reason: str
    details: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        head = f"cell {self.index:>3} {self.kind:<8} {self.status:<10} {self.reason}"
        return "\n".join([head, *(f"{'':>25}- {d}" for d in self.details)])


@dataclass
class Notebook:
    """The cells of a notebook file and its title (the first markdown heading)."""

    path: Path
    cells: list[Cell]
    title: str | None = None


@dataclass(eq=False)
class Stmt:
    """A top-level statement of a code cell and the decision about it."""

    cell: int
    node: ast.stmt
    offset: int
    keep: bool = True
    reason: str = ""
    forced: bool = False
    #: ids of ``Name`` nodes rewritten away (sandbox lookups become os.environ)
    skip: set[int] = field(default_factory=set)

    def loads(self, *, top: bool = False) -> set[str]:
        """Names the statement reads (see :func:`loads`), minus rewritten ones."""
        return loads(self.node, top=top, skip=self.skip)

    @property
    def line(self) -> int:
        """The statement's first line in the notebook cell (1-based)."""
        return self.node.lineno + self.offset


@dataclass(eq=False)
class CodeCell:
    """A code cell as Python: ``source`` is what ``tree`` was parsed from."""

    cell: Cell
    source: str
    tree: ast.Module
    offset: int = 0
    stmts: list[Stmt] = field(default_factory=list)
    #: why lines were removed before parsing (IPython syntax), by source line
    removed: dict[int, str] = field(default_factory=dict)
    #: generated from a %%rest / %%graphql / %%soap cell
    magic: str | None = None
    forced: bool = False
    #: (start line, start col, end line, end col, replacement) in ``source`` coordinates
    edits: list[tuple[int, int, int, int, str]] = field(default_factory=list)

    @property
    def index(self) -> int:
        """The cell's index in the notebook."""
        return self.cell.index


def where(cell: int, line: int | None = None) -> str:
    """``cell 4, line 2`` for messages (the index in the notebook, the line in the cell)."""
    return f"cell {cell}" + (f", line {line}" if line is not None else "")


# -- reading -----------------------------------------------------------------------------


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(v) for v in value)
    return value if isinstance(value, str) else ""


def read_notebook(path: str | Path) -> Notebook:
    """Read an ``.ipynb`` file (nbformat 4) with the standard library.

    Raises:
        ExportError: the file is missing, not JSON, not nbformat 4, or not Python.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot read the notebook {str(path)!r}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ExportError(f"{path.name} is not a notebook: it is not UTF-8 text") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ExportError(
            f"{path.name} is not a notebook: it is not valid JSON ({exc}). "
            "Open it in Jupyter and save it again."
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ExportError(f"{path.name} is not a notebook: it has no list of 'cells'")
    version = data.get("nbformat")
    if version != 4:
        raise ExportError(
            f"{path.name} is in nbformat {version!r}; only nbformat 4 is supported. "
            "Open it in a current Jupyter and save it again."
        )
    meta: dict[str, Any] = data["metadata"] if isinstance(data.get("metadata"), dict) else {}
    kernel = meta.get("kernelspec") if isinstance(meta.get("kernelspec"), dict) else {}
    info = meta.get("language_info") if isinstance(meta.get("language_info"), dict) else {}
    language = (kernel or {}).get("language") or (info or {}).get("name")
    if language and str(language).lower() != "python":
        raise ExportError(f"{path.name} is a {language} notebook; only Python can be exported")
    cells: list[Cell] = []
    title: str | None = None
    for index, raw_cell in enumerate(data["cells"]):
        if not isinstance(raw_cell, dict):
            raise ExportError(f"{path.name}: {where(index)} is not a JSON object")
        kind = str(raw_cell.get("cell_type", ""))
        source = _text(raw_cell.get("source", ""))
        tags = (raw_cell.get("metadata") or {}).get("tags") or []
        cells.append(Cell(index, kind, source, frozenset(str(t) for t in tags)))
        if title is None and kind == "markdown":
            for line in source.splitlines():
                if line.startswith("#"):
                    title = line.lstrip("#").strip() or None
                    break
    return Notebook(path, cells, title)


# -- IPython syntax ------------------------------------------------------------------------


def _ipython_line(line: str) -> str | None:
    """Why ``line`` is IPython syntax rather than Python, if it is."""
    stripped = line.strip()
    if _ASSIGN_MAGIC.match(line):
        return f"IPython assignment from a magic or shell command: {stripped[:60]}"
    if _HELP_SUFFIX.match(line) and not stripped.startswith(("%", "!")):
        return f"IPython help: {stripped[:60]}"
    if not _LINE_MAGIC.match(line):
        return None
    if stripped.startswith("!"):
        return f"shell command: {stripped[:60]}"
    if stripped.startswith("?"):
        return f"IPython help: {stripped[:60]}"
    name = stripped[1:].split(None, 1)[0] if len(stripped) > 1 else ""
    if name in ("pip", "conda"):
        return f"package install: {stripped[:60]}"
    return f"IPython line magic %{name}"


def _compile(source: str) -> ast.Module:
    flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    return cast(ast.Module, compile(source, "<cell>", "exec", flags=flags, dont_inherit=True))


def _parse(source: str, cell: int, offset: int) -> ast.Module:
    try:
        return _compile(source)
    except SyntaxError as exc:
        line = (exc.lineno or 1) + offset
        raise ExportError(
            f"{where(cell, line)}: syntax error: {exc.msg}. Fix the cell in the notebook "
            "(or tag it no-export) and export again."
        ) from None


def clean_ipython(
    source: str, cell: int, offset: int = 0
) -> tuple[str, ast.Module, dict[int, str]]:
    """Replace IPython-only lines by ``pass``; return the source, its tree and what was removed.

    A candidate line that turns out to be inside a string (or a bracket) is
    restored, so ``"%d" % n`` continuation lines and docstrings are safe.
    """
    lines = source.split("\n")
    removed: dict[int, str] = {}
    for number, line in enumerate(lines, start=1):
        reason = _ipython_line(line)
        if reason:
            removed[number] = reason
    if not removed:
        return source, _parse(source, cell, offset), removed

    def replaced(which: dict[int, str]) -> str:
        out = list(lines)
        for number in which:
            indent = lines[number - 1][: len(lines[number - 1]) - len(lines[number - 1].lstrip())]
            out[number - 1] = f"{indent}pass"
        return "\n".join(out)

    text = replaced(removed)
    try:
        tree = _compile(text)
    except SyntaxError:
        try:  # the candidates were Python after all (continuation lines)
            return source, _parse(source, cell, offset), {}
        except ExportError:
            tree = _parse(text, cell, offset)  # raises with the line of the real error
    passes = {n.lineno for n in ast.walk(tree) if isinstance(n, ast.Pass)}
    inside = {n for n in removed if n not in passes}
    if inside:  # inside a string: put the line back
        removed = {n: r for n, r in removed.items() if n not in inside}
        text = replaced(removed)
        tree = _parse(text, cell, offset)
    return text, tree, removed


# -- generated client calls ---------------------------------------------------------------

LINE = 100


def _dq(text: str) -> str:
    """String content for a double-quoted literal."""
    return json.dumps(text, ensure_ascii=False)[1:-1]


def _lines_of(node: ast.Constant | ast.JoinedStr) -> list[list[Any]]:
    """A string or f-string's parts (text and fields), grouped by source line."""
    parts: list[Any]
    if isinstance(node, ast.Constant):
        parts = [node.value]
    else:
        parts = [v.value if isinstance(v, ast.Constant) else v for v in node.values]
    lines: list[list[Any]] = [[]]
    for part in parts:
        if not isinstance(part, str):
            lines[-1].append(part)
            continue
        for piece in part.splitlines(keepends=True):
            lines[-1].append(piece)
            if piece.endswith("\n"):
                lines.append([])
    return [line for line in lines if line]


def _literal(parts: list[Any]) -> str:
    fields = any(not isinstance(p, str) for p in parts)
    body = ""
    for p in parts:
        if isinstance(p, str):
            body += _dq(p).replace("{", "{{").replace("}", "}}") if fields else _dq(p)
        else:
            conversion = f"!{chr(p.conversion)}" if p.conversion > 0 else ""
            body += "{" + ast.unparse(p.value) + conversion + "}"
    return ("f" if fields else "") + f'"{body}"'


def expr(node: ast.AST) -> str:
    """Render an expression with double-quoted strings (the formatter's style)."""
    if isinstance(node, ast.Constant | ast.JoinedStr) and (
        isinstance(node, ast.JoinedStr) or isinstance(node.value, str)
    ):
        return _literal([p for line in _lines_of(node) for p in line])
    if isinstance(node, ast.Dict):
        items = ", ".join(
            f"{expr(k)}: {expr(v)}" if k is not None else f"**{expr(v)}"
            for k, v in zip(node.keys, node.values, strict=True)
        )
        return "{" + items + "}"
    if isinstance(node, ast.List):
        return "[" + ", ".join(expr(e) for e in node.elts) + "]"
    return ast.unparse(node)


def _argument(prefix: str, value: ast.AST) -> str:
    """One argument of an exploded call, itself exploded if it is too long."""
    flat = prefix + expr(value)
    if len(flat) + 5 <= LINE:
        return flat
    if isinstance(value, ast.Constant | ast.JoinedStr) and not (
        isinstance(value, ast.Constant) and not isinstance(value.value, str)
    ):
        lines = _lines_of(value)
        if len(lines) > 1:
            pad = "\n        " if prefix else "\n    "
            joined = pad.join(_literal(line) for line in lines)
            return f"{prefix}(\n        {joined}\n    )" if prefix else joined
    if isinstance(value, ast.Dict) and value.keys:
        items = "".join(
            f"        {expr(k) + ': ' if k is not None else '**'}{expr(v)},\n"
            for k, v in zip(value.keys, value.values, strict=True)
        )
        return prefix + "{\n" + items + "    }"
    return flat


def render_call(code: str) -> str:
    """Lay a generated ``x = client.method(...)`` out the way the formatter would.

    On one line if it fits in 100 columns, else one argument per line;
    multi-line strings that do not fit (GraphQL documents, request bodies)
    become implicitly concatenated literals, one line each.
    """
    tree = ast.parse(code)
    node = tree.body[0] if len(tree.body) == 1 else None
    if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
        return code
    call = node.value
    items = [(f"{k.arg}=" if k.arg else "**", k.value) for k in call.keywords]
    items = [("", a) for a in call.args] + items
    head = f"{ast.unparse(node.targets[0])} = {ast.unparse(call.func)}("
    flat = head + ", ".join(p + expr(v) for p, v in items) + ")"
    if len(flat) <= LINE:
        return flat
    return head + "\n" + "".join(f"    {_argument(p, v)},\n" for p, v in items) + ")"


# -- cells -----------------------------------------------------------------------------------


def _cell_magic(cell: Cell) -> tuple[str, str, str] | None:
    first, _, body = cell.source.partition("\n")
    if not first.startswith("%%"):
        return None
    name, _, line = first[2:].partition(" ")
    return name.strip(), line.strip(), body


def prepare(cell: Cell, *, template: Any) -> CodeCell | CellReport:
    """Turn a code cell into Python, or say why it cannot be code.

    Args:
        cell: the notebook cell.
        template: ``expr(name) -> str`` for ``{{name}}`` in client magics.
    """
    forced = "export" in cell.tags
    magic = _cell_magic(cell)
    if magic is None:
        text, tree, removed = clean_ipython(cell.source, cell.index)
        return CodeCell(cell, text, tree, 0, removed=removed, forced=forced)
    name, line, body = magic
    if name in PYTHON_CELL_MAGICS:
        text, tree, removed = clean_ipython(body, cell.index, offset=1)
        return CodeCell(cell, text, tree, 1, removed=removed, forced=forced)
    if name in CLIENT_CELL_MAGICS:
        try:
            parsed = parse_cell(name, line, body)  # type: ignore[arg-type]
            code = to_python(parsed, template)
        except MagicSyntaxError as exc:
            at = exc.line + 1 if exc.line is not None else 1
            message = str(exc).split(" (line ")[0]
            raise ExportError(f"{where(cell.index, at)}: %%{name}: {message}") from None
        except ExportError as exc:
            raise ExportError(f"{where(cell.index)}: %%{name}: {exc}") from None
        code = render_call(code)
        header = ["import os"] if "os.environ" in code else []
        if "RestClient()" in code:
            header.append("from apinotebook import RestClient")
        if "reveal(" in code:
            header.append("from apinotebook.export.runtime import reveal")
        source = "\n".join([*header, code])
        tree = _parse(source, cell.index, 0)
        return CodeCell(cell, source, tree, 0, magic=name, forced=forced)
    what = "a benchmark" if name.startswith("timeit") else f"not Python (%%{name})"
    if name == "writefile":
        what = "writes a file when run (%%writefile)"
    return CellReport(cell.index, "code", "dropped", what)


URL_ENV = {("billing",): "BILLING_WSDL", ("fares", "aerocorp"): "FARES_AEROCORP_WSDL"}


# -- edits ---------------------------------------------------------------------------------


def _char_col(source_lines: list[str], line: int, col: int) -> int:
    return len(source_lines[line - 1].encode()[:col].decode("utf-8", "replace"))


def edit(cell: CodeCell, node: ast.AST, replacement: str, *, empty_at_end: bool = False) -> None:
    lines = cell.source.split("\n")
    start = (node.lineno, _char_col(lines, node.lineno, node.col_offset))  # type: ignore[attr-defined]
    end_line = node.end_lineno or node.lineno  # type: ignore[attr-defined]
    end = (end_line, _char_col(lines, end_line, node.end_col_offset or 0))  # type: ignore[attr-defined]
    if empty_at_end:
        start = end
    cell.edits.append((*start, *end, replacement))


def _sandbox_env(node: ast.Subscript, sandboxes: set[str]) -> str | None:
    keys: list[str] = []
    current: ast.AST = node
    while isinstance(current, ast.Subscript):
        key = const_str(current.slice)
        if key is None:
            return None
        keys.insert(0, key)
        current = current.value
    if not (
        isinstance(current, ast.Attribute)
        and current.attr == "urls"
        and isinstance(current.value, ast.Name)
        and current.value.id in sandboxes
    ):
        return None
    return URL_ENV.get(tuple(keys), "_".join(keys).upper() + "_URL")


def rewrite_sandbox(cell: CodeCell, stmt: Stmt, sandboxes: set[str]) -> None:
    """Turn sandbox lookups into environment reads (the names are then skipped)."""
    done: set[int] = set()
    for node in ast.walk(stmt.node):
        if id(node) in done:
            continue
        replacement = None
        if isinstance(node, ast.Subscript):
            env = _sandbox_env(node, sandboxes)
            if env:
                replacement = f"os.environ[{env!r}]"
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in sandboxes
        ):
            if node.attr == "env":
                replacement = "os.environ"
            elif node.attr == "url":
                replacement = 'os.environ["SANDBOX_URL"]'
        if replacement:
            edit(cell, node, replacement.replace("'", '"'))
            done.update(id(n) for n in ast.walk(node))
            stmt.skip.update(id(n) for n in ast.walk(node) if isinstance(n, ast.Name))
