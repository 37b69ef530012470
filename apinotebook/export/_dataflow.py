"""Follow string constants through a notebook's cells to where they are used.

A secret rarely sits in the call that uses it: ``t = "..."`` in one cell,
``Bearer(t)`` in the next; ``"Bearer " + t``; ``f"{user}:{password}"``; a
function default; ``os.environ.get("T") or "..."``. This module runs a small
abstract interpreter over the kept code, cell after cell in notebook order:
each string value is known character by character (:class:`Str` remembers,
for every character, the literal it came from), or unknown
(:data:`~._secret_spans.UNKNOWN`) where it comes from the environment, an
argument or a call. Containers (:class:`Seq`, :class:`Map`) keep their
items, so subscripts, ``*args``, tuple unpacking and ``dict(...)`` follow too.

Operations followed: assignment (also annotated, augmented ``+=``, walrus,
tuple unpacking, ``d[k] = v``), f-strings, ``+``, ``%``, ``str.format``,
``str.join``, ``split``, ``strip``/``lower``/``upper``, ``encode``/``decode``,
``str()``, ``b64encode`` and friends, ``a or b`` and ``a if c else b`` (the
literal fallback counts), ``os.environ.get(n, d)``/``getenv``/``.get(k, d)``,
function and lambda defaults (a body sees its defaults and the module's
constants, also those assigned in later cells).

Sinks (see :mod:`._secret_spans` for what counts inside each): the credential
argument of an auth object, ``Secret(...)``, a keyword, dict key, attribute or
variable with a credential name (headers and body fields included), a
``Cookie`` header, the default of a secret's environment variable,
``from_curl(...)`` command strings, ``b64encode("user:password")``, and any
string that is used (a URL with ``?api_key=`` or a password, a form body, a
GraphQL argument), plus docstrings read as free text. A finding names the
literal (cell and line): that is the line to change.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from apinotebook.export._flow_values import (
    MAX_CHARS,
    UNKNOWN_STR,
    Func,
    Map,
    Seq,
    Str,
    Val,
    as_str,
    b64,
    b64decode,
    method,
    percent,
)
from apinotebook.export._notebook import CodeCell, Stmt
from apinotebook.export._secret_spans import (
    UNKNOWN,
    Span,
    basic_pair_spans,
    cookie_spans,
    credential_spans,
    curl_spans,
    string_spans,
    text_spans,
)
from apinotebook.export._secrets_scan import (
    CREDENTIAL_ARGS,
    is_hash_context,
    is_secret_name,
    secret_strength,
)
from apinotebook.export._syntax import callee

__all__ = ["Flow", "Map", "Seq", "Str", "follow"]

_B64DECODE = frozenset({"b64decode", "standard_b64decode", "urlsafe_b64decode", "decodebytes"})
#: how deep calls of the notebook's own functions are followed, and how many in all
_DEPTH = 4
_CALLS = 5_000
_DEFAULTS = {"from_env": (1, "default"), "getenv": (1, "default"), "setdefault": (1, "default")}
_B64 = frozenset({"b64encode", "standard_b64encode", "urlsafe_b64encode", "encodebytes"})
_CURL = frozenset({"from_curl", "parse_curl"})


@dataclass(frozen=True)
class _Origin:
    cell: CodeCell
    line: int  # line of the literal's first character in ``cell.source``
    text: str


@dataclass(frozen=True)
class Flow:
    """A literal (``cell``, ``line`` as the notebook shows them) that reaches a sink."""

    cell: int
    line: int
    reason: str
    value: str
    sink_cell: int
    sink_line: int
    exported: bool


class _Analyzer:
    def __init__(self, exported: Callable[[Stmt], bool]) -> None:
        self.exported = exported
        self.origins: list[_Origin] = []
        self.exempt: set[int] = set()
        self.flows: dict[tuple[int, int, int, int], Flow] = {}
        self.cell: CodeCell | None = None
        self.stmt: Stmt | None = None
        self.final = False
        self.active: list[Func] = []  # functions being run for a call, innermost last
        self.calls = 0  # function bodies run for calls so far (bounded by _CALLS)
        self.returns: list[list[Val]] = []
        self.sink_at: tuple[int, int] | None = None  # the call that runs a function body
        self.module: dict[str, Val] = {}
        self.globals: list[set[str]] = [set()]  # names declared global, per running body
        self.owner: Map | None = None  # the class whose body is running (for ``self``)
        self.deferred: list[tuple[CodeCell, Stmt, list[ast.stmt], dict[str, Val]]] = []

    # -- values ------------------------------------------------------------------------------

    def literal(self, text: str, line: int) -> Str:
        assert self.cell is not None  # noqa: S101 - set by run() before any statement
        if len(text) > MAX_CHARS:  # not followed (scan_tree still reads it in place)
            return UNKNOWN_STR
        text = text.replace(UNKNOWN, "\ufffd")
        index = len(self.origins)
        self.origins.append(_Origin(self.cell, line, text))
        return Str(text, tuple((index, i) for i in range(len(text))))

    def flag(self, value: Str, spans: list[Span], sink: ast.AST, *, shape: bool = False) -> None:
        """Record the literals under ``spans``; ``shape``: found by its shape, not its use."""
        assert self.cell is not None and self.stmt is not None  # noqa: S101
        for span in spans:
            srcs = [s for s in value.src[span.start : span.end] if s[0] >= 0]
            if not srcs:
                continue
            index = Counter(s[0] for s in srcs).most_common(1)[0][0]
            if shape and index in self.exempt:  # a digest or id (commit_sha = "9f8...")
                continue
            origin = self.origins[index]
            offset = min(s[1] for s in srcs if s[0] == index)
            secret = value.text[span.start : span.end].replace(UNKNOWN, "")
            line = _line(origin, offset, secret)
            sink_cell = self.cell.index
            sink_line = getattr(sink, "lineno", self.stmt.node.lineno) + self.cell.offset
            if self.cell.magic:
                sink_line = line if origin.cell is self.cell else 1
            if self.sink_at is not None:
                sink_cell, sink_line = self.sink_at
            key = (origin.cell.index, line, sink_cell, sink_line)
            if key not in self.flows:
                self.flows[key] = Flow(
                    origin.cell.index, line, span.reason, secret,
                    sink_cell, sink_line, self.exported(self.stmt),
                )  # fmt: skip

    def credential(self, value: Val, what: str, sink: ast.AST) -> None:
        if isinstance(value, Str):
            self.flag(value, credential_spans(value.text, what), sink)

    def pair(self, name: str | None, value: Val, sink: ast.AST) -> None:
        """A value held under a name: a keyword, dict key, attribute, variable."""
        if name is None:
            return
        if isinstance(value, Str) and is_hash_context(name, value.text):
            self.exempt.update(s[0] for s in value.src if s[0] >= 0)
            return
        strength = secret_strength(name)
        if isinstance(value, Str) and name.lower() in ("cookie", "set-cookie"):
            self.flag(value, cookie_spans(value.text), sink)
        elif isinstance(value, Str) and strength is not None:
            spans = credential_spans(value.text, repr(name), weak=strength == "weak")
            self.flag(value, spans, sink)
        elif isinstance(value, Seq) and strength is not None:
            # ("user", "password") under a credential name, or a list of credentials
            pair = len(value.items) == 2
            for item in value.items[1:] if pair else value.items:
                if isinstance(item, Str):
                    weak = not pair  # the password of a pair counts like a strong name
                    self.flag(item, credential_spans(item.text, repr(name), weak=weak), sink)

    def used(self, value: Val, sink: ast.AST) -> None:
        if isinstance(value, Str):
            self.flag(value, string_spans(value.text), sink, shape=True)

    # -- statements --------------------------------------------------------------------------

    def run(self, cells: list[CodeCell]) -> list[Flow]:
        env = self.module
        for cell in cells:
            for stmt in cell.stmts:
                self.cell, self.stmt = cell, stmt
                self.exec(stmt.node, env)
        self.final = True
        for cell, stmt, body, params in self.deferred:
            self.cell, self.stmt = cell, stmt
            self.body(body, {**env, **params})
        return list(self.flows.values())

    def block(self, body: list[ast.stmt], env: dict[str, Val]) -> None:
        for node in body:
            self.exec(node, env)

    def body(self, body: list[ast.stmt], env: dict[str, Val]) -> None:
        """A function body: its own ``global`` declarations, no enclosing class."""
        owner, self.owner = self.owner, None
        self.globals.append(set())
        try:
            self.block(body, env)
        finally:
            self.globals.pop()
            self.owner = owner

    def exec(self, node: ast.stmt, env: dict[str, Val]) -> None:  # noqa: C901 - one dispatch
        if isinstance(node, ast.Assign):
            value = self.eval(node.value, env)
            for target in node.targets:
                self.bind(target, value, env)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self.bind(node.target, self.eval(node.value, env), env)
        elif isinstance(node, ast.AugAssign):
            value = self.eval(node.value, env)
            current = self.eval(node.target, env) if isinstance(node.target, ast.Name) else None
            added = isinstance(node.op, ast.Add) and isinstance(current, Str)
            self.bind(node.target, as_str(current) + as_str(value) if added else None, env)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                self.eval(decorator, env)
            env[node.name] = self.function(node.args, node.body, env)
        elif isinstance(node, ast.ClassDef):
            for expr in [*node.bases, *node.decorator_list]:
                self.eval(expr, env)
            namespace, inner = Map(attrs=True), dict(env)
            owner, self.owner = self.owner, namespace
            try:
                for member in node.body:  # class attributes, visible as self.x in methods
                    self.exec(member, inner)
                    namespace.items.update({k: v for k, v in inner.items() if env.get(k) is not v})
            finally:
                self.owner = owner
            env[node.name] = namespace
        elif isinstance(node, ast.Global):
            self.globals[-1].update(node.names)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):  # a docstring or a bare string: free text
                text = self.literal(node.value.value, node.value.lineno)
                self.flag(text, text_spans(text.text), node)
        elif isinstance(node, ast.Return | ast.Expr) and node.value is not None:
            value = self.eval(node.value, env)
            self.used(value, node)
            if isinstance(node, ast.Return) and self.returns:
                self.returns[-1].append(value)
        elif isinstance(node, ast.For | ast.AsyncFor):
            iterable = self.eval(node.iter, env)
            items = iterable.items[:8] if isinstance(iterable, Seq) and iterable.items else [None]
            for each in items:  # a literal list: each item once
                self.bind(node.target, each, env)
                self.block(node.body, env)
            self.block(node.orelse, env)
        elif isinstance(node, ast.While | ast.If):
            self.eval(node.test, env)
            self.block(node.body + node.orelse, env)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                self.eval(item.context_expr, env)
                if item.optional_vars is not None:
                    self.bind(item.optional_vars, None, env)
            self.block(node.body, env)
        elif isinstance(node, ast.Try | ast.TryStar):
            self.block(node.body, env)
            for handler in node.handlers:
                self.block(handler.body, env)
            self.block(node.orelse + node.finalbody, env)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                env[(alias.asname or alias.name).split(".")[0]] = None
        else:
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.eval(child, env)
                elif isinstance(child, ast.stmt):
                    self.exec(child, env)

    def function(self, args: ast.arguments, body: list[ast.stmt], env: dict[str, Val]) -> Func:
        params: dict[str, Val] = {}
        positional = args.posonlyargs + args.args
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        for arg, default in zip(
            positional + args.kwonlyargs,
            [*defaults, *args.defaults, *args.kw_defaults],
            strict=True,
        ):
            value = self.eval(default, env) if default is not None else None
            self.pair(arg.arg, value, default or arg)
            params[arg.arg] = value
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                params[extra.arg] = None
        if self.owner is not None and positional:  # a method: self is the class namespace
            params[positional[0].arg] = self.owner
        self.body(body, {**env, **params})
        if not self.final and not self.active and self.cell is not None and self.stmt is not None:
            self.deferred.append((self.cell, self.stmt, body, params))
        return Func(args, body, params)

    def run_call(self, func: Func, node: ast.Call, args: list[Val], kwargs: dict[str, Val],
                 env: dict[str, Val]) -> Val:  # fmt: skip
        """Run a notebook function's body with the call's arguments; what it returns."""
        if len(self.active) >= _DEPTH or func in self.active or self.cell is None:
            return None
        self.calls += 1
        if self.calls > _CALLS:
            return None
        spec = func.args
        params = dict(func.defaults)
        for arg, value in zip(spec.posonlyargs + spec.args, args, strict=False):
            params[arg.arg] = value
        named = {a.arg for a in spec.args + spec.kwonlyargs}
        params.update({k: v for k, v in kwargs.items() if k in named})
        outer = self.sink_at
        self.sink_at = outer or (self.cell.index, node.lineno + self.cell.offset)
        self.active.append(func)
        self.returns.append([])
        try:
            self.body(func.body, {**env, **params})
        finally:
            self.active.pop()
            returned = self.returns.pop()
            self.sink_at = outer
        return next((v for v in returned if v is not None), None)

    def bind(self, target: ast.AST, value: Val, env: dict[str, Val]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
            if target.id in self.globals[-1]:
                self.module[target.id] = value
            self.pair(target.id, value, target)
            if not (isinstance(value, Str) and is_hash_context(target.id, value.text)):
                self.used(value, target)
        elif isinstance(target, ast.Attribute):
            base = self.eval(target.value, env)
            if isinstance(base, Map) and base.attrs:
                base.items[target.attr] = value
            self.pair(target.attr, value, target)
            self.used(value, target)
        elif isinstance(target, ast.Subscript):
            base = self.eval(target.value, env)
            key = self.eval(target.slice, env)
            name = key.text if isinstance(key, Str) and key.known else None
            if isinstance(base, Map) and name is not None:
                base.items[name] = value
            self.pair(name, value, target)
            self.used(value, target)
        elif isinstance(target, ast.Tuple | ast.List):
            items = value.items if isinstance(value, Seq) else []
            starred = any(isinstance(e, ast.Starred) for e in target.elts)
            for i, elt in enumerate(target.elts):
                fits = not starred and len(items) == len(target.elts)
                self.bind(elt, items[i] if fits else None, env)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, None, env)

    # -- expressions -------------------------------------------------------------------------

    def eval(self, node: ast.expr | None, env: dict[str, Val]) -> Val:  # noqa: C901
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str | bytes):
                raw = node.value
                text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
                return self.literal(text, node.lineno)
            return None
        if isinstance(node, ast.JoinedStr):
            return self.fstring(node, env)
        if isinstance(node, ast.Name):
            return env.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.eval(node.value, env)
            return base.items.get(node.attr) if isinstance(base, Map) and base.attrs else None
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, env)
            self.bind(node.target, value, env)
            return value
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left, env), self.eval(node.right, env)
            if isinstance(node.op, ast.Add) and isinstance(left, Seq) and isinstance(right, Seq):
                return Seq(left.items + right.items)
            if isinstance(node.op, ast.Add) and (isinstance(left, Str) or isinstance(right, Str)):
                return as_str(left) + as_str(right)
            if isinstance(node.op, ast.Mod) and isinstance(left, Str):
                return percent(left, right)
            return None
        if isinstance(node, ast.BoolOp):
            values = [self.eval(v, env) for v in node.values]
            known = [v for v in values if v is not None]
            return known[-1] if known else None
        if isinstance(node, ast.IfExp):
            self.eval(node.test, env)
            body, orelse = self.eval(node.body, env), self.eval(node.orelse, env)
            if orelse is None or (isinstance(body, Str) and body.known):
                return body
            return orelse
        if isinstance(node, ast.Subscript):
            return self.subscript(node, env)
        if isinstance(node, ast.Dict):
            return self.mapping(node, env)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            items = self.items(node.elts, env)
            if isinstance(node, ast.Tuple) and len(items) == 2 and isinstance(items[0], Str):
                if items[0].known:  # ("Authorization", "Bearer ..."): a header pair
                    self.pair(items[0].text, items[1], node)
            return Seq(items)
        if isinstance(node, ast.Call):
            return self.call(node, env)
        if isinstance(node, ast.Lambda):
            return self.function(node.args, [ast.Return(node.body, lineno=node.lineno)], env)
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            inner = dict(env)
            for comp in node.generators:
                self.eval(comp.iter, inner)
                self.bind(comp.target, None, inner)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.eval(child, inner)
            return None
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.used(self.eval(child, env), child)
        return None

    def items(self, elts: list[ast.expr], env: dict[str, Val]) -> list[Val]:
        out: list[Val] = []
        for elt in elts:
            value = self.eval(elt.value if isinstance(elt, ast.Starred) else elt, env)
            if isinstance(elt, ast.Starred):
                out += value.items if isinstance(value, Seq) else [None]
            else:
                out.append(value)
        return out

    def fstring(self, node: ast.JoinedStr, env: dict[str, Val]) -> Str:
        out = Str("", ())
        line = node.lineno
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out = out + self.literal(part.value, line)
                line += part.value.count("\n")
            elif isinstance(part, ast.FormattedValue):
                value = self.eval(part.value, env)
                plain = part.format_spec is None and part.conversion in (-1, ord("s"))
                out = out + (as_str(value) if plain else UNKNOWN_STR)
        return out

    def subscript(self, node: ast.Subscript, env: dict[str, Val]) -> Val:
        base = self.eval(node.value, env)
        key = self.eval(node.slice, env)
        if isinstance(base, Map) and isinstance(key, Str) and key.known:
            return base.items.get(key.text)
        index = node.slice
        if isinstance(base, Str) and isinstance(index, ast.Slice):
            bounds = [_int(b) for b in (index.lower, index.upper, index.step)]
            if all(b is not False for b in bounds) and bounds[2] != 0:
                return base[slice(*bounds)]
        if isinstance(base, Seq) and isinstance(index, ast.Constant):
            if isinstance(index.value, int) and -len(base.items) <= index.value < len(base.items):
                return base.items[index.value]
        return None

    def mapping(self, node: ast.Dict, env: dict[str, Val]) -> Map:
        out = Map()
        for key_node, value_node in zip(node.keys, node.values, strict=True):
            value = self.eval(value_node, env)
            if key_node is None:
                out.items.update(value.items if isinstance(value, Map) else {})
                continue
            key = self.eval(key_node, env)
            name = key.text if isinstance(key, Str) and key.known else None
            if name is not None:
                out.items[name] = value
            self.pair(name, value, value_node)
            if not (name and isinstance(value, Str) and is_hash_context(name, value.text)):
                self.used(value, value_node)
        return out

    def call(self, node: ast.Call, env: dict[str, Val]) -> Val:  # noqa: C901
        func = node.func
        receiver = self.eval(func.value, env) if isinstance(func, ast.Attribute) else None
        name = callee(node)
        args = self.items(node.args, env)
        kwargs: dict[str, Val] = {}
        for kw in node.keywords:
            value = self.eval(kw.value, env)
            if kw.arg is None:
                kwargs.update(value.items if isinstance(value, Map) else {})
            else:
                kwargs[kw.arg] = value
                self.pair(kw.arg, value, kw.value)
        for value in [*args, *kwargs.values()]:
            self.used(value, node)

        def arg(position: int, keyword: str) -> Val:
            if keyword in kwargs:
                return kwargs[keyword]
            return args[position] if len(args) > position else None

        first = args[0] if args else None
        if name in CREDENTIAL_ARGS:
            self.credential(arg(*CREDENTIAL_ARGS[name]), f"{name}()", node)
        if name in _DEFAULTS or name == "get":
            variable = first.text if isinstance(first, Str) and first.known else "?"
            if name == "from_env" or is_secret_name(variable):
                what = f"the default of the secret {variable}"
                self.credential(arg(*_DEFAULTS.get(name, (1, "default"))), what, node)
        if name in _CURL and isinstance(first, Str):
            self.flag(first, curl_spans(first.text), node)
        if name in _B64 and isinstance(first, Str):
            self.flag(first, basic_pair_spans(first.text), node)
            return b64(first)
        if name in _B64DECODE and isinstance(first, Str):
            return b64decode(first)
        if name == "setattr" and len(args) == 3 and isinstance(args[1], Str):
            self.pair(args[1].text, args[2], node)
        target = env.get(func.id) if isinstance(func, ast.Name) else None
        if isinstance(target, Func):
            return self.run_call(target, node, args, kwargs, env)
        if isinstance(target, Map) and target.attrs:  # an instance: its class namespace
            return target
        # what the call returns, when a string method or a lookup with a literal fallback
        if isinstance(receiver, Str) and not isinstance(func, ast.Name):
            return method(receiver, name, args, kwargs)
        if name in ("str", "bytes", "bytearray") and isinstance(func, ast.Name):
            return first if isinstance(first, Str) else None
        if name == "dict" and isinstance(func, ast.Name):
            return Map(dict(first.items if isinstance(first, Map) else {}) | kwargs)
        if name in ("get", "getenv"):
            if isinstance(receiver, Map) and isinstance(first, Str) and first.known:
                found = receiver.items.get(first.text)
                if found is not None:
                    return found
            return arg(1, "default")
        if name == "copy" and isinstance(receiver, Map | Seq):
            return receiver
        if name == "update" and isinstance(receiver, Map) and isinstance(first, Map):
            receiver.items.update(first.items)
        return None


def _int(node: ast.expr | None) -> int | None | bool:
    """A slice bound: ``None``, a literal int, or ``False`` when it is not a literal."""
    if node is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int(node.operand)
        return -inner if isinstance(inner, int) and not isinstance(inner, bool) else False
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return False


def _line(origin: _Origin, offset: int, secret: str) -> int:
    """The notebook line of a literal's character (a generated cell: where the text is)."""
    cell = origin.cell
    if not cell.magic:
        return origin.line + origin.text[:offset].count("\n") + cell.offset
    needle = secret.strip()[:12] or origin.text.strip()[:12]
    lines = cell.cell.source.split("\n")
    return next((n for n, text in enumerate(lines, 1) if needle and needle in text), 1)


def follow(cells: list[CodeCell], exported: Callable[[Stmt], bool]) -> list[Flow]:
    """Every literal that reaches a sink in ``cells`` (notebook order), deduplicated."""
    return _Analyzer(exported).run(cells)
