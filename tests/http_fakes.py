"""A scripted MockTransport handler and a RestClient over it, shared by the client tests."""

from __future__ import annotations

import httpx

from apinotebook import History, RestClient, Retry

FAST = Retry(backoff=0, jitter=False)


class Recorder:
    """A MockTransport handler that replays scripted responses and records requests."""

    def __init__(self, *responses: httpx.Response | Exception):
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        item = self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]
        if isinstance(item, Exception):
            raise item
        return item


def client(handler, **kw) -> RestClient:
    kw.setdefault("retry", FAST)
    kw.setdefault("history", History())
    return RestClient("https://api.example/v1", transport=httpx.MockTransport(handler), **kw)
