"""RestClient.from_openapi: loading, $ref resolution, operations, requests."""

from __future__ import annotations

import asyncio
import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from apinotebook import ConfigError, History, RestClient, SpecError
from apinotebook.openapi import Operation
from apinotebook.rest import OpenAPIClient

FIXTURES = Path(__file__).parent / "fixtures" / "openapi"
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


# -- valid specs -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "base_url", "version", "ids"),
    [
        pytest.param(
            PETSTORE,
            None,
            "3.0.3",
            [
                "listPets",
                "createPet",
                "getPet",
                "delete_pets_petid",
                "updatePet",
                "uploadPhoto",
                "get_owners_ownerid_pets_petid",
            ],
            id="3.0-json",
        ),
        pytest.param(
            LIBRARY,
            "http://api.test/v3",
            "3.1.0",
            ["listBooks", "addBook", "getBook", "getShelf", "listCategories"],
            id="3.1-yaml",
        ),
        pytest.param(
            SWAGGER,
            None,
            "2.0",
            ["findOrders", "placeOrder", "getOrder", "updateOrderForm", "uploadReceipt"],
            id="swagger-2.0",
        ),
        pytest.param(HOOKS, "http://api.test", "3.1.0", [], id="3.1-webhooks-no-paths"),
        pytest.param(minimal(), "http://api.test", "3.0.0", [], id="empty-paths"),
        pytest.param(
            {"openapi": "3.1.0", "info": {}, "servers": [{"url": "http://a.test"}]},
            None,
            "3.1.0",
            [],
            id="no-paths-at-all",
        ),
        pytest.param(
            minimal(
                paths={
                    "/a": {"get": {"operationId": "x"}},
                    "/b": {"get": {"operationId": "x"}},
                    "/c": {"get": {}, "post": {"operationId": "get_c"}},
                }
            ),
            "http://api.test",
            "3.0.0",
            ["x", "x_2", "get_c_2", "get_c"],
            id="duplicate-and-clashing-ids",
        ),
        pytest.param(
            {"openapi": 3.0, "paths": {"/": {"get": {}, "x-ext": 1}, "x-top": {}}},
            "http://api.test",
            "3.0",
            ["get_root"],
            id="numeric-version-root-path-extensions",
        ),
    ],
)
def test_valid_specs_load(spec: Any, base_url: str | None, version: str, ids: list[str]) -> None:
    c = client(spec, base_url=base_url)
    assert c.spec_version == version
    assert c.operations.ids() == ids
    assert [op.id for op in c.operations] == ids  # every operation builds


def test_spec_sources_agree(tmp_path: Path) -> None:
    text = PETSTORE.read_text(encoding="utf-8")
    as_yaml = tmp_path / "petstore.yaml"
    import yaml

    as_yaml.write_text(yaml.safe_dump(json.loads(text), allow_unicode=True), encoding="utf-8")
    sources: list[Any] = [
        PETSTORE,
        str(PETSTORE),
        PETSTORE.as_uri(),
        text,
        text.encode(),
        json.loads(text),
        as_yaml,
        as_yaml.read_text(encoding="utf-8"),
    ]
    ops = [client(s).operation("listPets") for s in sources]
    assert all(op == ops[0] for op in ops)
    assert client(sources[0]).title == "Petstore"


def test_yaml_specifics_anchors_numeric_keys_dates_non_ascii() -> None:
    c = client(LIBRARY, base_url="http://api.test")
    assert c.title == "Bibliothèque"
    assert c.operation("getShelf").parameters == c.operation("getBook").parameters  # alias
    statuses = [r.status for r in c.operation("listBooks").responses]
    assert statuses == ["200", "4XX"]
    book = c.operation("addBook").request_body
    assert book is not None and "2fa" in book.schema["properties"]
    assert book.schema["properties"]["title"]["description"] == "Titel des Buches"


