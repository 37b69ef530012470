"""OpenAPI specs that do not load or cannot be called, and how the base URL is chosen."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from openapi_helpers import (
    FIXTURES,
    PETSTORE,
    SWAGGER,
    Recorder,
    client,
    minimal,
)

from apinotebook import ConfigError, RestClient, SpecError

# -- invalid specs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "fragments"),
    [
        pytest.param("- openapi\n- 3.0.0\n", ["is a list", "expected a mapping"], id="a-yaml-list"),
        pytest.param(["openapi", "3.0.0"], ["spec= takes a URL", "not list"], id="a-list"),
        pytest.param("", ["spec= is empty"], id="empty-text"),
        pytest.param("# a comment\n# only\n", ["is a nothing"], id="yaml-comment-only"),
        pytest.param(FIXTURES, ["is a directory"], id="a-directory"),
        pytest.param("just some words", ["not an existing file, a URL"], id="plain-words"),
        pytest.param(
            {"info": {}, "paths": {}},
            ["no 'openapi' or 'swagger' key", "not an OpenAPI document"],
            id="no-version-key",
        ),
        pytest.param(
            {"openapi": "2.0"}, ["openapi '2.0'", "3.0, 3.1 and Swagger 2.0"], id="v2-openapi"
        ),
        pytest.param({"openapi": "4.0.0"}, ["openapi '4.0.0'"], id="v4"),
        pytest.param({"swagger": "1.2"}, ["swagger '1.2'", "Swagger 2.0"], id="swagger-1.2"),
        pytest.param('{"openapi": "3.0.0",', ["looks like JSON", "line 1"], id="broken-json"),
        pytest.param(
            "openapi: 3.0.0\npaths: {a: [}\n", ["not valid YAML", "line 2"], id="broken-yaml"
        ),
        pytest.param(
            {"openapi": "3.0.0", "paths": ["/a"]}, ["'paths' must map"], id="paths-a-list"
        ),
        pytest.param(
            minimal(paths={"/a": {"get": "nope"}}),
            ["GET /a must be an operation"],
            id="operation-a-string",
        ),
        pytest.param(
            minimal(paths={"/a": {"$ref": "#/nowhere"}}),
            ["cannot resolve $ref '#/nowhere'", "paths '/a'"],
            id="path-item-ref-broken",
        ),
        pytest.param(
            FIXTURES / "missing.yaml", ["no such file", "missing.yaml"], id="missing-file"
        ),
        pytest.param(str(FIXTURES / "missing.json"), ["no such file"], id="missing-file-str"),
        pytest.param(42, ["spec= takes a URL", "not int"], id="a-number"),
    ],
)
def test_invalid_specs(spec: Any, fragments: list[str]) -> None:
    with pytest.raises(SpecError) as info:
        client(spec, base_url="http://a.test")
    for fragment in fragments:
        assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("paths", "fragments"),
    [
        pytest.param(
            {"/a": {"get": {"parameters": [{"name": "x"}]}}},
            ["needs 'name' and 'in'"],
            id="parameter-without-in",
        ),
        pytest.param(
            {"/a": {"get": {"parameters": [{"name": "x", "in": "body"}]}}},
            ["'in: body'", "path, query, header, cookie"],
            id="body-parameter-in-3.0",
        ),
        pytest.param(
            {"/a": {"get": {"parameters": [{"$ref": "#/components/parameters/nope"}]}}},
            ["cannot resolve $ref", "parameter #1 of GET /a"],
            id="parameter-ref-broken",
        ),
        pytest.param(
            {"/a": {"get": {"parameters": {"x": 1}}}}, ["must be a list"], id="parameters-a-mapping"
        ),
        pytest.param(
            {"/a": {"get": {"requestBody": {"$ref": "#/a"}}}, "/b": {}},
            ["cannot resolve $ref '#/a'", "body of GET /a"],
            id="body-ref-broken",
        ),
        pytest.param(
            {"/a": {"get": {"parameters": [{"$ref": "#/paths/~1a/get/parameters/0"}]}}},
            ["refers to itself"],
            id="parameter-ref-loop",
        ),
    ],
)
def test_invalid_operations_fail_when_built(paths: dict[str, Any], fragments: list[str]) -> None:
    c = client(minimal(paths=paths), base_url="http://a.test")  # loading stays lazy
    with pytest.raises(SpecError) as info:
        c.operation("get_a")
    for fragment in fragments:
        assert fragment in str(info.value)


def test_spec_url_errors() -> None:
    with pytest.raises(SpecError, match="answered HTTP 404"):
        client("http://docs.test/missing.json", Recorder({"http://docs.test/x": b"{}"}))

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(Exception, match="Could not connect") as info:
        RestClient.from_openapi("http://docs.test/api.json", transport=httpx.MockTransport(refuse))
    assert not isinstance(info.value, SpecError)


# -- base URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "kwargs", "expected"),
    [
        (PETSTORE, {}, "https://eu.petstore.example/v1/"),
        (PETSTORE, {"server_variables": {"region": "us"}}, "https://us.petstore.example/v1/"),
        (PETSTORE, {"base_url": "http://127.0.0.1:9/x"}, "http://127.0.0.1:9/x/"),
        (SWAGGER, {}, "https://legacy.example.com:8443/api/"),
        ({"swagger": "2.0", "host": "h.test", "paths": {}}, {}, "https://h.test/"),
        (
            minimal(servers=[{"url": "http://a.test/{v}", "variables": {"v": {"enum": ["v2"]}}}]),
            {},
            "http://a.test/v2/",
        ),
    ],
)
def test_base_url(spec: Any, kwargs: dict[str, Any], expected: str) -> None:
    assert client(spec, **kwargs).base_url == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        (minimal(), "declares no servers"),
        (minimal(servers=[{"url": "/v1"}]), "relative server URL '/v1'"),
        ({"swagger": "2.0", "paths": {}}, "has no 'host'"),
        (minimal(servers=[{"url": "http://{host}/"}]), "{host} without a default"),
        (minimal(servers=["http://a.test"]), "servers[0] must be an object"),
    ],
)
def test_missing_base_url(spec: Any, fragment: str) -> None:
    with pytest.raises(ConfigError, match="base_url=") as info:
        client(spec)
    assert fragment in str(info.value)


def test_base_url_from_the_spec_url_when_no_servers() -> None:
    c = client(
        "https://api.test/docs/openapi.json",
        Recorder({"https://api.test/docs/openapi.json": json.dumps(minimal())}),
    )
    assert c.base_url == "https://api.test/" and c.spec_url == "https://api.test/docs/openapi.json"
    swagger = {"swagger": "2.0", "basePath": "/v2", "paths": {}}
    c = client(
        "http://old.test:81/spec", Recorder({"http://old.test:81/spec": json.dumps(swagger)})
    )
    assert c.base_url == "http://old.test:81/v2/"
