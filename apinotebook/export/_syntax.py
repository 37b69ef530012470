"""Small questions asked of a notebook's syntax tree: names read and bound, callees, literals."""

from __future__ import annotations

import ast

__all__ = ["bound", "callee", "const_str", "kwarg", "loads", "root_name", "walk_top"]


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def walk_top(node: ast.AST) -> list[ast.AST]:
    """The nodes evaluated when a top-level statement runs (no function or lambda bodies)."""
    out: list[ast.AST] = []
    stack = [node]
    while stack:
        n = stack.pop()
        out.append(n)
        if isinstance(n, _DEFS):
            stack.extend(n.decorator_list)
            stack.extend(n.args.defaults)
            stack.extend(d for d in n.args.kw_defaults if d is not None)
            continue
        if isinstance(n, ast.Lambda):
            stack.extend(n.args.defaults)
            continue
        stack.extend(ast.iter_child_nodes(n))
    return out


def loads(node: ast.AST, *, top: bool = False, skip: set[int] | None = None) -> set[str]:
    """Names read by ``node`` (only at import time with ``top=True``), except ``skip`` ids."""
    nodes = walk_top(node) if top else ast.walk(node)
    return {
        n.id
        for n in nodes
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in (skip or ())
    }


def bound(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the module."""
    if isinstance(node, (*_DEFS, ast.ClassDef)):
        return {node.name}
    names: set[str] = set()
    stack: list[ast.AST] = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store | ast.Del):
            names.add(n.id)
        elif isinstance(n, (*_DEFS, ast.ClassDef)):
            names.add(n.name)
            continue
        elif isinstance(n, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in n.names if a.name != "*")
        elif isinstance(n, ast.ExceptHandler) and n.name:
            names.add(n.name)
        if isinstance(n, (ast.Lambda, *_COMPS)):
            continue
        stack.extend(ast.iter_child_nodes(n))
    return names


def callee(node: ast.Call) -> str:
    """The called name: ``f`` for ``f()``, ``m`` for ``x.y.m()``."""
    func = node.func
    return (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )


def root_name(node: ast.AST) -> str | None:
    """``x`` for ``x``, ``x.a.b``, ``x[1].c()``."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return None


def const_str(node: ast.AST | None) -> str | None:
    """The value of a string literal node."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def kwarg(node: ast.Call, name: str, position: int | None = None) -> ast.AST | None:
    """A call's argument by keyword (or position)."""
    for kw in node.keywords:
        if kw.arg == name:
            return kw.value
    if position is not None and len(node.args) > position:
        return node.args[position]
    return None


#: sandbox URL keys whose environment variable is not ``<KEYS>_URL``