def test_operation_model_3_0() -> None:
    c = client(PETSTORE)
    pets = c.operation("listPets")
    assert (pets.method, pets.path, pets.summary, pets.tags) == (
        "GET",
        "/pets",
        "List pets",
        ("pets",),
    )
    names = [(p.name, p.location) for p in pets.parameters]
    assert ("Accept", "header") not in names  # ignored, as the spec says
    assert names[0] == ("limit", "query") and pets.parameter("limit").description == "Page size"
    assert pets.parameter("status").schema["enum"] == ["available", "pending", "sold"]
    assert pets.parameter("x_request_id").name == "X-Request-ID"
    assert pets.security == ("bearerAuth",)
    assert [r.status for r in pets.responses] == ["200", "default"]
    assert (
        pets.responses[1].schema is not None and "message" in pets.responses[1].schema["properties"]
    )

    get = c.operation("getPet")
    verbose = get.parameter("verbose")  # path-level parameter, overridden by the operation
    assert verbose.schema["type"] == "integer" and verbose.description == "overridden here"
    assert get.parameter("petId").required and get.parameter("petId").description == "The pet's id"
    assert get.responses[1].content_types == () and get.responses[1].schema is None

    delete = c.operation("delete_pets_petid")
    assert delete.deprecated and delete.security == ()
    body = c.operation("createPet").request_body
    assert body is not None and body.required and body.content_type == "application/json"
    assert body.content_types == ("application/json", "application/x-www-form-urlencoded")
    assert body.schema["required"] == ["name"]
    owner_free = c.operation("get_owners_ownerid_pets_petid")
    assert [p.name for p in owner_free.parameters] == ["ownerId", "petId"]  # from the template


def test_operation_model_swagger_2() -> None:
    c = client(SWAGGER)
    place = c.operation("placeOrder")
    assert place.request_body is not None and place.request_body.required
    assert place.request_body.schema["required"] == ["item"]
    assert place.responses[0].schema is not None and place.responses[0].content_types == (
        "application/json",
    )
    assert place.responses[1].schema is None and place.security == ("api_key",)
    form = c.operation("updateOrderForm").request_body
    assert form is not None and form.content_type == "application/x-www-form-urlencoded"
    assert [f.name for f in form.fields] == ["status", "note"] and form.required
    upload = c.operation("uploadReceipt").request_body
    assert upload is not None and upload.content_type == "multipart/form-data"
    assert c.operation("getOrder").parameter("orderId").schema == {
        "type": "integer",
        "format": "int64",
    }


@pytest.mark.parametrize(
    ("operation_id", "signature"),
    [
        ("getPet", "getPet(petId: str, *, verbose: Literal[0, 1, 2] = ...)"),
        ("createPet", "createPet(body: NewPet)"),
        ("uploadPhoto", "uploadPhoto(petId: int, body: bytes)"),
        (
            "listPets",
            "listPets(*, limit: int = ..., tags: list[str] = ..., ids: list[int] = ..., "
            "status: Literal['available', 'pending', 'sold'] = ..., filter: dict = ..., "
            "x_request_id: str = ..., session: str = ..., include_deleted: bool = ...)",
        ),
    ],
)
def test_signatures(operation_id: str, signature: str) -> None:
    op = client(PETSTORE).operation(operation_id)
    assert op.signature() == signature
    assert op.id in repr(op) and op.path in repr(op)
    assert signature in op.describe()


def test_signatures_other_versions() -> None:
    assert client(SWAGGER).operation("updateOrderForm").signature() == (
        "updateOrderForm(orderId: int, status: str, *, note: str = ...)"
    )
    assert client(LIBRARY, base_url="http://a.test").operation("listBooks").signature() == (
        "listBooks(*, page: int = ..., q: str | None = ...)"
    )


def test_operations_view() -> None:
    c = client(PETSTORE)
    ops = c.operations
    assert len(ops) == 7 and ops[0].id == "listPets" and ops[-1].path.startswith("/owners")
    assert ops["getPet"] is c.operation("getPet")  # built once, memoised
    assert [o.id for o in ops[1:3]] == ["createPet", "getPet"]
    assert "getPet" in ops and "nope" not in ops and ops[2] in ops
    assert ops.get("nope") is None
    assert [o.id for o in ops.search("photo")] == ["uploadPhoto"]
    assert [o.id for o in ops.search(tag="pets")] == ["listPets", "createPet"]
    frame = ops.to_frame()
    assert list(frame["id"]) == ops.ids() and list(frame.columns)[:3] == ["id", "method", "path"]
    assert "listPets" in repr(ops) and "7" in repr(ops)
    assert "Petstore" in repr(c) and "7 operations" in repr(c)


