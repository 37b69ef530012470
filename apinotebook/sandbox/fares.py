"""The three fare providers selling the same flights (see ``_flights.py``).

SkyHigh speaks REST, BlueJet GraphQL and AeroCorp SOAP; each names fields its
own way, quotes in its own currency and answers at its own speed.
"""

from apinotebook.sandbox._context import Mount, SandboxContext
from apinotebook.sandbox._fares_graphql import build_bluejet
from apinotebook.sandbox._fares_rest import build_skyhigh
from apinotebook.sandbox._fares_soap import build_aerocorp

__all__ = ["build"]


def build(ctx: SandboxContext) -> list[Mount]:
    """SkyHigh (REST), BlueJet (GraphQL) and AeroCorp (SOAP)."""
    return [build_skyhigh(ctx), build_bluejet(ctx), build_aerocorp(ctx)]
