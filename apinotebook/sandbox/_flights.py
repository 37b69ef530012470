"""The flights behind the three fare providers.

A travel site asks several providers for the same trip. In the sandbox the
three providers sell the *same* underlying flights (same carrier, number and
times) but each adds its own markup, names fields its own way and quotes in
its own currency and units:

=============  =========  ========================================================
provider       protocol   quotes in
=============  =========  ========================================================
``skyhigh``    REST       US dollars, decimal (``{"amount": 231.4, "currency": "USD"}``)
``bluejet``    GraphQL    euro cents, integer (``{"cents": 21426, "currency": "EUR"}``)
``aerocorp``   SOAP       pounds sterling, decimal string (``<Fare currency="GBP">182.20``)
=============  =========  ========================================================

Exchange rates are fixed so a learner can check their normalisation:
1 EUR = 1.08 USD and 1 GBP = 1.27 USD (:data:`USD_PER`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

__all__ = [
    "AIRPORTS",
    "FIRST_DAY",
    "PROVIDERS",
    "USD_PER",
    "Flight",
    "get",
    "price_in",
    "price_usd",
    "search",
]

#: IATA code -> city. Every ordered pair of airports has 2-3 flights every day.
AIRPORTS = {
    "AMS": "Amsterdam",
    "BER": "Berlin",
    "CDG": "Paris",
    "FCO": "Rome",
    "JFK": "New York",
    "LHR": "London",
    "LIS": "Lisbon",
    "MAD": "Madrid",
    "SFO": "San Francisco",
    "YYZ": "Toronto",
}

#: Flights are scheduled for 60 days from this date.
FIRST_DAY = date(2026, 12, 1)
DAYS = 60

PROVIDERS = ("skyhigh", "bluejet", "aerocorp")
CURRENCY = {"skyhigh": "USD", "bluejet": "EUR", "aerocorp": "GBP"}
#: US dollars per unit of each currency.
USD_PER = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27}

CARRIERS = ("AN", "NB", "QX", "VL")


@dataclass(frozen=True, slots=True)
class Flight:
    """One scheduled flight; times are UTC."""

    id: str
    carrier: str
    number: str
    origin: str
    destination: str
    departs_at: datetime
    arrives_at: datetime
    stops: int
    seats_left: int
    base_usd: float
    #: per-provider markup factor, e.g. {"skyhigh": 1.04, ...}
    markup: tuple[tuple[str, float], ...]

    @property
    def duration_minutes(self) -> int:
        """Block time in minutes."""
        return int((self.arrives_at - self.departs_at).total_seconds() // 60)


def price_usd(flight: Flight, provider: str) -> float:
    """What ``provider`` charges for ``flight``, in US dollars (2 decimals)."""
    return round(flight.base_usd * dict(flight.markup)[provider], 2)


def price_in(flight: Flight, provider: str) -> float:
    """What ``provider`` charges, in its own currency (2 decimals)."""
    return round(price_usd(flight, provider) / USD_PER[CURRENCY[provider]], 2)


def _distance_class(a: str, b: str) -> int:
    transatlantic = {"JFK", "SFO", "YYZ"}
    if (a in transatlantic) != (b in transatlantic):
        return 3
    if a in transatlantic:
        return 2
    return 1


@lru_cache(maxsize=4096)
def search(seed: int, origin: str, destination: str, day: date) -> tuple[Flight, ...]:
    """Flights from ``origin`` to ``destination`` departing on ``day`` (UTC).

    Each route and day is generated on demand from its own seeded stream, so
    nothing is precomputed at start-up and any query is instant and stable.
    """
    origin, destination = origin.upper(), destination.upper()
    if (
        origin not in AIRPORTS
        or destination not in AIRPORTS
        or origin == destination
        or not FIRST_DAY <= day < FIRST_DAY + timedelta(days=DAYS)
    ):
        return ()
    rng = random.Random(f"flights:{seed}:{origin}:{destination}:{day.isoformat()}")
    when = datetime.combine(day, datetime.min.time(), UTC)
    cls = _distance_class(origin, destination)
    out: list[Flight] = []
    for n in range(1, 3 + rng.randrange(2)):
        carrier = rng.choice(CARRIERS)
        depart = when + timedelta(minutes=rng.randrange(6 * 60, 22 * 60, 5))
        stops = 0 if rng.random() < 0.7 else 1
        minutes = {1: 110, 2: 330, 3: 480}[cls] + rng.randrange(-20, 40, 5)
        minutes += stops * (60 + rng.randrange(0, 120, 5))
        base = {1: 90.0, 2: 220.0, 3: 420.0}[cls] * (0.7 + rng.random() * 0.9)
        base *= 0.85 if stops else 1.0
        markup = tuple((p, round(1.0 + rng.random() * 0.12, 4)) for p in PROVIDERS)
        out.append(
            Flight(
                id=f"{origin}{destination}-{day:%Y%m%d}-{n}",
                carrier=carrier,
                number=f"{carrier}{rng.randrange(100, 9999)}",
                origin=origin,
                destination=destination,
                departs_at=depart,
                arrives_at=depart + timedelta(minutes=minutes),
                stops=stops,
                seats_left=rng.randrange(0, 60),
                base_usd=round(base, 2),
                markup=markup,
            )
        )
    return tuple(sorted(out, key=lambda f: f.departs_at))


def get(seed: int, flight_id: str) -> Flight | None:
    """The flight with ``flight_id`` (``LHRJFK-20261205-1``), or ``None``."""
    try:
        route, day_text, _ = flight_id.split("-")
        day = datetime.strptime(day_text, "%Y%m%d").date()
    except ValueError:
        return None
    for flight in search(seed, route[:3], route[3:], day):
        if flight.id == flight_id:
            return flight
    return None
