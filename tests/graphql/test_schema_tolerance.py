"""Schemas that break strict validation load anyway, with their problems listed.

The shapes are those of big public APIs' schemas in the real-world corpus
(tests/corpus): a field defined twice in SDL; an implementation's field
deprecated where the interface's is not (graphql-core 3.3 refuses it); an
interface not implemented completely. ``strict=True`` refuses them all.
"""

from __future__ import annotations

import re

import pytest
from graphql import build_schema, introspection_from_schema

from apinotebook import GraphQLClient, QueryValidationError, SpecError
from apinotebook.graphql._schema import load_schema, schema_problems

DUPLICATE_FIELD = """
type Query { viewer: User }
type User {
  login: String!
  name: String
  login: String!
}
"""

INCOMPLETE_INTERFACE = """
type Query { node: Node, repo: Repo }
interface Node { id: ID! }
type Repo implements Node { name: String }
"""


@pytest.mark.parametrize(
    ("sdl", "problem"),
    [
        (DUPLICATE_FIELD, r"User\.login.*only be defined once"),
        (INCOMPLETE_INTERFACE, r"Interface field Node\.id expected but Repo does not provide it"),
    ],
    ids=["field defined twice", "interface not implemented"],
)
def test_invalid_sdl_loads_with_its_problems(sdl, problem):
    client = GraphQLClient("http://127.0.0.1:9/graphql", schema=sdl)
    assert client.schema_problems, "the problems are listed"
    assert any(re.search(problem, p) for p in client.schema_problems)
    # queries are still validated against it
    assert client.validate("{ viewer { login } }" if "viewer" in sdl else "{ repo { name } }") == []
    with pytest.raises(QueryValidationError, match="Cannot query field 'nope'"):
        client.execute("{ nope }")  # refused locally, nothing sent


def test_strict_refuses_what_tolerant_loads():
    with pytest.raises(
        SpecError, match=r"(?s)invalid GraphQL schema \(1 problems?\).*strict=False"
    ):
        GraphQLClient("http://127.0.0.1:9/graphql", schema=DUPLICATE_FIELD, strict=True)


def test_introspection_with_a_deprecation_mismatch_loads():
    # graphql-core 3.3 refuses an implementation field that is deprecated when the
    # interface field is not; GitHub's introspection has such fields
    schema = build_schema(
        """
        type Query { node: Node }
        interface Node { id: ID! old: String }
        type Repo implements Node { id: ID! old: String @deprecated(reason: "gone") }
        """,
        assume_valid=True,
    )
    data = introspection_from_schema(schema)
    client = GraphQLClient("http://127.0.0.1:9/graphql", schema=data)
    assert client.validate("{ node { id } }") == []


def test_a_valid_schema_has_no_problems_and_unreadable_ones_are_still_refused():
    assert schema_problems(load_schema("type Query { a: Int }")) == []
    with pytest.raises(SpecError, match="Unknown type 'Foo'"):
        load_schema("type Query { a: Foo }")
