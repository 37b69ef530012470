"""A REST mock served from an OpenAPI 3.0/3.1/3.2 or Swagger 2.0 document.

Start-up indexes the paths (:class:`~apinotebook.mock._router.Router`);
an operation's schemas are resolved the first time a request reaches it, so
the biggest documents start in about the time their JSON takes to parse.

A request is answered like this:

1. no template matches: 404; a template matches but not the method: 405 with ``Allow``;
2. parameters and body are checked against the operation: 400 (415 for a media
   type the operation does not take) with an RFC 9457 problem document listing
   each failing path (``query.limit``, ``body.items[0].name``);
3. the status is the lowest documented 2xx (``Prefer: code=404`` picks another
   documented one); the body is the response's own example when the document
   has one, else a value generated from its schema, deterministic per seed and
   request path; a path parameter is echoed into the property of the same name.

With ``stateful=True``, collections remember: see :class:`~apinotebook.mock._store.Store`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from apinotebook._exceptions import SpecError
from apinotebook.mock._asgi import Reply, Request, json_reply, problem
from apinotebook.mock._check import OperationChecker, validator_for
from apinotebook.mock._generate import Generator
from apinotebook.mock._router import Router
from apinotebook.mock._store import Store
from apinotebook.openapi import OpenAPIDocument, Operation, Response

__all__ = ["RestMock"]

_PREFER_CODE = re.compile(r"\bcode\s*=\s*\"?(\d{3})")


class RestMock:
    """A mock of one OpenAPI document: ``handle(request) -> reply``.

    Args:
        document: the loaded document.
        seed: the seed of every generated value.
        stateful: remember what is POSTed, PUT, PATCHed and DELETEd on collections.
    """

    protocol = "rest"
    error_format = "json"

    def __init__(self, document: OpenAPIDocument, *, seed: int = 0, stateful: bool = False) -> None:
        self.document = document
        self.generator = Generator(seed)
        self.router = Router(document.routes())
        self.store = Store(self.router.templates) if stateful else None
        self._checkers: dict[str, OperationChecker] = {}
        self._example_validators: dict[tuple[str, str], Any] = {}

    @property
    def title(self) -> str:
        """The document's title."""
        return self.document.title

    def __len__(self) -> int:
        return len(self.document)

    def handle(self, request: Request) -> Reply:
        """Answer one request."""
        match = self.router.match(request.path)
        if match is None:
            return problem(404, f"No operation of this API matches {request.method} "
                                f"{request.path}.")  # fmt: skip
        method = request.method
        if method not in match.methods and method == "HEAD" and "GET" in match.methods:
            method = "GET"
        if method not in match.methods:
            allowed = ", ".join(sorted(match.methods))
            reply = problem(405, f"{request.method} is not allowed here; this path takes "
                                 f"{allowed}.")  # fmt: skip
            reply.headers.append(("allow", allowed))
            return reply
        template, op_id = match.choose(method, request.header, request.query)
        try:
            op = self.document.operation(op_id)
        except SpecError as exc:  # a broken operation in a document that loads: say so
            return problem(500, f"the description of {method} {template} cannot be read: {exc}")
        params = match.params(template)
        checker = self._checkers.get(op_id)
        if checker is None:
            checker = self._checkers[op_id] = OperationChecker(op, self.document.version)
        problems, body = checker.check(request, params)
        if problems:
            status = 415 if any(p.pop("status", "") == "415" for p in problems) else 400
            first = problems[0]
            return problem(status, f"{first['path']}: {first['message']}", errors=problems)
        response = _choose(op, request.header("prefer"))
        payload = self._payload(op, response, request.path, params)
        if self.store is not None:
            stored = self.store.apply(method, template, request.path, params, body, payload)
            if stored is not None:
                if stored.status == 404:
                    return problem(404, f"{request.path} was not found (stateful mock).")
                status = _status_code(response.status) if response is not None else stored.status
                return self._reply(status, response, stored.value, has_value=True)
        status = _status_code(response.status) if response is not None else 200
        return self._reply(status, response, payload, has_value=payload is not _NOTHING)

    def _payload(
        self, op: Operation, response: Response | None, path: str, params: Mapping[str, str]
    ) -> Any:
        if response is None:
            return _NOTHING
        media = _json_type(response.content_types)
        try:
            examples = self.document.response_examples(op.id, response.status)
        except SpecError:  # an example $ref that does not resolve: make one up instead
            examples = {}
        if media is not None and media in examples:
            if self._fits(op.id, response, examples[media]):
                return examples[media]
            examples = {}
        if media is None and examples:
            return next(iter(examples.values()))
        if response.schema is None:
            return _NOTHING
        value = self.generator.value(response.schema, key=f"{op.method} {path} {response.status}")
        if isinstance(value, dict):  # echo /pets/{petId} into "petId" (and the last into "id")
            last = op.path.rstrip("/").rsplit("/", 1)[-1]
            for name, given in params.items():
                for key in (name, "id") if last == f"{{{name}}}" else (name,):
                    if isinstance(value.get(key), str | int) and _fits(value[key], given):
                        value[key] = type(value[key])(given)
        return value

    def _fits(self, op_id: str, response: Response, example: Any) -> bool:
        """Whether a documented example fits its schema (vendors' examples often do not)."""
        if response.schema is None:
            return True
        key = (op_id, response.status)
        validator = self._example_validators.get(key)
        if validator is None:
            validator = validator_for(response.schema, self.document.version, mode="read")
            self._example_validators[key] = validator
        try:
            return bool(validator.is_valid(example))
        except Exception:  # noqa: BLE001 - a schema jsonschema cannot run: trust the example
            return True

    def _reply(
        self, status: int, response: Response | None, value: Any, *, has_value: bool
    ) -> Reply:
        if not has_value or status in (204, 304) or response is None:
            return Reply(status, b"", None)
        types = response.content_types or ("application/json",)
        media = _json_type(types)
        if media is not None or not isinstance(value, str | bytes):
            return json_reply(status, value, media or "application/json")
        data = value if isinstance(value, bytes) else value.encode()
        return Reply(status, data, types[0])


class _Nothing:
    pass


_NOTHING: Any = _Nothing()


def _fits(current: Any, given: str) -> bool:
    if isinstance(current, bool):
        return False
    if isinstance(current, int):
        return given.lstrip("-").isdigit()
    return True


def _json_type(types: tuple[str, ...]) -> str | None:
    for t in types:
        base = t.partition(";")[0].strip().lower()
        if base == "application/json" or base.endswith(("+json", "/json")) or base == "*/*":
            return t
    return None


def _status_code(status: str) -> int:
    if status.isdigit():
        return int(status)
    if len(status) == 3 and status[0].isdigit():  # 2XX
        return int(status[0]) * 100
    return 200  # default


def _choose(op: Operation, prefer: str) -> Response | None:
    """The documented response to answer with: ``Prefer: code=N``, else the lowest 2xx."""
    wanted = _PREFER_CODE.search(prefer)
    if wanted:
        for r in op.responses:
            if r.status == wanted.group(1):
                return r
    success = sorted(
        (r for r in op.responses if r.status[:1] == "2"), key=lambda r: r.status.upper()
    )
    if success:
        return success[0]
    for r in op.responses:
        if r.status == "default":
            return r
    return None
