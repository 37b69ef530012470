"""Python source for the notebook writer: names, template strings, laid-out literals.

Everything here returns source text laid out the way ``ruff format`` would
(double quotes, 100 columns, one element per line with a trailing comma when
a literal does not fit), so a generated notebook passes ``ruff check``.
``{{variable}}`` templates become f-strings over the parameters cell's names;
Postman's dynamic variables (``{{$guid}}``, ``{{$timestamp}}``...) become the
Python expression that makes the same kind of value.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LINE", "Names", "call", "env_name", "identifier", "literal", "string"]

LINE = 100
_TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
#: Postman dynamic variables: (Python expression, module it needs)
DYNAMIC = {
    "$guid": ("uuid.uuid4()", "uuid"),
    "$randomUUID": ("uuid.uuid4()", "uuid"),
    "$timestamp": ("int(time.time())", "time"),
    "$isoTimestamp": ("datetime.now(UTC).isoformat()", "datetime"),
    "$randomInt": ("random.randint(0, 1000)", "random"),
}
#: names the generated notebook defines itself
RESERVED = frozenset(
    {"client", "ex", "api", "gql", "os", "uuid", "time", "random", "datetime", "UTC", "Path",
     "Secret", "RestClient", "GraphQLClient", "SoapClient", "Bearer", "Basic", "ApiKey",
     "OAuth2ClientCredentials", "OAuth2AuthorizationCode", "httpx", "attach", "json"}
)  # fmt: skip


def identifier(name: str) -> str:
    """A Python identifier for a variable name (``base-url`` -> ``base_url``)."""
    text = re.sub(r"\W", "_", name.strip(), flags=re.ASCII).strip("_") or "var"
    if text[0].isdigit():
        text = f"v_{text}"
    generated = re.fullmatch(r"(client|auth)(_\d+)?", text)  # the clients cell's names
    if keyword.iskeyword(text) or keyword.issoftkeyword(text) or text in RESERVED or generated:
        text += "_"
    return text


def env_name(name: str) -> str:
    """The environment variable for a secret: ``apiKey`` -> ``API_KEY``."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    text = re.sub(r"[^A-Za-z0-9]+", "_", spaced).strip("_").upper() or "SECRET"
    return f"V_{text}" if text[0].isdigit() else text


@dataclass
class Names:
    """Template variable -> Python name, which are secrets, which modules are needed."""

    names: dict[str, str] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    imports: set[str] = field(default_factory=set)
    unknown: dict[str, list[str]] = field(default_factory=dict)
    on_unknown: Callable[[str], None] | None = None

    def add(self, variable: str) -> str:
        """The Python name of ``variable``, creating one (unique) if needed."""
        if variable in self.names:
            return self.names[variable]
        base = identifier(variable)
        taken = set(self.names.values())
        name, n = base, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        self.names[variable] = name
        return name

    def ref(self, variable: str) -> str:
        """The expression a template ``{{variable}}`` becomes."""
        if variable in DYNAMIC:
            expr, module = DYNAMIC[variable]
            self.imports.add(module)
            return expr
        if variable not in self.names:
            self.unknown.setdefault(variable, [])
            self.add(variable)
        name = self.names[variable]
        return f"{name}.reveal()" if variable in self.secrets else name


def _escape(text: str, fstring: bool) -> str:
    body = json.dumps(text, ensure_ascii=False)[1:-1]
    return body.replace("{", "{{").replace("}", "}}") if fstring else body


def _piece(text: str, names: Names, *, bare: bool = True) -> str:
    """One string literal (or f-string) for ``text``, templates resolved.

    With ``bare``, a text that is one credential's template is the credential itself
    (``token.reveal()``) rather than an f-string around it.
    """
    whole = _TEMPLATE.fullmatch(text)
    if bare and whole and whole.group(1).strip() in names.secrets:
        return names.ref(whole.group(1).strip())  # a credential: ``token.reveal()``
    parts: list[str] = []
    fields = False
    last = 0
    for match in _TEMPLATE.finditer(text):
        var = match.group(1).strip()
        if var.startswith("$") and var not in DYNAMIC:
            continue  # an unknown dynamic variable stays text (the writer warns)
        parts.append(_escape(text[last : match.start()], True))
        parts.append("{" + names.ref(var) + "}")
        fields = True
        last = match.end()
    if not fields:
        return '"' + _escape(text, False) + '"'
    parts.append(_escape(text[last:], True))
    return 'f"' + "".join(parts) + '"'


