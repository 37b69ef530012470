"""The corpus through ``apinotebook.mock``: a mock of every file, one call through our client.

``run.py --mock`` runs these probes instead of ``probes.py``'s. For each file:
start a mock of it (timed: ``load_s``), serve it on loopback, point our own
client at it and make one request (an operation chosen as a user would: a GET
for REST, the first query root field with leaves for GraphQL, the first
operation for SOAP), with arguments that fit the description. The info
records the status and, for REST, whether the answer fits its response schema.
The raw library's verdict is ``probes.raw`` (whether the file is valid at all).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.corpus import probes


class MockFailed(Exception):
    """The mock answered 500: it broke on a request (a crash of the mock, not a verdict)."""


def _no_500(ex: Any) -> None:
    if ex.status == 500 and b"the mock failed" in ex.content:
        raise MockFailed(ex.text[:500])


@contextmanager
def _mock_crash_is_a_crash() -> Iterator[None]:
    """A client error caused by the mock breaking (a 500 it made) counts as a crash."""
    from apinotebook import ApiNotebookError

    try:
        yield
    except ApiNotebookError as exc:
        ex = getattr(exc, "exchange", None)
        if ex is not None:
            _no_500(ex)
        raise


#: how the request went, beyond the outcome (ok / typed / crash): see run.py's summary
STATUSES = ("answered", "refused", "fits_schema")


def _rest_arguments(op: Any, generator: Any) -> dict[str, Any]:
    """Values for the required parameters and body that fit their schemas."""
    args: dict[str, Any] = {}
    for p in op.parameters:
        if p.required:
            args[p.python_name] = generator.value(dict(p.schema or {}), key=p.name, mode="request")
    body = op.request_body
    if body is not None and body.fields:
        for f in body.fields:
            if f.required:
                args[f.python_name] = generator.value(dict(f.schema or {}), mode="request")
    elif body is not None and body.required:
        args.update(probes.openapi_arguments(op))
        kind = (body.content_type or "").split(";")[0].strip().lower()
        if "json" in kind or kind in ("*/*", ""):
            args["body"] = generator.value(dict(body.schema or {}), key="body", mode="request")
    return args


def _pick_rest_operation(client: Any) -> Any:
    """A GET with a JSON success schema and few path parameters; else the first operation."""
    best = None
    for op_id in client.operations.ids()[: probes.MAX_OPERATIONS]:
        op = client.operation(op_id)
        if op.method != "GET":
            continue
        has_schema = any(r.status.startswith("2") and r.schema for r in op.responses)
        score = (not has_schema, op.path.count("{"), len(op.path))
        if best is None or score < best[0]:
            best = (score, op)
            if score[:2] == (False, 0):
                break
    return best[1] if best else client.operation(client.operations.ids()[0])


def _start(path: Path, kind: str) -> tuple[Any, dict[str, Any], dict[str, str]]:
    """The mock of ``path`` (timed) and the probe's info and step dicts."""
    from apinotebook.mock import Mock

    step = {"step": "load"}
    t0 = time.perf_counter()
    mock = Mock(path, kind=kind)
    info: dict[str, Any] = {"steps": step, "load_s": time.perf_counter() - t0}
    info["operations"] = len(mock.engine)
    return mock, info, step


def probe_openapi(path: Path) -> dict[str, Any]:
    from openapi_schema_validator import OAS30Validator, OAS31Validator

    from apinotebook import RestClient
    from apinotebook.mock import Generator, MockServer

    mock, info, step = _start(path, "openapi")
    if not len(mock.engine):
        step["step"] = "done"
        return info
    step["step"] = "serve"
    with MockServer([mock]) as server:
        client = RestClient.from_openapi(path, base_url=server.url, history=None, retry=False)
        with client:
            op = _pick_rest_operation(client)
            info["operation"] = f"{op.method} {op.path}"
            step["step"] = "call"
            with _mock_crash_is_a_crash():
                ex = client.call(op.id, **_rest_arguments(op, Generator(0)))
            _no_500(ex)
            info["status"] = ex.status
            info["answered"] = 200 <= ex.status < 300
            info["refused"] = ex.status in (400, 415)
            if info["refused"]:
                info["refusal"] = ex.text[:300]
            step["step"] = "fits"
            schema = next((r.schema for r in op.responses if r.status == str(ex.status)), None)
            if (
                info["answered"]
                and schema is not None
                and "json" in ex.headers.get("content-type", "")
            ):
                cls = OAS31Validator if client.spec_version.startswith("3.1") else OAS30Validator
                from apinotebook.mock._check import clean_schema

                errors = list(cls(clean_schema(schema)).iter_errors(ex.json()))
                info["fits_schema"] = not errors
                if errors:
                    info["misfit"] = errors[0].message[:200]
    step["step"] = "done"
    return info


