"""The syntax of the ``%%rest``, ``%%graphql`` and ``%%soap`` cells, without IPython.

Both the magics (which run a cell) and the exporter (which turns a cell into
plain Python) use this module, so a cell means the same thing in a notebook
and in an exported script.

``%%rest [CLIENT] [--out NAME]`` takes an HTTP-file-like body (the format of
VS Code's REST Client and JetBrains' HTTP client)::

    POST /contacts
    Content-Type: application/json
    Idempotency-Key: {{key}}

    {"email": "ada@example.com", "first_name": "Ada"}

``%%graphql CLIENT [--variables NAME] [--operation NAME] [--out NAME]`` takes a
GraphQL document. ``%%soap CLIENT OPERATION [--out NAME]`` takes the
operation's arguments as YAML or JSON.

``{{name}}`` (also ``{{ name }}``, ``{{obj.attr}}``) is replaced by a variable
of the notebook, or else by the environment variable of that name.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from apinotebook._exceptions import ConfigError

__all__ = [
    "GraphQLCell",
    "MagicSyntaxError",
    "RestCell",
    "SoapCell",
    "parse_cell",
    "substitute",
    "to_python",
]

MagicKind = Literal["rest", "graphql", "soap"]
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEADER = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*:\s*(.*)$")


class MagicSyntaxError(ConfigError):
    """A magic cell is not written the way the magic expects."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        where = f" (line {line} of the cell)" if line is not None else ""
        super().__init__(message + where)
        self.line = line


@dataclass(frozen=True)
class RestCell:
    """A parsed ``%%rest`` cell."""

    client: str | None
    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None
    out: str | None = None


@dataclass(frozen=True)
class GraphQLCell:
    """A parsed ``%%graphql`` cell."""

    client: str
    query: str
    variables: str | None = None
    operation_name: str | None = None
    out: str | None = None
    #: results a ``subscription`` cell reads before it stops
    limit: int | None = None


@dataclass(frozen=True)
class SoapCell:
    """A parsed ``%%soap`` cell; ``arguments`` is YAML or JSON text."""

    client: str
    operation: str
    arguments: str
    out: str | None = None

    def parsed_arguments(self, resolve: Callable[[str], Any] | None = None) -> dict[str, Any]:
        """The arguments as a dict (templates substituted first when ``resolve`` is given)."""
        import yaml

        text = substitute(self.arguments, resolve) if resolve is not None else self.arguments
        if not text.strip():
            return {}
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise MagicSyntaxError(
                f"the %%soap arguments are not valid YAML or JSON: {exc}"
            ) from None
        if not isinstance(value, dict):
            raise MagicSyntaxError(
                "the %%soap arguments must be a mapping of names to values, e.g.\n"
                "  invoiceId: INV-000123"
            )
        return value


def _ident(value: str, what: str) -> str:
    if not _IDENT.fullmatch(value):
        raise MagicSyntaxError(f"{what} {value!r} is not a Python name")
    return value


def _options(line: str, kind: MagicKind) -> tuple[list[str], dict[str, str]]:
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise MagicSyntaxError(f"cannot read the %%{kind} line: {exc}") from None
    allowed = {"rest": {"--out"}, "graphql": {"--out", "--variables", "--operation", "--limit"},
               "soap": {"--out"}}[kind]  # fmt: skip
    positional: list[str] = []
    options: dict[str, str] = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if name not in allowed:
                raise MagicSyntaxError(
                    f"unknown option {name} for %%{kind}; valid: {', '.join(sorted(allowed))}"
                )
            if not eq:
                if i + 1 >= len(words):
                    raise MagicSyntaxError(f"option {name} needs a value")
                i += 1
                value = words[i]
            if name == "--limit" and not (value.isdigit() and int(value) > 0):
                raise MagicSyntaxError(f"--limit takes a positive whole number, not {value!r}")
            options[name[2:]] = value if name == "--limit" else _ident(value, name)
        else:
            positional.append(word)
        i += 1
    return positional, options


