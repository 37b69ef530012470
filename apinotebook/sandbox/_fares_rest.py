"""SkyHigh, the REST fare provider (FastAPI).

SkyHigh sells the flights of :mod:`apinotebook.sandbox._flights` in US
dollars, under ``/fares/skyhigh``:

===================================  ==========================================
``GET /v1/flights?from=&to=&date=``  ``{"results": [...], "count": n}``
``GET /v1/flights/{id}``             one flight, or 404
``GET /openapi.json``                the OpenAPI 3 document (no doc pages:
                                     they load from a CDN)
===================================  ==========================================

A flight looks like ``{"id", "flightNo", "carrier", "from", "to", "departure",
"arrival", "duration", "stops", "seatsLeft", "price": {"amount", "currency"}}``
with ISO 8601 UTC instants (``2026-12-05T08:15:00Z``) and an ISO 8601 duration
(``PT7H40M``). Every request needs ``X-API-Key: $FARES_SKYHIGH_KEY`` (401
otherwise); bad input gets 422; every error body is
``{"error": {"code", "message", "details"?}}``. Each request waits
:data:`LATENCY` seconds, scaled by ``options["fares"]["latency_scale"]``.

:func:`parse_search` and :func:`latency_scale` are shared with the other
providers.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import Depends, FastAPI, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from apinotebook._exceptions import ConfigError
from apinotebook.sandbox import _flights
from apinotebook.sandbox._context import Mount, SandboxContext

__all__ = ["LATENCY", "SearchError", "build_skyhigh", "latency_scale", "parse_search"]

#: Seconds SkyHigh takes per request (before ``latency_scale``).
LATENCY = 0.04

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# -- shared by the providers ------------------------------------------------------------


class SearchError(ValueError):
    """A fare search argument is not valid; ``field`` names it."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def parse_search(
    origin: str,
    destination: str,
    day: str,
    *,
    names: tuple[str, str, str] = ("origin", "destination", "date"),
) -> tuple[str, str, date]:
    """Check a search's arguments; raise :class:`SearchError` naming the bad one.

    Airport codes are case-insensitive; ``day`` is ``YYYY-MM-DD`` within the
    schedule. ``names`` are the provider's own parameter names, for messages.
    """
    src, dst = origin.strip().upper(), destination.strip().upper()
    codes = ", ".join(sorted(_flights.AIRPORTS))
    for code, raw, name in ((src, origin, names[0]), (dst, destination, names[1])):
        if code not in _flights.AIRPORTS:
            raise SearchError(
                f"{name}={raw!r} is not an airport we fly. Valid codes: {codes}.", name
            )
    if src == dst:
        raise SearchError(f"{names[0]} and {names[1]} are both {src}.", names[1])
    first = _flights.FIRST_DAY
    last = first + timedelta(days=_flights.DAYS - 1)
    text = day.strip()
    try:
        when = date.fromisoformat(text) if _DAY.match(text) else None
    except ValueError:
        when = None
    if when is None:
        raise SearchError(f"{names[2]}={day!r} is not a date like {first.isoformat()}.", names[2])
    if not first <= when <= last:
        raise SearchError(
            f"{names[2]}={text} is outside the schedule: flights run from {first} to {last}.",
            names[2],
        )
    return src, dst, when


def latency_scale(ctx: SandboxContext) -> float:
    """``options["fares"]["latency_scale"]`` (default 1.0): 0 makes providers instant."""
    fares = ctx.options.get("fares") or {}
    if not isinstance(fares, Mapping):
        raise ConfigError(f'options["fares"] must be a mapping, got {fares!r}')
    value = fares.get("latency_scale", 1.0)
    try:
        scale = math.nan if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        scale = math.nan
    if not (math.isfinite(scale) and scale >= 0):
        raise ConfigError(f'options["fares"]["latency_scale"] must be a number >= 0, got {value!r}')
    return scale


# -- SkyHigh ---------------------------------------------------------------------------


class Price(BaseModel):
    """A price in a currency's major unit."""

    amount: float = Field(examples=[494.57])
    currency: str = Field(examples=["USD"])


class FlightOut(BaseModel):
    """One flight as SkyHigh sells it."""

    id: str = Field(examples=["LHRJFK-20261205-1"])
    flight_no: str = Field(alias="flightNo", examples=["QX4821"])
    carrier: str
    origin: str = Field(alias="from", examples=["LHR"])
    destination: str = Field(alias="to", examples=["JFK"])
    departure: str = Field(description="ISO 8601, UTC", examples=["2026-12-05T08:15:00Z"])
    arrival: str = Field(description="ISO 8601, UTC")
    duration: str = Field(description="ISO 8601 duration", examples=["PT7H40M"])
    stops: int
    seats_left: int = Field(alias="seatsLeft")
    price: Price


