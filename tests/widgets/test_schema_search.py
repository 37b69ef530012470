"""The SchemaExplorer's search index finds what a full scan finds, in the same order."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLSchema, build_schema

from apinotebook.widgets._schema_query import type_kind
from apinotebook.widgets._schema_search import search, search_index

SDL = '''
"""A person who
writes code."""
type User { login: String! "Their repositories." repositories(first: Int): [Repository!]! }
"""A repository of code."""
type Repository { name: String! "Who owns it." owner: User! stars: Int }
enum Visibility { PUBLIC PRIVATE }
input RepoFilter { name: String visibility: Visibility }
type Query { user(login: String!): User repository(name: String!): Repository
  "Search code repositories by name." searchRepositories(filter: RepoFilter): [Repository!]! }
'''


def _full_scan(schema: GraphQLSchema, text: str, limit: int) -> dict[str, Any]:
    """What the explorer's search did before the index: every type and field, in order."""
    words = text.lower().split()
    matches: list[tuple[str, str | None]] = []
    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__"):
            continue
        if all(w in f"{name} {named.description or ''}".lower() for w in words):
            matches.append((name, None))
        for fname, field in (getattr(named, "fields", None) or {}).items():
            if all(w in f"{name}.{fname} {field.description or ''}".lower() for w in words):
                matches.append((name, fname))
    return {"matches": matches[:limit], "complete": len(matches) <= limit}


@pytest.mark.parametrize(
    "text",
    ["repo", "code", "CODE user", "user.login", "writes code", "owner who", "string", "zz", "e"],
)
@pytest.mark.parametrize("limit", [2, 100])
def test_the_index_finds_what_a_full_scan_finds(text: str, limit: int) -> None:
    schema = build_schema(SDL)
    found = search(schema, text, limit=limit)
    expected = _full_scan(schema, text, limit)
    assert [(m["type"], m["field"]) for m in found["matches"]] == expected["matches"]
    if len(expected["matches"]) < limit:
        assert found["complete"] is expected["complete"]


def test_a_match_says_what_it_is() -> None:
    schema = build_schema(SDL)
    (user,) = [m for m in search(schema, "writes")["matches"]]
    assert user == {
        "type": "User",
        "field": None,
        "kind": "object",
        "text": "A person who\nwrites code.",
    }
    field = search(schema, "user.repositories")["matches"][0]
    assert field["text"] == "repositories: [Repository!]!"
    assert field["kind"] == type_kind(schema.type_map["User"])
    assert search(schema, "   ") == {"matches": [], "complete": True}


def test_the_index_is_built_once_per_schema() -> None:
    schema = build_schema(SDL)
    assert search_index(schema) is search_index(schema)
    assert search_index(build_schema(SDL)) is not search_index(schema)
