"""Matching that understands the protocol: tables of requests that match and that do not."""

from __future__ import annotations

import json

import pytest

from apinotebook import ConfigError, Secret
from apinotebook.cassettes import Matcher

URL = "https://api.example/v1/contacts"
GQL = "https://api.example/graphql"
JSON = [("Content-Type", "application/json")]
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def shape(matcher: Matcher, method: str, url: str, body: str = "", headers=(), protocol=None):
    return matcher.shape(method, url, list(headers), body, protocol)


def same(a, b, matcher: Matcher | None = None) -> bool:
    m = matcher or Matcher()
    return m.matches(shape(m, *a), shape(m, *b))


def gql(query: str, variables=None, operation=None, **extra) -> str:
    body = {"query": query, "variables": variables or {}, **extra}
    if operation:
        body["operationName"] = operation
    return json.dumps(body)


def soap(body: str, *, nonce: str = "n1", created: str = "2026-01-01T00:00:00Z") -> str:
    return (
        f'<soap-env:Envelope xmlns:soap-env="{SOAP_NS}"><soap-env:Header>'
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken><wsse:Nonce>{nonce}</wsse:Nonce>'
        f"<wsse:Created>{created}</wsse:Created></wsse:UsernameToken></wsse:Security>"
        f"</soap-env:Header><soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
    )


SOAP_H = [("Content-Type", "text/xml; charset=utf-8"), ("SOAPAction", '"urn:ListCustomers"')]

MATCH = {
    "query order": (("GET", f"{URL}?a=1&b=2"), ("GET", f"{URL}?b=2&a=1")),
    "host case and default port": (("GET", URL), ("GET", "https://API.example:443/v1/contacts")),
    "json key order and spacing": (
        ("POST", URL, '{"a": 1, "b": [1, 2]}', JSON),
        ("POST", URL, '{"b":[1,2],"a":1}', JSON),
    ),
    "graphql whitespace, commas and comments": (
        ("POST", GQL, gql("query Q { a b }", operation="Q"), JSON),
        ("POST", GQL, gql("# list\nquery Q {\n  a,\n  b\n}", operation="Q"), JSON),
    ),
    "graphql variables as data": (
        ("POST", GQL, gql("{ a }", {"x": 1, "y": [1]}), JSON),
        ("POST", GQL, gql("{ a }", {"y": [1], "x": 1}), JSON),
    ),
    "soap nonce and timestamp": (
        ("POST", URL, soap("<ListCustomers/>", nonce="n1"), SOAP_H),
        ("POST", URL, soap("<ListCustomers/>", nonce="n2", created="2027-02-02T00:00:00Z"), SOAP_H),
    ),
    "soap formatting": (
        ("POST", URL, soap("<ListCustomers><pageSize>3</pageSize></ListCustomers>"), SOAP_H),
        ("POST", URL, soap("<ListCustomers>\n  <pageSize>3</pageSize>\n</ListCustomers>"), SOAP_H),
    ),
    "headers are not compared by default": (
        ("GET", URL, "", [("Accept", "application/json")]),
        ("GET", URL, "", [("Accept", "text/csv")]),
    ),
}

