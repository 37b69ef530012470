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
import base64
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from apinotebook.export._notebook import CodeCell, Stmt, callee
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
from apinotebook.export._secrets_scan import is_hash_context, is_secret_name, secret_strength

__all__ = ["Flow", "Map", "Seq", "Str", "follow"]

#: callee -> (position, keyword) of its credential argument
CREDENTIAL_ARGS: dict[str, tuple[int, str]] = {
    "Secret": (0, "value"),
    "Bearer": (0, "token"),
    "Basic": (1, "password"),
    "BasicAuth": (1, "password"),
    "DigestAuth": (1, "password"),
    "ApiKey": (0, "key"),
    "OAuth2ClientCredentials": (2, "client_secret"),
    "WsseUsernameToken": (1, "password"),
    "UsernameToken": (1, "password"),
}
_DEFAULTS = {"from_env": (1, "default"), "getenv": (1, "default"), "setdefault": (1, "default")}
_B64 = frozenset({"b64encode", "standard_b64encode", "urlsafe_b64encode", "encodebytes"})
_CURL = frozenset({"from_curl", "parse_curl"})
_SAME_LENGTH = frozenset({"lower", "upper", "title", "swapcase", "capitalize"})
_IDENTITY = frozenset({"encode", "decode", "copy", "str", "bytes"})
_PERCENT = re.compile(
    r"%(?:\((\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])"
)
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")

Src = tuple[int, int]  # (origin index, offset in the origin's text); (-1, 0): unknown
_NOWHERE: Src = (-1, 0)


@dataclass(frozen=True)
class Str:
    """A string known character by character; ``src[i]`` says where ``text[i]`` came from."""

    text: str
    src: tuple[Src, ...]

    def __add__(self, other: Str) -> Str:
        return Str(self.text + other.text, self.src + other.src)

    def __getitem__(self, item: slice) -> Str:
        return Str(self.text[item], self.src[item])

    @property
    def known(self) -> bool:
        """Whether every character is known."""
        return UNKNOWN not in self.text


@dataclass
class Seq:
    """A list or tuple whose items are followed."""

    items: list[Val]


@dataclass
class Map:
    """A dict with string keys whose values are followed."""

    items: dict[str, Val] = field(default_factory=dict)


Val = Str | Seq | Map | None
_UNKNOWN_STR = Str(UNKNOWN, (_NOWHERE,))


