"""The mail service (GraphQL), through gql and raw httpx on a real socket."""

from __future__ import annotations

import time
import zlib

import graphql
import httpx
import pytest
import strawberry
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from apinotebook.sandbox import Sandbox, SandboxContext, mail
from apinotebook.sandbox._context import credentials
from apinotebook.sandbox._webhooks import WebhookDispatcher

SEED = 5
CONTACTS = 400

UPSERT = """
mutation Upsert($list: ID!, $input: [SubscriberInput!]!) {
  upsertSubscribers(listId: $list, input: $input) {
    created updated unchanged
    subscribers { id email name status tags createdAt updatedAt }
    userErrors { index field message }
  }
}
"""
PAGE = """
query Page($list: ID!, $first: Int!, $after: String, $status: SubscriptionStatus,
           $since: String) {
  subscribers(listId: $list, first: $first, after: $after, status: $status,
              updatedSince: $since) {
    totalCount
    edges { cursor node { id email status updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def _ctx(seed: int = SEED, contacts: int = CONTACTS) -> SandboxContext:
    return SandboxContext(
        base_url="http://127.0.0.1",
        seed=seed,
        contacts=contacts,
        companies=50,
        credentials=credentials(seed),
        webhooks=WebhookDispatcher(),
    )


def _sandbox(seed: int = SEED, contacts: int = CONTACTS) -> Sandbox:
    return Sandbox(
        services=(),
        seed=seed,
        contacts=contacts,
        extra_mounts=mail.build(_ctx(seed, contacts)),
    )


@pytest.fixture(scope="module")
def sb():
    with _sandbox() as box:
        yield box


@pytest.fixture(scope="module")
def url(sb):
    return sb.urls["mail"]


@pytest.fixture(scope="module")
def headers(sb):
    return {"X-API-Key": sb.credentials["MAIL_API_KEY"]}


@pytest.fixture(scope="module")
def session(url, headers):
    client = Client(
        transport=HTTPXTransport(url=url, headers=headers), fetch_schema_from_transport=True
    )
    with client as s:
        yield s


@pytest.fixture
def fresh_list(session):
    """An empty list of its own, so tests that write do not see each other."""
    name = f"test-{time.perf_counter_ns()}"
    result = session.execute(
        GraphQLRequest(
            "mutation($n: String!) { createList(name: $n) { id name subscriberCount } }",
            variable_values={"n": name},
        )
    )
    assert result["createList"]["subscriberCount"] == 0
    return result["createList"]["id"]


def _post(url, headers, query, variables=None, **kwargs):
    return httpx.post(url, json={"query": query, "variables": variables or {}}, headers=headers)


def _upsert(session, list_id, items):
    request = GraphQLRequest(UPSERT, variable_values={"list": list_id, "input": items})
    return session.execute(request)["upsertSubscribers"]


# -- schema and client -----------------------------------------------------------------


def test_mount_urls_and_env(sb):
    assert sb.urls["mail"] == sb.url + "/mail/graphql"
    assert sb.env["MAIL_URL"] == sb.url + "/mail/graphql"
    assert isinstance(sb.state("mail"), mail.MailStore)


def test_schema_is_fetched_and_queries_validated_locally(sb, session, stats):
    schema = session.client.schema
    assert {"MailingList", "Subscriber", "SubscriberConnection", "ListConnection"} <= set(
        schema.type_map
    )
    status = schema.type_map["SubscriptionStatus"]
    assert set(status.values) == {"SUBSCRIBED", "UNSUBSCRIBED", "BOUNCED"}
    before = stats.settled(sb, "mail")["total"]
    with pytest.raises(graphql.GraphQLError, match="Cannot query field 'nope'"):
        session.execute(GraphQLRequest("{ lists { nope } }"))
    assert stats.settled(sb, "mail")["total"] == before  # rejected without a request


def test_seeded_lists(session, sb):
    result = session.execute(
        GraphQLRequest("{ lists { totalCount edges { node { id name subscriberCount } } } }")
    )
    names = [e["node"]["name"] for e in result["lists"]["edges"]][:3]
    assert names == ["Newsletter", "Product updates", "Events"]
    newsletter = result["lists"]["edges"][0]["node"]
    stored = sb.state("mail").subscribers(newsletter["id"])
    assert len(stored) == round(CONTACTS * 0.2)
    subscribed = [s for s in stored if s["status"] == "SUBSCRIBED"]
    assert newsletter["subscriberCount"] == len(subscribed) > 0


# -- pagination -------------------------------------------------------------------------


def test_pagination_walks_every_subscriber_once(session, sb):
    list_id = sb.state("mail").list_id("Newsletter")
    seen, after, totals, pages = [], None, set(), 0
    while True:
        variables = {"list": list_id, "first": 17, "after": after}
        page = session.execute(GraphQLRequest(PAGE, variable_values=variables))["subscribers"]
        totals.add(page["totalCount"])
        seen += [e["node"]["email"] for e in page["edges"]]
        pages += 1
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    expected = [s["email"] for s in sb.state("mail").subscribers(list_id)]
    assert seen == expected and len(set(seen)) == len(seen)
    assert totals == {len(expected)} and pages == -(-len(expected) // 17)


def test_filters_by_status_and_updated_since(session, sb):
    list_id = sb.state("mail").list_id("Newsletter")
    stored = sb.state("mail").subscribers(list_id)
    since = stored[len(stored) // 2]["updatedAt"]
    variables = {"list": list_id, "first": 500, "status": "UNSUBSCRIBED", "since": since}
    page = session.execute(GraphQLRequest(PAGE, variable_values=variables))["subscribers"]
    expected = [
        s["email"] for s in stored if s["status"] == "UNSUBSCRIBED" and s["updatedAt"] >= since
    ]
    assert [e["node"]["email"] for e in page["edges"]] == expected
    assert page["totalCount"] == len(expected) and not page["pageInfo"]["hasNextPage"]


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"first": 501}, "between 0 and 500"),
        ({"first": 5, "after": "not-a-cursor"}, "not a cursor"),
        ({"first": 5, "since": "yesterday"}, "RFC 3339"),
    ],
)
def test_bad_page_arguments(session, sb, variables, message):
    variables = {"list": sb.state("mail").list_id("Events"), **variables}
    with pytest.raises(TransportQueryError, match=message) as info:
        session.execute(GraphQLRequest(PAGE, variable_values=variables))
    assert info.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


# -- upserts ------------------------------------------------------------------------------


def test_upsert_is_idempotent(session, sb, fresh_list):
    items = [
        {"email": " Ada@Example.ORG ", "name": "Ada", "tags": ["vip", "vip", "beta"]},
        {"email": "bo@example.org", "name": "Bo"},
        {"email": "cy@example.org", "status": "BOUNCED"},
    ]
    first = _upsert(session, fresh_list, items)
    assert (first["created"], first["updated"], first["unchanged"]) == (3, 0, 0)
    assert first["subscribers"][0]["email"] == "ada@example.org"
    assert first["subscribers"][0]["tags"] == ["vip", "beta"]
    assert first["subscribers"][2]["status"] == "BOUNCED"

    again = _upsert(session, fresh_list, items)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert again["subscribers"] == first["subscribers"]  # updatedAt not bumped

    time.sleep(0.002)  # updatedAt has millisecond precision
    changed = _upsert(session, fresh_list, [*items[:2], {"email": "CY@example.org", "name": "Cy"}])
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    cy_before, cy_after = first["subscribers"][2], changed["subscribers"][2]
    assert cy_after["name"] == "Cy" and cy_after["status"] == "BOUNCED"  # omitted: kept
    assert cy_after["updatedAt"] > cy_before["updatedAt"]
    assert cy_after["createdAt"] == cy_before["createdAt"] and cy_after["id"] == cy_before["id"]
    assert len(sb.state("mail").subscribers(fresh_list)) == 3


def test_invalid_items_are_user_errors_and_valid_ones_are_written(session, sb, fresh_list):
    items = [
        {"email": "ok1@example.org"},
        {"email": "no-at-sign.example.org"},
        {"email": "   "},
        {"email": "ok2@example.org"},
        {"email": "two words@example.org"},
    ]
    result = _upsert(session, fresh_list, items)
    assert result["created"] == 2
    assert [e["index"] for e in result["userErrors"]] == [1, 2, 4]
    assert {e["field"] for e in result["userErrors"]} == {"email"}
    assert "empty" in result["userErrors"][1]["message"]
    stored = {s["email"] for s in sb.state("mail").subscribers(fresh_list)}
    assert stored == {"ok1@example.org", "ok2@example.org"}


def test_more_than_1000_inputs_are_refused_and_nothing_is_written(session, sb, fresh_list):
    items = [{"email": f"p{i}@example.org"} for i in range(1001)]
    with pytest.raises(TransportQueryError, match="at most 1000") as info:
        _upsert(session, fresh_list, items)
    assert info.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert sb.state("mail").subscribers(fresh_list) == []
    assert _upsert(session, fresh_list, items[:1000])["created"] == 1000


def test_unsubscribe_is_idempotent(session, sb, fresh_list):
    _upsert(session, fresh_list, [{"email": "dee@example.org"}])
    mutation = GraphQLRequest(
        "mutation($l: ID!, $e: String!) { unsubscribe(listId: $l, email: $e) "
        "{ status updatedAt } }",
        variable_values={"l": fresh_list, "e": "DEE@example.org"},
    )
    first = session.execute(mutation)["unsubscribe"]
    assert first["status"] == "UNSUBSCRIBED"
    assert session.execute(mutation)["unsubscribe"] == first
    assert sb.state("mail").subscribers(fresh_list)[0]["status"] == "UNSUBSCRIBED"


def test_unknown_list_is_not_found(session):
    for request in (
        GraphQLRequest(UPSERT, variable_values={"list": "lst_nope", "input": []}),
        GraphQLRequest(PAGE, variable_values={"list": "lst_nope", "first": 1}),
    ):
        with pytest.raises(TransportQueryError, match="No mailing list") as info:
            session.execute(request)
        assert info.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
    result = session.execute(GraphQLRequest('{ list(id: "lst_nope") { id } }'))
    assert result == {"list": None}


def test_duplicate_list_name_conflicts(session):
    request = GraphQLRequest('mutation { createList(name: " newsletter ") { id } }')
    with pytest.raises(TransportQueryError, match="already exists") as info:
        session.execute(request)
    assert info.value.errors[0]["extensions"]["code"] == "CONFLICT"


def test_fast_upsert_path_matches_strawberry_resolver():
    """schema() serves upsertSubscribers from graphql-core's arguments: same result."""
    plain = strawberry.Schema(query=mail.Query, mutation=mail.Mutation)
    items = [
        {"email": "A@x.example", "name": "A", "status": "BOUNCED", "tags": ["t", " t "]},
        {"email": "bad"},
        {"email": "b@x.example"},
    ]
    results = []
    for schema in (plain, mail.schema()):
        store = mail.MailStore(seed=1, contacts=50, companies=5)
        variables = {"list": store.list_id("Events"), "input": items}
        out = schema.execute_sync(UPSERT, variable_values=variables, context_value={"store": store})
        assert out.errors is None
        again = schema.execute_sync(
            UPSERT, variable_values=variables, context_value={"store": store}
        )
        payload = out.data["upsertSubscribers"]
        for sub in payload["subscribers"]:
            del sub["createdAt"], sub["updatedAt"]
        results.append((payload, again.data["upsertSubscribers"]["unchanged"]))
    assert results[0] == results[1]
    assert results[0][0]["subscribers"][0]["tags"] == ["t"] and results[0][1] == 2


