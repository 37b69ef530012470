"""aerocorp: the SOAP fare provider (``wsdl/aerocorp.wsdl``).

It sells the same flights as the other two providers (see
:mod:`apinotebook.sandbox._flights`) through a legacy-style SOAP 1.1 contract:
PascalCase elements, ``xsd:date`` and ``xsd:time`` (UTC) for the departure,
duration in decimal hours and the fare as a decimal in pounds sterling with a
``currency="GBP"`` attribute. Callers authenticate with a WS-Security
UsernameToken (``FARES_AEROCORP_USERNAME`` / ``FARES_AEROCORP_PASSWORD``), and
every answer takes about 0.15 s (scaled by the ``fares.latency_scale`` option).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from apinotebook.sandbox import _flights
from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._fares_rest import latency_scale
from apinotebook.sandbox._soap import WSDL_DIR, SoapApp, SoapAuth, SoapFaultError

__all__ = ["LATENCY", "build_aerocorp"]

#: Seconds each AeroCorp answer takes before ``latency_scale``.
LATENCY = 0.15
PROVIDER = "aerocorp"
LAST_DAY = _flights.FIRST_DAY + timedelta(days=_flights.DAYS - 1)
CENT = Decimal("0.01")


def flight_option(flight: _flights.Flight) -> dict[str, Any]:
    """A ``FlightOption`` element's fields for ``flight``."""
    hours = (Decimal(flight.duration_minutes) / 60).quantize(CENT)
    fare = Decimal(str(_flights.price_in(flight, PROVIDER))).quantize(CENT)
    return {
        "FlightNumber": flight.number,
        "Carrier": flight.carrier,
        "Origin": flight.origin,
        "Destination": flight.destination,
        "DepartureDate": flight.departs_at.date(),
        "DepartureTime": flight.departs_at.timetz(),
        "DurationHours": hours,
        "Stops": flight.stops,
        "SeatsAvailable": flight.seats_left,
        "Fare": {"_value_1": fare, "currency": _flights.CURRENCY[PROVIDER]},
    }


class _Operations:
    def __init__(self, seed: int) -> None:
        self.seed = seed

    @staticmethod
    def airport(value: str, role: str) -> str:
        code = value.strip().upper()
        if code not in _flights.AIRPORTS:
            valid = sorted(_flights.AIRPORTS)
            raise SoapFaultError(
                "UNKNOWN_AIRPORT",
                f"Unknown {role} airport {value!r}. Valid airports: {', '.join(valid)}",
                detail={"ValidAirport": valid},
            )
        return code

    @staticmethod
    def day(value: date) -> date:
        if not _flights.FIRST_DAY <= value <= LAST_DAY:
            raise SoapFaultError(
                "DATE_OUT_OF_RANGE",
                f"No flights are scheduled on {value}: departures run from "
                f"{_flights.FIRST_DAY} to {LAST_DAY}",
                detail={"FirstDate": _flights.FIRST_DAY, "LastDate": LAST_DAY},
            )
        return value

    def search_flights(self, params: Mapping[str, Any]) -> dict[str, Any]:
        origin = self.airport(params["Origin"], "origin")
        destination = self.airport(params["Destination"], "destination")
        if origin == destination:
            raise SoapFaultError(
                "SAME_AIRPORT", f"Origin and Destination are both {origin}: pick two airports"
            )
        flights = _flights.search(self.seed, origin, destination, self.day(params["DepartureDate"]))
        return {"FlightOption": [flight_option(f) for f in flights]}

    def get_flight(self, params: Mapping[str, Any]) -> dict[str, Any]:
        number = params["FlightNumber"].strip().upper()
        day = self.day(params["DepartureDate"])
        found = [
            flight
            for origin in _flights.AIRPORTS
            for destination in _flights.AIRPORTS
            for flight in _flights.search(self.seed, origin, destination, day)
            if flight.number == number
        ]
        if not found:
            raise SoapFaultError(
                "FLIGHT_NOT_FOUND",
                f"No flight {number} departs on {day}; SearchFlights lists the flight numbers",
            )
        return {"FlightOption": flight_option(min(found, key=lambda f: f.departs_at))}


def build_aerocorp(ctx: SandboxContext) -> Mount:
    """The AeroCorp fare provider, mounted at ``/fares/aerocorp``."""
    scale = latency_scale(ctx)
    ops = _Operations(ctx.seed)
    app = SoapApp(
        WSDL_DIR / "aerocorp.wsdl",
        address=ctx.url("/fares/aerocorp"),
        handlers={"SearchFlights": ops.search_flights, "GetFlight": ops.get_flight},
        auth=SoapAuth(
            ctx.credentials["FARES_AEROCORP_USERNAME"],
            ctx.credentials["FARES_AEROCORP_PASSWORD"],
            basic=False,
            realm="aerocorp",
            hint="FARES_AEROCORP_USERNAME / FARES_AEROCORP_PASSWORD",
        ),
        latency=LATENCY * scale,
        fault_fields=("Code", "Message"),
    )
    return Mount(
        prefix="/fares/aerocorp",
        app=app,
        service="fares.aerocorp",
        error_format="soap11",
        urls={"fares": {"aerocorp": "/fares/aerocorp?wsdl"}},
        env={"FARES_AEROCORP_WSDL": "/fares/aerocorp?wsdl"},
    )
