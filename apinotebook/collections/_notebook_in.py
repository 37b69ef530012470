"""Read the requests of a notebook back into the model, without running it.

The notebook's code is parsed (never executed): string assignments and
``Secret.from_env`` / ``os.environ.get`` become variables (a secret's value is
never read), auth objects (``Bearer``, ``Basic``, ``ApiKey``, the OAuth 2.0
flows, ``httpx.DigestAuth``) given to a ``RestClient`` or ``GraphQLClient``
become the requests' auth, and every ``client.request(...)`` /
``client.get(...)``... and ``gql.execute(...)`` call becomes a request, named
by the markdown heading above it. f-strings become ``{{variable}}`` templates.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

from apinotebook.collections._model import (
    Auth,
    Body,
    Collection,
    Folder,
    FormField,
    Header,
    Note,
    Request,
    Variable,
)
from apinotebook.export import read_notebook

__all__ = ["collection_from_notebook"]

_VERBS = {"get", "post", "put", "patch", "delete", "head", "options"}
_AUTHS = {
    "Bearer": "bearer", "Basic": "basic", "ApiKey": "apikey", "DigestAuth": "digest",
    "OAuth2ClientCredentials": "oauth2", "OAuth2AuthorizationCode": "oauth2",
    "OAuth2DeviceCode": "oauth2",
}  # fmt: skip
_UNKNOWN = object()
#: the Python the writer emits for Postman's dynamic variables, back to their names
_DYNAMIC_BACK = {
    "uuid.uuid4()": "$guid", "int(time.time())": "$timestamp",
    "datetime.now(UTC).isoformat()": "$isoTimestamp", "random.randint(0, 1000)": "$randomInt",
}  # fmt: skip


def _callee(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


class _Reader:
    def __init__(self, collection: Collection) -> None:
        self.c = collection
        self.auths: dict[str, Auth] = {}
        self.clients: dict[str, tuple[str, Auth | None]] = {}
        self.secrets: set[str] = set()
        #: OpenAPI clients: name -> the spec's path (``api.call`` reads the operation there)
        self.specs: dict[str, str] = {}
        self._docs: dict[str, Any] = {}

    def template(self, node: ast.AST | None) -> Any:
        """A node as a template string / JSON value; ``_UNKNOWN`` if it cannot be read."""
        if node is None:
            return _UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return "{{" + node.id + "}}"
        if isinstance(node, ast.Call) and _callee(node) == "reveal":
            return self.template(getattr(node.func, "value", None))
        if isinstance(node, ast.Call) and _callee(node) in ("str", "Secret") and node.args:
            return self.template(node.args[0])
        if isinstance(node, ast.JoinedStr):
            out = ""
            for part in node.values:
                if isinstance(part, ast.Constant):
                    out += str(part.value)
                elif isinstance(part, ast.FormattedValue):
                    value = self.template(part.value)
                    if value is _UNKNOWN:  # an expression (a dynamic value): keep it as a name
                        code = ast.unparse(part.value)
                        value = "{{" + _DYNAMIC_BACK.get(code, code) + "}}"
                    out += str(value)
            return out
        if isinstance(node, ast.Dict):
            out_d: dict[str, Any] = {}
            for key, value in zip(node.keys, node.values, strict=True):
                k, v = self.template(key), self.template(value)
                if k is _UNKNOWN or v is _UNKNOWN:
                    return _UNKNOWN
                out_d[str(k)] = v
            return out_d
        if isinstance(node, ast.List | ast.Tuple):
            items = [self.template(e) for e in node.elts]
            return _UNKNOWN if any(i is _UNKNOWN for i in items) else items
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            value = self.template(node.operand)
            return -value if isinstance(value, int | float) else _UNKNOWN
        return _UNKNOWN

    def text(self, node: ast.AST | None) -> str:
        value = self.template(node)
        if value is _UNKNOWN or value is None:
            return ""
        return value if isinstance(value, str) else json.dumps(value)

    def kwarg(self, call: ast.Call, name: str, position: int | None = None) -> ast.AST | None:
        for kw in call.keywords:
            if kw.arg == name:
                return kw.value
        if position is not None and len(call.args) > position:
            return call.args[position]
        return None

    def auth(self, node: ast.AST | None) -> Auth | None:
        if isinstance(node, ast.Name):
            return self.auths.get(node.id)
        if not isinstance(node, ast.Call) or _callee(node) not in _AUTHS:
            return None
        name = _callee(node)
        kind = _AUTHS[name]
        k = self.kwarg
        if kind == "bearer":
            return Auth("bearer", {"token": self.text(k(node, "token", 0))})
        if kind in ("basic", "digest"):
            return Auth(
                kind,
                {
                    "username": self.text(k(node, "username", 0)),
                    "password": self.text(k(node, "password", 1)),
                },
            )
        if kind == "apikey":
            place = "query" if k(node, "query") is not None else "header"
            key = self.text(k(node, place)) or "X-API-Key"
            return Auth("apikey", {"key": key, "value": self.text(k(node, "key", 0)), "in": place})
        params = {
            "grant_type": "client_credentials" if name == "OAuth2ClientCredentials"
            else "authorization_code" if name == "OAuth2AuthorizationCode" else "device_code",
            "accessTokenUrl": self.text(k(node, "token_url", 0)),
            "clientId": self.text(k(node, "client_id", 1)),
            "clientSecret": self.text(k(node, "client_secret", 2)),
            "authUrl": self.text(k(node, "authorization_url")),
            "scope": self.text(k(node, "scope")),
        }  # fmt: skip
        return Auth("oauth2", {key: value for key, value in params.items() if value})

    def assign(self, target: str, value: ast.AST) -> None:
        if isinstance(value, ast.Call):
            name = _callee(value)
            if name == "from_env" and value.args:
                self.secrets.add(target)
                self.c.variables.append(Variable(target, None, secret=True))
                return
            if (
                name == "get"
                and isinstance(value.func, ast.Attribute)
                and (ast.unparse(value.func.value) == "os.environ")
            ):
                default = self.text(value.args[1]) if len(value.args) > 1 else ""
                self.c.variables.append(Variable(target, default))
                return
            if name in _AUTHS:
                auth = self.auth(value)
                if auth is not None:
                    self.auths[target] = auth
                return
            if name == "from_openapi" and value.args:
                self.specs[target] = self.text(value.args[0])
            if name in ("RestClient", "GraphQLClient", "from_openapi"):
                base = self.text(
                    self.kwarg(value, "base_url", 0 if name != "from_openapi" else None)
                )
                self.clients[target] = (base, self.auth(self.kwarg(value, "auth")))
                return
        if isinstance(value, ast.Constant) and isinstance(value.value, str | int | float):
            self.c.variables.append(Variable(target, str(value.value)))
        elif isinstance(value, ast.JoinedStr):
            self.c.variables.append(Variable(target, self.text(value)))

    def request(self, call: ast.Call, name: str) -> Request | None:
        func = call.func
        if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
            return None
        owner, verb = func.value.id, func.attr
        if owner not in self.clients:
            return None
        base, auth = self.clients[owner]
        if verb == "execute":
            body = Body(
                "graphql",
                query=self.text(self.kwarg(call, "query", 0)),
                variables=json.dumps(self.template(self.kwarg(call, "variables", 1)) or {}),
            )
            req = Request(name, "POST", base, body=body, auth=auth or Auth("none"))
        elif verb == "call" and owner in self.specs:
            found = self.operation(call, name, base, auth)
            if found is None:
                return None
            req = found
        elif verb == "request" or verb in _VERBS:
            method = self.text(call.args[0]).upper() if verb == "request" and call.args else verb
            url = self.text(self.kwarg(call, "url", 1 if verb == "request" else 0))
            if base and not re.match(r"^(\{\{|https?://)", url):
                url = base.rstrip("/") + "/" + url.lstrip("/")
            req = Request(name, method.upper(), url, auth=auth or Auth("none"))
            self.body(req, call)
        else:
            return None
        for pname, what in (("headers", req.headers), ("params", req.query)):
            value = self.template(self.kwarg(call, pname))
            if isinstance(value, dict):
                what.extend(Header(str(k), str(v)) for k, v in value.items())
        return req

    def operation(self, call: ast.Call, name: str, base: str, auth: Auth | None) -> Request | None:
        """``api.call("opId", ...)``: the operation's method and path, from the spec."""
        from apinotebook._exceptions import ApiNotebookError
        from apinotebook.openapi import OpenAPIDocument

        owner = call.func.value.id  # type: ignore[attr-defined]
        spec = self.specs[owner]
        op_id = self.text(call.args[0]) if call.args else ""
        try:
            doc = self._docs.get(spec) or OpenAPIDocument.load(spec)
            self._docs[spec] = doc
            op = doc.operation(op_id)
        except (ApiNotebookError, KeyError):
            self.c.warn(name, f"operation {op_id!r} of {spec} cannot be read; not exported")
            return None
        path = op.path
        for p in op.parameters:
            path = path.replace("{" + p.name + "}", "{{" + p.name + "}}")
        req = Request(name, op.method, base.rstrip("/") + path, auth=auth or Auth("none"))
        req.operation = op_id
        return req

    def body(self, req: Request, call: ast.Call) -> None:
        json_value = self.template(self.kwarg(call, "json"))
        data = self.template(self.kwarg(call, "data"))
        files = self.kwarg(call, "files")
        content = self.kwarg(call, "content")
        if self.kwarg(call, "json") is not None:
            req.body = Body("json", text=json.dumps(json_value, indent=2))
        elif files is not None:
            req.body = Body("form-data")
            for key, value in (data if isinstance(data, dict) else {}).items():
                req.body.form.append(FormField(str(key), str(value)))
            if isinstance(files, ast.Dict):
                for key, value in zip(files.keys, files.values, strict=True):
                    src = (
                        self.text(value.args[0])
                        if isinstance(value, ast.Call) and value.args
                        else ""
                    )
                    req.body.form.append(FormField(self.text(key), kind="file", src=src or None))
        elif isinstance(data, dict):
            req.body = Body("urlencoded", fields=[Header(str(k), str(v)) for k, v in data.items()])
        elif content is not None:
            if isinstance(content, ast.Subscript) and _callee(content.value) == "attach":
                req.body = Body("file", src=self.text(content.value.args[0]))  # type: ignore[attr-defined]
            else:
                ctype = next(
                    (v for k, v in self._headers(call).items() if k.lower() == "content-type"), ""
                )
                mode = "xml" if "xml" in ctype else "json" if "json" in ctype else "raw"
                req.body = Body(mode, text=self.text(content))

    def _part(self, name: str, value: ast.AST | None) -> FormField:
        """A ``files=`` entry: ``(None, text)`` is a text part, anything else a file."""
        if (
            isinstance(value, ast.Tuple)
            and value.elts
            and (isinstance(value.elts[0], ast.Constant) and value.elts[0].value is None)
        ):
            return FormField(name, self.text(value.elts[1]) if len(value.elts) > 1 else "")
        src = self.text(value.args[0]) if isinstance(value, ast.Call) and value.args else ""
        return FormField(name, kind="file", src=src or None)

    def _headers(self, call: ast.Call) -> dict[str, str]:
        value = self.template(self.kwarg(call, "headers"))
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def collection_from_notebook(path: str | Path) -> Collection:
    """The requests a notebook sends, as a :class:`Collection` (the notebook is not run)."""
    notebook = read_notebook(path)
    c = Collection(notebook.title or Path(path).stem, format="notebook", path=str(path))
    reader = _Reader(c)
    folder: Folder = c
    heading = ""
    description: list[str] = []
    for cell in notebook.cells:
        if cell.kind == "markdown":
            lines = cell.source.strip().splitlines()
            if (
                lines
                and lines[0].startswith("## ")
                and lines[0][3:].strip() not in ("Parameters", "Clients")
            ):
                folder = Folder(lines[0][3:].strip())
                c.items.append(folder)
            elif lines and lines[0].startswith("#") and not lines[0].startswith("# "):
                heading = lines[0].lstrip("#").strip()
                description = [x for x in lines[1:] if not x.startswith("`")]
            continue
        if cell.kind != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            c.warn(f"cell {cell.index}", "not Python (IPython syntax?); its requests are skipped")
            continue
        for stmt in tree.body:
            value = stmt.value if isinstance(stmt, ast.Assign | ast.Expr) else None
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                reader.assign(stmt.targets[0].id, stmt.value)
            if isinstance(value, ast.Call):
                req = reader.request(value, heading or f"request {len(c.requests) + 1}")
                if req is not None:
                    req.description = "\n".join(description).strip()
                    folder.items.append(req)
                    heading, description = "", []
    if not c.requests:
        c.notes.append(Note(c.name, "the notebook sends no request this reader recognises", "info"))
    return c