def _as_str(value: Val) -> Str:
    return value if isinstance(value, Str) else _UNKNOWN_STR


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
        self.deferred: list[tuple[CodeCell, Stmt, list[ast.stmt], dict[str, Val]]] = []

    # -- values ------------------------------------------------------------------------------

    def literal(self, text: str, line: int) -> Str:
        assert self.cell is not None  # noqa: S101 - set by run() before any statement
        text = text.replace(UNKNOWN, "\ufffd")
        index = len(self.origins)
        self.origins.append(_Origin(self.cell, line, text))
        return Str(text, tuple((index, i) for i in range(len(text))))

    def flag(self, value: Str, spans: list[Span], sink: ast.AST) -> None:
        assert self.cell is not None and self.stmt is not None  # noqa: S101
        for span in spans:
            srcs = [s for s in value.src[span.start : span.end] if s[0] >= 0]
            if not srcs:
                continue
            index = Counter(s[0] for s in srcs).most_common(1)[0][0]
            if index in self.exempt:
                continue
            origin = self.origins[index]
            offset = min(s[1] for s in srcs if s[0] == index)
            secret = value.text[span.start : span.end].replace(UNKNOWN, "")
            line = _line(origin, offset, secret)
            sink_line = getattr(sink, "lineno", self.stmt.node.lineno) + self.cell.offset
            if self.cell.magic:
                sink_line = line if origin.cell is self.cell else 1
            key = (origin.cell.index, line, self.cell.index, sink_line)
            if key not in self.flows:
                self.flows[key] = Flow(
                    origin.cell.index, line, span.reason, secret,
                    self.cell.index, sink_line, self.exported(self.stmt),
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
            items = value.items[1:] if len(value.items) == 2 else value.items
            for item in items:
                if isinstance(item, Str):
                    spans = credential_spans(item.text, repr(name), weak=strength == "weak")
                    self.flag(item, spans, sink)

    def used(self, value: Val, sink: ast.AST) -> None:
        if isinstance(value, Str):
            self.flag(value, string_spans(value.text), sink)

    # -- statements --------------------------------------------------------------------------

    def run(self, cells: list[CodeCell]) -> list[Flow]:
        env: dict[str, Val] = {}
        for cell in cells:
            for stmt in cell.stmts:
                self.cell, self.stmt = cell, stmt
                self.exec(stmt.node, env)
        self.final = True
        for cell, stmt, body, params in self.deferred:
            self.cell, self.stmt = cell, stmt
            self.block(body, {**env, **params})
        return list(self.flows.values())

    def block(self, body: list[ast.stmt], env: dict[str, Val]) -> None:
        for node in body:
            self.exec(node, env)

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
            self.bind(node.target, _as_str(current) + _as_str(value) if added else None, env)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                self.eval(decorator, env)
            self.function(node.args, node.body, env)
            env[node.name] = None
        elif isinstance(node, ast.ClassDef):
            for expr in [*node.bases, *node.decorator_list]:
                self.eval(expr, env)
            self.block(node.body, dict(env))
            env[node.name] = None
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            if isinstance(node.value.value, str):  # a docstring or a bare string: free text
                text = self.literal(node.value.value, node.value.lineno)
                self.flag(text, text_spans(text.text), node)
        elif isinstance(node, ast.Return | ast.Expr) and node.value is not None:
            self.used(self.eval(node.value, env), node)
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.eval(node.iter, env)
            self.bind(node.target, None, env)
            self.block(node.body + node.orelse, env)
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

    def function(self, args: ast.arguments, body: list[ast.stmt], env: dict[str, Val]) -> None:
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
        self.block(body, {**env, **params})
        if not self.final and self.cell is not None and self.stmt is not None:
            self.deferred.append((self.cell, self.stmt, body, params))

    def bind(self, target: ast.AST, value: Val, env: dict[str, Val]) -> None:
        if isinstance(target, ast.Name):
            env[target.id] = value
            self.pair(target.id, value, target)
            if not (isinstance(value, Str) and is_hash_context(target.id, value.text)):
                self.used(value, target)
        elif isinstance(target, ast.Attribute):
            self.eval(target.value, env)
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
        if isinstance(node, ast.NamedExpr):
            value = self.eval(node.value, env)
            self.bind(node.target, value, env)
            return value
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left, env), self.eval(node.right, env)
            if isinstance(node.op, ast.Add) and isinstance(left, Seq) and isinstance(right, Seq):
                return Seq(left.items + right.items)
            if isinstance(node.op, ast.Add) and (isinstance(left, Str) or isinstance(right, Str)):
                return _as_str(left) + _as_str(right)
            if isinstance(node.op, ast.Mod) and isinstance(left, Str):
                return _percent(left, right)
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
            self.function(node.args, [ast.Return(node.body, lineno=node.lineno)], env)
            return None
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
                out = out + (_as_str(value) if plain else _UNKNOWN_STR)
        return out

    def subscript(self, node: ast.Subscript, env: dict[str, Val]) -> Val:
        base = self.eval(node.value, env)
        key = self.eval(node.slice, env)
        if isinstance(base, Map) and isinstance(key, Str) and key.known:
            return base.items.get(key.text)
        index = node.slice
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
            return _b64(first)
        # what the call returns, when a string method or a lookup with a literal fallback
        if isinstance(receiver, Str) and not isinstance(func, ast.Name):
            return _method(receiver, name, args, kwargs)
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


def _line(origin: _Origin, offset: int, secret: str) -> int:
    """The notebook line of a literal's character (a generated cell: where the text is)."""
    cell = origin.cell
    if not cell.magic:
        return origin.line + origin.text[:offset].count("\n") + cell.offset
    needle = secret.strip()[:12] or origin.text.strip()[:12]
    lines = cell.cell.source.split("\n")
    return next((n for n, text in enumerate(lines, 1) if needle and needle in text), 1)