# -- partial results -------------------------------------------------------------------------


def test_engagement_fails_for_some_subscribers_with_paths(url, headers, sb, session):
    list_id = sb.state("mail").list_id("Newsletter")
    query = (
        "query($l: ID!) { subscribers(listId: $l, first: 500) "
        "{ edges { node { email engagement { opens clicks lastOpenedAt } } } } }"
    )
    body = _post(url, headers, query, {"l": list_id}).json()
    edges = body["data"]["subscribers"]["edges"]
    failing = {i for i, e in enumerate(edges) if zlib.crc32(e["node"]["email"].encode()) % 17 == 0}
    assert failing, "the seed should include subscribers whose engagement fails"
    assert {i for i, e in enumerate(edges) if e["node"]["engagement"] is None} == failing
    assert len(body["errors"]) == len(failing)
    for error in body["errors"]:
        assert error["message"] == "engagement service timed out"
        assert error["extensions"]["code"] == "UPSTREAM_TIMEOUT"
        assert error["path"][:2] == ["subscribers", "edges"] and error["path"][3:] == [
            "node",
            "engagement",
        ]
        assert error["path"][2] in failing
    # gql raises, but keeps the partial data
    with pytest.raises(TransportQueryError) as info:
        session.execute(GraphQLRequest(query, variable_values={"l": list_id}))
    assert info.value.data["subscribers"]["edges"] == edges


