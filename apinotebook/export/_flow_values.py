"""The values the data-flow scan follows: strings known character by character.

A :class:`Str` is a string whose every character either comes from a
literal of the notebook (``src[i]`` = the literal's index and the offset in
it) or is unknown (:data:`~._secret_spans.UNKNOWN`: from the environment, an
argument, a call). :class:`Seq` and :class:`Map` hold followed items. The
functions below apply Python's string operations (``%``, ``str.format``,
``join``, ``split``, slicing, ``strip``, base64) while keeping track of where
each character came from.
"""

from __future__ import annotations

import ast
import base64
import binascii
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from apinotebook.export._secret_spans import UNKNOWN

__all__ = [
    "MAX_CHARS", "UNKNOWN_STR", "Func", "Map", "Seq", "Src", "Str", "Val", "as_str", "b64",
    "b64decode", "method", "percent",
]  # fmt: skip

_SAME_LENGTH = frozenset({"lower", "upper", "title", "swapcase", "capitalize"})
_IDENTITY = frozenset({"encode", "decode", "copy", "str", "bytes"})
_PERCENT = re.compile(
    r"%(?:\((\w+)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa%])"
)
_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")

#: longer strings (and joins of more pieces) are not followed: the scan stays fast
MAX_CHARS = 10_000
MAX_PIECES = 1_000

Src = tuple[int, int]  # (origin index, offset in the origin's text); (-1, 0): unknown
_NOWHERE: Src = (-1, 0)


@dataclass(frozen=True)
class Str:
    """A string known character by character; ``src[i]`` says where ``text[i]`` came from."""

    text: str
    src: tuple[Src, ...]

    def __add__(self, other: Str) -> Str:
        if len(self.text) + len(other.text) > MAX_CHARS:
            return UNKNOWN_STR
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
    """A dict with string keys whose values are followed (``attrs``: a class namespace)."""

    items: dict[str, Val] = field(default_factory=dict)
    attrs: bool = False


@dataclass(eq=False)
class Func:
    """A function or lambda of the notebook: a call runs its body with the arguments."""

    args: ast.arguments
    body: list[ast.stmt]
    defaults: dict[str, Val]


Val = Str | Seq | Map | Func | None
UNKNOWN_STR = Str(UNKNOWN, (_NOWHERE,))


def as_str(value: Val) -> Str:
    """``value`` if it is a followed string, else one unknown character."""
    return value if isinstance(value, Str) else UNKNOWN_STR


def b64(value: Str) -> Str:
    """``b64encode`` of a known value: the result is known and comes from the same literals."""
    if not value.known:
        return UNKNOWN_STR
    encoded = base64.b64encode(value.text.encode("utf-8", "replace")).decode()
    return Str(encoded, tuple(_majority(value) for _ in encoded))


def b64decode(value: Str) -> Val:
    """``b64decode`` of a known value: decoded, and still from the same literal."""
    if not value.known:
        return None
    try:
        raw = base64.b64decode(value.text.encode(), validate=False)
    except (binascii.Error, ValueError):
        return None
    text = raw.decode("utf-8", "replace")
    return Str(text, tuple(_majority(value) for _ in text))


def _majority(value: Str) -> Src:
    known = [s for s in value.src if s[0] >= 0]
    if not known:
        return _NOWHERE
    index = Counter(s[0] for s in known).most_common(1)[0][0]
    return index, min(s[1] for s in known if s[0] == index)


def _fill(fmt: Str, pattern: re.Pattern[str], pick: Callable[[re.Match[str]], Str]) -> Str:
    out, end = Str("", ()), 0
    for match in pattern.finditer(fmt.text):
        out = out + fmt[end : match.start()] + pick(match)
        end = match.end()
    return out + fmt[end:]


def percent(fmt: Str, args: Val) -> Str:
    """``fmt % args`` for ``%s``-style fields (others are unknown)."""
    values = args.items if isinstance(args, Seq) else [args]
    position = iter(values)

    def pick(match: re.Match[str]) -> Str:
        key, kind = match.group(1), match.group(2)
        if kind == "%":
            return fmt[match.start() : match.start() + 1]
        value = args.items.get(key) if isinstance(args, Map) and key else next(position, None)
        return as_str(value) if kind == "s" else UNKNOWN_STR

    return _fill(fmt, _PERCENT, pick)


def _format(fmt: Str, args: list[Val], kwargs: dict[str, Val]) -> Str:
    """``fmt.format(*args, **kwargs)`` for plain fields (with a format spec: unknown)."""
    position = iter(args)

    def pick(match: re.Match[str]) -> Str:
        if match.group(1) is None:
            return fmt[match.start() : match.start() + 1]
        name, _, spec = match.group(1).partition(":")
        if spec or "!" in name or "." in name or "[" in name:
            return UNKNOWN_STR
        if name == "":
            return as_str(next(position, None))
        if name.isdigit():
            return as_str(args[int(name)] if int(name) < len(args) else None)
        return as_str(kwargs.get(name))

    return _fill(fmt, _FIELD, pick)


def _split(value: Str, sep: Val) -> Val:
    if sep is not None and not (isinstance(sep, Str) and sep.known and sep.text):
        return None
    if sep is None:
        return Seq([value[m.start() : m.end()] for m in re.finditer(r"\S+", value.text)])
    pieces: list[Val] = []
    start = 0
    while (at := value.text.find(sep.text, start)) >= 0:
        if len(pieces) >= MAX_PIECES:
            return None
        pieces.append(value[start:at])
        start = at + len(sep.text)
    pieces.append(value[start:])
    return Seq(list(pieces))


def method(receiver: Str, name: str, args: list[Val], kwargs: dict[str, Val]) -> Val:
    """What a string method returns, as far as the characters can be followed."""
    if name == "format":
        return _format(receiver, args, kwargs)
    if name == "join" and args and isinstance(args[0], Seq):
        if len(args[0].items) > MAX_PIECES:
            return UNKNOWN_STR
        texts: list[str] = []
        srcs: list[Src] = []
        for i, part in enumerate(as_str(v) for v in args[0].items):
            for piece in (receiver, part) if i else (part,):
                texts.append(piece.text)
                srcs.extend(piece.src)
        text = "".join(texts)
        return Str(text, tuple(srcs)) if len(text) <= MAX_CHARS else UNKNOWN_STR
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
    if name == "replace" and len(args) == 2:
        pieces = _split(receiver, args[0])
        return method(as_str(args[1]), "join", [pieces], {}) if pieces else None
    return None
