"""OpenAPI specs that load: 3.0, 3.1 and Swagger 2.0, the operation model, $refs and a big spec."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from openapi_helpers import (
    FIXTURES,
    HOOKS,
    LIBRARY,
    PETSTORE,
    SWAGGER,
    Recorder,
    client,
    minimal,
)

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


# -- a big spec -------------------------------------------------------------------------------


def _bench() -> Any:
    path = Path(__file__).parents[2] / "benchmarks" / "bench_openapi.py"
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
