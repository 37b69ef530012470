"""The OpenAPI fixtures, a recording MockTransport handler and a client built on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from apinotebook import RestClient
from apinotebook.rest import OpenAPIClient

FIXTURES = Path(__file__).parents[1] / "fixtures" / "openapi"
PETSTORE = FIXTURES / "petstore-3.0.json"
LIBRARY = FIXTURES / "library-3.1.yaml"
SWAGGER = FIXTURES / "swagger-2.0.json"
HOOKS = FIXTURES / "webhooks-only-3.1.yaml"


class Recorder:
    """A MockTransport handler that records what was sent."""

    def __init__(self, routes: dict[str, Any] | None = None) -> None:
        self.sent: list[httpx.Request] = []
        self.routes = routes or {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        if str(request.url) in self.routes:
            body = self.routes[str(request.url)]
            return httpx.Response(200, content=body if isinstance(body, bytes) else body.encode())
        if self.routes:
            return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(200, json={"ok": True})

    @property
    def last(self) -> httpx.Request:
        return self.sent[-1]


def client(spec: Any, recorder: Recorder | None = None, **kwargs: Any) -> OpenAPIClient:
    recorder = recorder or Recorder()
    kwargs.setdefault("history", None)
    return RestClient.from_openapi(spec, transport=httpx.MockTransport(recorder), **kwargs)


def minimal(**extra: Any) -> dict[str, Any]:
    return {"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {}, **extra}
