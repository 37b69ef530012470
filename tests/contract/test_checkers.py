"""The three checkers on hand-built descriptions and exchanges (no network).

Each case is a pair: a response the contract allows (no violation) and one it
does not (the violation at its path), so a checker that says "ok" to
everything, or complains about everything, fails.
"""

from __future__ import annotations

import json

import pytest
from graphql import build_schema

from apinotebook import ConfigError, ContractViolationError, Exchange, Request
from apinotebook.contract import check_contract
from apinotebook.openapi import OpenAPIDocument


def rest(body: object, *, url: str = "https://api.test/v1/pets/7", status: int = 200,
         operation: str | None = None, method: str = "GET") -> Exchange:  # fmt: skip
    return Exchange(
        protocol="rest",
        request=Request(method, url),
        status=status,
        headers={"content-type": "application/json"},
        content=json.dumps(body).encode(),
        operation=operation,
    )


PET = {
    "type": "object",
    "required": ["id", "name", "tag"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "tag": {"type": "string", "nullable": True},
        "kind": {"type": "string", "enum": ["cat", "dog"]},
        "parent": {"$ref": "#/components/schemas/Pet"},
    },
}


def oas30() -> OpenAPIDocument:
    return OpenAPIDocument.load({
        "openapi": "3.0.3",
        "info": {"title": "Pets", "version": "1"},
        "paths": {
            "/pets/{petId}": {"get": {"operationId": "getPet", "responses": {
                "200": {"description": "ok", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Pet"}}}},
                "4XX": {"description": "error", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["message"]}}}},
            }}},
            "/pets/search": {"get": {"operationId": "searchPets", "responses": {
                "default": {"description": "ok", "content": {"application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}},
            }}},
        },
        "components": {"schemas": {"Pet": PET}},
    })  # fmt: skip


def paths(result) -> list[tuple[str, str]]:
    return [(v.path, v.kind) for v in result.violations]


def test_openapi_30_nullable_enum_and_recursion():
    doc = oas30()
    good = {"id": 1, "name": "Rex", "tag": None, "kind": "dog",
            "parent": {"id": 2, "name": "Old", "tag": "x"}}  # fmt: skip
    assert check_contract(rest(good), doc).ok
    bad = {"id": "1", "name": "Rex", "kind": "bird",
           "parent": {"id": 2, "name": None, "tag": "x"}}  # fmt: skip
    assert sorted(paths(check_contract(rest(bad), doc))) == [
        ("$.id", "type"), ("$.kind", "enum"), ("$.parent.name", "type"), ("$.tag", "required"),
    ]  # fmt: skip


def test_the_most_specific_path_template_and_ranges_and_default():
    doc = oas30()
    search = check_contract(rest([{"id": 1, "name": "a", "tag": None}],
                                 url="https://api.test/v1/pets/search"), doc)  # fmt: skip
    assert search.ok and search.against.startswith("searchPets")
    assert paths(check_contract(rest([{"id": 1}], url="https://api.test/pets/search"), doc)) == [
        ("$[0].name", "required"), ("$[0].tag", "required"),
    ]  # fmt: skip
    not_found = rest({"message": "no pet"}, status=404)
    assert check_contract(not_found, doc).against.endswith("→ 4XX")
    assert paths(check_contract(rest({"error": "no pet"}, status=404), doc)) == [
        ("$.message", "required")
    ]
    assert paths(check_contract(rest({}, status=500), doc)) == [("$", "status")]
    unknown = check_contract(rest({}, url="https://api.test/owners/1"), doc)
    assert not unknown.checked and unknown.ok and "no operation" in unknown.reason


def test_swagger_2_x_nullable_and_openapi_31_type_lists():
    swagger = OpenAPIDocument.load({
        "swagger": "2.0", "info": {"title": "S", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {
            "description": "ok", "schema": {"type": "object", "required": ["n"], "properties": {
                "n": {"type": "integer", "x-nullable": True}}}}}}}},
    })  # fmt: skip
    assert check_contract(rest({"n": None}, url="http://h/a"), swagger).ok
    assert paths(check_contract(rest({"n": "x"}, url="http://h/a"), swagger)) == [("$.n", "type")]
    v31 = OpenAPIDocument.load({
        "openapi": "3.1.0", "info": {"title": "T", "version": "1"},
        "paths": {"/a": {"get": {"operationId": "a", "responses": {"200": {
            "description": "ok", "content": {"application/json": {"schema": {
                "type": "object", "properties": {"n": {"type": ["integer", "null"]}},
                "additionalProperties": False}}}}}}}},
    })  # fmt: skip
    assert check_contract(rest({"n": None}, url="http://h/a"), v31).ok
    assert paths(check_contract(rest({"n": 1, "m": 2}, url="http://h/a"), v31)) == [
        ("$", "additionalProperties")
    ]


