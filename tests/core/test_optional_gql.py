"""gql is not a dependency: the GraphQL client runs without it and takes its requests."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WITHOUT_GQL = """
import json, sys
sys.modules["gql"] = None  # importing gql now fails, as in a venv without it
import httpx
from graphql import parse
from apinotebook import GraphQLClient

sent = []
def handler(request):
    sent.append(json.loads(request.content))
    return httpx.Response(200, json={"data": {"list": {"name": "n"}}})

class Request:  # shaped like gql's GraphQLRequest
    document = parse("query One($id: ID!) { list(id: $id) { name } }")
    variable_values = {"id": "lst_9"}
    operation_name = None

client = GraphQLClient("https://api.example/graphql", transport=httpx.MockTransport(handler),
                       fetch_schema=False, history=None)
ex = client.execute(Request())
print(json.dumps([sent[0]["variables"], sent[0]["operationName"], ex.data]))
"""


def test_the_graphql_client_needs_no_gql():
    out = subprocess.run(
        [sys.executable, "-c", WITHOUT_GQL], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == '[{"id": "lst_9"}, "One", {"list": {"name": "n"}}]'


def test_gql_is_not_a_core_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.startswith("gql")]
    assert any(d.startswith("graphql-core") for d in project["dependencies"])
    assert any(d.startswith("gql") for d in project["optional-dependencies"]["dev"])