DIFFER = {
    "method": (("GET", URL), ("DELETE", URL)),
    "path": (("GET", URL), ("GET", f"{URL}/1")),
    "host": (("GET", URL), ("GET", "https://other.example/v1/contacts")),
    "query value": (("GET", f"{URL}?a=1"), ("GET", f"{URL}?a=2")),
    "extra query parameter": (("GET", f"{URL}?a=1"), ("GET", f"{URL}?a=1&b=2")),
    "json value": (("POST", URL, '{"a": 1}', JSON), ("POST", URL, '{"a": 2}', JSON)),
    "json type": (("POST", URL, '{"a": 1}', JSON), ("POST", URL, '{"a": "1"}', JSON)),
    "graphql operation": (
        ("POST", GQL, gql("query A { a } query B { a }", operation="A"), JSON),
        ("POST", GQL, gql("query A { a } query B { a }", operation="B"), JSON),
    ),
    "graphql variables": (
        ("POST", GQL, gql("{ a }", {"x": 1}), JSON),
        ("POST", GQL, gql("{ a }", {"x": 2}), JSON),
    ),
    "graphql query": (("POST", GQL, gql("{ a }"), JSON), ("POST", GQL, gql("{ a b }"), JSON)),
    "soap action": (
        ("POST", URL, soap("<ListCustomers/>"), SOAP_H),
        ("POST", URL, soap("<ListCustomers/>"), [SOAP_H[0], ("SOAPAction", "urn:GetCustomer")]),
    ),
    "soap 1.2 action in the content type": (
        ("POST", URL, soap("<A/>"), [("Content-Type", 'application/soap+xml; action="urn:A"')]),
        ("POST", URL, soap("<A/>"), [("Content-Type", 'application/soap+xml; action="urn:B"')]),
    ),
    "soap body": (
        ("POST", URL, soap("<ListCustomers><pageSize>3</pageSize></ListCustomers>"), SOAP_H),
        ("POST", URL, soap("<ListCustomers><pageSize>4</pageSize></ListCustomers>"), SOAP_H),
    ),
    "form value": (
        ("POST", URL, "a=1&b=2", [("Content-Type", "application/x-www-form-urlencoded")]),
        ("POST", URL, "a=1&b=3", [("Content-Type", "application/x-www-form-urlencoded")]),
    ),
}


@pytest.mark.parametrize("case", MATCH, ids=list(MATCH))
def test_requests_that_match(case):
    recorded, live = MATCH[case]
    assert same(recorded, live)


@pytest.mark.parametrize("case", DIFFER, ids=list(DIFFER))
def test_requests_that_do_not_match_and_say_why(case):
    recorded, live = DIFFER[case]
    m = Matcher()
    assert not same(recorded, live)
    reasons = m.differences(shape(m, *recorded), shape(m, *live))
    assert reasons and all(isinstance(r, str) and r for r in reasons)


def test_graphql_is_recognised_by_its_body():
    m = Matcher()
    s = shape(m, "POST", GQL, gql("query Q { a }", {"x": 1}, operation="Q"), JSON)
    assert s.kind == "graphql" and s.body[0] == "Q"
    assert shape(m, "POST", URL, '{"query": 1}', JSON).kind == "json"


def test_the_reasons_name_the_part_that_differs():
    m = Matcher()
    why = m.differences(
        shape(m, "POST", GQL, gql("{ a }", {"input": {"email": "a@x", "n": 1}}), JSON),
        shape(m, "POST", GQL, gql("{ a }", {"input": {"email": "b@x", "n": 1}}), JSON),
    )
    assert why == ['GraphQL variables differ at $.input.email is "b@x" (recorded "a@x")']
    why = m.differences(shape(m, "GET", f"{URL}?a=1&b=2"), shape(m, "GET", f"{URL}?a=1&c=3"))
    assert why == ["query differs: c not recorded; b missing (recorded '2')"]
    why = m.differences(
        shape(m, "POST", URL, soap("<A/>"), SOAP_H),
        shape(m, "POST", URL, soap("<A/>"), [SOAP_H[0], ("SOAPAction", "urn:B")]),
    )
    assert why == ["SOAPAction differs: urn:B (recorded urn:ListCustomers)"]