def parse_cell(kind: MagicKind, line: str, cell: str) -> RestCell | GraphQLCell | SoapCell:
    """Parse a magic's line and cell body.

    Raises:
        MagicSyntaxError: with what is wrong, where, and an example.
    """
    positional, options = _options(line, kind)
    out = options.get("out")
    if kind == "rest":
        if len(positional) > 1:
            raise MagicSyntaxError("usage: %%rest [CLIENT] [--out NAME]")
        client = _ident(positional[0], "client") if positional else None
        return _parse_rest(cell, client, out)
    if kind == "graphql":
        if len(positional) != 1:
            raise MagicSyntaxError(
                "usage: %%graphql CLIENT [--variables NAME] [--operation NAME] [--out NAME]"
            )
        if not cell.strip():
            raise MagicSyntaxError(
                "the %%graphql cell is empty: write a query below the first line"
            )
        limit = int(options["limit"]) if "limit" in options else None
        return GraphQLCell(_ident(positional[0], "client"), cell.strip("\n"),
                           options.get("variables"), options.get("operation"), out,
                           limit)  # fmt: skip
    if len(positional) != 2:
        raise MagicSyntaxError("usage: %%soap CLIENT OPERATION [--out NAME]")
    return SoapCell(_ident(positional[0], "client"), positional[1], cell, out)


def _parse_rest(cell: str, client: str | None, out: str | None) -> RestCell:
    lines = cell.split("\n")
    index = 0
    while index < len(lines) and (
        not lines[index].strip() or lines[index].lstrip().startswith("#")
    ):
        index += 1
    if index == len(lines):
        raise MagicSyntaxError(
            "the %%rest cell is empty: start with a request line like 'GET /contacts'"
        )
    parts = lines[index].split()
    if parts[0].upper() not in METHODS:
        if len(parts) == 1 and (parts[0].startswith("/") or "://" in parts[0]):
            parts = ["GET", parts[0]]
        else:
            raise MagicSyntaxError(
                "the request line must be 'METHOD URL', e.g. 'GET /contacts' "
                f"(got {lines[index]!r}); methods: {', '.join(METHODS)}",
                line=index + 1,
            )
    if len(parts) < 2 or len(parts) > 3 or (len(parts) == 3 and not parts[2].startswith("HTTP/")):
        raise MagicSyntaxError("the request line must be 'METHOD URL [HTTP/1.1]'", line=index + 1)
    method, url = parts[0].upper(), parts[1]
    if client is None and "://" not in url and not url.startswith("{{"):
        raise MagicSyntaxError(
            f"{url!r} is relative: name a client (%%rest crm) or write an absolute URL",
            line=index + 1,
        )
    headers: list[tuple[str, str]] = []
    index += 1
    while index < len(lines) and lines[index].strip():
        raw = lines[index]
        if raw.lstrip().startswith("#"):
            index += 1
            continue
        if raw[:1].isspace() and headers:  # folded continuation of the previous query/header
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {raw.strip()}")
            index += 1
            continue
        match = _HEADER.match(raw.strip())
        if not match:
            raise MagicSyntaxError(
                f"expected a header 'Name: value' or a blank line before the body, got {raw!r}",
                line=index + 1,
            )
        headers.append((match.group(1), match.group(2).strip()))
        index += 1
    body = "\n".join(lines[index + 1 :]).strip("\n") if index < len(lines) else ""
    return RestCell(client, method, url, tuple(headers), body or None, out)


def substitute(text: str, resolve: Callable[[str], Any] | None) -> str:
    """Replace ``{{name}}`` with ``str(resolve(name))``; secrets are revealed for sending."""
    if resolve is None:
        return text

    def replace(match: re.Match[str]) -> str:
        value = resolve(match.group(1))
        reveal = getattr(value, "reveal", None)
        return str(reveal() if callable(reveal) else value)

    return TEMPLATE.sub(replace, text)


