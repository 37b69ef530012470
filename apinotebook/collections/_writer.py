"""Write a :class:`Collection` as a notebook that runs its requests with the clients.

The notebook: a title and the collection's description; a setup cell (imports);
a ``parameters`` cell with every variable (credentials read with
``Secret.from_env``, never their values) and the list of environment variables
to set; a clients cell (one client per auth the collection uses); then one
section per folder and, per request, its description as markdown and a code
cell that sends it, runs the translated checks and keeps the untranslated
script lines as comments.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

from apinotebook._exceptions import MissingExtraError
from apinotebook.collections._codegen import Context, auth_code, json_value, request_args
from apinotebook.collections._model import Collection, Folder, Note, Request, Variable
from apinotebook.collections._pysource import DYNAMIC, LINE, Raw, call, env_name, literal
from apinotebook.collections._scripts import translate
from apinotebook.export import is_secret_name, looks_like_credential

__all__ = ["ImportResult", "build_cells", "write_notebook"]

_TEMPLATE = re.compile(r"\{\{\s*([^{}]+?)\s*\}\}")
_STD_IMPORTS = {
    "os": "import os",
    "random": "import random",
    "time": "import time",
    "uuid": "import uuid",
    "datetime": "from datetime import UTC, datetime",
}


@dataclass
class ImportResult:
    """What ``apinotebook import`` wrote and what became of every item."""

    collection: Collection
    cells: list[tuple[str, str, list[str]]]
    path: Path | None = None
    report: list[str] = field(default_factory=list)
    env_vars: dict[str, str] = field(default_factory=dict)

    @property
    def warnings(self) -> list[Note]:
        """The warnings (unsupported features, named by item)."""
        return [n for n in self.collection.notes if n.level == "warning"]

    def explain(self) -> str:
        """Every item and what became of it, then the notes."""
        lines = [f"{self.collection.format} {self.collection.path}", *self.report]
        lines += [str(n) for n in self.collection.notes]
        return "\n".join(lines)


def _md(*parts: str) -> tuple[str, str, list[str]]:
    return ("markdown", "\n\n".join(p for p in parts if p).strip(), [])


def _code(source: str, *tags: str) -> tuple[str, str, list[str]]:
    return ("code", source.rstrip() + "\n", list(tags))


def _is_secret(var: Variable) -> bool:
    value = var.value or ""
    if var.secret or is_secret_name(var.name):
        return not value.startswith(("http://", "https://")) or "@" in value
    return bool(value) and "{{" not in value and looks_like_credential(value)


class _Writer:
    def __init__(self, collection: Collection) -> None:
        self.c = collection
        self.ctx = Context(collection)
        self.values: dict[str, str | None] = {}
        self.where: dict[str, str] = {}
        self.clients: dict[str | None, int] = {}
        self.report: list[str] = []
        self.env_hint: dict[str, str] = {}
        self.assigned: set[str] = set()

    # -- variables -------------------------------------------------------------------

    def _collect(self, var: Variable, where: str) -> None:
        if var.disabled:
            self.c.notes.append(Note(where, f"variable {var.name!r} is disabled", "info"))
            return
        value = var.value
        if value is not None and var.name in [t.strip() for t in _TEMPLATE.findall(value)]:
            value = None  # refers to itself: its value must come from outside
        if value == "":
            value = None  # left empty in the collection: read it from the environment
        if _is_secret(var):
            self.ctx.make_secret(var.name)
        if var.name in self.values:
            known = self.values[var.name]
            if known is None:
                self.values[var.name] = value
            elif value is not None and value != known:
                self.c.notes.append(
                    Note(
                        where,
                        f"variable {var.name!r} is also set at {self.where[var.name]}; "
                        "the notebook uses the value seen first",
                        "info",
                    )  # fmt: skip
                )
            return
        self.values[var.name] = value
        self.where[var.name] = where
        self.ctx.names.add(var.name)

    def variables(self) -> None:
        active = next((e for e in self.c.environments if e.name == self.c.active), None)
        if active is not None:
            for var in active.variables:
                self._collect(var, f"environment {active.name}")
        for var in self.c.variables:
            self._collect(var, "collection")

        def walk(folder: Folder, where: str) -> None:
            if folder is not self.c:  # the collection's own variables are collected above
                for var in folder.variables:
                    self._collect(var, where)
            for item in folder.items:
                here = f"{where}/{item.name}" if where else item.name
                if isinstance(item, Folder):
                    walk(item, here)
                elif item.operation is None:
                    for var in item.variables:
                        self._collect(var, here)

        walk(self.c, "")
        for env in self.c.environments:
            for var in env.variables:
                if var.secret or is_secret_name(var.name):
                    self.ctx.make_secret(var.name)

    def _ordered(self, plain: list[str]) -> list[str]:
        """Variables in an order where each is defined before a value that uses it."""
        done: list[str] = []
        seen: set[str] = set()

        def visit(var: str, depth: int = 0) -> None:
            if var in seen or depth > 50:
                return
            seen.add(var)
            for ref in _TEMPLATE.findall(self.values.get(var) or ""):
                if ref.strip() in plain:
                    visit(ref.strip(), depth + 1)
            done.append(var)

        for var in plain:
            visit(var)
        return done

    def parameters(self) -> str:
        names = self.ctx.names
        # a value may use a variable the collection never defines: read it from the env
        for value in list(self.values.values()):
            for ref in _TEMPLATE.findall(value or ""):
                ref = ref.strip()
                if ref not in self.values and not ref.startswith("$"):
                    self.values[ref] = None
                    names.add(ref)
        lines: list[str] = []
        plain = self._ordered([v for v in names.names if v not in names.secrets])
        for var in plain:
            py = names.names[var]
            value = self.values.get(var)
            if value is None:
                self.ctx.imports.add("os")
                env = env_name(var)
                lines.append(f"{py} = os.environ.get({literal(env, names)}, {literal('', names)})")
                self.env_hint[env] = f"`{var}` " + (
                    "(set by a script; optional)" if var in self.assigned
                    else "(not given a value by the collection)"
                )  # fmt: skip
            else:
                lines.append(f"{py} = {literal(value, names, 0, len(py) + 3)}")
        for var in sorted(names.secrets, key=lambda v: names.names[v]):
            env = self.ctx.secret_env.get(var, env_name(var))
            self.ctx.imports.add("Secret")
            lines.append(f"{names.names[var]} = Secret.from_env({literal(env, names)})")
            self.env_hint[env] = f"credential `{var}`"
        return "\n".join(lines) or "# the collection defines no variables"

    # -- requests --------------------------------------------------------------------

    def client_index(self, code: str | None) -> int:
        if code not in self.clients:
            self.clients[code] = len(self.clients) + 1
        return self.clients[code]

    def client_name(self, code: str | None) -> str:
        n = self.client_index(code)
        return "client" if n == 1 else f"client_{n}"

    def auth_name(self, code: str) -> str:
        n = self.client_index(code)
        return "auth" if n == 1 else f"auth_{n}"

    def clients_cell(self) -> str:
        lines = []
        for code, _n in sorted(self.clients.items(), key=lambda kv: kv[1]):
            if code is None:
                lines.append(f"{self.client_name(code)} = RestClient()")
            else:
                lines.append(f"{self.auth_name(code)} = {code}")
                lines.append(f"{self.client_name(code)} = RestClient(auth={self.auth_name(code)})")
        if self.c.spec is not None:
            base = Raw(self.ctx.names.add("baseUrl"))
            args = [("", self.c.spec), ("base_url", base)]
            lines.append("api = " + call("RestClient.from_openapi", args, self.ctx.names, 0, 6))
        if lines:
            self.ctx.imports.add("RestClient")
        if "httpx" in self.ctx.imports:
            lines.insert(0, "import httpx\n")
        return "\n".join(lines)

    def _dynamic(self, req: Request, path: str) -> None:
        texts = [req.url, req.body.text, *(h.value for h in req.headers + req.query)]
        for text in texts:
            for var in _TEMPLATE.findall(text or ""):
                name = var.strip()
                if name.startswith("$") and name not in DYNAMIC:
                    self.ctx.warn(
                        path, f"dynamic variable {name} has no Python equivalent; kept as text"
                    )

    def request_cell(self, parents: list[Folder], req: Request, path: str) -> str:
        ctx = self.ctx
        auth = self.c.effective_auth(parents, req)
        code = auth_code(ctx, auth, path)
        inherited = [h for f in parents for h in f.headers]
        self._dynamic(req, path)
        scripts = [s for f in parents for s in f.scripts] + req.scripts
        tr = translate(scripts, "ex", dict(ctx.names.names), set(ctx.names.secrets))
        lines: list[str] = list(tr.before)
        if req.operation is not None:
            args: list[tuple[str, Any]] = [("", req.operation)]
            args += [(v.name, json.loads(v.value or '""')) for v in req.variables]
            lines.append("ex = " + call("api.call", args, ctx.names, 0, 5))
            how = f"api.call({req.operation!r})"
        elif req.body.mode == "graphql":
            ctx.imports.add("GraphQLClient")
            client_args: list[tuple[str, Any]] = [("", req.url)]
            if code:
                client_args.append(("auth", Raw(self.auth_name(code))))
            client_args.append(("fetch_schema", False))
            only_headers = Request(req.name, headers=req.headers, query=req.query)
            _, headers = request_args(ctx, only_headers, inherited)
            lines.append("gql = " + call("GraphQLClient", client_args, ctx.names, 0, 6))
            exec_args: list[tuple[str, Any]] = [("", req.body.query)]
            variables = graphql_variables(ctx, req.body.variables)
            if variables is None and req.body.variables.strip() not in ("", "{}", "null"):
                ctx.warn(path, "the GraphQL variables are not JSON; they are not sent")
            if variables:
                exec_args.append(("variables", variables))
            if headers:
                exec_args.append(("headers", headers))
            exec_args.append(("validate", False))
            lines.append("ex = " + call("gql.execute", exec_args, ctx.names, 0, 5))
            how = "GraphQLClient.execute"
        else:
            client = self.client_name(code)
            args, _ = request_args(ctx, req, inherited)
            args = [("", req.method), ("", req.url), *args]
            lines.append("ex = " + call(f"{client}.request", args, ctx.names, 0, 5))
            how = f"{client}.request"
        disabled = [h.name for h in req.headers + req.query if h.disabled]
        if disabled:
            lines.append(_comment(f"disabled in the collection, not sent: {', '.join(disabled)}"))
        lines.extend(tr.after)
        if tr.untranslated:
            lines.append("# Script lines to translate by hand (JavaScript, kept as written):")
            lines.extend(_comment(s) for s in tr.untranslated)
            ctx.warn(
                path,
                f"{len(tr.untranslated)} script statement(s) not translated "
                "(kept as comments in the cell)",
            )
        lines.append("ex")
        self.report.append(
            f"{path}: {req.method} via {how}, auth {auth.type if auth else 'none'}, "
            f"body {req.body.mode}, scripts: {tr.translated} statement(s) translated, "
            f"{len(tr.untranslated)} kept as comments"
        )
        return "\n".join(lines)

    # -- the notebook ------------------------------------------------------------------

    def cells(self) -> list[tuple[str, str, list[str]]]:
        c = self.c
        self.variables()
        # variables the scripts assign get a first value too (a later cell may read them)
        for _parents, req in c.walk():
            scripts = [s for f in _parents for s in f.scripts] + req.scripts
            for var in translate(scripts, "ex", {}, set()).assigned:
                self.assigned.add(var)
                if var not in self.ctx.names.names:
                    self.values.setdefault(var, None)
                    self.ctx.names.add(var)
        body: list[tuple[str, str, list[str]]] = []
        seen: list[Folder] = []
        for parents, req in c.walk():
            for depth, folder in enumerate(parents[1:], start=1):
                if folder not in seen:
                    seen.append(folder)
                    body.append(
                        _md(
                            f"{'#' * min(depth + 1, 6)} {_one_line(folder.name)}",
                            folder.description,
                        )
                    )
            path = "/".join([f.name for f in parents[1:]] + [req.name])
            level = "#" * min(len(parents) + 1, 6)
            url = req.url + (
                "?" + "&".join(f"{q.name}={q.value}" for q in req.query) if req.query else ""
            )
            body.append(
                _md(
                    f"{level} {_one_line(req.name)}",
                    f"`{req.method} {_one_line(url)}`",
                    req.description,
                )
            )
            body.append(_code(self.request_cell(parents, req, path)))
        for name in self.ctx.names.unknown:
            if name not in self.values and not name.startswith("$"):
                self.values[name] = None
        self.env_hint = {}
        params = self.parameters()
        clients = self.clients_cell()
        head: list[tuple[str, str, list[str]]] = [
            _md(
                f"# {_one_line(c.name)}",
                c.description,
                f"Imported from the {c.format} file `{Path(c.path).name}` by "
                "`apinotebook import`. Run the cells from the top.",
            ),
            _code(self.imports()),
        ]
        env_lines = [f"- `{env}`: {why}" for env, why in sorted(self.env_hint.items())]
        envs = [e.name for e in c.environments]
        head.append(
            _md(
                "## Parameters",
                "Set these environment variables before running:\n\n" + "\n".join(env_lines)
                if env_lines
                else "",
                f"Environments in the collection: {', '.join(envs)}"
                + (f" (values from `{c.active}`)" if c.active else "")
                if envs
                else "",
            )
        )
        head.append(_code(params, "parameters"))
        if clients:
            head.append(_md("## Clients", "One client per authentication the requests use."))
            head.append(_code(clients))
        if not c.requests:
            body.append(_md("The collection holds no requests."))
        return head + body

    def imports(self) -> str:
        used = self.ctx.imports | self.ctx.names.imports
        std = sorted(_STD_IMPORTS[m] for m in used if m in _STD_IMPORTS)
        std_plain = [line for line in std if line.startswith("import ")]
        std_from = [line for line in std if line.startswith("from ")]
        third: list[str] = []  # httpx (digest auth) is imported in the clients cell
        classes = sorted(
            n for n in used
            if n in {"ApiKey", "Basic", "Bearer", "GraphQLClient", "OAuth2AuthorizationCode",
                     "OAuth2ClientCredentials", "RestClient", "Secret"}
        )  # fmt: skip
        if classes:
            flat = f"from apinotebook import {', '.join(classes)}"
            third.append(
                flat
                if len(flat) <= LINE
                else "from apinotebook import (\n" + "".join(f"    {n},\n" for n in classes) + ")"
            )
        if "attach" in used:
            third.append("from apinotebook.collections import attach")
        groups = [g for g in (std_plain + std_from, third) if g]
        return "\n\n".join("\n".join(g) for g in groups)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


def _comment(text: str) -> str:
    """``text`` as comment lines no wider than the notebook's line length."""
    out = []
    for line in text.splitlines():
        line = line.rstrip()
        out.append(f"# {line[:96]}".rstrip())
        for start in range(96, len(line), 94):
            out.append(f"#   {line[start : start + 94]}".rstrip())
    return "\n".join(out)


