"""The query editor's completion and format, answered in the kernel from the schema."""

from __future__ import annotations

import pytest
from graphql import build_schema

from apinotebook._exceptions import ConfigError
from apinotebook.widgets._editors import editors_source
from apinotebook.widgets._schema_complete import complete, format_query

SCHEMA = build_schema("""
interface Node { id: ID! }
enum State { OPEN CLOSED }
input Order { field: String! direction: State }
type Issue implements Node { id: ID! title: String! state: State! }
type Repo implements Node { id: ID! name: String!
  issues(first: Int, states: [State!], orderBy: Order, open: Boolean): [Issue!]! }
type Query { repo(owner: String!, name: String!): Repo node(id: ID!): Node }
type Mutation { close(id: ID!): Issue }
""")


def labels(text: str) -> list[str]:
    return [o["label"] for o in complete(SCHEMA, text, len(text))["options"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["query", "mutation", "subscription", "fragment"]),
        ("{ ", ["repo", "node", "__typename"]),
        ("{ re", ["repo", "node", "__typename"]),  # the word typed: the editor filters
        ("mutation { ", ["close", "__typename"]),
        ('{ repo(owner: "a", ', ["name"]),
        ('{ repo(owner: "a", name: "b") { ', ["id", "name", "issues", "__typename"]),
        ('{ repo(owner: "a", name: "b") { issues(states: ', ["OPEN", "CLOSED"]),
        ('{ repo(owner: "a", name: "b") { issues(open: ', ["true", "false"]),
        ('{ repo(owner: "a", name: "b") { issues(first: 2, ', ["states", "orderBy", "open"]),
        ('{ repo(owner: "a", name: "b") { issues(orderBy: {', ["field", "direction"]),
        ('{ repo(owner: "a", name: "b") { issues(orderBy: {direction: ', ["OPEN", "CLOSED"]),
        ('{ repo(owner: "a", name: "b") { issues { ', ["id", "title", "state", "__typename"]),
        ("{ n: node(id: 1) { ", ["id", "... on Issue", "... on Repo", "__typename"]),
        ("{ node(id: 1) { ... on Repo { ", ["id", "name", "issues", "__typename"]),
        ("fragment F on Issue { ", ["id", "title", "state", "__typename"]),
        ("query Q($o: String!, $n: String!) { repo(owner: $", ["o", "n"]),
        (
            '{ repo(owner: "a", name: "b") { name } } ',
            ["query", "mutation", "subscription", "fragment"],
        ),
    ],
)
def test_what_may_come_next(text: str, expected: list[str]) -> None:
    assert labels(text) == expected


def test_an_option_says_what_it_is() -> None:
    (repo,) = [o for o in complete(SCHEMA, "{ ", 2)["options"] if o["label"] == "repo"]
    assert repo["type"] == "property"
    assert repo["detail"] == "(owner, name): Repo"
    assert {"include", "skip"} <= set(labels("{ repo @"))


def test_format_prints_the_canonical_layout() -> None:
    assert format_query('{repo(owner:"a",name:"b"){name}}') == (
        '{\n  repo(owner: "a", name: "b") {\n    name\n  }\n}'
    )
    assert format_query("  ") == "  "
    with pytest.raises(ConfigError, match="line 1, column 8"):
        format_query("{ repo(")


def test_the_editors_module_is_an_es_module_of_codemirror() -> None:
    source = editors_source()
    assert "export{" in source.replace(" ", "")
    assert "createEditor" in source
    assert len(source) < 600_000  # a bundle, not the node_modules folder