def test_webhooks_are_described() -> None:
    hooks = client(LIBRARY, base_url="http://a.test").webhooks
    assert hooks.ids() == ["bookReturned"]
    assert hooks[0].request_body is not None and hooks[0].method == "POST"
    assert client(HOOKS, base_url="http://a.test").webhooks.ids() == ["onNewPet"]


def test_the_callers_dict_is_never_modified() -> None:
    spec = json.loads(PETSTORE.read_text(encoding="utf-8"))
    before = copy.deepcopy(spec)
    c = client(spec)
    list(c.operations)
    c.prepare("createPet", body={"name": "Rex"})
    assert spec == before


# -- $ref resolution ----------------------------------------------------------------------


def test_recursive_schemas_become_markers() -> None:
    c = client(LIBRARY, base_url="http://a.test")
    category = c.operation("listCategories").responses[0].schema
    assert category is not None
    assert category["properties"]["parent"] == {
        "$ref": "#/components/schemas/Category",
        "x-recursive": True,
    }
    items = category["properties"]["children"]["items"]
    assert items["x-recursive"] is True
    pet = client(PETSTORE).operation("getPet").responses[0].schema
    assert pet is not None
    owner = pet["allOf"][1]["properties"]["owner"]["oneOf"][0]
    assert owner["properties"]["pets"]["items"] == {
        "$ref": "#/components/schemas/Pet",
        "x-recursive": True,
    }


def test_values_that_look_like_refs_are_data() -> None:
    pet = client(PETSTORE).operation("getPet").responses[0].schema
    assert pet is not None
    owner = pet["allOf"][1]["properties"]["owner"]["oneOf"][0]
    assert owner["example"] == {"$ref": "this is example data, not a reference"}
    assert owner["properties"]["example"]["enum"] == ["available", "pending", "sold"]  # a property


def test_external_files_and_pointer_escapes() -> None:
    c = client(LIBRARY, base_url="http://a.test")
    author = c.operation("addBook").request_body.schema["properties"]["author"]  # type: ignore[union-attr]
    assert author["properties"]["address"]["properties"]["city"] == {"type": "string"}
    assert author["properties"]["address"]["properties"]["country"] == {
        "type": "integer",
        "minimum": 1,
    }
    assert author["properties"]["friends"]["items"]["x-recursive"] is True
    assert c.operation("listBooks").parameter("page").schema == {"type": "integer", "minimum": 1}
    problem = c.operation("listBooks").responses[1]
    assert problem.content_types == ("application/problem+json",)
    shelf = c.operation("getShelf").responses[0].schema
    assert shelf is not None and shelf["properties"]["shelf"] == {"type": "integer"}


def test_spec_from_url_resolves_refs_relative_to_the_url() -> None:
    routes = {
        "http://docs.test/specs/api.yaml": LIBRARY.read_bytes(),
        "http://docs.test/specs/common.yaml": (FIXTURES / "common.yaml").read_bytes(),
        "http://docs.test/specs/nested/address.json": (
            FIXTURES / "nested/address.json"
        ).read_bytes(),
    }
    recorder = Recorder(routes)
    c = client("http://docs.test/specs/api.yaml", recorder)
    assert c.base_url == "http://docs.test/api/v3/"  # the relative server URL, against the spec's
    author = c.operation("addBook").request_body.schema["properties"]["author"]  # type: ignore[union-attr]
    assert author["properties"]["address"]["properties"]["country"]["minimum"] == 1
    fetched = [str(r.url) for r in recorder.sent]
    assert fetched == list(routes)  # each document fetched once, lazily, over the transport


def test_http_documents_may_not_read_local_files() -> None:
    evil = minimal(
        servers=[{"url": "http://a.test"}],
        paths={
            "/x": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "x",
                            "content": {
                                "application/json": {"schema": {"$ref": PETSTORE.as_uri()}}
                            },
                        }
                    }
                }
            }
        },
    )
    c = client(
        "http://docs.test/api.json", Recorder({"http://docs.test/api.json": json.dumps(evil)})
    )
    schema = c.operation("get_x").responses[0].schema
    assert schema is not None and "may not refer to local files" in schema["x-unresolved"]


