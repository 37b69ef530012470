"""Requests built from OpenAPI operations: parameters, bodies, uploads, errors, serialisation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from openapi_helpers import (
    PETSTORE,
    SWAGGER,
    Recorder,
    client,
    minimal,
)

from apinotebook import ConfigError, History, RestClient, SpecError
from apinotebook.openapi import Operation

# -- requests ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "operation_id", "params", "url", "headers", "body"),
    [
        pytest.param(
            PETSTORE,
            "getPet",
            {"petId": "a b/c?d", "verbose": 1},
            "https://eu.petstore.example/v1/pets/a%20b%2Fc%3Fd?verbose=1",
            {},
            b"",
            id="path-encoded",
        ),
        pytest.param(
            PETSTORE,
            "listPets",
            {
                "limit": 5,
                "tags": ["a", "b c"],
                "ids": [1, 2],
                "status": "sold",
                "filter": {"kind": "cat", "age": 3},
                "x_request_id": "r-1",
                "session": "s 1",
                "include_deleted": False,
            },
            "https://eu.petstore.example/v1/pets?limit=5&tags=a&tags=b+c&ids=1%2C2&status=sold"
            "&filter%5Bkind%5D=cat&filter%5Bage%5D=3&include_deleted=false",
            {"x-request-id": "r-1", "cookie": "session=s%201"},
            b"",
            id="query-header-cookie",
        ),
        pytest.param(
            PETSTORE,
            "listPets",
            {"tags": "single", "X-Request-ID": "spec-name"},
            "https://eu.petstore.example/v1/pets?tags=single",
            {"x-request-id": "spec-name"},
            b"",
            id="scalar-for-array-and-spec-name",
        ),
        pytest.param(
            PETSTORE,
            "createPet",
            {"body": {"name": "Rex", "tag": None}},
            "https://eu.petstore.example/v1/pets",
            {"content-type": "application/json"},
            b'{"name":"Rex","tag":null}',
            id="json-body",
        ),
        pytest.param(
            PETSTORE,
            "createPet",
            {"json": {"name": "Rex"}, "content_type": "application/x-www-form-urlencoded"},
            "https://eu.petstore.example/v1/pets",
            {"content-type": "application/x-www-form-urlencoded"},
            b"name=Rex",
            id="form-by-content-type",
        ),
        pytest.param(
            PETSTORE,
            "updatePet",
            {"petId": 7, "body": {"name": "Rex"}},
            "https://eu.petstore.example/v1/pets/7",
            {"content-type": "application/merge-patch+json"},
            b'{"name": "Rex"}',
            id="vendor-json",
        ),
        pytest.param(
            PETSTORE,
            "uploadPhoto",
            {"petId": 7, "body": b"\x89PNG"},
            "https://eu.petstore.example/v1/pets/7/photo",
            {"content-type": "image/png"},
            b"\x89PNG",
            id="binary-body",
        ),
        pytest.param(
            PETSTORE,
            "listPets",
            {"headers": {"X-Extra": "1"}, "limit": None},
            "https://eu.petstore.example/v1/pets",
            {"x-extra": "1"},
            b"",
            id="extra-headers-and-none-means-absent",
        ),
        pytest.param(
            SWAGGER,
            "findOrders",
            {"status": ["placed", "shipped"], "ids": [1, 2], "fields": ["a", "b"]},
            "https://legacy.example.com:8443/api/orders?status=placed&status=shipped"
            "&ids=1%2C2&fields=a%7Cb",
            {},
            b"",
            id="swagger-collection-formats",
        ),
        pytest.param(
            SWAGGER,
            "placeOrder",
            {"body": {"item": "x"}},
            "https://legacy.example.com:8443/api/orders",
            {"content-type": "application/json"},
            b'{"item":"x"}',
            id="swagger-body",
        ),
        pytest.param(
            SWAGGER,
            "updateOrderForm",
            {"orderId": 3, "status": "shipped", "note": "ok"},
            "https://legacy.example.com:8443/api/orders/3",
            {"content-type": "application/x-www-form-urlencoded"},
            b"status=shipped&note=ok",
            id="swagger-form-fields",
        ),
        pytest.param(
            SWAGGER,
            "updateOrderForm",
            {"orderId": 3, "body": {"status": "placed"}},
            "https://legacy.example.com:8443/api/orders/3",
            {"content-type": "application/x-www-form-urlencoded"},
            b"status=placed",
            id="swagger-form-as-body",
        ),
    ],
)
def test_requests_are_built(
    spec: Path,
    operation_id: str,
    params: dict[str, Any],
    url: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    recorder = Recorder()
    c = client(spec, recorder)
    prepared = c.prepare(operation_id, **params)
    assert not recorder.sent  # prepare does no I/O
    exchange = c.call(operation_id, **params)
    sent = recorder.last
    for request in (prepared, sent):
        assert str(request.url) == url
        for name, value in headers.items():
            assert request.headers.get(name) == value
    assert sent.content == body
    assert sent.method == c.operation(operation_id).method
    assert exchange.operation == operation_id and exchange.status == 200


def test_multipart_upload() -> None:
    recorder = Recorder()
    client(SWAGGER, recorder).call(
        "uploadReceipt", orderId=1, file=("r.pdf", b"%PDF"), comment="hi"
    )
    sent = recorder.last
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="r.pdf"' in sent.content and b"%PDF" in sent.content
    assert b'name="comment"\r\n\r\nhi' in sent.content


def test_exchanges_are_labelled_in_the_history() -> None:
    history = History()
    c = client(PETSTORE, history=history)
    c.call("getPet", petId="1")
    assert [e.operation for e in history] == ["getPet"]


def test_acall() -> None:
    recorder = Recorder()
    c = client(PETSTORE, recorder)

    async def main() -> Any:
        return await c.acall("getPet", petId="x y")

    exchange = asyncio.run(main())
    assert exchange.operation == "getPet" and recorder.last.url.path == "/v1/pets/x y"
    assert recorder.last.url.raw_path == b"/v1/pets/x%20y"


@pytest.mark.parametrize(
    ("operation_id", "params", "fragments"),
    [
        ("getPets", {}, ["Unknown operation 'getPets'", "Did you mean 'getPet'", "listPets"]),
        ("list_pets", {}, ["Did you mean 'listPets'"]),
        ("getPet", {}, ["missing required parameter(s): 'petId'", "Signature: getPet(petId: str"]),
        ("createPet", {}, ["missing required parameter(s): 'body'"]),
        (
            "getPet",
            {"petId": "1", "verbos": 1},
            ["unknown parameter(s) 'verbos'", "Did you mean 'verbose'"],
        ),
        ("getPet", {"petId": "1", "body": {}}, ["takes no request body"]),
        ("createPet", {"body": {}, "json": {}}, ["body= or json=, not both"]),
        ("getPet", {"petId": "1", "verbose": 5}, ["must be one of 0, 1, 2; got 5"]),
        ("getPet", {"petId": "1", "verbose": True}, ["must be integer; got True (bool)"]),
        ("listPets", {"limit": "10"}, ["'limit' of listPets() must be integer; got '10' (str)"]),
        ("listPets", {"include_deleted": "yes"}, ["must be boolean"]),
        ("listPets", {"ids": [1, "two"]}, ["each item of parameter 'ids'", "must be integer"]),
        ("listPets", {"status": "lost"}, ["one of 'available', 'pending', 'sold'"]),
        ("listPets", {"x_request_id": {"a": 1}}, ["must be string"]),
        ("uploadPhoto", {"petId": 1, "body": {"a": 1}}, ["sends image/png", "str or bytes"]),
    ],
)
def test_call_errors(operation_id: str, params: dict[str, Any], fragments: list[str]) -> None:
    recorder = Recorder()
    c = client(PETSTORE, recorder)
    with pytest.raises(ConfigError) as info:
        c.call(operation_id, **params)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert not recorder.sent


def test_validation_can_be_turned_off_and_secrets_stay_out_of_messages() -> None:
    recorder = Recorder()
    client(PETSTORE, recorder, validate=False).call("listPets", limit="10")
    assert recorder.last.url.params["limit"] == "10"
    spec = minimal(
        paths={
            "/a": {
                "get": {
                    "parameters": [
                        {"name": "api_token", "in": "query", "schema": {"type": "integer"}}
                    ]
                }
            }
        }
    )
    with pytest.raises(ConfigError) as info:
        client(spec, base_url="http://a.test").call("get_a", api_token="s3cr3t-value")
    assert "s3cr3t" not in str(info.value) and "'***'" in str(info.value)


def test_clashing_parameter_names_get_distinct_keywords() -> None:
    spec = minimal(
        paths={
            "/items/{id}": {
                "get": {
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "id", "in": "query", "schema": {"type": "string"}},
                        {"name": "class", "in": "query", "schema": {"type": "string"}},
                        {"name": "body", "in": "query", "schema": {"type": "string"}},
                        {"name": "page[size]", "in": "query", "schema": {"type": "integer"}},
                    ]
                }
            }
        }
    )
    recorder = Recorder()
    c = client(spec, recorder, base_url="http://a.test")
    op = c.operation("get_items_id")
    assert [p.python_name for p in op.parameters] == [
        "id",
        "id_query",
        "class_",
        "body_",
        "page_size",
    ]
    c.call("get_items_id", id="p", id_query="q", class_="c", body_="b", page_size=2)
    assert str(recorder.last.url) == ("http://a.test/items/p?id=q&class=c&body=b&page%5Bsize%5D=2")


def test_operation_objects_are_frozen_values() -> None:
    op = client(PETSTORE).operation("getPet")
    with pytest.raises(AttributeError):
        op.path = "/x"  # type: ignore[misc]
    assert isinstance(hash(op), int) and isinstance(op, Operation)


def test_the_spec_is_fetched_without_the_api_credentials() -> None:
    from apinotebook import Bearer

    seen: list[str | None] = []
    doc = json.dumps(minimal(servers=[{"url": "http://api.test"}]))

    def guarded(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization"))
        if request.headers.get("authorization") != "Bearer spec-token":
            return httpx.Response(401)
        return httpx.Response(200, content=doc.encode())

    transport = httpx.MockTransport(guarded)
    with pytest.raises(SpecError, match="answered HTTP 401. Pass spec_auth="):
        RestClient.from_openapi("http://docs.test/s.json", auth=Bearer("api"), transport=transport)
    c = RestClient.from_openapi(
        "http://docs.test/s.json",
        auth=Bearer("api-token"),
        spec_auth=Bearer("spec-token"),
        transport=transport,
        history=None,
    )
    assert seen == [None, "Bearer spec-token"] and c.base_url == "http://api.test/"


def test_dates_and_text_values_are_serialised() -> None:
    import datetime as dt

    spec = minimal(
        paths={
            "/e/{day}": {
                "get": {
                    "parameters": [
                        {"name": "day", "in": "path", "required": True,
                         "schema": {"type": "string", "format": "date"}},
                        {"name": "since", "in": "query",
                         "schema": {"type": "string", "format": "date-time"}},
                        {"name": "f", "in": "query", "content": {"application/json": {}}},
                        {"name": "n", "in": "query", "schema": {"type": ["number", "null"]}},
                    ]
                }
            }
        }
    )  # fmt: skip
    recorder = Recorder()
    c = client(spec, recorder, base_url="http://a.test")
    c.call(
        "get_e_day",
        day=dt.date(2024, 2, 29),
        since=dt.datetime(2024, 1, 1, 12, 30, tzinfo=dt.UTC),
        f={"a": [1]},
        n=1.5,
    )
    url = recorder.last.url
    assert url.path == "/e/2024-02-29"
    assert url.params["since"] == "2024-01-01T12:30:00+00:00"
    assert json.loads(url.params["f"]) == {"a": [1]} and url.params["n"] == "1.5"