class SearchResult(BaseModel):
    """A search's flights, earliest first."""

    results: list[FlightOut]
    count: int


class ErrorDetail(BaseModel):
    """What went wrong."""

    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every SkyHigh error."""

    error: ErrorDetail


class _ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def _error(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _duration(minutes: int) -> str:
    hours, mins = divmod(minutes, 60)
    return "PT" + (f"{hours}H" if hours else "") + (f"{mins}M" if mins or not hours else "")


def _flight(flight: _flights.Flight) -> dict[str, Any]:
    return {
        "id": flight.id,
        "flightNo": flight.number,
        "carrier": flight.carrier,
        "from": flight.origin,
        "to": flight.destination,
        "departure": _iso(flight.departs_at),
        "arrival": _iso(flight.arrives_at),
        "duration": _duration(flight.duration_minutes),
        "stops": flight.stops,
        "seatsLeft": flight.seats_left,
        "price": {
            "amount": _flights.price_in(flight, "skyhigh"),
            "currency": _flights.CURRENCY["skyhigh"],
        },
    }


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or wrong X-API-Key"},
    404: {"model": ErrorBody, "description": "No such flight"},
    422: {"model": ErrorBody, "description": "Invalid search"},
}


def skyhigh_app(*, seed: int, key: str, latency: float) -> FastAPI:
    """The SkyHigh FastAPI app (routes relative to its mount)."""
    app = FastAPI(
        title="SkyHigh Fares",
        version="1.0.0",
        description="Fare search in US dollars. Send X-API-Key: $FARES_SKYHIGH_KEY.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    header = APIKeyHeader(name="X-API-Key", auto_error=False, description="FARES_SKYHIGH_KEY")

    async def authorized(given: str | None = Security(header)) -> None:
        if not given:
            raise _ApiError(
                401, "unauthorized", "Missing X-API-Key header: send FARES_SKYHIGH_KEY."
            )
        if not hmac.compare_digest(given.encode(), key.encode()):
            raise _ApiError(
                401, "unauthorized", "Invalid X-API-Key: it does not match FARES_SKYHIGH_KEY."
            )
        if latency > 0:
            await asyncio.sleep(latency)

    @app.get(
        "/v1/flights",
        response_model=SearchResult,
        responses=_ERRORS,
        dependencies=[Depends(authorized)],
        summary="Search flights on one route and day",
    )
    async def search(
        origin: str = Query(alias="from", description="IATA code", examples=["LHR"]),
        destination: str = Query(alias="to", description="IATA code", examples=["JFK"]),
        day: str = Query(alias="date", description="YYYY-MM-DD", examples=["2026-12-05"]),
    ) -> dict[str, Any]:
        try:
            src, dst, when = parse_search(origin, destination, day, names=("from", "to", "date"))
        except SearchError as exc:
            raise _ApiError(
                422, "invalid_request", str(exc), [{"field": exc.field, "message": str(exc)}]
            ) from None
        results = [_flight(f) for f in _flights.search(seed, src, dst, when)]
        return {"results": results, "count": len(results)}

    @app.get(
        "/v1/flights/{flight_id}",
        response_model=FlightOut,
        responses=_ERRORS,
        dependencies=[Depends(authorized)],
        summary="One flight by id",
    )
    async def one(flight_id: str) -> dict[str, Any]:
        found = _flights.get(seed, flight_id.strip().upper())
        if found is None:
            raise _ApiError(
                404,
                "not_found",
                f"No flight with id {flight_id!r}. Ids look like LHRJFK-20261205-1: "
                "take one from a search.",
            )
        return _flight(found)

    @app.exception_handler(_ApiError)
    async def api_error(request: Request, exc: _ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": str(err["loc"][-1]), "message": str(err["msg"])} for err in exc.errors()
        ]
        text = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return _error(422, "invalid_request", f"Invalid request: {text}.", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            message = (
                f"No route {request.method} {request.url.path}. Endpoints: "
                "GET /v1/flights?from=&to=&date=, GET /v1/flights/{id}, GET /openapi.json."
            )
            return _error(404, "not_found", message)
        code = "method_not_allowed" if exc.status_code == 405 else "http_error"
        return _error(exc.status_code, code, str(exc.detail))

    return app


def build_skyhigh(ctx: SandboxContext) -> Mount:
    """SkyHigh, mounted at ``/fares/skyhigh``."""
    app = skyhigh_app(
        seed=ctx.seed,
        key=ctx.credentials["FARES_SKYHIGH_KEY"],
        latency=LATENCY * latency_scale(ctx),
    )
    return Mount(
        prefix="/fares/skyhigh",
        app=app,
        service="fares.skyhigh",
        urls={"fares": {"skyhigh": "/fares/skyhigh/v1"}},
        env={"FARES_SKYHIGH_URL": "/fares/skyhigh/v1"},
    )