IGNORE = {
    "query": (
        {"ignore_query": ["ts"]},
        ("GET", f"{URL}?a=1&ts=100"),
        ("GET", f"{URL}?ts=200&a=1"),
    ),
    "json path": (
        {"ignore_json": ["meta.sent_at"]},
        ("POST", URL, '{"a": 1, "meta": {"sent_at": 1, "v": 2}}', JSON),
        ("POST", URL, '{"a": 1, "meta": {"sent_at": 9, "v": 2}}', JSON),
    ),
    "json path with a wildcard": (
        {"ignore_json": ["$.items.*.nonce"]},
        ("POST", URL, '{"items": [{"id": 1, "nonce": "x"}, {"id": 2, "nonce": "y"}]}', JSON),
        ("POST", URL, '{"items": [{"id": 1, "nonce": "p"}, {"id": 2, "nonce": "q"}]}', JSON),
    ),
    "graphql variable": (
        {"ignore_json": ["variables.input.requestId"]},
        ("POST", GQL, gql("{ a }", {"input": {"requestId": "r1", "n": 1}}), JSON),
        ("POST", GQL, gql("{ a }", {"input": {"requestId": "r2", "n": 1}}), JSON),
    ),
    "xml element": (
        {"ignore_xml": ["sentAt"]},
        ("POST", URL, soap("<A><sentAt>1</sentAt><n>1</n></A>"), SOAP_H),
        ("POST", URL, soap("<A><sentAt>2</sentAt><n>1</n></A>"), SOAP_H),
    ),
    "header (when headers are matched)": (
        {"match_headers": True, "ignore_headers": ["X-Nonce"]},
        ("GET", URL, "", [("X-Tenant", "t1"), ("X-Nonce", "1")]),
        ("GET", URL, "", [("X-Tenant", "t1"), ("X-Nonce", "2")]),
    ),
}


@pytest.mark.parametrize("case", IGNORE, ids=list(IGNORE))
def test_ignore_lists(case):
    options, recorded, live = IGNORE[case]
    baseline = {k: v for k, v in options.items() if not k.startswith("ignore_")}
    assert not same(recorded, live, Matcher(**baseline)), "it must differ without the list"
    assert same(recorded, live, Matcher(**options))


def test_match_headers_compares_the_named_headers_only():
    m = Matcher(match_headers=["X-Tenant"])
    a = ("GET", URL, "", [("X-Tenant", "t1"), ("Accept", "a")])
    assert same(a, ("GET", URL, "", [("X-Tenant", "t1"), ("Accept", "b")]), m)
    assert not same(a, ("GET", URL, "", [("X-Tenant", "t2"), ("Accept", "a")]), m)
    everything = Matcher(match_headers=True)
    assert not same(a, ("GET", URL, "", [("X-Tenant", "t1"), ("Accept", "b")]), everything)
    # volatile headers never count
    assert same(
        ("GET", URL, "", [("User-Agent", "a/1"), ("Idempotency-Key", "k1")]),
        ("GET", URL, "", [("User-Agent", "b/2"), ("Idempotency-Key", "k2")]),
        everything,
    )


def test_masked_secrets_match_any_value():
    """A recording holds ``***`` where a secret was; the live request holds another value."""
    # by name: the query parameter, the JSON key and the header are masked on both sides
    assert same(("GET", f"{URL}?api_key=***&a=1"), ("GET", f"{URL}?a=1&api_key=live-key-1"))
    assert same(
        ("POST", URL, '{"user": "ada", "password": "***"}', JSON),
        ("POST", URL, '{"user": "ada", "password": "hunter22"}', JSON),
    )
    # by value: a registered secret inside a path or a free-text field
    Secret("tok-3b9f0c1e-path")
    assert same(("GET", f"{URL}/bot***/me"), ("GET", f"{URL}/bottok-3b9f0c1e-path/me"))
    assert same(
        ("POST", URL, '{"note": "key ***"}', JSON),
        ("POST", URL, '{"note": "key some-unregistered-value"}', JSON),
    )
    # but only in place of the mask: the rest must still be equal
    assert not same(("GET", f"{URL}/bot***/me"), ("GET", f"{URL}/bottok/you"))
    assert not same(
        ("POST", URL, '{"user": "ada", "password": "***"}', JSON),
        ("POST", URL, '{"user": "bob", "password": "x"}', JSON),
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"ignore_query": "ts"}, "ignore_query= takes a list"),
        ({"ignore_json": "a.b"}, "ignore_json= takes a list"),
        ({"match_headers": "X-Tenant"}, "match_headers= takes a list"),
    ],
)
def test_a_string_where_a_list_belongs_is_a_config_error(options, message):
    with pytest.raises(ConfigError, match=message):
        Matcher(**options)