def _atoms(line: str, width: int) -> list[str]:
    """Pieces of a line that may not be split: templates, words (long ones cut)."""
    out: list[str] = []
    for part in re.split(r"(\{\{[^{}]*\}\})", line):
        if part.startswith("{{"):
            out.append(part)
            continue
        for word in re.findall(r"\S+\s*|\s+", part):
            while len(word) > width // 2:
                out.append(word[: width // 2])
                word = word[width // 2 :]
            if word:
                out.append(word)
    return out


def _chunks(text: str, width: int) -> list[str]:
    """Split ``text`` into pieces about ``width`` wide (at newlines, then between words)."""
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        current = ""
        for atom in _atoms(line, width):
            if current and len(json.dumps(current + atom, ensure_ascii=False)) > width:
                out.append(current)
                current = ""
            current += atom
        if current:
            out.append(current)
    return out or [""]


def string(text: str, names: Names, indent: int = 0, prefix: int = 0) -> str:
    """``text`` as a literal; wrapped in parentheses when it does not fit on the line."""
    flat = _piece(text, names)
    if indent + prefix + len(flat) + 2 <= LINE:
        return flat
    pad = " " * (indent + 4)
    room = LINE - indent - 4
    width = max(30, LINE - indent - 12)
    while True:  # rendered pieces are longer than their text (escapes, .reveal())
        pieces = [_piece(chunk, names, bare=False) for chunk in _chunks(text, width)]
        fits = all(len(p) <= room for p in pieces)
        if (fits and len(pieces) > 1) or width <= 20:
            break
        width -= 10
    if len(pieces) == 1:
        return pieces[0]
    return "(\n" + "".join(f"{pad}{p}\n" for p in pieces) + " " * indent + ")"


def literal(value: Any, names: Names, indent: int = 0, prefix: int = 0) -> str:
    """A JSON-like value as Python source; strings may hold templates."""
    if isinstance(value, Raw):
        return value.code
    if isinstance(value, str):
        return string(value, names, indent, prefix)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        items = [(literal(k, names, 0), v) for k, v in value.items()]
        flat = "{" + ", ".join(f"{k}: {literal(v, names, 0, 0)}" for k, v in items) + "}"
        if not value or (indent + prefix + len(flat) <= LINE and "\n" not in flat):
            return flat
        pad = " " * (indent + 4)
        body = "".join(
            f"{pad}{k}: {literal(v, names, indent + 4, len(k) + 2)},\n" for k, v in items
        )
        return "{\n" + body + " " * indent + "}"
    if isinstance(value, list | tuple):
        open_, close = ("[", "]") if isinstance(value, list) else ("(", ")")
        flat = open_ + ", ".join(literal(v, names, 0, 0) for v in value)
        flat += ("," if isinstance(value, tuple) and len(value) == 1 else "") + close
        if not value or (indent + prefix + len(flat) <= LINE and "\n" not in flat):
            return flat
        pad = " " * (indent + 4)
        body = "".join(f"{pad}{literal(v, names, indent + 4)},\n" for v in value)
        return open_ + "\n" + body + " " * indent + close
    return repr(value)


@dataclass(frozen=True)
class Raw:
    """Source code placed as is inside a literal (a variable reference, a call)."""

    code: str


def call(
    head: str, args: list[tuple[str, Any]], names: Names, indent: int = 0, prefix: int = 0
) -> str:
    """``head(a, k=v)``: flat if it fits, else one argument per line with a trailing comma.

    ``args`` are ``(keyword or "", value)``; values go through :func:`literal`.
    """
    flat_args = [(k, literal(v, names, 0, 0)) for k, v in args]
    flat = head + "(" + ", ".join(f"{k}={v}" if k else v for k, v in flat_args) + ")"
    if indent + prefix + len(flat) <= LINE and "\n" not in flat:
        return flat
    pad = " " * (indent + 4)
    lines = []
    for key, value in args:
        given = f"{key}=" if key else ""
        lines.append(f"{pad}{given}{literal(value, names, indent + 4, len(given))},\n")
    return head + "(\n" + "".join(lines) + " " * indent + ")"
