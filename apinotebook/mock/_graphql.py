"""A GraphQL mock served from an SDL file or an introspection result.

Queries are parsed and validated by graphql-core against the schema (errors
in the standard ``{"errors": [{"message", "locations"}]}`` form) and executed
with a resolver that makes up every value from the field's type: non-null
fields always get one, lists get one or two items, enums one of their values,
interfaces and unions one of their concrete types, custom scalars a string
(a date for ``DateTime``/``Date``, a URL for ``URL``/``URI``, ``{}`` for
``JSON``). Values depend only on the seed and the field's path in the result,
so the same query gets the same answer. Introspection works as on a real server.

Over HTTP it follows the GraphQL-over-HTTP specification: ``POST`` with a
JSON body or ``GET`` with ``?query=``; a request that is not GraphQL gets 400;
a query that does not validate gets 400 when the client accepts
``application/graphql-response+json`` and 200 with ``errors`` otherwise.
"""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import parse_qs

from apinotebook.mock._asgi import Reply, Request, json_reply

__all__ = ["GraphQLMock"]

_GRAPHQL_RESPONSE = "application/graphql-response+json"
_SCALARS: dict[str, Any] = {
    "datetime": "2024-01-02T03:04:05Z",
    "date": "2024-01-02",
    "time": "03:04:05",
    "url": "https://example.com/",
    "uri": "https://example.com/",
    "html": "<p>example</p>",
    "json": {},
    "jsonobject": {},
    "email": "someone@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "bigint": "1",
    "long": 1,
    "decimal": "1.5",
}
_WORDS = ("alpha", "bravo", "delta", "echo", "kilo", "lima", "nova", "orbit")


class GraphQLMock:
    """A mock of one GraphQL schema: ``handle(request) -> reply``."""

    protocol = "graphql"
    error_format = "graphql"

    def __init__(self, schema: Any, *, seed: int = 0, title: str = "") -> None:
        self.schema = schema
        self.seed = seed
        self.title = title

    def __len__(self) -> int:
        roots = (self.schema.query_type, self.schema.mutation_type)
        return sum(len(r.fields) for r in roots if r is not None)

    # -- values -------------------------------------------------------------------------

    def _rng(self, info: Any) -> random.Random:
        return random.Random(f"{self.seed}\0{info.path.as_list()}")

    def _resolve(self, source: Any, info: Any, **_args: Any) -> Any:
        if isinstance(source, dict) and info.field_name in source:
            return source[info.field_name]
        return self._make(info.return_type, self._rng(info), 0)

    def _make(self, type_: Any, rng: random.Random, depth: int) -> Any:
        from graphql import (
            GraphQLEnumType,
            GraphQLList,
            GraphQLNonNull,
            GraphQLScalarType,
        )

        if isinstance(type_, GraphQLNonNull):
            return self._make(type_.of_type, rng, depth)
        if isinstance(type_, GraphQLList):
            count = 1 if depth > 2 else rng.randint(1, 2)
            return [self._make(type_.of_type, rng, depth + 1) for _ in range(count)]
        if isinstance(type_, GraphQLEnumType):
            name = rng.choice(list(type_.values))
            value = type_.values[name].value
            return name if value is None else value
        if isinstance(type_, GraphQLScalarType):
            return _scalar(type_.name, rng)
        return {}  # an object, interface or union: its fields resolve in turn

    def _type_of(self, value: Any, info: Any, abstract: Any) -> str:
        possible = self.schema.get_possible_types(abstract)
        if not possible:
            return ""
        return str(self._rng(info).choice(list(possible)).name)

    # -- HTTP -----------------------------------------------------------------------------

    def handle(self, request: Request) -> Reply:
        """Answer one GraphQL-over-HTTP request."""
        if request.method == "GET":
            params = {k: v[-1] for k, v in parse_qs(request.query).items()}
            if "query" not in params:
                return _error(400, 'GET needs ?query=...; or POST a JSON body {"query": ...}')
            for key in ("variables", "extensions"):
                if key in params:
                    try:
                        params[key] = json.loads(params[key])
                    except ValueError:
                        return _error(400, f"the {key} parameter is not valid JSON")
            payload: Any = params
        elif request.method == "POST":
            if request.media_type == "application/graphql":
                payload = {"query": request.body.decode("utf-8", "replace")}
            else:
                try:
                    payload = json.loads(request.body)
                except (ValueError, UnicodeDecodeError):
                    return _error(400, 'the body is not valid JSON: send {"query": "..."}')
        else:
            reply = _error(405, "GraphQL takes GET and POST")
            reply.headers.append(("allow", "GET, POST"))
            return reply
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return _error(400, "the request has no 'query' string")
        variables = payload.get("variables")
        if variables is not None and not isinstance(variables, dict):
            return _error(400, "'variables' must be an object")
        name = payload.get("operationName")
        strict = _GRAPHQL_RESPONSE in request.header("accept")
        result = self.execute(payload["query"], variables, name if isinstance(name, str) else None)
        status = 400 if strict and "data" not in result else 200
        return json_reply(status, result, _GRAPHQL_RESPONSE if strict else "application/json")

    def execute(
        self, query: str, variables: dict[str, Any] | None = None, operation: str | None = None
    ) -> dict[str, Any]:
        """The response (``data`` and/or ``errors``) to one query."""
        from graphql import GraphQLError, execute, parse, validate

        try:
            document = parse(query)
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        errors = validate(self.schema, document)
        if errors:
            return {"errors": [e.formatted for e in errors[:20]]}
        run: Any = execute
        if self.schema.get_directive("defer") or self.schema.get_directive("stream"):
            # graphql-core 3.3 runs schemas that declare @defer/@stream only this way
            import graphql.execution

            run = getattr(graphql.execution, "experimental_execute_incrementally", execute)
        try:
            result = run(
                self.schema,
                document,
                variable_values=variables,
                operation_name=operation,
                field_resolver=self._resolve,
                type_resolver=self._type_of,
            )
        except GraphQLError as exc:
            return {"errors": [exc.formatted]}
        if not hasattr(result, "data") or hasattr(result, "__await__"):
            return {"errors": [{"message": "@defer, @stream and async execution are not mocked"}]}
        out: dict[str, Any] = {}
        if result.errors:
            out["errors"] = [e.formatted for e in result.errors[:20]]
        # errors without a path (bad variables) stop a request before execution: no data
        if not result.errors or any(e.path is not None for e in result.errors):
            out["data"] = result.data
        return out


def _scalar(name: str, rng: random.Random) -> Any:
    if name == "Int":
        return rng.randint(1, 1000)
    if name == "Float":
        return round(rng.uniform(1, 1000), 2)
    if name == "Boolean":
        return rng.random() < 0.5
    if name == "ID":
        return str(rng.randint(1, 100_000))
    if name == "String":
        return f"{rng.choice(_WORDS)}-{rng.randint(1, 999)}"
    key = name.lower()
    for suffix, value in _SCALARS.items():
        if key.endswith(suffix):
            return value
    return f"{rng.choice(_WORDS)}-{rng.randint(1, 999)}"


def _error(status: int, message: str) -> Reply:
    return json_reply(status, {"errors": [{"message": message}]})
