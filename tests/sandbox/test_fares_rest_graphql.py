"""The SkyHigh (REST) and BlueJet (GraphQL) fare providers on a real socket."""

from __future__ import annotations

import re
import time
from datetime import date, datetime

import httpx
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

from apinotebook import ConfigError
from apinotebook.sandbox import Sandbox, SandboxContext, _flights
from apinotebook.sandbox._context import credentials
from apinotebook.sandbox._fares_graphql import build_bluejet
from apinotebook.sandbox._fares_rest import build_skyhigh, latency_scale
from apinotebook.sandbox._webhooks import WebhookDispatcher

SEED = 9
DAY = date(2026, 12, 5)
FLIGHTS = """
query($o: String!, $d: String!, $date: String!) {
  flights(origin: $o, destination: $d, date: $date) {
    code flightNumber carrier route { origin destination }
    departsAt arrivesAt durationMinutes stops seatsLeft fare { cents currency }
  }
}
"""


def _ctx(scale: float | None, seed: int = SEED) -> SandboxContext:
    options = {} if scale is None else {"fares": {"latency_scale": scale}}
    return SandboxContext(
        base_url="http://127.0.0.1",
        seed=seed,
        contacts=10,
        companies=5,
        credentials=credentials(seed),
        webhooks=WebhookDispatcher(),
        options=options,
    )


def _sandbox(scale: float | None) -> Sandbox:
    ctx = _ctx(scale)
    return Sandbox(services=(), seed=SEED, extra_mounts=[build_skyhigh(ctx), build_bluejet(ctx)])


@pytest.fixture(scope="module")
def sb():
    with _sandbox(0.0) as box:
        yield box


@pytest.fixture(scope="module")
def sky(sb):
    base = sb.urls["fares"]["skyhigh"]
    with httpx.Client(
        base_url=base, headers={"X-API-Key": sb.credentials["FARES_SKYHIGH_KEY"]}
    ) as c:
        yield c


@pytest.fixture(scope="module")
def blue_headers(sb):
    return {"Authorization": "Bearer " + sb.credentials["FARES_BLUEJET_TOKEN"]}


@pytest.fixture(scope="module")
def blue(sb, blue_headers):
    transport = HTTPXTransport(url=sb.urls["fares"]["bluejet"], headers=blue_headers)
    with Client(transport=transport, fetch_schema_from_transport=True) as session:
        yield session


def _search(client, origin="LHR", destination="JFK", day="2026-12-05"):
    return client.get("/flights", params={"from": origin, "to": destination, "date": day})


def test_urls_and_env(sb):
    assert sb.urls["fares"] == {
        "skyhigh": sb.url + "/fares/skyhigh/v1",
        "bluejet": sb.url + "/fares/bluejet/graphql",
    }
    assert sb.env["FARES_SKYHIGH_URL"] == sb.url + "/fares/skyhigh/v1"
    assert sb.env["FARES_BLUEJET_URL"] == sb.url + "/fares/bluejet/graphql"


# -- SkyHigh (REST) ----------------------------------------------------------------------


def test_skyhigh_search_shape(sky):
    r = _search(sky)
    assert r.status_code == 200
    body = r.json()
    expected = _flights.search(SEED, "LHR", "JFK", DAY)
    assert body["count"] == len(body["results"]) == len(expected) >= 2
    first, flight = body["results"][0], expected[0]
    assert set(first) == {
        "id", "flightNo", "carrier", "from", "to", "departure", "arrival", "duration",
        "stops", "seatsLeft", "price",
    }  # fmt: skip
    assert first["flightNo"] == flight.number and (first["from"], first["to"]) == ("LHR", "JFK")
    assert datetime.fromisoformat(first["departure"]) == flight.departs_at
    assert first["departure"].endswith("Z") and first["arrival"].endswith("Z")
    hours, minutes = divmod(flight.duration_minutes, 60)
    assert re.fullmatch(r"PT(\d+H)?(\d+M)?", first["duration"])
    assert first["duration"] == (f"PT{hours}H{minutes}M" if minutes else f"PT{hours}H")
    assert first["price"] == {"amount": _flights.price_in(flight, "skyhigh"), "currency": "USD"}