def test_raise_on_violation_and_a_non_json_body():
    doc = oas30()
    with pytest.raises(ContractViolationError, match=r"\$\.id") as info:
        check_contract(rest({"id": "x", "name": "a", "tag": None}), doc, raise_on_violation=True)
    assert info.value.violations[0].expected == "integer"
    html = rest({}).replace(content=b"<html/>", headers={"content-type": "text/html"})
    assert paths(check_contract(html, doc)) == [("$", "content-type")]
    with pytest.raises(ConfigError, match="cannot check"):
        check_contract(rest({}), against=42)


SDL = """
type Query { search(q: String): [Result!]!  me: User  node(id: ID!): Node }
interface Node { id: ID! }
type User implements Node { id: ID! name: String! age: Int role: Role! }
type Post implements Node { id: ID! title: String! }
union Result = User | Post
enum Role { ADMIN MEMBER }
"""
QUERY = """
query Find($withAge: Boolean!) {
  search(q: "x") {
    __typename
    ... on User { id who: name age @include(if: $withAge) }
    ...PostBits
  }
  me { ...UserBits role }
}
fragment PostBits on Post { id title }
fragment UserBits on User { name }
"""


def gql(data: object, *, errors: list | None = None, variables: dict | None = None) -> Exchange:
    body = {"query": QUERY, "operationName": "Find", "variables": variables or {"withAge": True}}
    response = {"data": data} | ({"errors": errors} if errors else {})
    return Exchange(
        protocol="graphql",
        request=Request("POST", "https://api.test/graphql", content=json.dumps(body).encode()),
        status=200,
        headers={"content-type": "application/json"},
        content=json.dumps(response).encode(),
        operation="Find",
    )


def test_graphql_unions_fragments_aliases_and_directives():
    schema = build_schema(SDL)
    good = {
        "search": [
            {"__typename": "User", "id": "u1", "who": "Ann", "age": 30},
            {"__typename": "Post", "id": "p1", "title": "Hi"},
        ],
        "me": {"name": "Ann", "role": "ADMIN"},
    }
    assert check_contract(gql(good), schema).ok
    without_age = json.loads(json.dumps(good))
    del without_age["search"][0]["age"]
    assert check_contract(gql(without_age, variables={"withAge": False}), schema).ok
    assert paths(check_contract(gql(without_age), schema)) == [("$.data.search[0].age", "missing")]
    bad = {
        "search": [
            {"__typename": "User", "id": "u1", "name": "Ann", "age": 2**40},
            {"__typename": "Post", "id": "p1", "title": None},
            None,
        ],
        "me": {"name": "Ann", "role": "OWNER"},
    }
    assert paths(check_contract(gql(bad), schema)) == [
        ("$.data.search[0].who", "missing"),
        ("$.data.search[0].age", "type"),
        ("$.data.search[0].name", "unknown"),
        ("$.data.search[1].title", "null"),
        ("$.data.search[2]", "null"),
        ("$.data.me.role", "type"),
    ]


def test_graphql_nulls_with_errors_at_their_path_are_allowed():
    schema = build_schema(SDL)
    data = {"search": [], "me": None}
    assert check_contract(gql(data), schema).ok  # me is nullable
    errors = [{"message": "boom", "path": ["search"]}]
    assert paths(check_contract(gql({"search": None, "me": None}), schema)) == [
        ("$.data.search", "null")
    ]
    assert check_contract(gql({"search": None, "me": None}, errors=errors), schema).ok


def test_graphql_without_a_query_or_an_operation_is_unchecked():
    schema = build_schema(SDL)
    ex = gql({"me": None}).replace(request=Request("POST", "https://api.test/graphql"))
    result = check_contract(ex, schema)
    assert not result.checked and "no query" in result.reason
