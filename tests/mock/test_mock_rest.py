"""The REST mock: answers from examples or schemas, requests checked like a real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apinotebook import HTTPStatusError, RestClient
from apinotebook.mock import Mock, Request, serve

pytest.importorskip("openapi_schema_validator")

from tests.mock.mock_helpers import assert_fits, response_schema  # noqa: E402

FIXTURES = Path(__file__).parents[1] / "fixtures" / "openapi"
PETSTORE = FIXTURES / "petstore-3.0.json"
SWAGGER = FIXTURES / "swagger-2.0.json"
LIBRARY = FIXTURES / "library-3.1.yaml"


def spec(paths: dict, version: str = "3.0.3") -> dict:
    return {"openapi": version, "info": {"title": "t", "version": "1"}, "paths": paths}


THINGS = spec(
    {
        "/things": {
            "get": {
                "operationId": "listThings",
                "parameters": [
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 50}},
                    {
                        "name": "X-Tenant",
                        "in": "header",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],  # fmt: skip
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "schema": {"type": "array", "items": {"type": "object"}},
                                "example": [{"name": "from the example"}],
                            }
                        },
                    }
                },  # fmt: skip
            },
            "post": {
                "operationId": "addThing",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string", "minLength": 2},
                                    "tags": {"type": "array", "items": {"type": "string"}},
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "201": {
                        "description": "made",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "name": {"type": "string"},
                                    },
                                }
                            }
                        },
                    }
                },
            },  # fmt: skip
        },
        "/things/mine": {"get": {"responses": {"204": {"description": "none"}}}},
        "/things/{thingId}": {
            "get": {
                "parameters": [
                    {
                        "name": "thingId",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/json": {
                                "examples": {"one": {"value": {"id": 1, "name": "named example"}}}
                            }
                        },
                    },
                    "404": {"description": "gone"},
                },
            },  # fmt: skip
        },
    }
)


def ask(mock: Mock, method: str, path: str, query: str = "", body=None, **headers):
    data = b"" if body is None else json.dumps(body).encode()
    if body is not None:
        headers.setdefault("content_type", "application/json")
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    reply = mock.handle(Request(method, path, query, hdrs, data))
    payload = json.loads(reply.body) if reply.body else None
    return reply.status, payload, reply


def test_an_example_in_the_document_is_the_answer():
    mock = Mock(THINGS)
    assert ask(mock, "GET", "/things", x_tenant="a")[:2] == (200, [{"name": "from the example"}])
    assert ask(mock, "GET", "/things/7")[:2] == (200, {"id": 1, "name": "named example"})


def test_unknown_paths_and_methods_get_404_and_405_with_allow():
    mock = Mock(THINGS)
    status, body, _ = ask(mock, "GET", "/nothing")
    assert status == 404 and body["status"] == 404 and "GET /nothing" in body["detail"]
    status, body, reply = ask(mock, "DELETE", "/things")
    assert status == 405 and ("allow", "GET, POST") in reply.headers


def test_literal_segments_win_over_templates():
    assert ask(Mock(THINGS), "GET", "/things/mine")[0] == 204


@pytest.mark.parametrize(
    ("method", "path", "query", "body", "headers", "where"),
    [
        ("GET", "/things", "limit=abc", None, {"x_tenant": "a"}, "query.limit"),
        ("GET", "/things", "limit=51", None, {"x_tenant": "a"}, "query.limit"),
        ("GET", "/things", "", None, {}, "header.X-Tenant"),
        ("GET", "/things/abc", "", None, {}, "path.thingId"),
        ("POST", "/things", "", {"tags": []}, {}, "body"),
        ("POST", "/things", "", {"name": "x"}, {}, "body.name"),
        ("POST", "/things", "", {"name": "ok", "tags": [1]}, {}, "body.tags[0]"),
        ("POST", "/things", "", None, {}, "body"),
    ],
)
def test_a_bad_request_gets_400_naming_the_failing_path(method, path, query, body, headers, where):
    status, problem, reply = ask(Mock(THINGS), method, path, query, body, **headers)
    assert status == 400
    assert reply.content_type == "application/problem+json"
    assert problem["errors"][0]["path"] == where
    assert problem["detail"].startswith(where + ":")


def test_invalid_json_and_a_foreign_media_type():
    mock = Mock(THINGS)
    bad = mock.handle(Request("POST", "/things", "", {"content-type": "application/json"}, b"{"))
    assert bad.status == 400 and b"not valid JSON" in bad.body
    xml = mock.handle(Request("POST", "/things", "", {"content-type": "text/xml"}, b"<a/>"))
    assert xml.status == 415


def test_prefer_picks_another_documented_status():
    status, _, _ = ask(Mock(THINGS), "GET", "/things/7", prefer="code=404")
    assert status == 404


def test_stateful_collections_remember_what_was_posted():
    mock = Mock(THINGS, stateful=True)
    assert ask(mock, "GET", "/things/1")[0] == 404  # nothing stored yet
    status, created, _ = ask(mock, "POST", "/things", body={"name": "lamp"})
    assert status == 201 and created["name"] == "lamp"
    thing_id = created["id"]
    assert ask(mock, "GET", f"/things/{thing_id}")[1] == created
    status, listed, _ = ask(mock, "GET", "/things", x_tenant="a")
    assert listed == [created]


def test_stateful_put_patch_delete_on_the_petstore():
    mock = Mock(PETSTORE, stateful=True)
    status, pet, _ = ask(mock, "POST", "/pets", body={"name": "Rex"})
    assert status == 201
    pet_id = pet["id"]
    patched = ask(mock, "PATCH", f"/pets/{pet_id}", body={"id": pet_id, "name": "Max"},
                  content_type="application/merge-patch+json")  # fmt: skip
    assert patched[0] == 200 and patched[1]["name"] == "Max" and patched[1]["id"] == pet_id
    assert ask(mock, "GET", f"/pets/{pet_id}")[1]["name"] == "Max"
    assert ask(mock, "DELETE", f"/pets/{pet_id}")[0] in (200, 204)
    assert ask(mock, "GET", f"/pets/{pet_id}")[0] == 404
    assert ask(mock, "DELETE", f"/pets/{pet_id}")[0] == 404


def test_the_same_seed_gives_the_same_answers():
    first = ask(Mock(PETSTORE, seed=4), "GET", "/pets")[1]
    assert ask(Mock(PETSTORE, seed=4), "GET", "/pets")[1] == first
    assert ask(Mock(PETSTORE, seed=5), "GET", "/pets")[1] != first


def test_a_path_parameter_is_echoed_into_the_answer():
    status, order, _ = ask(Mock(SWAGGER), "GET", "/orders/77")
    assert status == 200 and order["id"] == 77


@pytest.mark.parametrize("path", [PETSTORE, SWAGGER, LIBRARY], ids=lambda p: p.name)
def test_round_trip_through_our_client_every_get_answer_fits_its_schema(path):
    with (
        serve(path) as server,
        RestClient.from_openapi(path, base_url=server.url, history=None) as client,
    ):
        checked = 0
        for op in client.operations:
            if op.method != "GET":
                continue
            args = {p.python_name: _value_for(p) for p in op.parameters if p.required}
            ex = client.call(op.id, **args)
            assert 200 <= ex.status < 300, (op.id, ex.status, ex.text)
            status = str(ex.status)
            documented = {r.status for r in op.responses}
            if status in documented and ex.content:
                schema = response_schema(client, op.id, status)
                if schema is not None:
                    assert_fits(ex.json(), schema, client.spec_version)
                    checked += 1
        assert checked >= 2


def _value_for(param):
    kind = param.schema.get("type") if param.schema else "string"
    if kind == "integer":
        return 3
    if "pattern" in (param.schema or {}):
        return "978-3-16"
    return "abc"


def test_the_client_raises_the_mock_400_as_an_http_status_error():
    with (
        serve(SWAGGER) as server,
        RestClient.from_openapi(
            SWAGGER, base_url=server.url, history=None, raise_for_status=True
        ) as client,
    ):
        with pytest.raises(HTTPStatusError) as caught:
            client.request("GET", "/orders", params={"limit": "many"})
        assert caught.value.exchange.status == 400
        assert caught.value.exchange.json()["errors"][0]["path"] == "query.limit"


def test_a_broken_operation_or_example_is_reported_not_crashed():
    broken = spec(
        {
            "/a": {"get": {"parameters": [{"$ref": "#/nowhere"}], "responses": {"200": {
                "description": "ok"}}}},
            "/b": {"get": {"responses": {"200": {"description": "ok", "content": {
                "application/json": {"schema": {"type": "integer"},
                                     "examples": {"x": {"$ref": "#/nowhere"}}}}}}}},
        }
    )  # fmt: skip
    status, body, _ = ask(Mock(broken), "GET", "/a")
    assert status == 500 and "cannot be read" in body["detail"] and "#/nowhere" in body["detail"]
    status, body, _ = ask(Mock(broken), "GET", "/b")
    assert status == 200 and isinstance(body, int)


def test_operations_told_apart_by_a_header_or_query_after_a_hash():
    # AWS's documents: one path, the operation named by X-Amz-Target or Action
    aws = spec(
        {
            "/#X-Amz-Target=Svc.Create": {"post": {"operationId": "Create", "responses": {
                "200": {"description": "ok", "content": {"application/json": {
                    "example": {"made": True}}}}}}},
            "/#X-Amz-Target=Svc.Delete": {"post": {"operationId": "Delete", "responses": {
                "200": {"description": "ok", "content": {"application/json": {
                    "example": {"gone": True}}}}}}},
            "/#Action=Describe": {"get": {"responses": {"200": {"description": "ok", "content": {
                "application/json": {"example": {"described": True}}}}}}},
        }
    )  # fmt: skip
    mock = Mock(aws)
    assert ask(mock, "POST", "/", x_amz_target="Svc.Delete")[1] == {"gone": True}
    assert ask(mock, "POST", "/", x_amz_target="Svc.Create")[1] == {"made": True}
    assert ask(mock, "GET", "/", "Action=Describe")[1] == {"described": True}


def test_an_example_that_does_not_fit_its_schema_is_replaced_by_one_that_does():
    wrong = spec(
        {"/n": {"get": {"responses": {"200": {"description": "ok", "content": {
            "application/json": {"schema": {"type": "object", "required": ["n"],
                                            "properties": {"n": {"type": "integer"}}},
                                 "example": {"n": "seven"}}}}}}}}
    )  # fmt: skip
    status, body, _ = ask(Mock(wrong), "GET", "/n")
    assert status == 200 and isinstance(body["n"], int)


def test_a_31_document_with_draft4_exclusive_bounds_is_read_as_meant():
    doc = spec(
        {"/q": {"get": {"parameters": [{"name": "x", "in": "query", "schema": {
            "type": "number", "maximum": 10, "exclusiveMaximum": True}}],
            "responses": {"204": {"description": "ok"}}}}},
        "3.1.0",
    )  # fmt: skip
    assert ask(Mock(doc), "GET", "/q", "x=9.5")[0] == 204
    assert ask(Mock(doc), "GET", "/q", "x=10")[0] == 400