def _graphql_value(type_: Any, depth: int = 0) -> Any:
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLList,
        GraphQLNonNull,
        Undefined,
    )

    if isinstance(type_, GraphQLNonNull):
        return _graphql_value(type_.of_type, depth)
    if isinstance(type_, GraphQLList):
        return [_graphql_value(type_.of_type, depth + 1)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: _graphql_value(field.type, depth + 1)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
            and depth < 6
        }  # fmt: skip
    return {"Int": 1, "Float": 1.5, "Boolean": True}.get(type_.name, "1")


def probe_graphql(path: Path) -> dict[str, Any]:
    from apinotebook import GraphQLClient
    from apinotebook.mock import MockServer

    mock, info, step = _start(path, "graphql")
    schema = mock.engine.schema
    built = probes.graphql_query(schema)
    if built is None:
        info["no_query_root"] = True
        step["step"] = "done"
        return info
    query = built[0]
    root = schema.query_type
    field = next(f for n, f in root.fields.items() if f"{n}(" in query or f"{{ {n}" in query)
    variables = {a: _graphql_value(arg.type) for a, arg in field.args.items()
                 if f"${a}:" in query}  # fmt: skip
    step["step"] = "serve"
    with MockServer([mock]) as server, GraphQLClient(server.url, schema=path, history=None,
                                                      retry=False) as client:  # fmt: skip
        step["step"] = "call"
        with _mock_crash_is_a_crash():
            ex = client.execute(query, variables, validate=False)
        _no_500(ex)
        info["status"] = ex.status
        info["answered"] = ex.status == 200 and not ex.errors and ex.data is not None
        info["refused"] = bool(ex.errors)
        if ex.errors:
            info["refusal"] = str(ex.errors[0])[:300]
    step["step"] = "done"
    return info


def probe_wsdl(path: Path) -> dict[str, Any]:
    from apinotebook import SoapClient
    from apinotebook.mock import MockServer

    mock, info, step = _start(path, "wsdl")
    client = mock.engine.client
    ops = client.operations
    if not ops:
        step["step"] = "done"
        return info
    op = ops[0]
    info["operation"] = op.name
    step["step"] = "serve"
    with MockServer([mock]) as server:
        other = SoapClient(path, service=client.service, port=client.port, address=server.url,
                           history=None, retry=False)  # fmt: skip
        with other:
            step["step"] = "call"
            with _mock_crash_is_a_crash():
                ex = other.call(op.name, **probes.soap_arguments(op.input))
            _no_500(ex)
            info["status"] = ex.status
            info["answered"] = ex.status == 200
            info["refused"] = ex.status >= 400
            if info["refused"]:
                info["refusal"] = ex.text[:300]
    step["step"] = "done"
    return info


_BY_KIND = {"wsdl": probe_wsdl, "graphql": probe_graphql, "openapi": probe_openapi}


def probe(protocol: str, path: Path) -> dict[str, Any]:
    """The protocol's mock probe (``graphql-sdl`` and ``graphql-introspection`` alike)."""
    return _BY_KIND[protocol.partition("-")[0]](path)


raw = probes.raw


def warm_up(protocols: list[str] | tuple[str, ...] = ()) -> None:
    """Import the mock, the server and the validators before the first file."""
    probes.warm_up(protocols)
    import openapi_schema_validator  # noqa: F401
    import uvicorn  # noqa: F401

    import apinotebook.mock  # noqa: F401
    from apinotebook.sandbox import Sandbox  # noqa: F401