# -- HTTP level -----------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "wrong"])
def test_missing_or_wrong_api_key_is_401(url, key):
    headers = {} if key is None else {"X-API-Key": key}
    r = _post(url, headers, "{ lists { totalCount } }")
    assert r.status_code == 401
    error = r.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED" and "X-API-Key" in error["message"]
    assert "data" not in r.json()


def test_gql_reports_401_with_the_error_body(url):
    client = Client(transport=HTTPXTransport(url=url, headers={"X-API-Key": "wrong"}))
    with pytest.raises(TransportQueryError, match="Invalid X-API-Key") as info, client as session:
        session.execute(GraphQLRequest("{ lists { totalCount } }"))
    assert info.value.errors[0]["extensions"]["code"] == "UNAUTHENTICATED"


def _depth_bomb(levels: int) -> str:
    inner = "id"
    for _ in range(levels):
        inner = f"list {{ subscribers {{ edges {{ node {{ {inner} }} }} }} }}"
    return (
        f"{{ lists {{ edges {{ node {{ subscribers {{ edges {{ node {{ {inner} }} }} }} }} }} }} }}"
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"", "application/json", 400, "Unable to parse request body as JSON"),
        (b"\x00\xff\xfe garbage", "application/json", 400, "Unable to parse request body"),
        (b'{"query": "{ lists { totalCount }', "application/json", 400, "Unable to parse"),
        (b"{}", "application/json", 400, "No GraphQL query found"),
        (b'{"query": 5}', "application/json", 400, "must be a string"),
        (b'[{"query": "{ __typename }"}]', "application/json", 400, "batches are not"),
        (b"query { lists }", "text/plain", 400, "Content-Type: application/json"),
        (b'{"query": "{ lists { "}', "application/json", 200, "Syntax Error"),
        (b'{"query": "{ nope }"}', "application/json", 200, "Cannot query field 'nope'"),
        (b'{"query": "' + _depth_bomb(4).encode() + b'"}', "application/json", 200, "depth of 10"),
        (b"[" * 100_000, "application/json", 400, "Unable to parse"),
    ],
    ids=[
        "empty",
        "garbage",
        "invalid-json",
        "no-query",
        "query-not-string",
        "batch",
        "not-json",
        "syntax-error",
        "unknown-field",
        "depth-bomb",
        "json-nesting-bomb",
    ],
)
def test_bad_requests_get_graphql_errors(url, headers, body, content_type, status, message):
    r = httpx.post(url, content=body, headers={**headers, "Content-Type": content_type})
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    errors = r.json()["errors"]
    assert message in errors[0]["message"]
    assert r.json().get("data") is None


