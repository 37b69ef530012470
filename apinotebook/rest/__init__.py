"""REST over httpx: :class:`RestClient`, and the clients made from a description.

- :class:`RestClient` — any REST API: verbs, pagination, concurrency, history;
- :class:`OpenAPIClient` — ``RestClient.from_openapi(spec)``: operations by id;
- :class:`CurlClient` — ``RestClient.from_curl("curl ...")``: ``.replay()``.
"""

from apinotebook.rest._client import Call, RestClient
from apinotebook.rest._curl import CurlClient, client_from_curl
from apinotebook.rest._openapi import OpenAPIClient

__all__ = ["Call", "CurlClient", "OpenAPIClient", "RestClient", "client_from_curl"]