def test_skyhigh_codes_are_case_insensitive_and_flights_by_id(sky):
    results = _search(sky, "lhr", "jfk").json()["results"]
    one = sky.get(f"/flights/{results[1]['id']}")
    assert one.status_code == 200 and one.json() == results[1]
    missing = sky.get("/flights/LHRJFK-20261205-9")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "XXX", "to": "JFK", "date": "2026-12-05"}, "from", "Valid codes: AMS, BER"),
        ({"from": "LHR", "to": "LHR", "date": "2026-12-05"}, "to", "both LHR"),
        ({"from": "LHR", "to": "JFK", "date": "05/12/2026"}, "date", "not a date"),
        ({"from": "LHR", "to": "JFK", "date": "2026-02-30"}, "date", "not a date"),
        ({"from": "LHR", "to": "JFK", "date": "2027-06-01"}, "date", "2026-12-01 to 2027-01-29"),
        ({"from": "LHR", "to": "JFK"}, "date", "Field required"),
    ],
)
def test_skyhigh_invalid_search_is_422(sky, params, field, message):
    r = sky.get("/flights", params=params)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_request" and message in error["message"]
    assert error["details"][0]["field"] == field


@pytest.mark.parametrize("key", [None, "wrong"])
def test_skyhigh_needs_its_api_key(sb, key):
    headers = {} if key is None else {"X-API-Key": key}
    r = httpx.get(sb.urls["fares"]["skyhigh"] + "/flights", params={"from": "LHR"}, headers=headers)
    assert r.status_code == 401  # before validating the query
    assert r.json()["error"]["code"] == "unauthorized"
    assert "FARES_SKYHIGH_KEY" in r.json()["error"]["message"]


def test_skyhigh_unknown_route_and_bad_bodies_are_json(sb, sky):
    r = sky.get("/nothing")
    assert r.status_code == 404 and "/v1/flights" in r.json()["error"]["message"]
    r = sky.post("/flights", content=b"\x00\xff garbage")
    assert r.status_code == 405 and r.json()["error"]["code"] == "method_not_allowed"
    r = sky.post("/flights", content=b"x" * (8 * 1024 * 1024 + 1))
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_skyhigh_serves_openapi_without_doc_pages(sb):
    base = sb.url + "/fares/skyhigh"
    spec = httpx.get(base + "/openapi.json").json()
    assert set(spec["paths"]) == {"/v1/flights", "/v1/flights/{flight_id}"}
    assert spec["servers"] == [{"url": "/fares/skyhigh"}]
    assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
    params = {p["name"] for p in spec["paths"]["/v1/flights"]["get"]["parameters"]}
    assert params == {"from", "to", "date"}
    assert httpx.get(base + "/docs").status_code == 404


def test_skyhigh_openapi_is_valid(sb):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(httpx.get(sb.url + "/fares/skyhigh/openapi.json").json())


# -- BlueJet (GraphQL) ---------------------------------------------------------------------


def test_bluejet_schema_and_search(blue):
    assert "FlightOffer" in blue.client.schema.type_map
    variables = {"o": "LHR", "d": "JFK", "date": DAY.isoformat()}
    offers = blue.execute(GraphQLRequest(FLIGHTS, variable_values=variables))["flights"]
    expected = _flights.search(SEED, "LHR", "JFK", DAY)
    assert [o["code"] for o in offers] == [f.id for f in expected]
    offer, flight = offers[0], expected[0]
    assert offer["route"] == {"origin": "LHR", "destination": "JFK"}
    assert offer["departsAt"] == int(flight.departs_at.timestamp())
    assert offer["arrivesAt"] - offer["departsAt"] == offer["durationMinutes"] * 60
    assert offer["fare"] == {
        "cents": round(_flights.price_in(flight, "bluejet") * 100),
        "currency": "EUR",
    }
    one = blue.execute(
        GraphQLRequest(
            "query($c: String!) { flight(code: $c) { code flightNumber } }",
            variable_values={"c": offer["code"].lower()},
        )
    )
    assert one == {"flight": {"code": offer["code"], "flightNumber": offer["flightNumber"]}}
    none = blue.execute(GraphQLRequest('{ flight(code: "LHRJFK-20261205-9") { code } }'))
    assert none == {"flight": None}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ('{ flights(origin: "XXX", destination: "JFK", date: "2026-12-05") { code } }', "AMS"),
        ('{ flights(origin: "LHR", destination: "LHR", date: "2026-12-05") { code } }', "both"),
        ('{ flights(origin: "LHR", destination: "JFK", date: "tomorrow") { code } }', "date"),
        (
            '{ flights(origin: "LHR", destination: "JFK", date: "2026-11-30") { code } }',
            "2027-01-29",
        ),
        ('{ flight(code: "AN1234") { code } }', "not a BlueJet offer code"),
    ],
)
def test_bluejet_bad_input(blue, query, message):
    with pytest.raises(TransportQueryError, match=message) as info:
        blue.execute(GraphQLRequest(query))
    assert info.value.errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize("authorization", [None, "Bearer", "Bearer wrong", "Basic " + "x" * 10])