def graphql_variables(ctx: Context, text: str) -> Any:
    """GraphQL variables (JSON text, templates allowed) as a value; None if empty or not JSON."""
    text = (text or "").strip()
    if not text or text in ("{}", "null"):
        return None
    value, ok = json_value(ctx, text)
    return value if ok else None


def build_cells(
    collection: Collection,
) -> tuple[list[tuple[str, str, list[str]]], list[str], dict[str, str]]:
    """The notebook's cells ``(kind, source, tags)``, the per-item report, the env vars."""
    writer = _Writer(collection)
    cells = writer.cells()
    return cells, writer.report, writer.env_hint


def write_notebook(collection: Collection, path: str | PathLike[str] | None) -> ImportResult:
    """Write ``collection`` as a notebook at ``path`` (nbformat 4, no outputs)."""
    cells, report, env = build_cells(collection)
    result = ImportResult(collection, cells, None, report, env)
    if path is None:
        return result
    try:
        import nbformat
    except ImportError as exc:  # pragma: no cover - nbformat comes with Jupyter
        raise MissingExtraError("apinotebook import", "notebook", module="nbformat") from exc
    nb = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    for kind, source, tags in cells:
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(source.rstrip("\n"))  # type: ignore[no-untyped-call]
        if tags:
            cell.metadata["tags"] = tags
        nb.cells.append(cell)
    nbformat.validate(nb)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out))  # type: ignore[no-untyped-call]
    result.path = out
    return result
