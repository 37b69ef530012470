"""GraphQL schemas: local validation, schema sources and lazy introspection."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, build_schema
from graphql_fakes import (
    FIXTURES,
    MAIL_INTROSPECTION,
    MAIL_SDL,
    SUBSCRIBERS,
    URL,
    FakeServer,
    client_for,
    introspecting,
)

from apinotebook import (
    ConfigError,
    History,
    QueryValidationError,
    SchemaError,
    SpecError,
)
from apinotebook.graphql import GraphQLClient

# -- local validation -----------------------------------------------------------------


# (line:column, a part of the message): the wording differs across graphql-core versions
INVALID_QUERIES = [
    ("unknown field", "{ lists { nope } }", None, [("1:11", "'nope'")]),
    (
        "two problems",
        "{\n  lists { totalCount }\n  list { name owner }\n}",
        None,
        [("3:15", "'owner'"), ("3:3", "'ID!' is required")],
    ),
    ("syntax", "{ lists { totalCount }", None, [("1:23", "Syntax Error")]),
    (
        "missing variable",
        "query Q($id: ID!) { list(id: $id) { name } }",
        {},
        [("1:9", "'$id'")],
    ),
]


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [case[1:] for case in INVALID_QUERIES],
    ids=[case[0] for case in INVALID_QUERIES],
)
def test_invalid_queries_raise_with_every_problem_and_send_nothing(query, variables, expected):
    server = FakeServer({"data": {}})
    client = client_for(server)
    with pytest.raises(QueryValidationError) as info:
        client.execute(query, variables)
    errors = [e.replace('"', "'") for e in info.value.errors]
    assert len(errors) == len(expected)
    for where, part in expected:  # in any order
        assert any(e.startswith(f"{where}: ") and part in e for e in errors), (where, errors)
    assert info.value.errors[0] in str(info.value)
    assert server.requests == []
    assert len(client.validate(query, variables)) == len(info.value.errors)


def test_variable_values_are_checked_fully_by_validate_and_by_the_server_on_execute():
    # execute() only checks that required variables are there (cheap, every call);
    # validate(query, variables) coerces every value against its type.
    query = "query Q($s: SubscriptionStatus) { subscribers(listId: 1, status: $s) { totalCount } }"
    server = FakeServer({"data": None, "errors": [{"message": "bad enum"}]})
    client = client_for(server)
    problems = client.validate(query, {"s": "GONE"})
    assert len(problems) == 1 and "'GONE' does not exist" in problems[0].replace('"', "'")
    assert server.requests == []
    assert client.execute(query, {"s": "GONE"}).errors[0]["message"] == "bad enum"


def test_validate_accepts_valid_queries_and_sends_nothing():
    server = FakeServer({"data": {}})
    client = client_for(server)
    assert client.validate(SUBSCRIBERS) == []
    assert client.validate(SUBSCRIBERS, {"listId": "l"}, "Subscribers") == []
    (error,) = client.validate("query A { lists { totalCount } } query B { lists { x } }")
    assert error.startswith("1:52: ") and "'x'" in error.replace('"', "'")
    assert server.requests == []


def test_validate_false_sends_anyway():
    server = FakeServer({"data": None, "errors": [{"message": "Cannot query field 'nope'"}]})
    ex = client_for(server).execute("{ lists { nope } }", validate=False)
    assert len(server.requests) == 1 and ex.errors[0]["message"].startswith("Cannot query")


# -- schemas ---------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SCHEMA_SOURCES: dict[str, Callable[[Path], Any]] = {
    "sdl text": lambda tmp: MAIL_SDL,
    "sdl bytes": lambda tmp: MAIL_SDL.encode(),
    ".graphql path str": lambda tmp: str(_write(tmp, "s.graphql", MAIL_SDL)),
    ".graphqls Path": lambda tmp: _write(tmp, "s.graphqls", MAIL_SDL),
    ".sdl Path": lambda tmp: _write(tmp, "s.sdl", MAIL_SDL),
    "sdl in .txt": lambda tmp: _write(tmp, "s.txt", MAIL_SDL),
    "introspection file wrapped": lambda tmp: FIXTURES / "mail_introspection.json",
    "introspection file bare": lambda tmp: _write(
        tmp, "bare.json", json.dumps(MAIL_INTROSPECTION["data"])
    ),
    "introspection dict wrapped": lambda tmp: MAIL_INTROSPECTION,
    "introspection dict bare": lambda tmp: MAIL_INTROSPECTION["data"],
    "introspection JSON text": lambda tmp: json.dumps(MAIL_INTROSPECTION),
    "GraphQLSchema": lambda tmp: build_schema(MAIL_SDL),
}


@pytest.mark.parametrize("kind", list(SCHEMA_SOURCES))
def test_schema_sources(kind, tmp_path):
    source = SCHEMA_SOURCES[kind](tmp_path)
    original = json.dumps(source) if isinstance(source, dict) else None
    server = FakeServer({"data": {}})
    client = client_for(server, schema=source)
    assert isinstance(client.schema, GraphQLSchema)
    assert {"Subscriber", "SubscriberConnection", "Mutation"} <= set(client.schema.type_map)
    assert client.validate("{ lists { nope } }") != []
    assert server.requests == []  # a given schema is never fetched
    if original is not None:
        assert json.dumps(source) == original  # the caller's dict is untouched


INVALID_SCHEMAS: list[tuple[str, Any, type[Exception], str]] = [
    ("syntax", "type Query { a: }", SpecError, r"1:17: Syntax Error"),
    ("unknown type", "type Query {\n  a: Foo\n}", SpecError, r"2:6: Unknown type 'Foo'"),
    (
        "interface not implemented",
        "type Query { a: T }\ninterface I { x: Int }\ntype T implements I { y: Int }",
        SpecError,
        r"Interface field I.x expected but T does not provide it",
    ),
    ("no query type", "type Foo { a: Int }", SpecError, r"Query root type must be provided"),
    ("dict without __schema", {"types": []}, SpecError, r"not an introspection result"),
    (
        "wrapped errors",
        {"data": None, "errors": [{"message": "introspection is disabled"}]},
        SpecError,
        r"introspection is disabled",
    ),
    ("broken __schema", {"__schema": {"types": "x"}}, SpecError, r"not a valid introspection"),
    ("bad JSON text", '{"data": ', SpecError, r"not valid JSON"),
    ("missing file", "/nonexistent/schema.graphql", ConfigError, r"There is no schema file"),
    ("wrong kind", 42, ConfigError, r"schema= takes SDL text"),
]


@pytest.mark.parametrize(
    ("source", "error", "match"),
    [case[1:] for case in INVALID_SCHEMAS],
    ids=[case[0] for case in INVALID_SCHEMAS],
)
def test_invalid_schemas(source, error, match):
    with pytest.raises(error, match=match):
        GraphQLClient(URL, schema=source, strict=True)


def test_invalid_introspection_file_names_the_file(tmp_path):
    path = _write(tmp_path, "broken.json", '{"data": {"nope": 1}}')
    with pytest.raises(SpecError, match="broken.json"):
        GraphQLClient(schema=path)


def test_a_generated_schema_with_a_thousand_types_loads():
    spec = importlib.util.spec_from_file_location(
        "bench_graphql_schema",
        Path(__file__).parents[2] / "benchmarks" / "bench_graphql_schema.py",
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    sdl = bench.generate_sdl(150, seed=3)
    assert bench.generate_sdl(150, seed=3) == sdl  # deterministic
    introspection = bench.generate_introspection(sdl)
    query = bench.sample_query(sdl)
    for source in (sdl, introspection):
        client = GraphQLClient(schema=source, history=False)
        assert len(client.schema.type_map) >= 1000
        assert client.validate(query) == []
        assert client.validate(query.replace("totalCount", "total")) != []


# -- introspection ---------------------------------------------------------------------


def test_schema_is_fetched_lazily_once_and_recorded():
    server = introspecting()
    history = History()
    client = client_for(server, schema=None, history=history)
    assert server.requests == [] and "not loaded" in repr(client)
    assert "Subscriber" in client.schema.type_map
    assert [b["operationName"] for b in server.bodies] == ["IntrospectionQuery"]
    assert history.last is not None and history.last.operation == "IntrospectionQuery"
    client.execute("{ lists { totalCount } }")
    with pytest.raises(QueryValidationError):
        client.execute("{ lists { nope } }")
    assert len(server.requests) == 2 and "29 types" in repr(client)


def test_first_execute_fetches_the_schema_and_validates():
    server = introspecting()
    client = client_for(server, schema=None)
    with pytest.raises(QueryValidationError):
        client.execute("{ lists { nope } }")
    assert [b.get("operationName") for b in server.bodies] == ["IntrospectionQuery"]


@pytest.mark.parametrize(
    ("answer", "retried"),
    [
        ({"errors": [{"message": "GraphQL introspection is not allowed"}]}, False),
        (httpx.Response(400, json={"errors": [{"message": "introspection disabled"}]}), False),
        (httpx.Response(200, text="<html>proxy</html>"), False),
        ({"data": {"__schema": None}}, False),
        (httpx.Response(401, json={"errors": [{"message": "Missing X-API-Key"}]}), True),
        (httpx.Response(503, text="maintenance"), True),
    ],
)
def test_refused_introspection_does_not_stop_queries(answer, retried):
    server = introspecting(introspection=answer)
    client = client_for(server, schema=None, retry=False)
    ex = client.execute("{ lists { nope } }")  # not validated: no schema
    assert ex.data == {"lists": {"totalCount": 3}}
    assert isinstance(client.schema_error, SchemaError)
    assert "without local validation" in str(client.schema_error)
    with pytest.raises(SchemaError, match="introspection"):
        _ = client.schema
    with pytest.raises(SchemaError):
        client.validate("{ lists { totalCount } }")
    client.execute("{ lists { totalCount } }")
    names = [b.get("operationName") for b in server.bodies]
    assert names.count("IntrospectionQuery") == (4 if retried else 1)
    assert "unavailable" in repr(client)


def test_refresh_schema_fetches_again():
    server = introspecting()
    client = client_for(server, schema=None)
    first = client.schema
    assert client.refresh_schema() is not first
    assert len(server.requests) == 2


def test_fetch_schema_false_sends_only_the_query():
    server = introspecting()
    client = client_for(server, schema=None, fetch_schema=False)
    client.execute("{ lists { nope } }")
    assert [b.get("operationName") for b in server.bodies] == [None]
    with pytest.raises(SchemaError, match="no schema"):
        _ = client.schema