def _b64(value: Str) -> Str:
    """``b64encode`` of a known value: the result is known and comes from the same literals."""
    if not value.known:
        return _UNKNOWN_STR
    encoded = base64.b64encode(value.text.encode("utf-8", "replace")).decode()
    known = [s for s in value.src if s[0] >= 0]
    index = Counter(s[0] for s in known).most_common(1)[0][0] if known else -1
    at = min((s[1] for s in known if s[0] == index), default=0)
    return Str(encoded, tuple((index, at) for _ in encoded))


def _fill(fmt: Str, pattern: re.Pattern[str], pick: Callable[[re.Match[str]], Str]) -> Str:
    out, end = Str("", ()), 0
    for match in pattern.finditer(fmt.text):
        out = out + fmt[end : match.start()] + pick(match)
        end = match.end()
    return out + fmt[end:]


def _percent(fmt: Str, args: Val) -> Str:
    """``fmt % args`` for ``%s``-style fields (others are unknown)."""
    values = args.items if isinstance(args, Seq) else [args]
    position = iter(values)

    def pick(match: re.Match[str]) -> Str:
        key, kind = match.group(1), match.group(2)
        if kind == "%":
            return fmt[match.start() : match.start() + 1]
        value = args.items.get(key) if isinstance(args, Map) and key else next(position, None)
        return _as_str(value) if kind == "s" else _UNKNOWN_STR

    return _fill(fmt, _PERCENT, pick)


def _format(fmt: Str, args: list[Val], kwargs: dict[str, Val]) -> Str:
    """``fmt.format(*args, **kwargs)`` for plain fields (with a format spec: unknown)."""
    position = iter(args)

    def pick(match: re.Match[str]) -> Str:
        if match.group(1) is None:
            return fmt[match.start() : match.start() + 1]
        name, _, spec = match.group(1).partition(":")
        if spec or "!" in name or "." in name or "[" in name:
            return _UNKNOWN_STR
        if name == "":
            return _as_str(next(position, None))
        if name.isdigit():
            return _as_str(args[int(name)] if int(name) < len(args) else None)
        return _as_str(kwargs.get(name))

    return _fill(fmt, _FIELD, pick)


def _split(value: Str, sep: Val) -> Val:
    if sep is not None and not (isinstance(sep, Str) and sep.known and sep.text):
        return None
    if sep is None:
        return Seq([value[m.start() : m.end()] for m in re.finditer(r"\S+", value.text)])
    pieces, start = [], 0
    while (at := value.text.find(sep.text, start)) >= 0:
        pieces.append(value[start:at])
        start = at + len(sep.text)
    pieces.append(value[start:])
    return Seq(list(pieces))


def _method(receiver: Str, name: str, args: list[Val], kwargs: dict[str, Val]) -> Val:
    """What a string method returns, as far as the characters can be followed."""
    if name == "format":
        return _format(receiver, args, kwargs)
    if name == "join" and args and isinstance(args[0], Seq):
        out, parts = Str("", ()), [_as_str(v) for v in args[0].items]
        for i, part in enumerate(parts):
            out = out + (receiver if i else Str("", ())) + part
        return out
    if name in _IDENTITY:
        return receiver
    if name in _SAME_LENGTH:
        return Str(getattr(receiver.text, name)(), receiver.src)
    if name in ("strip", "lstrip", "rstrip") and not args:
        text = receiver.text
        start = len(text) - len(text.lstrip()) if name != "rstrip" else 0
        end = len(text.rstrip()) if name != "lstrip" else len(text)
        return receiver[start:end]
    if name == "split":
        return _split(receiver, args[0] if args else kwargs.get("sep"))
    return None


def follow(cells: list[CodeCell], exported: Callable[[Stmt], bool]) -> list[Flow]:
    """Every literal that reaches a sink in ``cells`` (notebook order), deduplicated."""
    return _Analyzer(exported).run(cells)
