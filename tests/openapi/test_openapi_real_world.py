"""Request bodies as real vendors declare them (shapes found in the real-world corpus)."""

from __future__ import annotations

import json

import httpx
import pytest

from apinotebook import ConfigError, RestClient


def _spec(content_type: str) -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "http://api.test"}],
        "paths": {
            "/things": {
                "post": {
                    "operationId": "createThing",
                    "requestBody": {"content": {content_type: {"schema": {"type": "object"}}}},
                    "responses": {"200": {"description": "ok"}},
                }
            }
        },
    }


@pytest.mark.parametrize("content_type", ["*/*", "application/*"])
def test_a_wildcard_body_takes_structured_data_as_json(content_type):
    # Kubernetes declares */* for its write operations
    client = RestClient.from_openapi(
        _spec(content_type), transport=httpx.MockTransport(lambda r: httpx.Response(200, json={}))
    )
    request = client.prepare("createThing", body={"kind": "Pod"})
    assert json.loads(request.content) == {"kind": "Pod"}
    assert request.headers["content-type"] == "application/json"


def test_a_declared_non_json_type_still_asks_for_text():
    client = RestClient.from_openapi(_spec("text/csv"))
    with pytest.raises(ConfigError, match=r"sends text/csv: pass body= as str or bytes"):
        client.prepare("createThing", body={"a": 1})
    assert client.prepare("createThing", body="a,b\n").content == b"a,b\n"


def test_a_malformed_json_media_type_still_sends_json():
    client = RestClient.from_openapi(_spec("applicationjson;version=1.0.0"))
    request = client.prepare("createThing", body={"a": 1})
    assert json.loads(request.content) == {"a": 1}
    assert request.headers["content-type"] == "applicationjson;version=1.0.0"
