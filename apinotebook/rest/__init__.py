"""REST over httpx: :class:`RestClient`, and the clients made from a description.

- :class:`RestClient` — any REST API: verbs, pagination, concurrency, history;
- :class:`OpenAPIClient` — ``RestClient.from_openapi(spec)``: operations by id;
- :class:`CurlClient` — ``RestClient.from_curl("curl ...")``: ``.replay()``;
- :class:`RateBudget` — how a client waits for the rate-limit window (``rate_budget=``);
- :class:`HttpCache` — the on-disk HTTP cache for exploration (``cache=``).
"""

from apinotebook._core.budget import RateBudget, RateLimitExhausted
from apinotebook.rest._client import Call, RestClient
from apinotebook.rest._conventions import HttpCache
from apinotebook.rest._curl import CurlClient, client_from_curl
from apinotebook.rest._openapi import OpenAPIClient

__all__ = [
    "Call",
    "CurlClient",
    "HttpCache",
    "OpenAPIClient",
    "RateBudget",
    "RateLimitExhausted",
    "RestClient",
    "client_from_curl",
]
