"""The schema explorer opens schemas that break strict validation and lists their problems."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("anywidget")

from apinotebook import GraphQLClient  # noqa: E402
from apinotebook.widgets._schema import SchemaExplorer  # noqa: E402

SDL = """
type Query { viewer: User }
type User { login: String!  login: String!  name: String }
"""


def test_the_problems_reach_the_front_end():
    client = GraphQLClient("http://127.0.0.1:9/graphql", schema=SDL)
    panel = SchemaExplorer(client).panel
    assert panel.summary["problem_count"] == 1
    (problem,) = panel.summary["problems"]
    assert "User.login" in problem and "only be defined once" in problem
    json.dumps(panel.summary)  # syncable


def test_a_valid_schema_shows_no_problems():
    client = GraphQLClient("http://127.0.0.1:9/graphql", schema="type Query { a: Int }")
    panel = SchemaExplorer(client).panel
    assert panel.summary["problems"] == [] and panel.summary["problem_count"] == 0