def test_oversized_body_is_413_in_graphql_shape(url, headers):
    r = httpx.post(url, content=b"x" * (8 * 1024 * 1024 + 1), headers=headers)
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_other_paths_and_methods(sb, url, headers):
    r = httpx.post(sb.url + "/mail/rest", headers=headers)
    assert r.status_code == 404 and "/mail/graphql" in r.json()["errors"][0]["message"]
    r = httpx.put(url, headers=headers)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    r = httpx.get(url, headers={**headers, "Accept": "text/html"})
    assert r.status_code == 404 and "GraphiQL" in r.json()["errors"][0]["message"]
    r = httpx.get(url, params={"query": "{ lists { totalCount } }"}, headers=headers)
    assert r.status_code == 200 and r.json()["data"]["lists"]["totalCount"] >= 3


# -- determinism and start-up ------------------------------------------------------------------


def _first_page(store: mail.MailStore) -> list[dict[str, object]]:
    """The Newsletter's first ten subscribers, asked of ``store`` in process."""
    variables = {"list": store.list_id("Newsletter"), "first": 10}
    result = mail.schema().execute_sync(
        PAGE, variable_values=variables, context_value={"store": store}
    )
    assert result.errors is None
    return [e["node"] for e in result.data["subscribers"]["edges"]]


def test_data_is_deterministic_per_seed(sb, url, headers):
    list_id = sb.state("mail").list_id("Newsletter")
    body = _post(url, headers, PAGE, {"list": list_id, "first": 10}).json()
    served = [e["node"] for e in body["data"]["subscribers"]["edges"]]
    assert len(served) == 10
    again = mail.MailStore(seed=SEED, contacts=CONTACTS, companies=50)  # a new store, same seed
    assert _first_page(again) == served
    assert _first_page(mail.MailStore(seed=SEED + 1, contacts=CONTACTS, companies=50)) != served


def test_build_is_lazy_for_many_contacts():
    mail.schema()  # built once per process
    start = time.perf_counter()
    (mount,) = mail.build(_ctx(contacts=100_000))
    assert time.perf_counter() - start < 0.1
    assert mount.state._lists is None  # seeded on first use
