"""The GraphQL client against the sandbox's mail service."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from graphql import build_schema
from graphql_fakes import (
    MAIL_SDL,
)

from apinotebook import (
    ApiKey,
    GraphQLResponseError,
    History,
    HTTPStatusError,
    Retry,
)
from apinotebook.graphql import GraphQLClient

# -- against the sandbox's mail service -------------------------------------------------

LIST_SUBSCRIBERS = """
query ListSubscribers($id: ID!, $first: Int, $after: String) {
  list(id: $id) {
    subscribers(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { node { email status } }
    }
  }
}
"""


@pytest.fixture(scope="module")
def mail():
    pytest.importorskip("strawberry")
    from apinotebook.sandbox import SERVICES, Sandbox

    if "mail" in SERVICES:
        box = Sandbox(services=["mail"], contacts=400)
    else:  # the runner does not list it yet: mount the service by hand
        from apinotebook.sandbox import SandboxContext
        from apinotebook.sandbox import mail as service
        from apinotebook.sandbox._context import credentials
        from apinotebook.sandbox._webhooks import WebhookDispatcher

        ctx = SandboxContext(base_url="", seed=0, contacts=400, companies=20,
                             credentials=credentials(0), webhooks=WebhookDispatcher())  # fmt: skip
        box = Sandbox(services=(), contacts=400, companies=20, extra_mounts=service.build(ctx))
    with box as sb:
        yield sb


@pytest.fixture
def mail_client(mail):
    made: list[GraphQLClient] = []

    def make(**kwargs: Any) -> GraphQLClient:
        kwargs.setdefault("auth", ApiKey(mail.env["MAIL_API_KEY"], header="X-API-Key"))
        kwargs.setdefault("history", History())
        made.append(GraphQLClient(mail.urls["mail"], **kwargs))
        return made[-1]

    yield make
    for client in made:
        client.close()


def newsletter(client: GraphQLClient) -> dict[str, Any]:
    ex = client.execute("{ lists { edges { node { id name subscriberCount } } } }")
    return next(e["node"] for e in ex.data["lists"]["edges"] if e["node"]["name"] == "Newsletter")


@pytest.mark.sandbox
def test_sandbox_introspection_matches_the_fixture(mail, mail_client):
    from graphql import lexicographic_sort_schema, print_schema

    client = mail_client()
    fetched = print_schema(lexicographic_sort_schema(client.schema))
    assert fetched == print_schema(lexicographic_sort_schema(build_schema(MAIL_SDL)))
    assert client.history.last.operation == "IntrospectionQuery"


@pytest.mark.sandbox
def test_sandbox_paginate_subscribers(mail, mail_client):
    client = mail_client()
    lst = newsletter(client)
    pages = client.paginate(LIST_SUBSCRIBERS, "list.subscribers", {"id": lst["id"]}, page_size=25)
    emails = [node["email"] for node in pages]
    total = pages.exchanges[0].data["list"]["subscribers"]["totalCount"]
    assert len(emails) == total == len(set(emails)) and total > 50
    assert len(pages.exchanges) == -(-total // 25) and pages.errors == []
    assert all(ex.operation == "ListSubscribers" for ex in pages.exchanges)


@pytest.mark.sandbox
def test_sandbox_upsert_is_idempotent_and_not_retried(mail, mail_client):
    client = mail_client(retry=Retry(backoff=0))
    lst = newsletter(client)
    upsert = """mutation Upsert($list: ID!, $input: [SubscriberInput!]!) {
      upsertSubscribers(listId: $list, input: $input) {
        created updated unchanged userErrors { index field message } } }"""
    people = [{"email": "Ada@Example.com", "name": "Ada", "tags": ["vip"]},
              {"email": "not-an-email"}]  # fmt: skip
    first = client.execute(upsert, {"list": lst["id"], "input": people}).raise_for_status()
    second = client.execute(upsert, {"list": lst["id"], "input": people}).raise_for_status()
    assert first.data["upsertSubscribers"]["created"] == 1
    assert second.data["upsertSubscribers"] == {
        "created": 0, "updated": 0, "unchanged": 1,
        "userErrors": first.data["upsertSubscribers"]["userErrors"],
    }  # fmt: skip
    assert first.data["upsertSubscribers"]["userErrors"][0]["index"] == 1
    assert first.operation == "Upsert"
    mail.set_faults("mail", error_rate=1.0)
    try:
        failed = client.execute(upsert, {"list": lst["id"], "input": people[:1]})
        query = client.execute("{ lists { totalCount } }")
    finally:
        mail.set_faults("mail")
    assert failed.status >= 500 and len(failed.attempts) == 1
    assert query.status >= 500 and len(query.attempts) == client.retry.max_attempts


@pytest.mark.sandbox
def test_sandbox_partial_data_on_engagement(mail, mail_client):
    client = mail_client()
    lst = newsletter(client)
    query = """query Engagement($id: ID!) { list(id: $id) { subscribers(first: 200) {
      edges { node { email engagement { opens } } } } } }"""
    ex = client.execute(query, {"id": lst["id"]})
    edges = ex.data["list"]["subscribers"]["edges"]
    failed = {tuple(e["path"]) for e in ex.errors}
    assert ex.status == 200 and edges and ex.errors
    assert all(p[-1] == "engagement" and p[:3] == ("list", "subscribers", "edges") for p in failed)
    assert all(edges[p[3]]["node"]["engagement"] is None for p in failed)
    assert ex.errors[0]["extensions"]["code"] == "UPSTREAM_TIMEOUT"
    with pytest.raises(GraphQLResponseError, match="engagement service timed out") as info:
        ex.raise_for_status()
    assert info.value.data == ex.data


@pytest.mark.sandbox
def test_sandbox_without_the_api_key(mail, mail_client):
    client = mail_client(auth=None)
    ex = client.execute("{ lists { totalCount } }")
    assert ex.status == 401 and "X-API-Key" in ex.errors[0]["message"]
    assert client.schema_error is not None and "401" in str(client.schema_error)
    with pytest.raises(HTTPStatusError, match="401.*MAIL_API_KEY"):
        ex.raise_for_status()


@pytest.mark.sandbox
def test_sandbox_sync_calls_inside_a_running_loop(mail, mail_client):
    client = mail_client()

    async def cell() -> Any:
        sync = client.execute("{ lists { totalCount } }")
        async with client:
            return sync, await client.aexecute("{ lists { totalCount } }")

    sync, async_ = asyncio.run(cell())
    assert sync.data == async_.data == {"lists": {"totalCount": 3}}
