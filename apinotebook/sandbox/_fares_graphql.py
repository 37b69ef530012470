"""BlueJet, the GraphQL fare provider.

BlueJet sells the flights of :mod:`apinotebook.sandbox._flights` at
``/fares/bluejet/graphql``, with a Bearer token (``FARES_BLUEJET_TOKEN``)::

    type Query {
      flights(origin: String!, destination: String!, date: String!): [FlightOffer!]!
      flight(code: String!): FlightOffer
    }
    type FlightOffer {
      code: String!              # BlueJet's offer code, e.g. LHRJFK-20261205-1
      flightNumber: String!      # the airline's number, e.g. QX4821
      carrier: String!
      route: Route!              # {origin destination}
      departsAt: Int!            # epoch seconds, UTC
      arrivesAt: Int!
      durationMinutes: Int!
      stops: Int!
      seatsLeft: Int!
      fare: Fare!                # {cents: 21426, currency: "EUR"}
    }

Bad input (unknown airport, bad date, date outside the schedule) comes back as
GraphQL ``errors`` with ``extensions.code = "BAD_USER_INPUT"``. Every request
waits :data:`LATENCY` seconds, scaled by ``options["fares"]["latency_scale"]``.

It is served by the endpoint in :mod:`apinotebook.sandbox._graphql`.
"""

from __future__ import annotations

import re
from functools import cache

import strawberry

from apinotebook.sandbox import _flights
from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._fares_rest import SearchError, latency_scale, parse_search
from apinotebook.sandbox._graphql import GraphQLEndpoint, bearer, make_schema, service_error

__all__ = ["LATENCY", "build_bluejet"]

#: Seconds BlueJet takes per request (before ``latency_scale``).
LATENCY = 0.08

_CODE = re.compile(r"^[A-Z]{6}-\d{8}-\d+$")


@strawberry.type(description="Where a flight goes.")
class Route:
    """Origin and destination IATA codes."""

    origin: str
    destination: str


@strawberry.type(description="A price in integer minor units.")
class Fare:
    """Price in cents of ``currency``."""

    cents: int
    currency: str


@strawberry.type(description="A seat offer on one flight.")
class FlightOffer:
    """One flight as BlueJet sells it."""

    code: str = strawberry.field(description="BlueJet's offer code; pass it to flight(code).")
    flight_number: str = strawberry.field(description="The airline's flight number.")
    carrier: str
    route: Route
    departs_at: int = strawberry.field(description="Departure, epoch seconds (UTC).")
    arrives_at: int = strawberry.field(description="Arrival, epoch seconds (UTC).")
    duration_minutes: int
    stops: int
    seats_left: int
    fare: Fare


def _offer(flight: _flights.Flight) -> FlightOffer:
    return FlightOffer(
        code=flight.id,
        flight_number=flight.number,
        carrier=flight.carrier,
        route=Route(origin=flight.origin, destination=flight.destination),
        departs_at=int(flight.departs_at.timestamp()),
        arrives_at=int(flight.arrives_at.timestamp()),
        duration_minutes=flight.duration_minutes,
        stops=flight.stops,
        seats_left=flight.seats_left,
        fare=Fare(
            cents=round(_flights.price_in(flight, "bluejet") * 100),
            currency=_flights.CURRENCY["bluejet"],
        ),
    )


def _seed(info: strawberry.Info) -> int:
    seed: int = info.context["seed"]
    return seed


@strawberry.type
class BlueJetQuery:
    """BlueJet's fare search."""

    @strawberry.field(description="Flights on one day (date: YYYY-MM-DD), earliest first.")
    def flights(
        self, info: strawberry.Info, origin: str, destination: str, date: str
    ) -> list[FlightOffer]:
        """Search one route and day."""
        try:
            src, dst, day = parse_search(origin, destination, date)
        except SearchError as exc:
            raise service_error(str(exc), "BAD_USER_INPUT", field=exc.field) from None
        return [_offer(f) for f in _flights.search(_seed(info), src, dst, day)]

    @strawberry.field(description="One offer by code, or null when there is none.")
    def flight(self, info: strawberry.Info, code: str) -> FlightOffer | None:
        """Look an offer up by its code."""
        code = code.strip().upper()
        if not _CODE.match(code):
            raise service_error(
                f"code {code!r} is not a BlueJet offer code (like LHRJFK-20261205-1).",
                "BAD_USER_INPUT",
                field="code",
            )
        found = _flights.get(_seed(info), code)
        return None if found is None else _offer(found)


def build_bluejet(ctx: SandboxContext) -> Mount:
    """BlueJet, mounted at ``/fares/bluejet``."""
    app = GraphQLEndpoint(
        _bluejet_schema(),
        authorize=bearer(ctx.credentials["FARES_BLUEJET_TOKEN"], "FARES_BLUEJET_TOKEN"),
        context={"seed": ctx.seed},
        latency=LATENCY * latency_scale(ctx),
        challenge='Bearer realm="bluejet"',
    )
    return Mount(
        prefix="/fares/bluejet",
        app=app,
        service="fares.bluejet",
        error_format="graphql",
        urls={"fares": {"bluejet": "/fares/bluejet/graphql"}},
        env={"FARES_BLUEJET_URL": "/fares/bluejet/graphql"},
    )


@cache
def _bluejet_schema() -> strawberry.Schema:
    return make_schema(BlueJetQuery)
