"""Refuse an export that would write a literal secret; explain where and what to do.

Four scans feed one decision, all over what the script would contain:

- :func:`~._secrets_scan.scan_tree` on each statement (literals in place);
- :func:`~._dataflow.follow` over the cells in order (literals that travel);
- the comments the script keeps (those inside and directly above kept
  statements) and the markdown lines it copies: the notebook's title into the
  docstring, a heading into each ``# -- cell N: ...`` header;
- the ``parameters`` cell: its values become the script's option defaults
  (shown by ``--help``), so they count as exported.

A finding in code the script leaves out is a warning. A line that ends with
the marker comment ``# apinotebook: allow-secret`` (in a ``%%rest``,
``%%graphql`` or ``%%soap`` cell: a comment line anywhere in the cell) is a
reviewed false positive and is not reported.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

from apinotebook._exceptions import LiteralSecretError
from apinotebook.export._cells import Selection
from apinotebook.export._dataflow import follow
from apinotebook.export._notebook import CodeCell, Stmt, where
from apinotebook.export._secret_spans import text_spans
from apinotebook.export._secrets_scan import ALLOW_MARKER, preview, scan_tree

__all__ = ["ALLOW_MARKER", "check_secrets", "exported", "is_allowed"]
ADVICE = (
    "An exported script must not contain secrets: read it from the environment, e.g. "
    "Secret.from_env('CRM_TOKEN') or os.environ['CRM_TOKEN'], or make it a variable of the "
    "parameters cell left empty (the script reads it from the environment variable of that "
    f"name), and export again. If it is not a secret, end the line with '# {ALLOW_MARKER}'."
)


@dataclass(frozen=True)
class _Found:
    cell: int
    line: int
    what: str
    exported: bool
    also: tuple[int, int] | None = None  # where the literal is used (a data-flow finding)


def exported(stmt: Stmt) -> bool:
    """Whether the script contains ``stmt`` (parameters become option defaults)."""
    return stmt.keep or stmt.reason.startswith("parameter →")


def is_allowed(source: str, line: int, *, magic: bool = False) -> bool:
    """Whether ``line`` of a cell (or, for a magic cell, any line) carries the marker."""
    lines = source.split("\n")
    if magic:
        return any(ALLOW_MARKER in text for text in lines)
    return 0 < line <= len(lines) and ALLOW_MARKER in lines[line - 1]


def _statements(selection: Selection) -> list[_Found]:
    found = []
    for cell in selection.cells:
        lines = cell.cell.source.split("\n")
        for stmt in cell.stmts:
            for finding in scan_tree(stmt.node):
                line = finding.line + cell.offset
                if cell.magic:  # generated code: find the value in the cell's own text
                    needle = finding.value.strip()[:12]
                    line = next((n for n, t in enumerate(lines, 1) if needle in t), 1)
                found.append(_Found(cell.index, line, finding.describe(), exported(stmt)))
    return found


def _flows(selection: Selection) -> list[_Found]:
    return [
        _Found(
            f.cell,
            f.line,
            f"{f.reason} ({preview(f.value)})",
            f.exported,
            (f.sink_cell, f.sink_line) if (f.sink_cell, f.sink_line) != (f.cell, f.line) else None,
        )  # fmt: skip
        for f in follow(selection.cells, exported)
    ]


def _kept_lines(cell: CodeCell) -> set[int]:
    """Lines of ``cell.source`` the script keeps: kept statements and the comments above them."""
    lines = cell.source.split("\n")
    out: set[int] = set()
    previous_end = 0
    for stmt in cell.stmts:
        first, last = stmt.node.lineno, stmt.node.end_lineno or stmt.node.lineno
        if isinstance(stmt.node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = min([first, *(d.lineno for d in stmt.node.decorator_list)])
        if exported(stmt):
            above = first - 1
            while above > previous_end and lines[above - 1].strip().startswith("#"):
                above -= 1
            out.update(range(above + 1, last + 1))
        previous_end = last
    return out


def _comments(selection: Selection) -> list[_Found]:
    found = []
    for cell in selection.cells:
        if cell.magic:
            continue
        kept = _kept_lines(cell)
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO(cell.source).readline))
        except (tokenize.TokenError, SyntaxError):  # pragma: no cover - the cell parsed
            continue
        for token in tokens:
            if token.type != tokenize.COMMENT:
                continue
            for span in text_spans(token.string):
                what = (
                    f"{span.reason} in a comment ({preview(token.string[span.start : span.end])})"
                )
                line = token.start[0]
                found.append(_Found(cell.index, line + cell.offset, what, line in kept))
    return found


def _markdown(selection: Selection) -> list[_Found]:
    """The title (the script's docstring) and the heading above each kept cell."""
    found = []
    cells = selection.notebook.cells
    kept = {  # cells that get a "# -- cell N: <heading>" header (imports go to the top)
        c.index
        for c in selection.cells
        if any(s.keep and not isinstance(s.node, ast.Import | ast.ImportFrom) for s in c.stmts)
    }
    title_seen = False
    heading: tuple[int, int, str] | None = None
    for cell in cells:
        if cell.kind == "markdown":
            lines = cell.source.split("\n")
            first = next(((n, t) for n, t in enumerate(lines, 1) if t.strip()), None)
            heading = (cell.index, first[0], first[1]) if first else heading
            title = next(((n, t) for n, t in enumerate(lines, 1) if t.startswith("#")), None)
            if title and not title_seen:
                title_seen = True
                found += _text(cell.index, *title, "the notebook's title", exported=True)
        elif cell.kind == "code" and cell.source.strip():
            if heading and cell.index in kept:
                found += _text(*heading, "a markdown line copied above a cell", exported=True)
            heading = None
    return found


def _text(index: int, line: int, text: str, where_: str, *, exported: bool) -> list[_Found]:
    return [
        _Found(index, line, f"{s.reason} in {where_} ({preview(text[s.start : s.end])})", exported)
        for s in text_spans(text)
    ]


def check_secrets(selection: Selection) -> None:
    """Refuse literal secrets in what the script would contain; warn about the rest.

    Raises:
        LiteralSecretError: naming the cell and line of the first one.
    """
    magics = {c.index for c in selection.cells if c.magic}
    originals = {c.index: c.source for c in selection.notebook.cells}
    found = [
        *_statements(selection), *_flows(selection), *_comments(selection), *_markdown(selection)
    ]  # fmt: skip

    def allowed(cell: int, line: int) -> bool:  # the notebook's own text, as the user sees it
        return is_allowed(originals.get(cell, ""), line, magic=cell in magics)

    errors: dict[tuple[int, int], _Found] = {}
    for item in sorted(found, key=lambda f: (f.cell, f.line, not f.exported)):
        if allowed(item.cell, item.line) or (item.also and allowed(*item.also)):
            continue
        if item.exported:
            errors.setdefault((item.cell, item.line), item)
        elif (item.cell, item.line) not in errors:
            message = (
                f"{where(item.cell, item.line)} (not exported) holds {item.what}: remove it "
                "from the notebook before you share it"
            )
            if message not in selection.warnings:
                selection.warnings.append(message)
    if errors:
        first = next(iter(errors.values()))
        used = f", used at {where(*first.also)}" if first.also else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise LiteralSecretError(
            f"{where(first.cell, first.line)}: {first.what}{used}{more}. {ADVICE}",
            cell=first.cell,
            line=first.line,
        )
