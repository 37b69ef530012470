"""Deterministic seed data shared by the demo services.

The same seed always gives the same people, companies and timestamps, so a
course notebook, a test and a benchmark see identical data. The generator is
plain ``random.Random`` over small word lists: 100,000 people take well under
a second, where Faker would take tens of seconds.

The CRM's contacts and the billing service's customers are drawn from the same
people, so "bring SOAP invoices into CRM contacts" has real matches (by email)
and a few customers the CRM has never heard of.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

__all__ = ["EPOCH", "Company", "Person", "companies", "isoformat", "people"]

#: Seed timestamps are spread over the 180 days before this instant.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

FIRST = (
    "Ada Alan Amara Anika Arjun Beatriz Bilal Carmen Chen Chloe Dara Dmitri Elena Emeka Farah "
    "Felix Grace Hana Hugo Ines Ivan Jamal Jin Jonas Kai Kamala Lars Leila Liam Lucia Malik "
    "Maya Mei Mateo Nadia Nia Noah Olga Omar Priya Quinn Rafael Rosa Sami Sofia Tariq Thea "
    "Uma Victor Wen Xavier Yara Yusuf Zara Zoe"
).split()
LAST = (
    "Adams Ahmed Andersen Bauer Becker Brown Castillo Chen Costa Dubois Edwards Fischer Garcia "
    "Gupta Haddad Hansen Ito Ivanova Jensen Johnson Kaur Kim Kowalski Lee Lopez Martin Moreau "
    "Muller Nakamura Nguyen Novak Okafor Olsen Patel Perez Petrov Quinn Rossi Sato Schmidt "
    "Silva Singh Smith Tanaka Torres Ueda Varga Wagner Wang Weber Williams Yilmaz Young Zhang"
).split()
WORDS = (
    "Acme Apex Aurora Beacon Blue Bright Cedar Cobalt Crest Delta Echo Ember Falcon Fern "
    "Granite Harbor Helix Indigo Juniper Kestrel Lumen Maple Meridian Nimbus Nova Oak Orbit "
    "Pioneer Quartz Redwood Sage Sierra Solstice Summit Tidal Vertex Willow Zenith"
).split()
SUFFIX = ("Labs", "Systems", "Logistics", "Analytics", "Foods", "Health", "Energy", "Studio")
TITLES = (
    "CEO",
    "CTO",
    "Head of Marketing",
    "Engineer",
    "Product Manager",
    "Sales Lead",
    "Designer",
    "Data Analyst",
    "Operations Manager",
    "Account Executive",
)
CITIES = (
    "Berlin",
    "Lisbon",
    "Lagos",
    "Toronto",
    "Osaka",
    "Austin",
    "Nairobi",
    "Lyon",
    "Melbourne",
    "Bogota",
    "Seoul",
    "Dublin",
)


@dataclass(frozen=True, slots=True)
class Company:
    """One company; ``index`` is stable for a seed."""

    index: int
    name: str
    domain: str
    city: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Person:
    """One person; services turn it into a contact, a subscriber or a customer."""

    index: int
    first_name: str
    last_name: str
    email: str
    phone: str
    title: str
    company: int
    city: str
    created_at: datetime
    updated_at: datetime


def isoformat(ts: datetime) -> str:
    """RFC 3339 UTC with a ``Z`` and millisecond precision: sorts as text."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


@lru_cache(maxsize=8)
def companies(seed: int, n: int = 200) -> tuple[Company, ...]:
    """``n`` companies with unique names and domains."""
    rng = random.Random(f"companies:{seed}")
    out: list[Company] = []
    seen: set[str] = set()
    while len(out) < n:
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {rng.choice(SUFFIX)}"
        if name in seen:
            name = f"{name} {len(out)}"
        seen.add(name)
        domain = name.lower().replace(" ", "") + ".example"
        created = EPOCH - timedelta(days=400 + rng.randrange(600))
        out.append(Company(len(out), name, domain, rng.choice(CITIES), created))
    return tuple(out)


@lru_cache(maxsize=8)
def people(seed: int, n: int, n_companies: int = 200) -> tuple[Person, ...]:
    """``n`` people with unique emails, spread over ``n_companies`` companies.

    ``updated_at`` is strictly increasing with the index, so "updated since"
    queries and cursors are deterministic; ``created_at`` comes before it.
    """
    rng = random.Random(f"people:{seed}")
    comps = companies(seed, n_companies)
    span = 180 * 24 * 3600 * 1000  # milliseconds in the seed window
    step = max(1, span // max(n, 1))
    start = EPOCH - timedelta(milliseconds=span)
    out: list[Person] = []
    choice, randrange = rng.choice, rng.randrange
    for i in range(n):
        first, last = choice(FIRST), choice(LAST)
        company = comps[randrange(len(comps))]
        updated = start + timedelta(milliseconds=i * step + randrange(step))
        created = updated - timedelta(days=randrange(90), seconds=randrange(86400))
        email = f"{first.lower()}.{last.lower()}{i}@{company.domain}"
        phone = f"+1-555-{randrange(10000):04d}"
        out.append(
            Person(
                i,
                first,
                last,
                email,
                phone,
                choice(TITLES),
                company.index,
                company.city,
                created,
                updated,
            )
        )
    return tuple(out)