def namespace_resolver(
    namespace: Mapping[str, Any], environ: Mapping[str, str]
) -> Callable[[str], Any]:
    """Look a template name up in the notebook namespace, then the environment."""

    def resolve(name: str) -> Any:
        head, *rest = name.split(".")
        if head in namespace:
            value = namespace[head]
            for attr in rest:
                try:
                    value = getattr(value, attr)
                except AttributeError:
                    raise ConfigError(f"{{{{{name}}}}}: {head} has no attribute {attr!r}") from None
            return value
        if not rest and name in environ:
            return environ[name]
        raise ConfigError(
            f"{{{{{name}}}}} is not defined: set a variable {head!r} in the notebook or an "
            f"environment variable {name!r}"
        )

    return resolve


# -- code generation (for the exporter) ------------------------------------------------


def _fstring(text: str, expr: Callable[[str], str]) -> str:
    """``text`` as a Python literal; ``{{name}}`` templates become f-string fields."""
    if not TEMPLATE.search(text):
        return repr(text)
    fields: list[str] = []

    def mark(match: re.Match[str]) -> str:
        fields.append(expr(match.group(1)))
        return f"\u27e6{len(fields) - 1}\u27e7"

    marked = TEMPLATE.sub(mark, text).replace("{", "{{").replace("}", "}}")
    literal = repr(marked)
    quote, other = literal[0], "'" if literal[0] == '"' else '"'
    for i, field in enumerate(fields):
        literal = literal.replace(f"\u27e6{i}\u27e7", "{" + field.replace(quote, other) + "}")
    return "f" + literal


def _literal(value: Any) -> str:
    return repr(value)


def to_python(cell: RestCell | GraphQLCell | SoapCell, expr: Callable[[str], str]) -> str:
    """Python code that does what the cell does; ``expr(name)`` renders a template name.

    The exporter passes an ``expr`` that turns a notebook variable into its
    name and anything else into ``os.environ["NAME"]``.
    """
    target = cell.out or "_"
    if isinstance(cell, RestCell):
        client = cell.client or "RestClient()"
        args = [repr(cell.method), _fstring(cell.url, expr)]
        headers = {name: value for name, value in cell.headers}
        if headers:
            items = ", ".join(
                f"{name!r}: {_fstring(value, expr)}" for name, value in headers.items()
            )
            args.append(f"headers={{{items}}}")
        if cell.body is not None:
            ctype = next((v for k, v in cell.headers if k.lower() == "content-type"), "")
            parsed: Any = None
            if "json" in ctype.lower() and not TEMPLATE.search(cell.body):
                try:
                    parsed = json.loads(cell.body)
                except ValueError:
                    parsed = None
            if parsed is not None:
                args = [a for a in args if not a.startswith("headers=")]
                rest = {k: v for k, v in headers.items() if k.lower() != "content-type"}
                if rest:
                    items = ", ".join(f"{n!r}: {_fstring(v, expr)}" for n, v in rest.items())
                    args.append(f"headers={{{items}}}")
                args.append(f"json={_literal(parsed)}")
            else:
                args.append(f"content={_fstring(cell.body, expr)}")
        return f"{target} = {client}.request({', '.join(args)})"
    if isinstance(cell, GraphQLCell):
        args = [_fstring(cell.query, expr)]
        if cell.variables:
            args.append(f"variables={cell.variables}")
        if cell.operation_name:
            args.append(f"operation_name={cell.operation_name!r}")
        return f"{target} = {cell.client}.execute({', '.join(args)})"
    arguments = cell.parsed_arguments()
    if TEMPLATE.search(cell.arguments):
        rendered = ", ".join(
            f"{k}={_fstring(v, expr) if isinstance(v, str) else _literal(v)}"
            for k, v in arguments.items()
        )
    else:
        rendered = ", ".join(f"{k}={_literal(v)}" for k, v in arguments.items())
    for name in arguments:
        if not _IDENT.fullmatch(str(name)):
            rendered = f"**{_literal(arguments)}"
            break
    return f"{target} = {cell.client}.call({cell.operation!r}{', ' + rendered if rendered else ''})"