def test_bluejet_needs_its_bearer_token(sb, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    r = httpx.post(sb.urls["fares"]["bluejet"], json={"query": "{ __typename }"}, headers=headers)
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"", 400, "Unable to parse"),
        (b"\x00\xff garbage", 400, "Unable to parse"),
        (b'{"variables": {}}', 400, "No GraphQL query"),
        (b'{"query": "{ flights }"}', 200, "must have a selection"),
    ],
)
def test_bluejet_bad_requests(sb, blue_headers, body, status, message):
    headers = {**blue_headers, "Content-Type": "application/json"}
    r = httpx.post(sb.urls["fares"]["bluejet"], content=body, headers=headers)
    assert r.status_code == status and message in r.json()["errors"][0]["message"]


def test_bluejet_oversized_body_is_413_graphql(sb, blue_headers):
    r = httpx.post(sb.urls["fares"]["bluejet"], content=b"x" * (9 << 20), headers=blue_headers)
    assert r.status_code == 413
    assert r.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


# -- the two providers agree -------------------------------------------------------------------


@pytest.mark.parametrize(("origin", "destination"), [("LHR", "JFK"), ("MAD", "BER")])
def test_providers_sell_the_same_flights(sky, blue, origin, destination):
    day = date(2027, 1, 10)
    rest = _search(sky, origin, destination, day.isoformat()).json()["results"]
    variables = {"o": origin, "d": destination, "date": day.isoformat()}
    graph = blue.execute(GraphQLRequest(FLIGHTS, variable_values=variables))["flights"]

    def instant(text: str) -> int:
        return int(datetime.fromisoformat(text).timestamp())

    assert {(f["flightNo"], instant(f["departure"])) for f in rest} == {
        (f["flightNumber"], f["departsAt"]) for f in graph
    }
    by_id = {f.id: f for f in _flights.search(SEED, origin, destination, day)}
    for offer in rest:
        usd = offer["price"]["amount"] * _flights.USD_PER[offer["price"]["currency"]]
        assert usd == pytest.approx(_flights.price_usd(by_id[offer["id"]], "skyhigh"), abs=0.01)
    for offer in graph:
        usd = offer["fare"]["cents"] / 100 * _flights.USD_PER[offer["fare"]["currency"]]
        assert usd == pytest.approx(_flights.price_usd(by_id[offer["code"]], "bluejet"), abs=0.01)
    assert {o["id"] for o in rest} == {o["code"] for o in graph} == set(by_id)


# -- latency ------------------------------------------------------------------------------


def test_providers_have_their_own_latency():
    with _sandbox(None) as box:  # default scale 1.0
        key = {"X-API-Key": box.credentials["FARES_SKYHIGH_KEY"]}
        token = {"Authorization": "Bearer " + box.credentials["FARES_BLUEJET_TOKEN"]}
        with httpx.Client() as client:
            sky = client.get(
                box.urls["fares"]["skyhigh"] + "/flights/LHRJFK-20261205-1", headers=key
            )
            blue = client.post(
                box.urls["fares"]["bluejet"], json={"query": "{ __typename }"}, headers=token
            )
    assert sky.status_code == blue.status_code == 200
    assert 0.04 <= sky.elapsed.total_seconds() < 1.0
    assert 0.08 <= blue.elapsed.total_seconds() < 1.0


@pytest.mark.parametrize("bad", [-1, "fast", "", float("nan"), True, [1]])
def test_latency_scale_must_be_a_non_negative_number(bad):
    with pytest.raises(ConfigError, match="latency_scale"):
        build_skyhigh(_ctx(bad))
    with pytest.raises(ConfigError, match="latency_scale"):
        build_bluejet(_ctx(bad))


def test_latency_scale_accepts_numbers_and_numeric_text():
    assert latency_scale(_ctx(None)) == 1.0
    assert latency_scale(_ctx(0)) == 0.0
    assert latency_scale(_ctx("0.5")) == 0.5


def test_build_is_cheap():
    build_skyhigh(_ctx(0.0)), build_bluejet(_ctx(0.0))  # one-time imports and schema
    start = time.perf_counter()
    for _ in range(5):
        build_skyhigh(_ctx(0.0)), build_bluejet(_ctx(0.0))
    assert time.perf_counter() - start < 0.25
