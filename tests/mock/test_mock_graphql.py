"""The GraphQL mock: any valid query answered with values of its result types."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
    parse,
)

from apinotebook import GraphQLClient
from apinotebook.mock import Mock, Request, serve

FIXTURES = Path(__file__).parents[1] / "fixtures" / "graphql"
SDL = """
scalar DateTime
scalar Money
enum Status { ACTIVE BLOCKED }
interface Node { id: ID! }
type User implements Node { id: ID! name: String! status: Status! joined: DateTime friends: [User!]! }
type Bot implements Node { id: ID! model: String }
union Result = User | Bot
type Query {
  node(id: ID!): Node
  search(text: String!): [Result!]!
  total: Int!
  balance: Money
}
type Mutation { rename(id: ID!, name: String!): User! }
"""  # noqa: E501

QUERY = """
query Q($id: ID!) {
  node(id: $id) { __typename id ... on User { name status joined friends { id name } } }
  search(text: "a") { __typename ... on User { id status } ... on Bot { id model } }
  total
  balance
}
"""


def check_result(schema, query: str, data) -> int:
    """Walk the query against the schema and the data; count the leaves checked."""
    operation = parse(query).definitions[0]
    root = schema.query_type if operation.operation.value == "query" else schema.mutation_type
    return _check(schema, root, operation.selection_set, data)


def _check(schema, parent, selection_set, data) -> int:
    count = 0
    typename = data.get("__typename", parent.name)
    concrete = schema.get_type(typename)
    for sel in selection_set.selections:
        if sel.kind == "inline_fragment":
            if sel.type_condition.name.value in (typename, *[i.name for i in concrete.interfaces]):
                count += _check(schema, concrete, sel.selection_set, data)
            continue
        name = sel.alias.value if sel.alias else sel.name.value
        if name == "__typename":
            assert data[name] in {t.name for t in schema.get_possible_types(parent)} | {parent.name}
            continue
        field = concrete.fields[sel.name.value]
        count += _value(schema, field.type, sel, data[name])
    return count


def _value(schema, type_, sel, value) -> int:
    if isinstance(type_, GraphQLNonNull):
        assert value is not None, sel.name.value
        return _value(schema, type_.of_type, sel, value)
    if value is None:
        return 1
    if isinstance(type_, GraphQLList):
        assert isinstance(value, list)
        return sum(_value(schema, type_.of_type, sel, v) for v in value)
    named = get_named_type(type_)
    if isinstance(named, GraphQLEnumType):
        assert value in named.values
        return 1
    if isinstance(named, GraphQLScalarType):
        expected = {"Int": int, "Float": float, "String": str, "ID": str, "Boolean": bool}
        assert isinstance(value, expected.get(named.name, object)), (sel.name.value, value)
        return 1
    return _check(schema, named, sel.selection_set, value)


def test_a_query_gets_data_of_its_result_types_through_our_client():
    with (
        serve(SDL, kind="graphql") as server,
        GraphQLClient(server.url, schema=SDL, history=None) as client,
    ):
        ex = client.execute(QUERY, {"id": "1"})
        assert ex.status == 200 and not ex.errors
        assert check_result(client.schema, QUERY, ex.data) >= 5
        mutation = 'mutation { rename(id: "1", name: "x") { id name status } }'
        ex = client.execute(mutation)
        assert check_result(client.schema, mutation, ex.data) == 3


def test_interfaces_and_unions_resolve_to_each_concrete_type_across_seeds():
    seen = set()
    for seed in range(12):
        result = Mock(SDL, kind="graphql", seed=seed).engine.execute(QUERY, {"id": "1"})
        seen.add(result["data"]["node"]["__typename"])
        seen.update(item["__typename"] for item in result["data"]["search"])
    assert seen == {"User", "Bot"}


def test_the_same_seed_gives_the_same_data():
    one = Mock(SDL, kind="graphql", seed=7).engine.execute(QUERY, {"id": "1"})
    assert Mock(SDL, kind="graphql", seed=7).engine.execute(QUERY, {"id": "1"}) == one
    assert Mock(SDL, kind="graphql", seed=8).engine.execute(QUERY, {"id": "1"}) != one


def _post(mock, payload, accept="application/json"):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"content-type": "application/json", "accept": accept}
    reply = mock.handle(Request("POST", "/", "", headers, body))
    return reply.status, json.loads(reply.body)


def test_validation_errors_in_the_standard_format():
    mock = Mock(FIXTURES / "mail.graphql")
    status, body = _post(mock, {"query": "{ lists { nope } }"})
    assert status == 200 and "data" not in body
    assert "Cannot query field 'nope'" in body["errors"][0]["message"]
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 11}]
    status, body = _post(mock, {"query": "{ lists { nope } }"}, "application/graphql-response+json")
    assert status == 400  # GraphQL over HTTP: a document that does not validate


def test_bad_variables_and_bad_requests():
    mock = Mock(SDL, kind="graphql")
    status, body = _post(mock, {"query": QUERY, "variables": {"id": None}})
    assert status == 200 and "data" not in body and "$id" in body["errors"][0]["message"]
    assert _post(mock, b"{not json")[0] == 400
    assert _post(mock, {"variables": {}})[0] == 400
    reply = mock.handle(Request("PUT", "/"))
    assert reply.status == 405


def test_get_with_a_query_string_and_introspection():
    mock = Mock(FIXTURES / "mail_introspection.json")
    reply = mock.handle(Request("GET", "/", "query=%7B__schema%7BqueryType%7Bname%7D%7D%7D"))
    assert json.loads(reply.body) == {"data": {"__schema": {"queryType": {"name": "Query"}}}}


def test_a_client_without_a_schema_introspects_the_mock():
    with (
        serve(FIXTURES / "mail.graphql") as server,
        GraphQLClient(server.url, history=None) as client,
    ):
        assert "MailingList" in client.schema.type_map
        ex = client.execute("{ lists(first: 1) { totalCount edges { node { id name } } } }")
        assert isinstance(ex.data["lists"]["totalCount"], int)


def test_stateful_is_refused_for_graphql():
    from apinotebook import ConfigError

    with pytest.raises(ConfigError, match="REST"):
        Mock(SDL, kind="graphql", stateful=True)


def test_a_schema_that_declares_defer_and_stream_is_still_served():
    # Shopify's and GitHub's published schemas declare the experimental directives
    sdl = (
        "directive @defer(label: String, if: Boolean! = true)"
        " on FRAGMENT_SPREAD | INLINE_FRAGMENT\n"
        "directive @stream(label: String, initialCount: Int = 0) on FIELD\n" + SDL
    )
    result = Mock(sdl, kind="graphql").engine.execute("{ total balance }")
    assert isinstance(result["data"]["total"], int)