def test_broken_schema_refs_stay_as_markers() -> None:
    spec = minimal(
        paths={
            "/x": {
                "post": {
                    "requestBody": {
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Missing"}}
                        }
                    },
                    "responses": {},
                }
            }
        }
    )
    body = client(spec, base_url="http://a.test").operation("post_x").request_body
    assert body is not None and body.schema["$ref"] == "#/components/schemas/Missing"
    assert "no key 'components'" in body.schema["x-unresolved"]


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


# -- a big spec -------------------------------------------------------------------------------


def _bench() -> Any:
    path = Path(__file__).parents[1] / "benchmarks" / "bench_openapi.py"
    spec = importlib.util.spec_from_file_location("bench_openapi", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_generated_big_spec_loads(tmp_path: Path) -> None:
    bench = _bench()
    doc = bench.generate(2, seed=3)
    files = bench.write(doc, tmp_path, yaml_too=False)
    assert 1.9e6 < files["json"].stat().st_size < 2.4e6
    recorder = Recorder()
    c = client(files["json"], recorder)
    assert c.base_url == "https://eu.api.example.com/v1/"
    ops = list(c.operations)
    assert len(ops) > 700 and len({op.id for op in ops}) == len(ops)
    one = [op for op in ops if "/run-action-" in op.id][39]
    id_param = one.parameters[0]
    assert id_param.location == "path" and id_param.name.endswith("_id")
    c.call(one.id, action="close", **{id_param.name: "u/1"})
    prefix = one.path.split("{")[0].encode()
    assert recorder.last.url.raw_path == b"/v1" + prefix + b"u%2F1/actions/close"
    listing = next(op for op in ops if op.method == "GET" and op.path == prefix.decode()[:-1])
    page = listing.responses[0].schema
    assert page is not None and page["properties"]["data"]["items"]["allOf"][0]["title"]


# -- the sandbox CRM ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crm() -> Any:
    pytest.importorskip("fastapi")
    from apinotebook.sandbox import _runner
    from apinotebook.sandbox._runner import Sandbox

    if importlib.util.find_spec("apinotebook.sandbox.crm") is None:
        pytest.skip("the sandbox CRM is not there yet")
    services = _runner.SERVICES
    if "crm" not in services:  # the CRM module exists but is not registered yet
        _runner.SERVICES = (*services, "crm")
    try:
        with Sandbox(services=("crm",), contacts=30, seed=5) as sb:
            yield sb
    finally:
        _runner.SERVICES = services


@pytest.mark.sandbox
def test_crm_end_to_end(crm: Any) -> None:
    from apinotebook import Bearer

    history = History()
    c = RestClient.from_openapi(
        crm.urls["crm"] + "/openapi.json", auth=Bearer(crm.env["CRM_TOKEN"]), history=history
    )
    with c:
        _crm_calls(c, crm, history)
    assert crm.env["CRM_TOKEN"] not in repr(c)


def _crm_calls(c: Any, crm: Any, history: History) -> None:
    from apinotebook import HTTPStatusError

    assert c.base_url == crm.urls["crm"] + "/"
    assert {"listContacts", "createContact", "getContact"} <= set(c.operations.ids())
    assert c.operation("getContact").signature() == "getContact(contact_id: str)"
    page = c.call("listContacts", limit=5).raise_for_status().json()
    assert len(page["data"]) == 5
    created = c.call(
        "createContact",
        body={"email": "ada.openapi@example.com", "first_name": "Ada"},
        idempotency_key="openapi-test-1",
    ).raise_for_status()
    contact_id = created.json()["id"]
    fetched = c.call("getContact", contact_id=contact_id).raise_for_status().json()
    assert fetched["email"] == "ada.openapi@example.com"
    missing = c.call("getContact", contact_id="c/../nope")
    assert missing.status == 404
    with pytest.raises(HTTPStatusError):
        missing.raise_for_status()
    assert [e.operation for e in history][-4:] == [
        "listContacts",
        "createContact",
        "getContact",
        "getContact",
    ]


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
